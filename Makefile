# Two commands on a fresh machine: `make run` (server with demo data on embedded stores)
# and `make test` (the whole suite). Everything installs into .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# GraphiQL's files, built from clients/graphiql/ and served by the server itself (gateway/graphiql.py).
GRAPHIQL := gateway/static/graphiql/manifest.json

.PHONY: run test install browser lint schema bench clean

$(STAMP): pyproject.toml clients/package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch first, so nothing below asks for the multi-GB CUDA one.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	# The client libraries the tests drive (graphql-ws, Apollo Client, graphql-http, playwright-core)
	# and GraphiQL's sources, from the lockfile.
	if command -v npm >/dev/null; then cd clients && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the tests with real client libraries will be skipped"; fi
	touch $(STAMP)

$(GRAPHIQL): $(STAMP) $(wildcard clients/graphiql/*)
	if [ -d clients/node_modules ]; then cd clients && node graphiql/build.mjs; \
	else echo "npm not found: GraphiQL is not built, and /graphql tells browsers so"; fi

# Chromium for the browser test (tests/gateway/test_graphiql.py), from Debian's packages where this runs as
# root with apt-get (CI); elsewhere install it yourself, or that test is skipped and says why.
browser:
	@command -v chromium >/dev/null || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; \
	else echo "chromium not found: the browser test will be skipped"; fi

install: $(STAMP) $(GRAPHIQL) browser

run: $(STAMP) $(GRAPHIQL)
	$(BIN)/bookgraph serve --migrate --demo-data --worker

# The tests that touch the inventory run again with it on PostgreSQL, as replicas sharing one
# inventory run (the PostgreSQL on 127.0.0.1:5432, else an embedded one): checkout's oversell
# test then has two server processes reserving the same rows.
INVENTORY_TESTS := tests/checkout tests/indexing tests/catalog tests/execution tests/schema tests/datasources

test: $(STAMP) $(GRAPHIQL)
	$(BIN)/pytest
	TEST_INVENTORY_ENGINE=postgresql $(BIN)/pytest $(INVENTORY_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .

# Needs wrk (Debian/Ubuntu: apt-get install wrk). SCALE=0.05 for a quick run.
bench: $(STAMP)
	@command -v wrk >/dev/null || { echo "make bench needs wrk: apt-get install wrk"; exit 1; }
	$(BIN)/bookgraph bench --scale $(or $(SCALE),1.0)

schema: $(STAMP)
	$(BIN)/bookgraph schema

clean:
	rm -rf $(VENV) var gateway/static/graphiql
