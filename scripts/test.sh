#!/usr/bin/env bash
# Set up (if needed, with the headless browser the deck test drives) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --browser
. .venv/bin/activate
python -m pytest -q "$@"
