# The two commands of the README: `make demo` (quickstart) and `make test`.
# Each builds .venv with the pinned dependency set (requirements.lock) when it is missing
# or older than the files that define it, and installs the Debian packages tests need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all sweep bench lint system-deps

$(STAMP): pyproject.toml requirements.lock scripts/system_deps.sh
	bash scripts/system_deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e '.[test]'
	touch $(STAMP)

system-deps:
	bash scripts/system_deps.sh

demo: $(STAMP)
	$(BIN)/relayrl train tune_configs/quickstart.yaml

sweep: $(STAMP)
	$(BIN)/relayrl tune tune_configs/quickstart_sweep.yaml

test: $(STAMP)
	$(BIN)/python -m pytest

test-all: $(STAMP)
	$(BIN)/python -m pytest -m ''

lint: $(STAMP)
	$(BIN)/ruff check relayrl tests benchmarks
