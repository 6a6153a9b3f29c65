# My Page: `make run` serves the portal, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast bench bench-deps prod-check e2e-deps clean

setup: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	@touch $(STAMP)

instance/.seeded: | $(STAMP)
	@mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@touch instance/.seeded

# Development payments go to localstripe on 127.0.0.1:8420 (started below when installed).
run: export PORTAL_STRIPE_API_BASE ?= http://127.0.0.1:8420
run: export PORTAL_STRIPE_SECRET_KEY ?= sk_test_localstripe
run: export PORTAL_STRIPE_PUBLISHABLE_KEY ?= pk_test_localstripe
run: export PORTAL_STRIPE_WEBHOOK_SECRET ?= whsec_localstripe
run: setup
	$(FLASK) db upgrade
	@$(MAKE) --no-print-directory instance/.seeded
	@$(BIN)/python scripts/start_localstripe.py || true
	@echo "My Page: open http://localhost:5000 (passkeys need localhost, not 127.0.0.1)"
	$(FLASK) run --host 127.0.0.1 --port 5000

test: setup e2e-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -x -q -m "not e2e" $(PYTEST_ARGS)

# Lighthouse (the browser suite's accessibility audit) from package-lock.json.
# Without npm the audit is skipped, except under PORTAL_E2E=required (CI), where it fails.
e2e-deps: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: install Node.js and npm to run the Lighthouse audit"; exit 0; }; \
	npm ci --no-audit --no-fund --loglevel=error

# wrk drives the capacity benchmark (tests/perf/test_throughput.py).
bench-deps:
	@command -v wrk >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

bench: setup bench-deps
	$(BIN)/python -m pytest tests/perf -s -q -p no:cacheprovider --override-ini addopts= $(PYTEST_ARGS)

# Production settings on this machine: gunicorn, PostgreSQL, Redis, moto for AWS, localstripe.
prod-check: setup
	$(BIN)/python scripts/prod_check.py

clean:
	rm -rf $(VENV) node_modules instance/portal.db instance/.seeded
