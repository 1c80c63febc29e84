# Two commands for a fresh machine: `make run` and `make test`.
# Each creates the virtual environment in .venv and installs what it needs first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,postgres,dashboard]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/cartwheel run $(ARGS)

test: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/pytest $(ARGS)

bench: $(STAMP)
	$(VENV)/bin/python bench/run_bench.py $(ARGS)

clean:
	rm -rf $(VENV) data
