# Two entry points for a fresh clone: `make demo` and `make test` (see README.md);
# `make screenshots` saves each step of the member's journey under docs/screenshots/.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint install screenshots

$(BIN)/idp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/idp

demo: install
	bash scripts/demo

test: install
	bash scripts/test

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

screenshots: install
	bash scripts/install-chromium
	SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/browser
