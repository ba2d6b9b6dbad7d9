#!/usr/bin/env bash
# Install the project into .venv from uv.lock, on a fresh machine too:
#   scripts/bootstrap.sh [--dev]
# 1. find a Python >= 3.12: on PATH (python3.12, python3.13, python3.14, python3), then pyenv's versions
#    ($(pyenv root)/versions/3.1[2-9]*, /root/.pyenv, ~/.pyenv); a clear message if there is none;
# 2. find uv (`uv`, `python3 -m uv`, `<that python> -m uv`) or install it with pip;
# 3. `uv sync --frozen` with UV_PYTHON set to it and UV_PYTHON_DOWNLOADS=never (no interpreter download).
# Without --dev the dev group is not installed (but not removed either, if present).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "==> $*" >&2; }

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; }

find_python() {
  local c
  if [[ -n "${LINJIALIN_PYTHON:-}" ]] && python_ok "$LINJIALIN_PYTHON"; then echo "$LINJIALIN_PYTHON"; return; fi
  # an existing .venv built from a good interpreter: keep using that interpreter (no venv rebuild)
  if [[ -f .venv/pyvenv.cfg ]]; then
    c="$(sed -n 's/^home = //p' .venv/pyvenv.cfg)/python3"
    if [[ -x "$c" ]] && python_ok "$c"; then echo "$c"; return; fi
  fi
  for c in python3.12 python3.13 python3.14 python3; do
    if command -v "$c" >/dev/null 2>&1 && python_ok "$c"; then
      "$c" -c 'import sys; print(sys.executable)'; return
    fi
  done
  local roots=()
  if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root)"); fi
  roots+=(/root/.pyenv "${HOME:-/root}/.pyenv")
  local r
  for r in "${roots[@]}"; do
    for c in $(ls -d "$r"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V); do
      if python_ok "$c"; then echo "$c"; return; fi
    done
  done
  return 1
}

PY=$(find_python) || {
  cat >&2 <<'MSG'
ERROR: no Python 3.12 or newer found.
  Looked for python3.12 / python3.13 / python3.14 / python3 on PATH and in $(pyenv root)/versions/3.1[2-9]*.
  Install one (e.g. `apt-get install python3.12`, or `pyenv install 3.12`), or set LINJIALIN_PYTHON=/path/to/python3.
MSG
  exit 1
}
say "Python: $PY ($("$PY" -c 'import platform; print(platform.python_version())'))"

find_uv() {
  if command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then echo uv; return; fi
  if command -v python3 >/dev/null 2>&1 && python3 -m uv --version >/dev/null 2>&1; then echo "python3 -m uv"; return; fi
  if "$PY" -m uv --version >/dev/null 2>&1; then echo "$PY -m uv"; return; fi
  return 1
}
if ! UV=$(find_uv); then
  say "uv not found: installing it with pip"
  python3 -m pip install --quiet uv 2>/dev/null \
    || "$PY" -m pip install --quiet uv 2>/dev/null \
    || { "$PY" -m ensurepip --upgrade >/dev/null 2>&1 && "$PY" -m pip install --quiet uv; } \
    || python3 -m pip install --quiet --user --break-system-packages uv
  UV=$(find_uv) || { echo "ERROR: could not install uv (pip install uv failed)" >&2; exit 1; }
fi
say "uv: $UV ($($UV --version))"

export UV_PYTHON="$PY" UV_PYTHON_DOWNLOADS=never
if [[ "${1:-}" == "--dev" ]]; then
  $UV sync --frozen --quiet
else
  $UV sync --frozen --quiet --no-dev --inexact
fi
say "installed into .venv"
# PDF exports (WeasyPrint) need Pango and a CJK font from Debian
"$(dirname "$0")/apt_ensure.sh" libpango-1.0-0 libpangoft2-1.0-0 fonts-wqy-microhei \
  || say "WARNING: could not install Pango / the CJK font: PDF exports will not work"
