#!/usr/bin/env bash
# Rollout benchmark: one artifact (a tar.gz of random bytes, 50 MB by default) uploaded to a SQLite silo's artifact
# store and deployed to real `platform agent` processes (deploys enabled, one dest directory each) with
# POST /v1/deploys, once per batch size; side by side with the floor: the same fetch, checksum, extract and
# `rsync -a --delete` into as many directories by a plain shell loop (sequential, then all in parallel), with the
# tarball served by python3's bare http.server. Prints the machine, the load and one markdown table.
# Every process is stopped at the end, on failure and on Ctrl-C; on failure the silo's log tail is printed.
set -euo pipefail

usage() {
    echo "usage: bench/rollout.sh [--size MB] [--nodes N] [--batches 20,5] [--keep]"
    echo "  --size MB       artifact size in 10^6 bytes (default 50)"
    echo "  --nodes N       real agents (default 20)"
    echo "  --batches LIST  batch sizes, one deploy each (default: N,5)"
    echo "  --keep          keep the work directory (logs, dests)"
}

repo=$(cd "$(dirname "$0")/.." && pwd)
size_mb=50
nodes=20
batches=
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --size) size_mb=${2:?--size needs a value}; shift 2 ;;
        --nodes) nodes=${2:?--nodes needs a value}; shift 2 ;;
        --batches) batches=${2:?--batches needs a value}; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "rollout.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
[[ "$size_mb" =~ ^[1-9][0-9]*$ ]] || { echo "rollout.sh: --size is '$size_mb'; expected a whole number of MB" >&2; exit 2; }
[[ "$nodes" =~ ^[1-9][0-9]*$ ]] || { echo "rollout.sh: --nodes is '$nodes'; expected a whole number of 1 or more" >&2; exit 2; }
batches=${batches:-$nodes,5}
[[ "$batches" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "rollout.sh: --batches is '$batches'; expected sizes such as 20,5" >&2; exit 2; }
for tool in curl jq rsync tar sha256sum python3; do
    command -v "$tool" >/dev/null || { echo "rollout.sh: '$tool' is needed and not on PATH" >&2; exit 2; }
done

work=$(mktemp -d /tmp/platform-rollout-bench.XXXXXX)
pids=()
ok=0
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ "$ok" = 0 ] && [ -f "$work/silo.log" ]; then
        echo "--- silo log (last 30 lines)" >&2
        tail -30 "$work/silo.log" >&2
    fi
    if [ "$keep" = 1 ] || [ "$ok" = 0 ]; then echo "rollout.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
    for _ in $(seq 1 600); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
    echo "rollout.sh: $1 did not answer within 120 s" >&2; exit 1
}
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
tck=$(getconf CLK_TCK)
# CPU seconds of processes (utime+stime), and with their waited-for children (rsync, sh...).
cpu_self() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
cpu_all() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat"))); done; echo "$t"; }
# This script's waited-for children (the floor's curl, sha256sum, tar, rsync and their subshells).
cpu_children() { awk '{print $16 + $17}' "/proc/$$/stat"; }
machine_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }

echo "building the silo and the CLI (Release)..." >&2
dotnet build "$repo/src/Silo" -c Release -v q --nologo >&2
dotnet build "$repo/src/Cli" -c Release -v q --nologo >&2
silo_dll="$repo/src/Silo/bin/Release/net10.0/Platform.Silo.dll"
platform_dll="$repo/src/Cli/bin/Release/net10.0/platform.dll"

# The payload: random bytes in 10 files, so gzip cannot shrink it and rsync has a few files to copy.
mkdir -p "$work/payload" "$work/site"
for i in $(seq 1 10); do head -c "$((size_mb * 100000))" /dev/urandom > "$work/payload/part$i.bin"; done
echo "release $(date +%s)" > "$work/payload/VERSION"
tar -czf "$work/site/app.tar.gz" -C "$work/payload" .
tarball="$work/site/app.tar.gz"
bytes=$(stat -c %s "$tarball")
sum=$(sha256sum "$tarball" | cut -d' ' -f1)

