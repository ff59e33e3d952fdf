# `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/task-gateway demo

lint: install-test
	$(BIN)/ruff check gateway tests
	$(BIN)/ruff format --check gateway tests

typecheck: install-test
	$(BIN)/mypy gateway

test: install-test lint typecheck
	$(BIN)/pytest -q

bench: install-test
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV)
