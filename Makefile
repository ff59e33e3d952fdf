# `make demo` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install install-test system-packages explorer lint typecheck docs bench bench-scale bench-peer bench-capacity clean

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

# GraphiQL, React and Monaco, pinned by the lock file and bundled by esbuild into the
# git-ignored gateway/http/explorer_assets/, which the gateway serves (no CDN at run time).
EXPLORER_ASSETS := gateway/http/explorer_assets/main.js
explorer/node_modules/.package-lock.json: explorer/package.json explorer/package-lock.json
	cd explorer && npm ci --no-audit --no-fund --loglevel=error

$(EXPLORER_ASSETS): explorer/node_modules/.package-lock.json explorer/build.mjs $(wildcard explorer/src/*)
	cd explorer && npm run --silent build

explorer: $(EXPLORER_ASSETS)

# The graphql-http audit suite (GraphQL over HTTP), pinned by the lock file.
tests/http_audit/node_modules/.package-lock.json: tests/http_audit/package.json tests/http_audit/package-lock.json
	cd tests/http_audit && npm ci --no-audit --no-fund --loglevel=error

# The mainstream GraphQL clients (urql, graphql-request, Apollo Client, Relay and its
# compiler, GraphQL Code Generator) run by tests/test_clients.py, and the subscription
# clients (graphql-ws, graphql-sse) by tests/test_subscription_clients.py, pinned by the lock file.
tests/clients/node_modules/.package-lock.json: tests/clients/package.json tests/clients/package-lock.json
	cd tests/clients && npm ci --no-audit --no-fund --loglevel=error

install: $(VENV)/.installed $(EXPLORER_ASSETS)
install-test: $(VENV)/.installed-test $(EXPLORER_ASSETS) \
	tests/federation/node_modules/.package-lock.json tests/http_audit/node_modules/.package-lock.json \
	tests/clients/node_modules/.package-lock.json benchmarks/peer/node_modules/.package-lock.json

demo: install
	$(BIN)/task-gateway demo

lint: install-test
	$(BIN)/ruff check gateway tests benchmarks
	$(BIN)/ruff format --check gateway tests benchmarks

typecheck: install-test
	$(BIN)/mypy gateway benchmarks

# Chromium, redis-server and nginx from Debian, installed when missing (as root), or named.
system-packages:
	@scripts/system-packages

# The docs site (mkdocs.yml, docs/) into the git-ignored site/; --strict fails the build on a
# broken link or anchor. `$(BIN)/mkdocs serve` serves it while editing.
docs: install-test
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The whole suite under the default executor (compiled), then the tests that send GraphQL
# operations (GATEWAY_GRAPHQL_TESTS) again under graphql-core's (GATEWAY_EXECUTOR).
GATEWAY_GRAPHQL_TESTS := tests/test_partial_results.py tests/test_nodes.py tests/test_work_items.py \
	tests/test_invoiced.py tests/test_zoho.py tests/test_fakturoid.py tests/test_readydesk.py \
	tests/test_entities_input.py tests/test_federation.py tests/test_tracing.py \
	tests/test_operation_limits.py tests/test_graphql_over_http.py tests/test_fifth_vendor.py
test: system-packages install-test lint typecheck docs
	$(BIN)/pytest -q
	GATEWAY_EXECUTOR=graphql-core $(BIN)/pytest -q $(GATEWAY_GRAPHQL_TESTS)

bench: install-test
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.abuse
	$(BIN)/python -m benchmarks.faults
	$(MAKE) bench-scale
	$(MAKE) bench-peer

# 1 worker, 2 workers, 2 processes sharing a local redis-server, under autocannon (about 1 minute).
bench-scale: install benchmarks/peer/node_modules/.package-lock.json
	$(BIN)/python -m benchmarks.scale

# Hive Gateway, Mesh Compose and autocannon for the side-by-side benchmark, pinned by the lock file.
benchmarks/peer/node_modules/.package-lock.json: benchmarks/peer/package.json benchmarks/peer/package-lock.json
	cd benchmarks/peer && npm ci --no-audit --no-fund --loglevel=error

# task-gateway against GraphQL Mesh + Hive Gateway on the same sandbox upstream (about 3 minutes;
# BENCH_PEER_DURATION and BENCH_PEER_PAIRS make it longer).
bench-peer: install benchmarks/peer/node_modules/.package-lock.json
	$(BIN)/python -m benchmarks.peer

# Dashboard users served inside the vendors' quotas, N = 50 to 1,000 (about 10 minutes;
# `$(BIN)/python -m benchmarks.capacity --quick` takes 2, `--help` lists the options).
bench-capacity: install system-packages
	$(BIN)/python -m benchmarks.capacity

clean:
	rm -rf $(VENV) gateway/http/explorer_assets explorer/node_modules site
