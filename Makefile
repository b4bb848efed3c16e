# Quick start: `make run` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install bench bench-ci clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/procure solve instances/meta.json

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Benchmarks report, they never fail on slow numbers (see benchmarks/README.md).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --set full --time-limit 60
	$(BIN)/python -m benchmarks.scaling --time-limit 60

bench-ci: $(STAMP)
	$(BIN)/python -m benchmarks.run --set ci --time-limit 20 --no-write

clean:
	rm -rf $(VENV) out .pytest_cache
