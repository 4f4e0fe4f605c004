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
trap 'scripts/test-postgres.sh stop "$PGDIR"; rm -rf "${COVERAGE_DIR:-}"' EXIT
echo "== starting a throwaway PostgreSQL"
EDC_TEST_POSTGRES_URL=$(scripts/test-postgres.sh start "$PGDIR")
export EDC_TEST_POSTGRES_URL EDC_TEST_POSTGRES_DIR="$PGDIR"
# PostgreSQL tests must run here, never be skipped.
export EDC_TEST_REQUIRE_POSTGRES=1

echo "== pytest (SQLite and PostgreSQL)"
# Coverage data in a private place: subprocesses (the installed `edc`, workers) run in other
# directories and write there too, and nothing else can remove or mix in files.
COVERAGE_DIR=$(mktemp -d /tmp/edc-coverage.XXXXXX)
export COVERAGE_FILE="$COVERAGE_DIR/.coverage" COVERAGE_RCFILE="$PWD/pyproject.toml"
# Most tests run in parallel workers (they wait on subprocesses and fsync more than on CPU);
# tests marked `serial` (they restart the shared server) run alone afterwards.
"$VENV/bin/pytest" -n "${EDC_TEST_WORKERS:-3}" -m "not serial" --cov --cov-report= "$@"
"$VENV/bin/pytest" -m serial --cov --cov-append --cov-report= "$@" || [ $? -eq 5 ]
# --append keeps what pytest-cov combined; files of processes killed on purpose are skipped.
"$VENV/bin/coverage" combine --append -q 2>/dev/null || true
echo "== coverage: all of src/edc (gate 85%)"
"$VENV/bin/coverage" report --fail-under=85
if [ -d src/edc/db ]; then
    echo "== coverage: edc.db (gate 90%)"
    "$VENV/bin/coverage" report --include="*/edc/db/*" --fail-under=90
fi
