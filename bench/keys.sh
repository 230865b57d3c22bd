#!/usr/bin/env bash
# Side-by-side benchmark of the etcd v2 keys API (/v2/keys): etcd 3.4 with --enable-v2 and a Platform silo, each on
# loopback with a fresh data directory, and the floor (bench/floor/keys-floor.c, the least a server can do for a
# watch fan-out), the same workloads against all in one run (bench/Keys.Bench), one table.
# Every server is stopped at the end, on failure and on Ctrl-C.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: bench/keys.sh [--targets etcd,platform,floor] [--keep] [driver options]
  --targets LIST  which servers to start and drive, of etcd, platform and floor (default all three; floor needs cc
                  and runs only the fan-out)
  --keep          keep the temporary directory (data dirs and server logs) after a successful run
  driver options  passed to bench/Keys.Bench, e.g. --quick, --workloads put,get, --seconds 5, --watchers 1000
                  (bench/Keys.Bench --help lists them)
USAGE
}

repo=$(cd "$(dirname "$0")/.." && pwd)
targets=etcd,platform,floor
keep=0
driver_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --targets) targets=${2:?--targets needs a value}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) driver_args+=("$1"); shift ;;
    esac
done
run_etcd=0 run_platform=0 run_floor=0
for t in ${targets//,/ }; do
    case "$t" in
        etcd) run_etcd=1 ;;
        platform|Platform) run_platform=1 ;;
        floor) run_floor=1 ;;
        *) echo "keys.sh: unknown target '$t' in --targets; expected some of etcd, platform and floor" >&2; exit 2 ;;
    esac
done
[ $((run_etcd + run_platform + run_floor)) -gt 0 ] || { echo "keys.sh: --targets is empty" >&2; exit 2; }
if [ "$run_floor" = 1 ] && ! command -v cc >/dev/null; then
    echo "keys.sh: the floor target needs a C compiler (cc); install gcc or leave floor out of --targets" >&2
    exit 2
fi

# 10,000 watchers are 10,000 sockets in the driver and in each server; the servers inherit this limit.
ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open-file limit: $(ulimit -n)"

if [ "$run_platform" = 1 ] && ! grep -rqs --include='*.cs' '/v2/keys' "$repo/src/Silo"; then
    echo "keys.sh: this checkout's silo does not serve /v2/keys (nothing in src/Silo mentions it); run with --targets etcd" >&2
    exit 2
fi

echo "building (Release)..."
dotnet build "$repo/bench/Keys.Bench/Platform.Keys.Bench.csproj" -c Release -nologo -v q | tail -2
driver="$repo/bench/Keys.Bench/bin/Release/net10.0/Platform.Keys.Bench.dll"
if [ "$run_platform" = 1 ]; then
    dotnet build "$repo/src/Silo/Platform.Silo.csproj" -c Release -nologo -v q | tail -2
    silo="$repo/src/Silo/bin/Release/net10.0/Platform.Silo"
    [ -x "$silo" ] || { echo "keys.sh: $silo was not built" >&2; exit 1; }
fi

if [ "$run_etcd" = 1 ]; then
    if ! command -v etcd >/dev/null; then
        echo "installing etcd-server (Debian)..."
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >/dev/null
    fi
    etcd_version=$(etcd --version | sed -n 's/^etcd Version: //p')
    case "$etcd_version" in
        3.4.*) ;;
        *) echo "keys.sh: warning: etcd $etcd_version; the comparison is meant for 3.4 (v2 store behind --enable-v2)" >&2 ;;
    esac
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keys-bench.XXXXXX")
etcd_pid="" silo_pid="" floor_pid="" driver_pid=""