silo_port=$(free_port)
dotnet "$silo_dll" --urls "http://127.0.0.1:$silo_port" --data-dir "$work/silo-data" > "$work/silo.log" 2>&1 &
silo_pid=$!
pids+=("$silo_pid")
silo="http://127.0.0.1:$silo_port"
wait_http "$silo/health/ready"

artifact="$silo/v1/artifacts/bench/app-$(date +%s).tar.gz"
stored=$(curl -fsS -T "$tarball" "$artifact" | jq -r '.sha256')
[ "$stored" = "$sum" ] || { echo "rollout.sh: the silo stored sha256 $stored; sha256sum says $sum" >&2; exit 1; }

echo "starting $nodes agents..." >&2
agent_pids=()
for i in $(seq -f '%02g' 1 "$nodes"); do
    dir="$work/nodes/rb-$i"
    mkdir -p "$dir"
    jq -n --arg node "rb-$i" --arg server "$silo" --arg data "$dir/data" --arg bind "127.0.0.1:$(free_port)" \
        '{node_name: $node, servers: [$server], data_dir: $data, bind: $bind, enable_deploys: true, log_level: "warn", tags: {fleet: "rollout-bench"}}' \
        > "$dir/agent.json"
    NODE_DIR="$dir" PLATFORM_URL= PLATFORM_TOKEN= DOTNET_gcServer=0 \
        dotnet "$platform_dll" agent -config-file "$dir/agent.json" > "$dir/agent.log" 2>&1 &
    agent_pids+=($!)
    pids+=($!)
done
for _ in $(seq 1 600); do
    alive=$(curl -fsS "$silo/v1/nodes?status=alive&tag=fleet=%5Erollout-bench%24" | jq length)
    [ "$alive" = "$nodes" ] && break
    sleep 0.2
done
[ "$alive" = "$nodes" ] || { echo "rollout.sh: $alive of $nodes agents alive after 120 s" >&2; exit 1; }
# Let the agents' start-up (JIT, first reports) settle so that it is not counted as the deploy's CPU.
sleep 15

manifest=$(cat <<EOF
src: $artifact
checksum: $sum
dest: {{ env "NODE_DIR" }}/dest/
EOF
)

