# Two commands: `make run` (install what is missing, init SQLite with demo data, serve) and
# `make test` (install what is missing, run the suite on SQLite, then on PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres system venv browser-deps lint bench clean

$(BIN)/facilitator: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -e ".[test]"
	@touch $@

venv: $(BIN)/facilitator

system:
	@bash .ci/system-packages.sh

# npm ci installs exactly the lock file and never rewrites it (make test leaves the checkout clean).
node_modules/axe-core/axe.min.js: package-lock.json
	@npm ci --no-audit --no-fund --silent >/dev/null

browser-deps: node_modules/axe-core/axe.min.js

instance/secret_key:
	@mkdir -p instance
	@$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@
	@chmod 600 $@

run: system venv instance/secret_key
	@$(BIN)/facilitator init
	@$(BIN)/facilitator demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	@SECRET_KEY=$$(cat instance/secret_key) $(BIN)/facilitator run --host $(HOST) --port $(PORT)

test: system venv browser-deps
	@echo "== tests on SQLite =="
	@$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	@echo "== tests on PostgreSQL =="
	@bash .ci/with-postgres.sh $(BIN)/python -m pytest -q $(PYTEST_ARGS)
	@echo "== all tests passed on SQLite and PostgreSQL =="

test-sqlite: venv
	@$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-postgres: venv
	@bash .ci/with-postgres.sh $(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: venv
	@$(BIN)/ruff check .

bench: venv
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) instance node_modules .pytest_cache
