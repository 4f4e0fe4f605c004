#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the test suite.
#   scripts/test-postgres.sh start DIR   initdb + start in DIR, print the server URL on stdout
#   scripts/test-postgres.sh stop DIR    stop the server and remove DIR
# As root the server runs as an unprivileged user (initdb refuses root), created if needed.
# Missing server binaries are installed with apt-get when running as root; otherwise it fails.
# EDC_PG_DURABLE=1 keeps PostgreSQL's durability defaults (the benchmarks need both sides of a
# ratio to pay for fsync); by default durability is off, which makes the test suite faster.
set -euo pipefail

RUN_USER=edc-pgtest

find_pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"; return 0
    fi
    return 1
}

ensure_pg_bin() {
    if find_pg_bin; then return 0; fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "test-postgres: PostgreSQL server binaries (initdb, pg_ctl) not found;" \
             "install them with 'sudo apt-get install postgresql' and run again" >&2
        return 1
    fi
    echo "test-postgres: installing PostgreSQL server binaries with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2 || true
    if ! apt-get install -y -qq postgresql >&2; then
        echo "test-postgres: 'apt-get install postgresql' failed; cannot run PostgreSQL tests" >&2
        return 1
    fi
    find_pg_bin || { echo "test-postgres: installed, but initdb is still missing" >&2; return 1; }
}

as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir=$1 bin port
    bin=$(ensure_pg_bin)
    mkdir -p "$dir/data" "$dir/sock"
    chmod 755 "$dir"
    chmod 700 "$dir/data"
    if [ "$(id -u)" -eq 0 ]; then
        id -u "$RUN_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
        chown -R "$RUN_USER" "$dir/data" "$dir/sock"
        touch "$dir/server.log" && chown "$RUN_USER" "$dir/server.log"
    fi
    as_server_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; echo "test-postgres: initdb failed" >&2; return 1; }
    port=$(free_port)
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${EDC_PG_DURABLE:-0}" = 1 ] && durability=""
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=300 $durability" \
        start >&2 || { cat "$dir/server.log" >&2; echo "test-postgres: server did not start" >&2; return 1; }
    echo "$bin" >"$dir/bin"
    echo "$port" >"$dir/port"
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

stop() {
    local dir=$1
    if [ -f "$dir/bin" ] && [ -d "$dir/data" ]; then
        as_server_user "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?usage: $0 start DIR}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
