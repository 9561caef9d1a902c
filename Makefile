# carbonpeak: the two commands of the quick start are `make demo` and `make test`.
# Both create .venv with Python 3.11+ and install what they need, so a fresh machine
# (Python 3.11, git, make, the package registries) is enough.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell sha1sum pyproject.toml | cut -c1-12)
STAMP  := $(VENV)/.stamp-run-$(HASH)
TSTAMP := $(VENV)/.stamp-test-$(HASH)

.PHONY: demo test test-pg test-fast lint bench system-deps clean help

help:
	@echo "make demo   - install and run the main job on the bundled Guangdong demo data"
	@echo "make test   - install with test extras and run the whole test suite (DuckDB, then PostgreSQL)"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks in bench/ (by hand; prints tables)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@rm -f $(VENV)/.stamp-run-*; touch $@

$(TSTAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@rm -f $(VENV)/.stamp-*; touch $@ $(STAMP)

# Debian packages the full suite and the PDF report need (Java for Spark, Chromium for browser
# tests and PDF printing, CJK fonts).  Installed only when missing; see scripts/system-deps.sh.
system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP) system-deps
	$(BIN)/carbonpeak demo

# The whole suite, spread over 2 workers (tests of one module stay on one worker, so module
# fixtures such as the browser or a Spark session start once); slow, Spark, browser and
# service tests included.  Every test has a 15-minute ceiling so a hang fails instead of stalling.
# `make test` runs it on DuckDB (the embedded default), then on PostgreSQL, in a temporary cluster
# started here as an unprivileged user (scripts/pg-test-cluster.sh) and stopped afterwards, also
# when the tests fail.  Every test that opens a store runs on both.  The tests that never open
# one (the domain, catalog, file-input and rule-engine tests listed in BACKEND_FREE in
# tests/conftest.py) give the same result on either backend, so the PostgreSQL pass leaves them
# out; the DuckDB pass checks that they really never use a store (a listed test that does fails),
# and on the PostgreSQL pass a test that opens a DuckDB store fails unless it says why
# (marker duckdb_store).  The browser tests also run on the DuckDB pass only: every page and route
# is requested on the PostgreSQL pass without a browser (tests/conftest.py, _browser_once says why).
# `make test-pg` runs the whole suite on PostgreSQL, those tests included.
PYTEST_ALL := $(BIN)/python -m pytest -n 2 --dist loadscope --timeout 900 --durations 25
PG_RUN = pgdir=$$(mktemp -d) && chmod 711 $$pgdir && \
  url=$$(bash scripts/pg-test-cluster.sh start $$pgdir/cluster) && \
  echo "== the suite on PostgreSQL ($$url)" && \
  $(1) CARBONPEAK_TEST_DATABASE_URL=$$url $(PYTEST_ALL); rc=$$?; \
  bash scripts/pg-test-cluster.sh stop $$pgdir/cluster; rmdir $$pgdir 2>/dev/null; exit $$rc
test: $(TSTAMP) system-deps
	$(BIN)/ruff check src tests bench
	$(PYTEST_ALL)
	@$(call PG_RUN,)

# the whole suite on PostgreSQL only, the backend-free tests included (a temporary cluster, as above)
test-pg: $(TSTAMP) system-deps
	@$(call PG_RUN,CARBONPEAK_TEST_PG_ALL=1)

test-fast: $(TSTAMP)
	$(BIN)/python -m pytest -m "not slow and not spark and not browser and not service"

lint: $(TSTAMP)
	$(BIN)/ruff check src tests bench

bench: $(TSTAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache carbonpeak.duckdb demo-output
