#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the benchmarks, with durability ON.
#   bench/postgres.sh start DIR   initdb + start in DIR, print the server URL on stdout
#   bench/postgres.sh stop DIR    stop the server and remove DIR
# Same as scripts/test-postgres.sh except that fsync, synchronous_commit and full_page_writes
# keep PostgreSQL's defaults (on), so edc and the raw-driver baselines both pay for durability.
# As root the server runs as the unprivileged user the test script uses (initdb refuses root).
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
    echo "bench/postgres.sh: PostgreSQL server binaries (initdb, pg_ctl) not found" >&2
    return 1
}

as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$RUN_USER" -- "$@"; else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    local dir=$1 bin port
    bin=$(find_pg_bin)
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
        || { cat "$dir/initdb.log" >&2; echo "bench/postgres.sh: initdb failed" >&2; return 1; }
    port=$(free_port)
    # PostgreSQL defaults for everything that matters to durability (fsync, synchronous_commit,
    # full_page_writes, shared_buffers): only where to listen is set.
    as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1" \
        start >&2 || { cat "$dir/server.log" >&2; echo "bench/postgres.sh: server did not start" >&2; return 1; }
    echo "$bin" >"$dir/bin"
    echo "$port" >"$dir/port"
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

stop() {
    local dir=$1
    if [ -f "$dir/bin" ] && [ -d "$dir/data" ]; then
        as_server_user "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) start "${2:?usage: $0 start DIR}" ;;
    stop) stop "${2:?usage: $0 stop DIR}" ;;
    *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
