#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs what a reviewer would run: the
# runtime-only smoke (tests/smoke_runtime.py), the dependency audit (.ci/audit.py), ruff, mypy on
# assistant/, and pytest (real model, real Chroma, real server, real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

# Debian's packages the tests use: Chromium for the browser tests (never a downloaded browser), an
# emoji font so that screenshots show the rating buttons as readers see them, PostgreSQL, whose
# server the feedback tests start on loopback, and a compiler for the LLM tests' server.
packages=""
[ -x /usr/bin/chromium ] || packages="chromium chromium-driver"
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || packages="$packages fonts-noto-color-emoji"
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || packages="$packages postgresql"
# A C++ compiler and CMake build llama-cpp-python's server for the LLM tests (below).
command -v g++ >/dev/null || packages="$packages g++"
command -v cmake >/dev/null || packages="$packages cmake"
if [ -n "$packages" ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# axe-core (accessibility checks in the browser tests), at the version package-lock.json pins.
npm ci --prefix tests/axe --no-audit --no-fund --silent
# The dev lock (the runtime lock's versions, plus the test tools), every file hash-checked; then the
# project itself, built with the locked setuptools. .ci/lock writes the locks from pyproject.toml.
.venv/bin/pip install -q --require-hashes --no-deps -r requirements-dev.txt
.venv/bin/pip install -q --no-deps --no-build-isolation -e .
# llama-cpp-python, whose OpenAI-compatible server the LLM tests start: built from its hash-pinned
# source package (about 5 minutes of C++ on 2 cores) once per machine, then installed from the cache.
# For generic x86-64 (AVX2, FMA, F16C), not -march=native: in a VM whose CPU reports instructions it
# does not run, a native build dies with "invalid opcode" at the first token. No pip cache: it would
# hand back a wheel built with other CMAKE_ARGS.
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/cited-assistant/wheels/llama-cpp-generic"
if ! ls "$wheels"/llama_cpp_python-0.3.36-*.whl >/dev/null 2>&1; then
  CMAKE_ARGS="-DGGML_NATIVE=OFF" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
    .venv/bin/pip wheel -q --no-cache-dir --no-deps --require-hashes -r tests/llama-cpp.txt -w "$wheels"
fi
.venv/bin/pip install -q --no-deps "$wheels"/llama_cpp_python-0.3.36-*.whl

# What a user gets: a venv of its own from the README's run command (runtime lock only), which
# ingests HTML, Markdown and text and answers over HTTP and from `assistant ask --json`.
python3 tests/smoke_runtime.py

.venv/bin/python .ci/audit.py
.venv/bin/ruff check assistant tests bench docs .ci/audit.py
.venv/bin/mypy assistant
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
