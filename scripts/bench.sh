#!/usr/bin/env bash
# Set up (if needed) and run the render-speed benchmark; arguments go to bench/render_bench.py
# (default: every scene at -ql and -qh, `cnnanim preview` of every scene, and the lecture).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
if [ "$#" -eq 0 ]; then
  set -- --preview
fi
python bench/render_bench.py "$@"
