# Everything a newcomer needs: `make demo` and `make test` work on a fresh machine with
# Python >= 3.10 and git.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test

.PHONY: demo test test-fast typecheck bench bench-quick bench-compare clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q -e .
	touch $@

$(TSTAMP): $(STAMP)
	$(PIP) install -q -e '.[test]'
	touch $@

demo: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

test: $(TSTAMP)
	$(PY) -m pytest -n 2 -q

test-fast: $(TSTAMP)
	$(PY) -m pytest -n 2 -q -m "not slow"

# Benchmarks (see benchmarks/README.md): results in benchmarks/results/latest.{md,json}
bench: $(TSTAMP)
	$(PY) -m benchmarks

bench-quick: $(TSTAMP)
	$(PY) -m benchmarks --quick

bench-compare: $(TSTAMP)
	$(PY) -m benchmarks --compare dvc

typecheck: $(TSTAMP)
	$(PY) -m mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
