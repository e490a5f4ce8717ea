# Liaison — the two commands are `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINT_PATHS := $(wildcard src tests benchmarks)

.PHONY: demo test lint typecheck pytest bench bench-entities bench-alerts bench-exchange lock browser clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

## Run the demo: migrate the embedded SQLite database, seed a synthetic world, serve UI and API.
demo: $(STAMP)
	$(BIN)/liaison demo

## Run every quality gate and the whole suite (SQLite, PostgreSQL, browser).
test: $(STAMP) browser
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/mypy --strict src
	$(BIN)/pytest -n 2 --dist loadgroup

## Install Debian's Chromium for the browser tests when missing and we may (root).
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

lint: $(STAMP)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/ruff check $(LINT_PATHS)

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

pytest: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup

## Benchmarks against the reference implementations (separate environment).
bench: $(STAMP) .venv-bench/.installed
	$(BIN)/python -m benchmarks

## The shared information system at scale: ingestion, cross-check and its quality, search
## latency, on SQLite and PostgreSQL (writes benchmarks/results/entities.json).
bench-entities: $(STAMP)
	$(BIN)/python -m benchmarks.entities

## Alerts and checks at scale: object and person checks over 1,000,000 alerts in force (200,000
## on persons), batch throughput, recall of the synthetic truth, on SQLite and PostgreSQL
## (writes benchmarks/results/alerts.json).
bench-alerts: $(STAMP)
	$(BIN)/python -m benchmarks.alerts

## The secure exchange at scale: send throughput, inbox latency with 1,000,000 stored messages,
## on SQLite and PostgreSQL (writes benchmarks/results/exchange.json).
bench-exchange: $(STAMP)
	$(BIN)/python -m benchmarks.exchange

# The reference systems live in their own environment, never in the product's dependencies.
.venv-bench/.installed: benchmarks/requirements-bench.lock
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet --require-hashes -r benchmarks/requirements-bench.lock
	touch $@

## Re-resolve the hash-pinned lock after changing dependencies in pyproject.toml.
lock:
	uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 --quiet -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
