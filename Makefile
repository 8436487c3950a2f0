# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALL := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup setup-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs the project and its ~100 dependencies into the venv in seconds (pip takes about
# 20 s even from its cache); it comes from PyPI like everything else. --compile-bytecode as pip
# does: where PYTHONDONTWRITEBYTECODE is set, every process would otherwise compile the
# libraries it imports from source (some 10 s over the test suite).
$(BIN)/uv: $(BIN)/python
	$(BIN)/pip install --quiet uv

# Debian packages: a CJK font for notices; unicode-data (Unihan stroke counts for 按姓氏笔划 of rare
# name characters: workflow/rules/stroke_order.py); poppler-utils (PDF text checks) and Chromium
# (browser tests) for the tests as well.
RUN_PACKAGES := fonts-noto-cjk unicode-data
TEST_PACKAGES := fonts-noto-cjk unicode-data poppler-utils chromium
# The benchmarks: wrk loads the API (bench/api.py refuses the in-process fallback's figures).
BENCH_PACKAGES := $(TEST_PACKAGES) wrk

# The project's own bytecode, compiled once (0.4 s): where PYTHONDONTWRITEBYTECODE is set,
# every `huanjie` process and test worker would compile it again.
SOURCES := config workflow schedules notices service demo

setup: $(BIN)/uv
	@HUANJIE_DEBIAN_PACKAGES="$(RUN_PACKAGES)" bash scripts/system-packages.sh
	$(INSTALL) -e .
	$(BIN)/python -m compileall -q $(SOURCES)

setup-test: $(BIN)/uv
	@HUANJIE_DEBIAN_PACKAGES="$(TEST_PACKAGES)" bash scripts/system-packages.sh
	$(INSTALL) -e '.[test]'
	$(BIN)/python -m compileall -q $(SOURCES) tests

DEMO_USER ?= admin
DEMO_PASSWORD ?= huanjie-demo

run: setup
	$(BIN)/huanjie demo
	$(BIN)/huanjie users add $(DEMO_USER) --role county_admin --jurisdiction 420821 --password $(DEMO_PASSWORD) --name 演示管理员 --exists-ok
	@echo "工作台：http://$(HOST):$(PORT)/    演示登录：$(DEMO_USER) / $(DEMO_PASSWORD)"
	@# The demo is plain HTTP on this machine: session cookies without the Secure flag (docs/security.md;
	@# production sits behind TLS and keeps the default, Secure).
	HUANJIE_COOKIE_SECURE=$${HUANJIE_COOKIE_SECURE:-false} $(BIN)/huanjie serve --host $(HOST) --port $(PORT)

# -n auto: one pytest-xdist worker per core, each with its own SQLite template and PostgreSQL
# database. Tests are handed out one by one and an idle worker takes queued tests from a busy
# one (--dist worksteal: a few tests take 10+ s, and a worker left alone with them at the end
# is what the run waits for), not per file: under pytest 9 the schemathesis cases of
# tests/test_service_schema.py share one node id, which --dist loadfile/loadgroup would
# collapse into a single test. PYTEST_ARGS="-n 0" runs the suite in one process.
test: setup-test
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n auto --dist worksteal $(PYTEST_ARGS)

lint: setup-test
	$(BIN)/ruff check .

bench: setup-test
	@HUANJIE_DEBIAN_PACKAGES="$(BENCH_PACKAGES)" bash scripts/system-packages.sh
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
