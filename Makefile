# The two commands of the README: `make demo` runs the product, `make test` runs every test.
# Both create .venv on first use and install the project into it; nothing is installed by hand.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint bench system-deps clean help

help:
	@echo "make demo   - run gridwall on this machine (embedded broker, Redis, SQLite, simulator)"
	@echo "make test   - run every test (installs the Debian servers the tests need when root)"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks in bench/ (JSON on stdout)"

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	@touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/gridwall demo

system-deps:
	@bash .ci/system-deps

# The browser code's unit tests (Node's built-in runner, tests/js/) before pytest: either failing
# fails `make test`.
test: $(VENV)/.installed-test system-deps
	$(VENV)/bin/ruff check .
	node --test tests/js/
	$(PY) -m pytest

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .

bench: $(VENV)/.installed-test
	@for b in bench/bench_*.py; do echo "# $$b" >&2; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) test-artifacts data
