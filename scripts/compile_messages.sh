#!/usr/bin/env bash
# Compile the translation catalogues (linjialin/locale/*/LC_MESSAGES/*.po → .mo) when there are any.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d linjialin/locale ]] || { echo "==> no linjialin/locale yet: nothing to compile" >&2; exit 0; }
command -v msgfmt >/dev/null 2>&1 || scripts/apt_ensure.sh gettext
cd linjialin  # compilemessages walks the current directory: keep it out of .venv
DJANGO_SETTINGS_MODULE= ../.venv/bin/python -m django compilemessages -v 0
