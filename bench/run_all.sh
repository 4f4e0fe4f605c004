#!/usr/bin/env bash
# `make bench`: every figure, on SQLite and PostgreSQL, at full size; a Markdown table at the end.
#
# PostgreSQL: $EDC_BENCH_POSTGRES_URL if set (scratch databases are created beside it), else a
# private server started with EDC_PG_DURABLE=1 scripts/test-postgres.sh (PostgreSQL's defaults: fsync, synchronous_commit
# and full_page_writes on) and stopped at the end.
# Sizes: BENCH_ROWS (jobs, audit entries for verify; default 1000000), BENCH_MIB (hashed file,
# default 1024), BENCH_APPEND (entries for append; default 50000), BENCH_CLAIM_SECONDS (default
# 10). BENCH_DB=sqlite|postgresql|both. BENCH_RECORD keeps the JSON lines of the figures.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ROWS=${BENCH_ROWS:-1000000}
MIB=${BENCH_MIB:-1024}
APPEND=${BENCH_APPEND:-50000}
CLAIM_SECONDS=${BENCH_CLAIM_SECONDS:-10}
DB=${BENCH_DB:-both}

WORK=$(mktemp -d /tmp/edc-bench-run.XXXXXX)
RECORD=${BENCH_RECORD:-$WORK/results.jsonl}
PGDIR=""
cleanup() {
    "$PY" -m bench.cleanup >/dev/null 2>&1 || true
    if [ -n "$PGDIR" ]; then scripts/test-postgres.sh stop "$PGDIR"; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
if [ "$DB" != sqlite ] && [ -z "${EDC_BENCH_POSTGRES_URL:-}" ]; then
    PGDIR=$(mktemp -d /tmp/edc-benchpg.XXXXXX)
    EDC_BENCH_POSTGRES_URL=$(EDC_PG_DURABLE=1 scripts/test-postgres.sh start "$PGDIR") || exit 1
fi
export EDC_BENCH_POSTGRES_URL

COMMON=(--db "$DB" --workdir "$WORK" --record "$RECORD")
failed=()
started=$(date +%s)
step() {
    local name=$1 t0
    shift
    t0=$(date +%s)
    echo "== $name"
    if ! "$PY" -m "bench.$name" "${COMMON[@]}" "$@"; then
        failed+=("$name")
        echo "!! bench.$name did not complete" >&2
    fi
    echo "   ($name: $(( $(date +%s) - t0 )) s)"
}

step import_rate --rows "$ROWS" --keep
step import_memory --rows "$ROWS"
step import_naive --rows "$ROWS"
step count --rows "$ROWS" --reuse
step deep_page --rows "$ROWS" --reuse
step verify --entries "$ROWS" --reuse
"$PY" -m bench.cleanup || true
step claims --seconds "$CLAIM_SECONDS"
step append --entries "$APPEND"
step hashing --mib "$MIB" --keep-file
step hashing_tools --mib "$MIB"

echo
echo "== results ($(date -u +%Y-%m-%dT%H:%M:%SZ), $(( $(date +%s) - started )) s in all)"
"$PY" -m bench.summary "$RECORD"
if [ ${#failed[@]} -gt 0 ]; then
    echo "scripts that did not complete: ${failed[*]}" >&2
    exit 1
fi
