# The one task runner. The README's two commands are `make up` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# The local stack's broker is Tansu, which needs the adjustments in streams/kafka_compat.py.
# Point MARKETPULSE_KAFKA_BROKER at real Kafka and set this to 0 (it is harmless either way).
export MARKETPULSE_KAFKA_TANSU_COMPAT ?= 1

.PHONY: install up test mutate bench chaos lint typecheck check services-up services-down services-status lock clean

# What setup.py compiles with mypyc, or more: an edit there rebuilds the extensions (about 20 s).
COMPILED_SOURCES := $(wildcard marketpulse/analytics/*.py marketpulse/analytics/indicators/*.py marketpulse/analytics/patterns/*.py)

$(VENV)/.installed: pyproject.toml requirements.lock setup.py $(COMPILED_SOURCES)
	python3 -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	command -v cc >/dev/null || (apt-get update -q && apt-get install -y -q gcc)
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip install -q --python $(BIN)/python -r requirements.lock
	find marketpulse -name '*.so' -delete  # a module taken off setup.py's list must not stay compiled
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps --reinstall-package marketpulse -e .
	touch $@

install: $(VENV)/.installed

## The main job: services, worker (and API, source) until Ctrl-C.
up: install
	$(BIN)/marketpulse up

## Everything CI runs: lint, types, the whole suite against the real local services, and
## mutation testing of the guarded modules changed since the last tag or commit (a few minutes).
test: install lint typecheck services-up
	$(BIN)/pytest
	$(BIN)/python -m tests.mutation --changed --budget 180

## Mutation testing of every guarded module; the report goes to docs/mutation/REPORT.md.
mutate: install services-up
	$(BIN)/python -m tests.mutation --report docs/mutation/REPORT.md

## Every benchmark, then one report: docs/bench/REPORT.md (about half an hour on two cores).
bench: install services-up
	$(BIN)/python bench/report.py

## The whole stack under synthetic load and scripted faults, then its invariants (about 4 min).
chaos: install services-up
	$(BIN)/python -m tests.chaos

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

check: lint typecheck

services-up: install
	$(BIN)/marketpulse services up

services-down: install
	$(BIN)/marketpulse services down

services-status: install
	$(BIN)/marketpulse services status

## Re-resolve the pinned dependencies after editing pyproject.toml.
lock: install
	$(BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

clean: services-down
	rm -rf $(VENV)