rows=()
for batch in ${batches//,/ }; do
    rm -rf "$work"/nodes/*/dest
    body=$(jq -n --arg m "$manifest" --argjson b "$batch" '{manifest: $m, target: {tags: {fleet: "^rollout-bench$"}}, strategy: {batch: $b}}')
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    silo0=$(cpu_self "$silo_pid"); agents0=$(cpu_self "${agent_pids[@]}"); agentsc0=$(cpu_all "${agent_pids[@]}"); busy0=$(machine_busy)
    t0=$(now)
    id=$(curl -fsS -H 'Content-Type: application/json' -d "$body" "$silo/v1/deploys" | jq -r .id)
    while :; do
        deploy=$(curl -fsS "$silo/v1/deploys/$id")
        [ "$(jq -r .status <<<"$deploy")" != running ] && break
        sleep 0.5
    done
    silo1=$(cpu_self "$silo_pid"); agents1=$(cpu_self "${agent_pids[@]}"); agentsc1=$(cpu_all "${agent_pids[@]}"); busy1=$(machine_busy)
    status=$(jq -r .status <<<"$deploy")
    # Each node's log tail (download rate, steps) stays in the work directory for --keep.
    echo "$deploy" > "$work/deploy-batch-$batch.json"
    if [ "$status" != succeeded ]; then
        echo "rollout.sh: deploy $id ended $status" >&2
        jq '.nodes[] | select(.status != "succeeded") | {node, status, reason, output_tail}' <<<"$deploy" >&2
        exit 1
    fi
    for d in "$work"/nodes/*/dest; do cmp -s "$d/part1.bin" "$work/payload/part1.bin" || { echo "rollout.sh: $d does not hold the payload" >&2; exit 1; }; done
    [ "$(ls -d "$work"/nodes/*/dest | wc -l)" = "$nodes" ] || { echo "rollout.sh: not every node has a dest" >&2; exit 1; }
    # Wall time: from just before the POST to the last node's finish as the silo recorded it.
    stats=$(jq -r --arg t0 "$t0" '
        [.nodes[].duration_ms] | sort as $d
        | "\($d[(length - 1) / 2 | floor]) \($d[-1])"' <<<"$deploy")
    last=$(jq -r '[.nodes[].finished] | max' <<<"$deploy")
    wall=$(python3 -c "import datetime,sys; print(f'{datetime.datetime.fromisoformat(sys.argv[1]).timestamp() - $t0:.2f}')" "$last")
    read -r p50 max <<<"$stats"
    silo_cpu=$(calc "($silo1 - $silo0) / $tck")
    others=$(calc "f'{($busy1 - $busy0 - ($silo1 - $silo0) - ($agentsc1 - $agentsc0)) / $tck:.1f}'")
    rows+=("| platform deploy, batch $batch | $wall | $(calc "f'{$p50 / 1000:.2f}'") / $(calc "f'{$max / 1000:.2f}'") | $(calc "f'{$silo_cpu:.2f} ({$silo_cpu / $nodes * 1000:.0f} ms)'") | $(calc "f'{($agents1 - $agents0) / $tck:.1f} / {($agentsc1 - $agentsc0) / $tck:.1f}'") | $others | $load |")
    echo "${rows[-1]}" >&2
done

# The floor: what each node does (fetch, verify, extract, rsync into its dest), by a shell loop.
floor_port=$(free_port)
(cd "$work/site" && exec python3 -m http.server "$floor_port" --bind 127.0.0.1 > "$work/floor.log" 2>&1) &
floor_pid=$!
pids+=("$floor_pid")
wait_http "http://127.0.0.1:$floor_port/"
one_node() {
    local dir="$work/floor/$1"
    mkdir -p "$dir/dest" "$dir/new"
    curl -fsS -o "$dir/app.tar.gz" "http://127.0.0.1:$floor_port/app.tar.gz"
    echo "$sum  $dir/app.tar.gz" | sha256sum -c --quiet -
    tar -xzf "$dir/app.tar.gz" -C "$dir/new"
    rsync -a --delete "$dir/new/" "$dir/dest/"
    rm -rf "$dir/new" "$dir/app.tar.gz"
}
floor_run() {
    local how=$1 load t0 busy0 busy1 wall server0 server1 loop0 loop1
    rm -rf "$work/floor"
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    busy0=$(machine_busy); server0=$(cpu_self "$floor_pid"); loop0=$(cpu_children)
    t0=$(now)
    if [ "$how" = sequential ]; then
        for i in $(seq 1 "$nodes"); do one_node "$i"; done
    else
        local jobs=()
        for i in $(seq 1 "$nodes"); do one_node "$i" & jobs+=($!); done
        for j in "${jobs[@]}"; do wait "$j"; done
    fi
    wall=$(calc "f'{$(now) - $t0:.2f}'")
    busy1=$(machine_busy); server1=$(cpu_self "$floor_pid"); loop1=$(cpu_children)
    for d in "$work"/floor/*/dest; do cmp -s "$d/part1.bin" "$work/payload/part1.bin" || { echo "rollout.sh: $d does not hold the payload" >&2; exit 1; }; done
    rows+=("| floor: shell loop, $how | $wall | | $(calc "f'{($server1 - $server0) / $tck:.2f}'") (http.server) | $(calc "f'{($loop1 - $loop0) / $tck:.1f}'") (curl, sha256sum, tar, rsync) | $(calc "f'{($busy1 - $busy0 - ($server1 - $server0) - ($loop1 - $loop0)) / $tck:.1f}'") | $load |")
    echo "${rows[-1]}" >&2
}
floor_run sequential
floor_run parallel

ok=1
echo
echo "rollout of a $(calc "f'{$bytes / 1e6:.1f}'") MB tar.gz (random bytes) to $nodes real agents, nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| run | wall s (POST to last node done) | node duration p50 / max s | server CPU s (silo: per node) | nodes' CPU s (agents: own / with rsync) | other processes' CPU s | load before (1/5/15 min) |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
