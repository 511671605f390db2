# Two entry points for a fresh clone: `make demo` and `make test` (see README.md);
# `make screenshots` saves each step of the member's journey under docs/screenshots/.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: demo test lint install screenshots bench bench-quick bench-rows

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

# Side-by-side benchmark against node-oidc-provider (docs/performance.md). Installs wrk (apt)
# and the peer (npm ci in bench/peer) itself. BENCH_ARGS passes options, e.g. --no-es256.
bench: install
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# One short round on SQLite; exits non-zero on any error (the benchmark's own self-check).
bench-quick: install
	$(BIN)/python -m bench.run --quick $(BENCH_ARGS)

# Token, userinfo and introspection p99 at 1,000 vs ROWS stored rows (ours only).
ROWS ?= 1000000
bench-rows: install
	$(BIN)/python -m bench.run --rows $(ROWS) --databases sqlite $(BENCH_ARGS)
