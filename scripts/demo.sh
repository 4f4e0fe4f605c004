#!/usr/bin/env bash
# `make demo`: the main job end to end on the embedded SQLite default, in ./demo (made afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
EDC=$ROOT/.venv/bin/edc
rm -rf demo
mkdir -p demo
cd demo
export EDC_ACTOR=demo@edc

step() { printf '\n== %s\n' "$*"; }

step "effective configuration"
"$EDC" config show
step "database schema (./edc.db): upgrade to head"
"$EDC" db upgrade
step "import the capture requests in examples/jobs.csv"
"$EDC" jobs import "$ROOT/examples/jobs.csv"
step "import them again: nothing new is created"
"$EDC" jobs import "$ROOT/examples/jobs.csv"
FIRST_JOB=$("$EDC" jobs list --json --limit 100 | python3 -c '
import json, sys
jobs = json.load(sys.stdin)["jobs"]
print(next(j["uuid"] for j in jobs if j["url"].endswith("2019-annual-report")))')
step "register the evidence captured for job $FIRST_JOB"
"$EDC" artifacts add "$FIRST_JOB" "$ROOT/examples/artifacts/annual-report.html" --type html
"$EDC" artifacts add "$FIRST_JOB" "$ROOT/examples/artifacts/annual-report.raw" --type raw
step "the jobs"
"$EDC" jobs list
step "one job with its evidence and audit trail"
"$EDC" jobs show "$FIRST_JOB"
step "verify every evidence file against its recorded hashes"
"$EDC" artifacts verify
step "checkpoint the audit chain (keep this outside the database)"
"$EDC" audit head --json > checkpoint.json
cat checkpoint.json
step "verify the audit chain against the checkpoint"
"$EDC" audit verify --checkpoint checkpoint.json
step "database status"
"$EDC" db status
