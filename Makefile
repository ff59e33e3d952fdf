# `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint typecheck bench bench-peer clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

# Apollo composition and gateway (node) for the federation tests, pinned by the lock file.
tests/federation/node_modules/.package-lock.json: tests/federation/package.json tests/federation/package-lock.json
	cd tests/federation && npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test tests/federation/node_modules/.package-lock.json

demo: install
	$(BIN)/task-gateway demo

lint: install-test
	$(BIN)/ruff check gateway tests benchmarks
	$(BIN)/ruff format --check gateway tests benchmarks

typecheck: install-test
	$(BIN)/mypy gateway benchmarks

test: install-test lint typecheck
	$(BIN)/pytest -q

bench: install-test
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.abuse
	$(BIN)/python -m benchmarks.faults
	$(MAKE) bench-peer

# Hive Gateway, Mesh Compose and autocannon for the side-by-side benchmark, pinned by the lock file.
benchmarks/peer/node_modules/.package-lock.json: benchmarks/peer/package.json benchmarks/peer/package-lock.json
	cd benchmarks/peer && npm ci --no-audit --no-fund --loglevel=error

# task-gateway against GraphQL Mesh + Hive Gateway on the same sandbox upstream (about 3 minutes;
# BENCH_PEER_DURATION and BENCH_PEER_PAIRS make it longer).
bench-peer: install benchmarks/peer/node_modules/.package-lock.json
	$(BIN)/python -m benchmarks.peer

clean:
	rm -rf $(VENV)
