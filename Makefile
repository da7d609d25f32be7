# Two commands set everything up on a fresh machine: `make serve` and `make test`.
# Every target first makes .venv from requirements.lock (exact versions with hashes), and again whenever the
# lock or pyproject.toml changes. `make lock` is the one way to change the lock.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
LOCK = requirements.lock
INSTALLED = $(VENV)/.installed
PORT ?= 8001
# Two workers: the machines this runs on (CI's included) have two cores.
PYTEST_WORKERS ?= 2

.PHONY: install lock validate build serve datapackage readme rollback test lint typecheck test-newest bench clean

install: $(INSTALLED)

$(INSTALLED): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(INSTALLED)

# Resolves pyproject.toml's ranges to the newest releases, for every platform and Python 3.11+, with hashes.
# Commit the result on its own, after `make test` passes with it.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --extra dev --universal --python-version 3.11 \
	  --generate-hashes --quiet --custom-compile-command "make lock" --output-file $(LOCK) $(LOCK_FLAGS)

validate: install
	$(BIN)/belarus-releases validate

# A new release in build/releases/, switched to in one step through the build/current link.
build: install
	$(BIN)/belarus-releases build

serve: build
	$(BIN)/belarus-releases serve --port $(PORT)

# The committed files derived from others, which the build never writes (export/maintain.py says why):
# datapackage.json after metadata.yml or tables.py changes; README.md's releases table on main after a merge.
datapackage: install
	$(BIN)/python -m belarus_releases.export.maintain datapackage

readme: build
	$(BIN)/python -m belarus_releases.export.maintain readme

# build/current back to the release before it (each build keeps the live release and the one before).
rollback: install
	$(BIN)/python -m belarus_releases.export.maintain rollback

lint: install
	$(BIN)/ruff check src tests benchmarks

typecheck: install
	$(BIN)/mypy

# mypy runs beside pytest rather than before it: a first run (no .mypy_cache yet) keeps one core busy for about
# 6 s, while pytest's two workers can use both. Its report is printed after the tests; either failing fails.
test: lint
	$(BIN)/mypy > $(VENV)/mypy.log 2>&1 & typecheck=$$!; \
	$(BIN)/pytest -n $(PYTEST_WORKERS); tests=$$?; \
	wait $$typecheck; typed=$$?; cat $(VENV)/mypy.log; \
	test $$tests -eq 0 -a $$typed -eq 0

# The suite against the newest releases that pyproject.toml allows, ignoring the lock: what the weekly workflow
# runs, so that an upgrade that breaks something is seen before the lock moves.
test-newest:
	rm -rf .venv-newest
	$(PYTHON) -m venv .venv-newest
	.venv-newest/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	.venv-newest/bin/python -m pip install --quiet --disable-pip-version-check --upgrade -e ".[test]"
	$(MAKE) test VENV=.venv-newest INSTALLED=  # no marker: the lock must not be installed over the newest releases

# The benchmark suite (benchmarks/): generated repositories of 1,000, 10,000 and 100,000 records, each step a fresh
# process, the peers and serving up to 10,000; prints the table, writes benchmarks/results.md and .json and the
# README's table. About 15 minutes; BENCH_FLAGS="--records 1000 --quick" for a quick look.
bench: install
	$(BIN)/python -m benchmarks.run $(BENCH_FLAGS)

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
