# 邻家邻 — the two commands a newcomer needs: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
BIN := .venv/bin
export UV_PYTHON_DOWNLOADS := never
BIND ?= 127.0.0.1:8000

.PHONY: help install run test lint bench docs clean distclean

help:
	@echo "make run     install, migrate, load the demo (first time), serve http://$(BIND)"
	@echo "make test    lint, import contracts, migrations check, zh-Hans catalogue, pytest on SQLite and PostgreSQL"
	@echo "make lint    lint-imports + ruff check"
	@echo "make bench   run the benchmarks in bench/ (writes bench/results/)"
	@echo "make docs    regenerate docs/roles.md from linjialin/accounts/roles.py"
	@echo "make clean   remove caches and collected static files (keeps the database in var/)"

install:
	@scripts/bootstrap.sh

run: install
	@scripts/compile_messages.sh
	@$(BIN)/linjialin migrate --noinput -v 0
	@$(BIN)/linjialin demo --if-empty --no-logins
	@echo
	@echo "邻家邻 — open http://$(BIND)  (Ctrl-C stops)"
	@echo
	@$(BIN)/linjialin demo --logins
	@echo
	@exec env LINJIALIN_DEMO=1 $(BIN)/linjialin up --no-migrate --bind $(BIND)

test:
	@scripts/test.sh

lint:
	@scripts/bootstrap.sh --dev
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check --output-format concise .

bench:
	@scripts/bootstrap.sh --dev
	@set -e; for f in bench/*.py; do \
	  case "$$(basename $$f)" in _*|common.py) continue;; esac; \
	  echo "=== $$f"; $(BIN)/python $$f; \
	done

docs:
	@$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf .pytest_cache .ruff_cache .hypothesis .import_linter_cache var/static
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
	find linjialin -name '*.mo' -delete

distclean: clean
	@echo "also removing .venv and var/ (the database and the generated secret key)"
	rm -rf .venv var
