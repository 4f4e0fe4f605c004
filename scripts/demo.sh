#!/usr/bin/env bash
# `make demo`: the main job on the embedded SQLite default, in ./demo.
set -euo pipefail
cd "$(dirname "$0")/.."
EDC=$PWD/.venv/bin/edc
mkdir -p demo
cd demo
echo "== effective configuration"
"$EDC" config show
echo "== database schema (./edc.db): upgrade to head, then status"
"$EDC" db upgrade
"$EDC" db status
