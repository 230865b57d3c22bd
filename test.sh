#!/usr/bin/env bash
# Runs every test project and ends with one line: tests: N passed, N failed, N skipped
#
#   ./test.sh                      all tests
#   ./test.sh --filter Storage     extra arguments go to each `dotnet test`
#
# Installs what the tests need if missing (apt: PostgreSQL; etcd, etcdctl and curl for the
# etcd compatibility tests; serf for the Serf compatibility tests; rsync for the deploy tests; Node.js and npm for the npm
# packages some tests run; podman, runc and busybox-static for the container build steps; Chromium for the dashboard tests), starts a private PostgreSQL on a free loopback port in
# a temporary directory for the duration of the run (set PLATFORM_TEST_PG to use an
# existing server instead), builds once in Release, then tests each project in
# tests/ even if an earlier one failed. TRX results land in .test-results/. A single test
# running longer than PLATFORM_TEST_HANG_TIMEOUT (default 20m) fails its project's run.
# Exit status is 0 only if the build succeeded, nothing failed and something passed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
root=$PWD
results=$root/.test-results

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { printf '==> %s\n' "$*" >&2; }

# Setup that cannot complete still ends with the summary line, so whoever reads only
# the last line sees the run failed.
fail_setup() {
    printf 'test.sh: %s\n' "$*" >&2
    echo "tests: 0 passed, 1 failed, 0 skipped"
    exit 1
}

