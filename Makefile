# The same commands everywhere: a developer's shell, CI (.ci/run -> make test) and the demo.
#   make install    scripts/bootstrap.sh: Debian packages (as root), .venv, pip install -e '.[dev]'
#   make check      format, lint, types, import contracts
#   make test       every test (unit, contract, integration, e2e, browser); pytest's own exit code
#                   fails the target, and "no tests ran" (pytest exit 5) is a failure too
#   make test-unit  the pure tests only: no broker, no database
#   make bench      each benchmark in turn (bench/*.py; helpers of theirs are skipped)
#   make demo       a private broker + database + all services, from nothing but Python
# Extra pytest arguments: make test PYTEST_ARGS="-k rfid -x"

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

# pytest exit 5 means it collected no test: treat it as a failure, pass every other code through.
define run_pytest
	$(BIN)/pytest $(1) -q -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make: pytest collected no tests in $(1)" >&2; exit 1; fi; \
	exit $$rc
endef

.PHONY: install check fmt test test-unit bench demo

install:
	bash scripts/bootstrap.sh

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	MYPYPATH=tests $(BIN)/mypy --check-untyped-defs --explicit-package-bases --ignore-missing-imports tests bench
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install
	$(call run_pytest,tests)

test-unit: install
	$(call run_pytest,tests/unit)

BENCHES := bench/ingest_throughput.py bench/rfid_accuracy.py bench/weight_accuracy.py \
	bench/alert_latency.py

bench: install
	@for bench in $(BENCHES); do echo "== $$bench"; $(BIN)/python "$$bench" || exit $$?; done

demo: install
	$(BIN)/shelfsense demo
