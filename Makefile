# Two set-up-free entry points (see README): `make demo` and `make test`.
# Both create ./.venv and install tamrig with its test extras on first use.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.tamrig-installed
OUT ?= out
LINT_PATHS := tamrig drivers simulators tests benchmarks

.PHONY: demo test lint typecheck install clean mutate

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "tamrig needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/tamrig devices
	$(BIN)/tamrig scan config/scans/demo.toml --out $(OUT)/demo.h5 --overwrite
	$(BIN)/tamrig analyze $(OUT)/demo.h5 --report $(OUT)/demo-report

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -q

# Mutation testing of one module (minutes, not part of `make test`), e.g.
#   make mutate MODULE=tamrig/analysis/fitting.py ARGS="--sample 100"
mutate: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python tools/mutate.py $(MODULE) $(ARGS)

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache .mutation