# apt_install WHAT PACKAGE...: installs Debian packages (as root, or with sudo); any failure ends the run
# with the summary line.
apt_install() {
    local what=$1
    shift
    command -v apt-get >/dev/null ||
        fail_setup "$what is not installed and apt-get is not available to install it"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null ||
            fail_setup "$what is not installed and installing it needs root (or sudo)"
        sudo=(sudo)
    fi
    say "installing $* (apt-get)"
    local log
    log=$(mktemp)
    if ! { "${sudo[@]}" apt-get update -q &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"; } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        fail_setup "apt-get install $* failed (output above)"
    fi
    rm -f "$log"
}

install_postgresql() {
    local initdb
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [[ -x $initdb ]] && return 0
    done
    apt_install "PostgreSQL (no /usr/lib/postgresql/*/bin/initdb)" postgresql
}

# The etcd compatibility tests (tests/Silo.Tests/Etcd) start a private etcd 3.4 and run etcdctl (v2 mode)
# and curl, all found on PATH.
install_etcd() {
    local missing=()
    command -v etcd >/dev/null || missing+=(etcd-server)
    command -v etcdctl >/dev/null || missing+=(etcd-client)
    command -v curl >/dev/null || missing+=(curl)
    ((${#missing[@]} == 0)) || apt_install "etcd, etcdctl or curl" "${missing[@]}"
}

# The Serf compatibility tests (tests/Silo.Tests/Nodes/Serf) start real serf agents on loopback and run
# their event handlers with /bin/sh.
install_serf() {
    command -v serf >/dev/null || apt_install "serf" serf
}

# The deploy tests (tests/Agent.Tests/Deploy, tests/Cli.Tests/StretchHandlerTests) sync with the real rsync and
# make their archives with tar; their S3 server is the npm package s3rver, installed by the tests with npm ci.
install_rsync() {
    local missing=()
    command -v rsync >/dev/null || missing+=(rsync)
    command -v tar >/dev/null || missing+=(tar)
    ((${#missing[@]} == 0)) || apt_install "rsync or tar" "${missing[@]}"
}

# The Consul client tests and the deploy tests' S3 server run npm packages with Node.js.
install_node() {
    command -v node >/dev/null && command -v npm >/dev/null || apt_install "Node.js or npm" nodejs npm
}

# The build tests (tests/Builds.Tests/Running) run steps with an image in the real podman:
# as root with runc and lowered default ulimits (the tests write that containers.conf themselves), in a root
# filesystem made from busybox-static and imported; nothing is pulled.
install_podman() {
    local missing=()
    command -v podman >/dev/null || missing+=(podman)
    command -v runc >/dev/null || missing+=(runc)
    dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
    ((${#missing[@]} == 0)) || apt_install "podman, runc or busybox-static" "${missing[@]}"
}

# The dashboard tests (tests/Dashboard.Tests) drive Debian's Chromium with Playwright: /usr/bin/chromium, headless.
install_chromium() {
    [[ -x /usr/bin/chromium ]] || apt_install "Chromium (/usr/bin/chromium)" chromium
}

pg_dir=""
stop_postgresql() {
    if [[ -n $pg_dir ]]; then
        bash "$root/scripts/pg-private.sh" stop "$pg_dir" >&2 || echo "test.sh: could not stop the private PostgreSQL in $pg_dir" >&2
        pg_dir=""
    fi
}
trap stop_postgresql EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_postgresql() {
    if [[ -n ${PLATFORM_TEST_PG:-} ]]; then
        say "using PostgreSQL from PLATFORM_TEST_PG"
        return 0
    fi
    install_postgresql
    [[ -f $root/scripts/pg-private.sh ]] || fail_setup "scripts/pg-private.sh is missing"
    local env
    env=$(bash "$root/scripts/pg-private.sh" start) ||
        fail_setup "scripts/pg-private.sh start failed"
    eval "$env"
    [[ -n ${PLATFORM_TEST_PG:-} && -n ${PLATFORM_TEST_PG_DIR:-} ]] ||
        fail_setup "scripts/pg-private.sh start did not export PLATFORM_TEST_PG and PLATFORM_TEST_PG_DIR"
    pg_dir=$PLATFORM_TEST_PG_DIR
    export PLATFORM_TEST_PG PLATFORM_TEST_PG_DIR
    say "private PostgreSQL running (data in $pg_dir)"
}

# Tests with thousands of connections need descriptors: as root go up to the kernel's
# per-process maximum, otherwise up to the hard limit.
raise_open_files() {
    local max
    max=$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)
    ulimit -n "$max" 2>/dev/null || ulimit -Sn "$(ulimit -Hn)" 2>/dev/null || true
    say "open files limit: $(ulimit -n)"
}

raise_open_files
install_etcd
install_serf
install_rsync
install_node
install_podman
install_chromium
start_postgresql

rm -rf "$results"
mkdir -p "$results"

build_args=(-c Release --nologo)
if [[ -n ${CI:-} ]]; then
    # Build servers left running would keep CI's output pipes open after we exit.
    build_args+=(-nodeReuse:false -p:UseSharedCompilation=false)
fi

say "building Platform.sln (Release)"
if ! dotnet build Platform.sln "${build_args[@]}"; then
    echo "test.sh: build failed; no tests were run" >&2
    stop_postgresql
    "$root/scripts/count-results.sh" "$results" || true
    exit 1
fi

# A hung test would otherwise hang the run (and CI) forever: the blame collector kills a
# test host when one test has run longer than this, and the run reports as aborted.
hang_timeout=${PLATFORM_TEST_HANG_TIMEOUT:-20m}

# A project that fails without writing a TRX (its test host never started) still counts.
missing=0
shopt -s nullglob
for project in tests/*/*.Tests.csproj; do
    name=$(basename "$project" .csproj)
    say "testing $name"
    status=0
    dotnet test "$project" --no-build -c Release --nologo \
        --results-directory "$results" \
        --logger "trx;LogFileName=$name.trx" \
        --blame-hang-timeout "$hang_timeout" --blame-hang-dump-type none \
        "$@" || status=$?
    if ((status != 0)) && [[ ! -f $results/$name.trx ]]; then
        echo "test.sh: $name exited with $status and wrote no results" >&2
        missing=$((missing + 1))
    fi
done

# Stop PostgreSQL first so the summary is the last line printed.
stop_postgresql
"$root/scripts/count-results.sh" "$results" "$missing"
