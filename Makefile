# Two commands set everything up on a fresh machine: `make serve` and `make test`.
# Each target creates the virtual environment first when it is missing or pyproject.toml changed.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
INSTALLED = $(VENV)/.installed
PORT ?= 8001

.PHONY: install validate build serve test lint typecheck overview bench clean

install: $(INSTALLED)

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(INSTALLED)

validate: install
	$(BIN)/belarus-releases validate

build: install
	$(BIN)/belarus-releases build

serve: build
	$(BIN)/belarus-releases serve --port $(PORT)

lint: install
	$(BIN)/ruff check src tests scripts

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: build
	$(BIN)/python scripts/bench_build.py

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
