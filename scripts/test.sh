#!/usr/bin/env bash
# `make test`: everything CI checks, in one command. Runs every step, then prints a summary; exits 1 if
# any step failed. The pytest suite runs on SQLite, then again on a throwaway PostgreSQL cluster.
set -uo pipefail
cd "$(dirname "$0")/.."
export UV_PYTHON_DOWNLOADS=never
BIN=.venv/bin
PYTEST_ARGS=(-p no:cacheprovider -q -n "${PYTEST_WORKERS:-2}" --dist loadgroup --durations=10)

scripts/bootstrap.sh --dev || { echo "FAILED: could not install the project" >&2; exit 1; }
scripts/apt_ensure.sh chromium fonts-wqy-microhei gettext || { echo "FAILED: apt-get install" >&2; exit 1; }

failed=()
summary=()
step() {
  local name=$1; shift
  local start=$SECONDS
  echo
  echo "=== $name"
  if "$@"; then
    summary+=("ok      $(printf '%4ss' $((SECONDS - start)))  $name")
  else
    summary+=("FAILED  $(printf '%4ss' $((SECONDS - start)))  $name")
    failed+=("$name")
  fi
}

step "compile translations" scripts/compile_messages.sh
step "import contracts (lint-imports)" $BIN/lint-imports --no-cache
step "ruff check" $BIN/ruff check --output-format concise .
step "migrations are complete (makemigrations --check)" $BIN/python manage.py makemigrations --check --dry-run
step "zh-Hans catalogue complete" $BIN/python scripts/check_translations.py
# pytest exits 5 when it collected no tests: a failure here like any other non-zero code.
step "pytest on SQLite" $BIN/pytest "${PYTEST_ARGS[@]}"
step "pytest on PostgreSQL" scripts/with_postgres.sh --optional $BIN/pytest "${PYTEST_ARGS[@]}"

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "make test: ${#failed[@]} step(s) failed" >&2
  exit 1
fi
echo "make test: all passed"
