# Everything a newcomer needs: `make demo` and `make test` work on a fresh machine with
# Python >= 3.10 and git.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test


.PHONY: sshd chromium demo test test-fast typecheck bench bench-quick bench-compare clean

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

# SSH remote tests need a local sshd (Debian's openssh-server); they skip, saying why, without one.
sshd:
	@command -v sshd >/dev/null 2>&1 || test -x /usr/sbin/sshd || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null; } || \
	  echo "note: no sshd could be installed; SSH remote tests will be skipped"

# The pv ui tests drive a headless Debian chromium through Playwright (never 'playwright install').
chromium:
	@test -x /usr/bin/chromium || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "note: no chromium could be installed; the pv ui browser tests will be skipped"

# The dvclive stage test runs the real dvclive, which needs DVC: both go into a venv of their own
# (not pv's: DVC is no dependency of pv). Without it that one test is skipped, saying why.
DVCLIVE_VENV := .venv-dvclive
$(DVCLIVE_VENV)/.installed:
	@{ $(PYTHON) -m venv $(DVCLIVE_VENV) && $(DVCLIVE_VENV)/bin/pip install -q dvclive && touch $@; } || \
	  echo "note: dvclive could not be installed; the dvclive stage test will be skipped"

test: $(TSTAMP) sshd chromium $(DVCLIVE_VENV)/.installed
	PV_TEST_DVCLIVE_PYTHON="$(CURDIR)/$(DVCLIVE_VENV)/bin/python" $(PY) -m pytest -n 2 -q

test-fast: $(TSTAMP) chromium
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

# The long reliability sweeps (issue 6): every kill point, 200,000 files under ulimit -n 256,
# more random kills and Hypothesis examples. `make test` runs the same suite with samples.
.PHONY: test-reliability-full
test-reliability-full: $(TSTAMP)
	PV_RELIABILITY_FULL=1 $(PY) -m pytest -n 2 -q tests/reliability
