#!/usr/bin/env bash
# A private, throwaway PostgreSQL on loopback for tests.
#   scripts/pg-private.sh start      -> prints `export PLATFORM_TEST_PG=...` and `export PLATFORM_TEST_PG_DIR=...`
#   scripts/pg-private.sh stop DIR   -> stops that server and deletes DIR
# Typical use:  eval "$(scripts/pg-private.sh start)"; dotnet test ...; scripts/pg-private.sh stop "$PLATFORM_TEST_PG_DIR"
set -euo pipefail

find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"; return
  fi
  echo "pg-private: PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or PATH; install them with 'apt-get install postgresql'" >&2
  exit 1
}

# initdb refuses to run as root, so as root the server runs as the postgres OS user.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( (RANDOM % 20000) + 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
  done
  echo "pg-private: no free loopback port found" >&2
  exit 1
}

start() {
  local bin dir port
  bin=$(find_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/platform-pg.XXXXXX")
  chmod 755 "$dir"
  if [[ $(id -u) -eq 0 ]]; then chown postgres:postgres "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 || {
    echo "pg-private: initdb failed:" >&2; cat "$dir/initdb.log" >&2; rm -rf "$dir"; exit 1; }
  # A port that looked free can be taken before the server binds it: try a few.
  local attempt started=0
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" start -w -t 60 -D "$dir/data" -l "$dir/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir" >/dev/null 2>&1; then
      started=1; break
    fi
    grep -q "Address already in use" "$dir/server.log" 2>/dev/null || break
  done
  if ((started == 0)); then
    echo "pg-private: server did not start:" >&2; cat "$dir/server.log" >&2; rm -rf "$dir"; exit 1
  fi
  echo "export PLATFORM_TEST_PG='Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres'"
  echo "export PLATFORM_TEST_PG_DIR='$dir'"
}

stop() {
  local dir=${1:?usage: pg-private.sh stop DIR}
  local bin
  bin=$(find_bin)
  if [[ -d "$dir/data" ]]; then
    as_owner "$bin/pg_ctl" stop -m fast -w -D "$dir/data" >/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
