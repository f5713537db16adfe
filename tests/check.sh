#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs what a reviewer would run:
# the dependency audit (.ci/audit.py), ruff, mypy on assistant/, and pytest (real model, real Chroma,
# real server, real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# Debian's packages the tests use: Chromium for the browser tests (never a downloaded browser), an
# emoji font so that screenshots show the rating buttons as readers see them, and PostgreSQL, whose
# server the feedback tests start on loopback.
packages=""
[ -x /usr/bin/chromium ] || packages="chromium chromium-driver"
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || packages="$packages fonts-noto-color-emoji"
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || packages="$packages postgresql"
if [ -n "$packages" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# axe-core (accessibility checks in the browser tests), at the version package-lock.json pins.
npm ci --prefix tests/axe --no-audit --no-fund --silent
.venv/bin/pip install -q --upgrade pip
# torch is pinned to the CPU build (2.13.0); an unpinned torch pulls a multi-GB CUDA build.
.venv/bin/pip install -q "torch==2.13.0" -e ".[dev]"

.venv/bin/python .ci/audit.py
.venv/bin/ruff check assistant tests bench .ci/audit.py
.venv/bin/mypy assistant
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
