#!/usr/bin/env bash
# Nodes benchmark, Platform against Serf 0.8.2 in one run (bench/Nodes.Bench): builds the Release silo, CLI and driver,
# raises the open-files limit (10,000 simulated agents are 10,000 sockets in the driver and as many in the silo, each a process of its own), then
# runs the driver, which starts and stops every process itself. Options are the driver's (--help lists them).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
need=12000
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    echo "nodes.sh: the open-files limit is $(ulimit -n) (hard limit $(ulimit -Hn)); 10,000 simulated agents need about $need" >&2
fi

for project in src/Silo src/Cli bench/Nodes.Bench; do
    dotnet build "$repo/$project" -c Release -v q --nologo >/dev/null
done
exec nice -n -10 dotnet "$repo/bench/Nodes.Bench/bin/Release/net10.0/Platform.Nodes.Bench.dll" "$@"
