# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/trickle db upgrade
	$(BIN)/trickle demo
	@echo ""
	@echo "  Trickle API             http://$(HOST):$(PORT)/api/v1/openapi.json"
	@echo "  Demo site 'demo', forms blog, case_study, pricing. First questions of the blog form:"
	@echo "    curl -s -X POST http://$(HOST):$(PORT)/api/v1/sites/demo/forms/blog/ask -H 'Content-Type: application/json' -d '{}'"
	@echo ""
	$(BIN)/trickle run --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python bench/ask.py --record

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
