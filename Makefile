# The verbs. CI (.ci/run) calls `make test`, exactly as the README says.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

WEB    := gateway/web
WEB_STAMP := $(WEB)/static/vendor/.built

.PHONY: install web web-messages browser up test test-unit test-integration test-e2e lint fmt typecheck check bench clean services-up services-down

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## The web app's front-end packages, pinned by gateway/web/package-lock.json, vendored into
## gateway/web/static/vendor/ (gitignored; served by the gateway, no CDN).
$(WEB_STAMP): $(WEB)/package.json $(WEB)/package-lock.json infra/web-vendor.sh
	cd $(WEB) && npm ci --no-audit --no-fund
	infra/web-vendor.sh
	@touch $(WEB_STAMP)

web: $(WEB_STAMP)

## The web app's words: extract every string (babel.cfg) into one catalog per page area,
## gateway/web/locale/<lang>/LC_MESSAGES/<area>.po, keeping every translation.
web-messages: $(STAMP)
	$(BIN)/python -m gateway.web.catalogs

## Debian's chromium for the browser tests (apt-get when missing; CI is root).
browser:
	infra/browser.sh

## Run Muni embedded: one process, SQLite stores in ./data, in-process bus, GraphiQL on :8000.
up: $(STAMP) $(WEB_STAMP)
	$(BIN)/muni up --demo

## The whole suite. Starts what it needs (a Tansu broker; PostgreSQL on 127.0.0.1:5432 or a
## throwaway cluster from the installed binaries). A missing server fails the run, never skips.
test: $(STAMP) $(WEB_STAMP) browser
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 MUNI_REQUIRE_SERVERS=1 $(BIN)/pytest -n 2 --dist loadgroup

test-unit: $(STAMP)
	$(BIN)/pytest -m "not integration and not e2e"

test-integration: $(STAMP)
	MUNI_REQUIRE_SERVERS=1 $(BIN)/pytest -m integration

test-e2e: $(STAMP)
	$(BIN)/pytest -m e2e

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(STAMP)
	$(BIN)/mypy kernel matching services contributions gateway bench tests

check: lint typecheck test

## Benchmarks at short limits (minutes); writes bench/results/*.json and bench/results/summary.md
bench: $(STAMP)
	$(BIN)/muni bench matching --quick

services-up: $(STAMP)
	infra/broker.sh start && infra/postgres.sh start

services-down:
	-infra/broker.sh stop; -infra/postgres.sh stop

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
