#!/usr/bin/env bash
# Artifact store throughput on one machine: upload and download of one file through a SQLite silo with curl, side by
# side with the floor for each (upload: cp followed by fsync of the copy; download: curl from python3's bare
# http.server). Prints one table in MB/s (10^6 bytes). Every server is stopped at the end, on failure and on Ctrl-C.
set -euo pipefail

usage() {
    echo "usage: bench/artifacts.sh [--size MB] [--rounds N]   (default 256 MB, 3 rounds; the best round is shown)"
}

repo=$(cd "$(dirname "$0")/.." && pwd)
size_mb=256
rounds=3
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size_mb=${2:?--size needs a value}; shift 2 ;;
        --rounds) rounds=${2:?--rounds needs a value}; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "artifacts.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

work=$(mktemp -d /tmp/platform-artifacts-bench.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
    for _ in $(seq 1 300); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
    echo "artifacts.sh: $1 did not answer" >&2; exit 1
}
mbps() { python3 -c "import sys; print(f'{$1 / 1e6 / $2:.0f}')"; }

echo "building the silo (Release)..." >&2
dotnet build "$repo/src/Silo" -c Release -v q --nologo >&2
silo_dll="$repo/src/Silo/bin/Release/net10.0/Platform.Silo.dll"

file="$work/app.bin"
head -c "$((size_mb * 1000000))" /dev/urandom > "$file"
bytes=$(stat -c %s "$file")

silo_port=$(free_port)
dotnet "$silo_dll" --urls "http://127.0.0.1:$silo_port" --data-dir "$work/data" > "$work/silo.log" 2>&1 &
pids+=($!)
floor_port=$(free_port)
(cd "$work" && exec python3 -m http.server "$floor_port" --bind 127.0.0.1 > "$work/floor.log" 2>&1) &
pids+=($!)
wait_http "http://127.0.0.1:$silo_port/health/ready"
wait_http "http://127.0.0.1:$floor_port/"

best() { sort -g | head -1; }
up_floor=() up_silo=() down_floor=() down_silo=()
for r in $(seq 1 "$rounds"); do
    start=$(date +%s.%N)
    cp "$file" "$work/copy.bin" && python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd)" "$work/copy.bin"
    up_floor+=("$(python3 -c "print($(date +%s.%N) - $start)")")
    rm -f "$work/copy.bin"
    up_silo+=("$(curl -fsS -o /dev/null -w '%{time_total}' -T "$file" "http://127.0.0.1:$silo_port/v1/artifacts/bench/app.bin")")
    down_floor+=("$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$floor_port/app.bin")")
    down_silo+=("$(curl -fsS -o /dev/null -w '%{time_total}' "http://127.0.0.1:$silo_port/v1/artifacts/bench/app.bin")")
done

t_up_floor=$(printf '%s\n' "${up_floor[@]}" | best)
t_up_silo=$(printf '%s\n' "${up_silo[@]}" | best)
t_down_floor=$(printf '%s\n' "${down_floor[@]}" | best)
t_down_silo=$(printf '%s\n' "${down_silo[@]}" | best)
echo
echo "artifact store, $size_mb MB file, best of $rounds, nproc=$(nproc), $(date -u +%Y-%m-%d)"
echo "| transfer | floor | floor MB/s | Platform (SQLite silo) MB/s | ratio |"
echo "|---|---|---|---|---|"
echo "| upload (PUT, sha256, fsync, rename, row) | cp + fsync | $(mbps "$bytes" "$t_up_floor") | $(mbps "$bytes" "$t_up_silo") | $(python3 -c "print(f'{$t_up_floor / $t_up_silo:.2f}')") |"
echo "| download (GET) | curl from python3 http.server | $(mbps "$bytes" "$t_down_floor") | $(mbps "$bytes" "$t_down_silo") | $(python3 -c "print(f'{$t_down_floor / $t_down_silo:.2f}')") |"
