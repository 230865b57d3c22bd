#!/usr/bin/env bash
# Dashboard benchmark (bench/Dashboard.Bench): builds the Release silo and driver, raises the open-files limit (1,000
# simulated agents are 1,000 sockets on each side), then runs the driver, which starts a silo, its simulated nodes and
# builds, and headless Chromium (/usr/bin/chromium), and stops them all. Options are the driver's (--help).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
need=4096
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "dashboard.sh: /usr/bin/chromium is missing; install Debian's chromium package (apt-get install chromium)" >&2
    exit 2
fi

for project in src/Silo bench/Dashboard.Bench; do
    dotnet build "$repo/$project" -c Release -v q --nologo >/dev/null
done

exec dotnet "$repo/bench/Dashboard.Bench/bin/Release/net10.0/Platform.Dashboard.Bench.dll" "$@"
