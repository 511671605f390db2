# Two entry points for a fresh clone: `make demo` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint install

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
