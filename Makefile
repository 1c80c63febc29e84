# Two commands for a fresh machine: `make run` and `make test`.
# Each creates the virtual environment in .venv and installs what it needs first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test selfcheck lint bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,postgres,dashboard,forecast,dagster,spark]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/cartwheel run $(ARGS)

# Coverage of the whole suite, failing below the floor (measured figure: README).
# Running a few modules: make test ARGS=tests/test_x.py COVERAGE= WORKERS=
COVERAGE ?= --cov=cartwheel --cov-report=term --cov-fail-under=93
# Two pytest-xdist workers (the machine's two cores); a module's tests stay together in
# one worker, so its fixtures are built once, and the modules are handed out in the order
# tests/conftest.py gives them (the heaviest first).
WORKERS ?= -n 2 --dist loadfile --no-loadscope-reorder

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/pytest $(WORKERS) $(COVERAGE) $(ARGS)

# The reliability suite for a user (docs/reliability.md): the hostile-input corpus,
# fuzzing, kill -9 and disk-full runs; ends with the tally of cases, tracebacks, rows
# lost, wrong values and whole-run failures. Faster: make selfcheck ARGS='-m "not slow"'
selfcheck: $(STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider tests/reliability $(ARGS)

# The README's screenshots, taken by the browser test in headless Chromium.
screenshots: $(STAMP)
	CARTWHEEL_SCREENSHOT_DIR=docs/screenshots $(VENV)/bin/pytest -q tests/test_dashboard_browser.py

bench: $(STAMP)
	$(VENV)/bin/python bench/run_bench.py $(ARGS)

clean:
	rm -rf $(VENV) data
