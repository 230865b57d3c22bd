#!/usr/bin/env bash
# Nodes benchmark, Platform against Serf 0.8.2 in one run (bench/Nodes.Bench): builds the Release silo, CLI and driver,
# raises the open-files limit (10,000 simulated agents are 10,000 sockets in the driver and as many in the silo, each a
# process of its own), then runs the driver, which starts and stops every process itself. Options are the driver's
# (--help lists them); with none it runs the whole default set (simulated 1,000 and 10,000, query, events and failure
# with 50 real agents of each kind).
#
# The driver runs in a process group of its own with everything it starts. Interrupted (Ctrl-C, SIGTERM, SIGHUP) it
# stops its processes itself; whatever is left of the group when it ends, however it ends, is killed here.
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

# nice -10 needs the privilege to raise priority; without it the run goes on at the normal priority.
priority=(nice -n -10)
nice -n -10 true 2>/dev/null || priority=()

driver=
cleanup() {
    [ -n "$driver" ] || return 0
    kill -KILL -- "-$driver" 2>/dev/null || true
}
interrupted() {
    # The driver stops its own processes on SIGTERM; the group is killed once it is done, or after 15 s.
    kill -TERM "$driver" 2>/dev/null || true
    for _ in $(seq 150); do
        kill -0 "$driver" 2>/dev/null || break
        sleep 0.1
    done
    cleanup
    exit 130
}
trap cleanup EXIT
trap interrupted INT TERM HUP

setsid "${priority[@]}" dotnet "$repo/bench/Nodes.Bench/bin/Release/net10.0/Platform.Nodes.Bench.dll" "$@" &
driver=$!
status=0
wait "$driver" || status=$?
exit "$status"
