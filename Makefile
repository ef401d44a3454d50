# Two commands: `make run` (install what is missing, init SQLite with demo data, serve) and
# `make test` (install what is missing, run the suite on SQLite, then on PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run serve test test-sqlite test-postgres test-dates system venv browser-deps translations messages lint bench clean

$(BIN)/facilitator: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install -q --disable-pip-version-check -e ".[test]"
	@touch $@

venv: $(BIN)/facilitator

system:
	@bash .ci/system-packages.sh

# npm ci installs exactly the lock file and never rewrites it (make test leaves the checkout clean).
# (npm gives unpacked files a fixed old date, so a stamp of our own says when it last ran.)
node_modules/.installed: package-lock.json
	@npm ci --no-audit --no-fund --silent >/dev/null
	@touch $@

browser-deps: node_modules/.installed

# The Spanish translation, compiled for the app (the .mo is built, never committed).
CATALOG := facilitator/translations/es/LC_MESSAGES/messages
$(CATALOG).mo: $(CATALOG).po $(BIN)/facilitator
	@$(BIN)/pybabel -q compile -d facilitator/translations

translations: $(CATALOG).mo

# After marking text: collect every string (messages.pot) and add the new ones to messages.po.
messages: venv
	@$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k N_ -k lazy_pgettext:1c,2 -k pgettext:1c,2 --no-location --sort-output \
	  --project facilitator -o facilitator/translations/messages.pot .
	@$(BIN)/pybabel -q update --no-fuzzy-matching -i facilitator/translations/messages.pot -d facilitator/translations

instance/secret_key:
	@mkdir -p instance
	@$(PYTHON) -c 'import secrets; print(secrets.token_hex(32))' > $@
	@chmod 600 $@

run: system venv translations instance/secret_key
	@$(BIN)/facilitator init
	@$(BIN)/facilitator demo
	@echo "Serving on http://$(HOST):$(PORT)/ with a background worker for long documents (Ctrl-C to stop)"
	@export SECRET_KEY=$$(cat instance/secret_key); $(BIN)/facilitator worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT; $(BIN)/facilitator run --host $(HOST) --port $(PORT)

# As a deployment runs it (docs/deploy.md): migrations, then gunicorn (gunicorn.conf.py) and the
# background worker together; Ctrl-C stops both. No demo data: `make run` is the demo.
serve: system venv translations instance/secret_key
	@$(BIN)/facilitator init
	@echo "Serving with gunicorn on http://$(HOST):$(PORT)/ and a background worker (Ctrl-C stops both)."
	@echo "No account yet? facilitator init --program NAME --email EMAIL (or facilitator demo)."
	@export SECRET_KEY=$$(cat instance/secret_key); $(BIN)/facilitator worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT; GUNICORN_BIND=$(HOST):$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py

# Two pytest workers (one per core), each with its own databases; a test file stays on one worker.
PYTEST_PARALLEL ?= -n auto --dist loadfile
# The date-sensitive tests run again at these moments (the program's zone, America/Los_Angeles):
# New Year's Eve in the evening (already January 1 in UTC), the Sunday clocks spring forward, and a
# leap day (a Tuesday). With the default moment (a Wednesday) that is four weekdays and both years' ends.
# The PostgreSQL run is itself at the first moment, so the date runs cover the other two on SQLite.
PG_MOMENT := 2026-12-31T18:00:00-08:00
TEST_MOMENTS := 2027-03-14T12:00:00-07:00 2028-02-29T12:00:00-08:00

test: system venv translations browser-deps
	@echo "== tests on SQLite =="
	@$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)
	@echo "== tests on PostgreSQL, with the clock at $(PG_MOMENT) =="
	@FACILITATOR_TEST_NOW=$(PG_MOMENT) bash .ci/with-postgres.sh $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)
	@$(MAKE) --no-print-directory test-dates
	@echo "== all tests passed on SQLite and PostgreSQL, and at every test moment =="

test-sqlite: venv translations browser-deps
	@$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-postgres: venv translations browser-deps
	@bash .ci/with-postgres.sh $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) $(PYTEST_ARGS)

test-dates: venv translations browser-deps
	@for moment in $(TEST_MOMENTS); do \
	  echo "== date-sensitive tests with the clock at $$moment (SQLite) =="; \
	  FACILITATOR_TEST_NOW=$$moment $(BIN)/python -m pytest -q $(PYTEST_PARALLEL) -m "not undated" $(PYTEST_ARGS) || exit 1; \
	done

lint: venv
	@$(BIN)/ruff check .

bench: venv
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) instance node_modules .pytest_cache
