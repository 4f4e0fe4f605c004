#!/usr/bin/env bash
# The whole check: lint, types, and the test suite on SQLite and a throwaway PostgreSQL.
# Called by `make test` after the virtualenv is ready; stops the server even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

echo "== ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== mypy (strict, src/)"
"$VENV/bin/mypy"

PGDIR=$(mktemp -d /tmp/edc-pgtest.XXXXXX)
trap 'scripts/test-postgres.sh stop "$PGDIR"' EXIT
echo "== starting a throwaway PostgreSQL"
EDC_TEST_POSTGRES_URL=$(scripts/test-postgres.sh start "$PGDIR")
export EDC_TEST_POSTGRES_URL EDC_TEST_POSTGRES_DIR="$PGDIR"
# PostgreSQL tests must run here, never be skipped.
export EDC_TEST_REQUIRE_POSTGRES=1

echo "== pytest (SQLite and PostgreSQL)"
rm -f .coverage .coverage.*
"$VENV/bin/pytest" --cov --cov-report= "$@"
"$VENV/bin/coverage" combine -q 2>/dev/null || true
echo "== coverage: all of src/edc (gate 85%)"
"$VENV/bin/coverage" report --fail-under=85
if [ -d src/edc/db ]; then
    echo "== coverage: edc.db (gate 90%)"
    "$VENV/bin/coverage" report --include="*/edc/db/*" --fail-under=90
fi