stop() {
    local pid=$1 name=$2
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    echo "keys.sh: $name (pid $pid) ignored SIGTERM for 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    stop "$driver_pid" "the load driver"
    stop "$silo_pid" "the Platform silo"
    stop "$floor_pid" "the floor server"
    stop "$etcd_pid" "etcd"
    wait 2>/dev/null || true
    if [ "$status" = 130 ] || [ "$status" = 143 ]; then
        echo "keys.sh: interrupted; servers stopped" >&2
        [ "$keep" = 1 ] && echo "data directories and logs: $tmp" >&2 || rm -rf "$tmp"
    elif [ "$status" != 0 ]; then
        for log in "$tmp"/*.log; do
            [ -s "$log" ] || continue
            echo "---- last lines of $log ----" >&2
            tail -n 15 "$log" >&2
        done
        echo "keys.sh: failed (exit $status); data directories and logs kept in $tmp" >&2
    elif [ "$keep" = 1 ]; then
        echo "data directories and logs: $tmp"
    else
        rm -rf "$tmp"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mapfile -t ports < <(dotnet "$driver" free-ports 4)
etcd_url="http://127.0.0.1:${ports[0]}" etcd_peer="http://127.0.0.1:${ports[1]}"
silo_url="http://127.0.0.1:${ports[2]}" floor_url="http://127.0.0.1:${ports[3]}"

start_etcd() {
    # Default durability: the WAL is fsynced before a write is acknowledged.
    etcd --name keys-bench --data-dir "$tmp/etcd" --enable-v2 \
        --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
        --listen-peer-urls "$etcd_peer" --initial-advertise-peer-urls "$etcd_peer" \
        --initial-cluster "keys-bench=$etcd_peer" --initial-cluster-state new >>"$tmp/etcd.log" 2>&1 &
    etcd_pid=$!
}

start_silo() {
    # SQLite storage in the data directory; a write is to be acknowledged once its group commit is durable.
    "$silo" --urls "$silo_url" --data-dir "$tmp/silo" --silo-name keys-bench >>"$tmp/silo.log" 2>&1 &
    silo_pid=$!
}

# Durability check: a key PUT (and acknowledged) just before a SIGKILL must be there after a restart on the same
# data directory. A server that loses it is benchmarked anyway, but its PUT rows are marked as not durable.
not_durable=()
check_durable() {
    local name=$1 url=$2 start=$3 pid_var=$4 value="acknowledged-$RANDOM$RANDOM" got status
    dotnet "$driver" put-key "$url" /keys-bench/durability "$value" || { echo "keys.sh: $name did not take the durability-check PUT" >&2; exit 1; }
    kill -KILL "${!pid_var}"
    wait "${!pid_var}" 2>/dev/null || true
    "$start"
    status=0
    got=$(dotnet "$driver" get-key "$url" /keys-bench/durability) || status=$?
    if [ "$status" = 0 ] && [ "$got" = "$value" ]; then
        echo "$name: an acknowledged PUT survived SIGKILL and restart"
    elif [ "$status" = 0 ] || [ "$status" = 3 ]; then
        echo "$name: WARNING: an acknowledged PUT was lost across SIGKILL and restart (read back: '${got:-key not found}')"
        not_durable+=(--not-durable "$name")
    else
        echo "keys.sh: $name did not answer the durability-check GET after its restart" >&2
        exit 1
    fi
}

target_args=()
driver_extra=()
if [ "$run_etcd" = 1 ]; then
    start_etcd
    check_durable etcd "$etcd_url" start_etcd etcd_pid
    echo "etcd $etcd_version: pid $etcd_pid, $etcd_url, data $tmp/etcd"
    target_args+=(--target "etcd=$etcd_url@$etcd_pid")
fi
if [ "$run_platform" = 1 ]; then
    start_silo
    check_durable Platform "$silo_url" start_silo silo_pid
    echo "Platform silo: pid $silo_pid, $silo_url, data $tmp/silo"
    target_args+=(--target "Platform=$silo_url@$silo_pid")
fi
if [ "$run_floor" = 1 ]; then
    cc -O2 -Wall -o "$tmp/keys-floor" "$repo/bench/floor/keys-floor.c"
    "$tmp/keys-floor" "${ports[3]}" >>"$tmp/floor.log" 2>&1 &
    floor_pid=$!
    echo "floor (bench/floor/keys-floor.c): pid $floor_pid, $floor_url; fan-out only, stores nothing"
    target_args+=(--target "floor=$floor_url@$floor_pid")
    driver_extra+=(--fanout-only floor)
fi

commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo "?")
# The driver's socket continuations run on the epoll threads: no thread-pool hop per response.
# In the background with a wait, so that Ctrl-C or SIGTERM reaches the traps at once and not when the driver ends.
DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 dotnet "$driver" "${target_args[@]}" ${driver_extra[@]+"${driver_extra[@]}"} ${not_durable[@]+"${not_durable[@]}"} --commit "$commit" ${driver_args[@]+"${driver_args[@]}"} &
driver_pid=$!
wait "$driver_pid"
