# Every target creates .venv by itself when it is missing.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-deps test-fast test-time lint bench bench-quick screenshots wheel clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/space-mirror demo

# Debian packages and Debian 12's rclone 1.60.1 the tests drive: installed when missing
# (as root), nothing to do when present (scripts/test-deps.sh).
test-deps:
	@scripts/test-deps.sh

test: test-deps $(STAMP)
	$(PY) -m pytest -q

# The history and unit suites on each weekday (faketime) and at UTC+14.
test-time: test-deps $(STAMP)
	PY=$(PY) scripts/time-matrix.sh

test-fast: test-deps $(STAMP)
	$(PY) -m pytest -q -m "not slow and not e2e"

lint: $(STAMP)
	$(VENV)/bin/ruff check tui tests bench scripts
	$(VENV)/bin/mypy --strict tui

bench: $(STAMP)
	$(PY) -m bench

bench-quick: $(STAMP)
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
