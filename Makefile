# smarttv-testbed: `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= runs/demo

.PHONY: demo test test-fast lint bench clean

$(STAMP): pyproject.toml setup.py testbed/packets/_speedups.c  # the C file: pip rebuilds the extension
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## run the flagship scenario (simulation, no Docker) and print the summary
	$(BIN)/tvtestbed run gozen-2021 --out $(DEMO_OUT) --force

test: $(STAMP)  ## the whole suite (slow and Docker tests included)
	$(BIN)/python -m pytest

test-fast: $(STAMP)  ## skip the tests marked slow
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)  ## speed and memory benchmarks, with baselines measured in the same run
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) runs .bench .pytest_cache
