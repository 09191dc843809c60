# The two commands a newcomer needs: `make run` and `make test` (pytest in parallel, pytest-xdist).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000
# One test worker more than cores: the tests wait on PostgreSQL, Chromium and local servers
# (2 cores, whole suite: 2 workers 452 s, 3 workers 418 s, 4 workers 425 s).
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print((os.cpu_count() or 1) + 1)')

.PHONY: run test lint format bench clean browser wrk widget axe screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The served widget: widget/trickle.js (the readable source) minified by the pinned terser
# (widget/package.json, package-lock.json) into widget/dist/trickle.min.js. The app builds it too
# when missing or stale, and serves the source if it cannot (docs/widget.md).
WIDGET_BUILD := widget/dist/trickle.min.js
WIDGET_DEPS  := widget/node_modules/.installed

$(WIDGET_DEPS): widget/package.json widget/package-lock.json
	npm ci --prefix widget --no-audit --no-fund
	touch $(WIDGET_DEPS)

$(WIDGET_BUILD): widget/trickle.js widget/build.mjs $(WIDGET_DEPS)
	node widget/build.mjs

# Without node/npm the app serves the readable source (and the size test fails).
widget:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(WIDGET_BUILD); \
	else \
		echo "node/npm not found: /widget.js will serve the readable widget/trickle.js (docs/widget.md)"; \
	fi

# axe-core for the e2e accessibility audit (tests/e2e/test_accessibility.py), pinned in
# tests/e2e/axe/package.json and package-lock.json; without npm the audit is skipped, saying so.
AXE_DEPS := tests/e2e/axe/node_modules/.installed

$(AXE_DEPS): tests/e2e/axe/package.json tests/e2e/axe/package-lock.json
	npm ci --prefix tests/e2e/axe --no-audit --no-fund
	touch $(AXE_DEPS)

axe:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(AXE_DEPS); \
	else \
		echo "npm not found: the accessibility audit (tests/e2e/test_accessibility.py) will be skipped"; \
	fi

# Plain http on this machine: the console's session cookie may travel without HTTPS. The demo is
# switched on (TRICKLE_DEMO: /demo/ pages and /demo/inbox; off, they are 404). The demo's
# webhooks go to the app's own /demo/inbox on $(HOST), a private address: allowed here, for the demo.
# The delivery worker runs beside the web app; Ctrl-C (or a TERM to the shell) stops both.
run: $(STAMP) widget
	$(BIN)/trickle db upgrade
	TRICKLE_ALLOW_PRIVATE_TARGETS=true $(BIN)/trickle demo --inbox-url http://$(HOST):$(PORT)/demo/inbox
	@echo ""
	@echo "  Console (sign in with a login above)    http://$(HOST):$(PORT)/admin/"
	@echo "  Demo site (blog, case study, pricing)   http://$(HOST):$(PORT)/demo/"
	@echo "  Webhooks the demo received              http://$(HOST):$(PORT)/demo/inbox"
	@echo "  Widget                                  http://$(HOST):$(PORT)/widget.js"
	@echo "  API description                         http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo ""
	@echo "  Running the web app and the delivery worker (trickle worker); Ctrl-C stops both."
	@echo ""
	@export TRICKLE_SESSION_COOKIE_SECURE=false TRICKLE_ALLOW_PRIVATE_TARGETS=true TRICKLE_DEMO=1; \
	$(BIN)/trickle worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'exit 130' INT; trap 'exit 143' TERM HUP; \
	$(BIN)/trickle run --host $(HOST) --port $(PORT)

# Browser tests use Debian's Chromium when present; otherwise install it (apt as root),
# else fall back to Playwright's own download.
browser: $(STAMP)
	@if [ -x /usr/bin/chromium ]; then \
		echo "Chromium: /usr/bin/chromium"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		$(BIN)/playwright install chromium; \
	fi

test: $(STAMP) browser widget axe
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Load benchmarks drive the server with wrk, from Debian's packages.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
		else echo "install wrk (apt-get install wrk) to run bench/api_load.py"; exit 1; fi; }

bench: $(STAMP) wrk widget
	$(BIN)/python bench/widget_size.py --record
	$(BIN)/python bench/ask.py --record
	$(BIN)/python bench/delivery.py --record
	$(BIN)/python bench/export.py --record
	$(BIN)/python bench/api_load.py --contacts 100000 --record
	$(BIN)/python bench/api_load.py --contacts 10000,1000000 --record

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache widget/node_modules widget/dist tests/e2e/axe/node_modules

# The README's and docs' screenshots, taken again by the browser tests (scripts/screenshots.py).
screenshots: $(STAMP) browser widget
	$(BIN)/python scripts/screenshots.py
