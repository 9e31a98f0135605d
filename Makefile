# openlms developer commands.
#   make run    install into .venv, migrate + create an admin and an OAuth client, serve on :18000
#               (PORT=N or HOST=H to listen elsewhere; INI=file for another instance)
#   make test   the whole test suite on SQLite, then on PostgreSQL (127.0.0.1:5432)
#   make fuzz   a longer contract fuzzing run (FUZZ_EXAMPLES examples per operation)
#   make bench  the benchmark harness (bench/README.md): SIZE=small for the smoke size,
#               BENCH_DATABASE_URL=... for another PostgreSQL database (named openlms_bench...)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INI ?= development.ini
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/openlms_test
EXAMPLE_PLUGIN := examples/hello_plugin
TEST_PATHS := tests $(wildcard $(EXAMPLE_PLUGIN)/tests)
# pytest-xdist worker processes (each with its own test database); 0 runs in one process.
TEST_WORKERS ?= auto
PYTEST := $(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# Stamps: reinstall only when the packaging metadata changes.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
BENCH_STAMP := $(VENV)/.installed-bench
PACKAGING := pyproject.toml setup.cfg $(wildcard $(EXAMPLE_PLUGIN)/pyproject.toml $(EXAMPLE_PLUGIN)/setup.cfg)

.PHONY: run test test-sqlite test-postgres fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): $(PACKAGING) | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): $(PACKAGING) | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	if [ -d $(EXAMPLE_PLUGIN) ]; then $(BIN)/pip install -q -e $(EXAMPLE_PLUGIN); fi
	touch $@

# With PORT, links and the printed curl command use that port too (unless LMS_BASE_URL is set).
RUN_ENV := $(if $(PORT),LMS_BASE_URL="$${LMS_BASE_URL:-http://127.0.0.1:$(PORT)}")

run: $(RUN_STAMP)
	$(RUN_ENV) $(BIN)/lms --ini $(INI) bootstrap
	$(RUN_ENV) $(BIN)/lms --ini $(INI) serve $(if $(HOST),--host '$(HOST)') $(if $(PORT),--port '$(PORT)')

test: test-sqlite test-postgres

test-sqlite: $(TEST_STAMP)
	@echo "== tests on SQLite"
	$(PYTEST) $(TEST_PATHS)

# PostgreSQL must accept PG_TEST_URL's user on its server (see .ci/run); the
# test database itself is dropped and recreated by the fixtures.
# Unreachable: skipped with a warning, except under CI=true where it fails.
define PG_REACHABLE
import sys, psycopg
from sqlalchemy.engine import make_url
url = make_url(sys.argv[1]).set(drivername="postgresql", database="postgres")
psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=3).close()
endef
export PG_REACHABLE

test-postgres: $(TEST_STAMP)
	@if $(BIN)/python -c "$$PG_REACHABLE" '$(PG_TEST_URL)' 2>/dev/null; then \
		echo "== tests on PostgreSQL ($(PG_TEST_URL))"; \
		LMS_TEST_DATABASE_URL='$(PG_TEST_URL)' $(PYTEST) $(TEST_PATHS); \
	elif [ "$$CI" = "true" ]; then \
		echo "!! PostgreSQL is not reachable ($(PG_TEST_URL)) and CI=true: failing." >&2; \
		exit 1; \
	else \
		echo ""; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!! SKIPPED the PostgreSQL run: cannot connect to $(PG_TEST_URL)."; \
		echo "!! Start PostgreSQL (see .ci/run) and run 'make test' again."; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

# tests/fuzz runs in 'make test' with a few examples per operation; this runs it longer.
FUZZ_EXAMPLES ?= 100
fuzz: $(TEST_STAMP)
	LMS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/fuzz

# wrk (the load generator) is a Debian package: installed when missing and run as root;
# otherwise the harness runs without its load phase.
SIZE ?= large
BENCH_DATABASE_URL ?=
$(BENCH_STAMP): $(PACKAGING) | $(BIN)/python
	$(BIN)/pip install -q -e '.[bench]'
	touch $@

bench: $(BENCH_STAMP)
	@if ! command -v wrk >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "== installing wrk (apt-get)"; \
			apt-get install -y -q wrk >/dev/null 2>&1 || \
				{ apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null; }; \
		else \
			echo "!! wrk is missing: 'sudo apt-get install wrk' (or your system's package), then make bench again for the load phase."; \
		fi; \
	fi
	$(BIN)/python bench/harness.py --size '$(SIZE)' $(if $(BENCH_DATABASE_URL),--database-url '$(BENCH_DATABASE_URL)')

clean:
	rm -rf $(VENV) build dist
