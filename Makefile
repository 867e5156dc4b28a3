# Every target creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A Python 3.13 that really runs (pyenv's shim exists even when 3.13 is not selected).
PY313 := $(shell for c in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	if $$c -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then \
	echo $$c; break; fi; done)

.PHONY: test lint typecheck pytest test-313 test-ha test-matrix package-check soak bench mutation demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy nukiasync

pytest: $(STAMP)
	$(BIN)/python -m pytest -n 4 --cov --cov-report=term-missing:skip-covered -q

test-313:
	@if [ -n "$(PY313)" ]; then \
		echo "== unit tests on Python 3.13 ($(PY313)) =="; \
		[ -x .venv313/bin/python ] || $(PY313) -m venv .venv313; \
		.venv313/bin/python -m pip install --quiet --upgrade pip && \
		.venv313/bin/python -m pip install --quiet -e '.[test]' && \
		.venv313/bin/python -m pytest -q -n 4 -m "not slow and not sockets" -p no:randomly; \
	else \
		echo "== skipped: no Python 3.13 interpreter found (python3.13 or pyenv) =="; \
	fi

HA_VENV := .venv-ha
HA_REQS := examples/home_assistant/requirements_test.txt
HA_STAMP := $(HA_VENV)/.installed
# Home Assistant's own pins: nukiasync must install under them (decision 0009).
HA_PINS := $(HA_VENV)/lib/python3.13/site-packages/homeassistant/package_constraints.txt

# The example integration in Home Assistant 2025.4.4 itself (Python 3.13 only).
test-ha:
	@if [ -z "$(PY313)" ]; then \
		echo "== skipped: Home Assistant tests need Python 3.13 (python3.13 or pyenv) =="; \
	else \
		echo "== Home Assistant 2025.4.4 tests ($(PY313)) =="; \
		if [ ! -f $(HA_STAMP) ] || [ $(HA_REQS) -nt $(HA_STAMP) ] || [ pyproject.toml -nt $(HA_STAMP) ]; then \
			{ [ -x $(HA_VENV)/bin/python ] || $(PY313) -m venv $(HA_VENV); } && \
			$(HA_VENV)/bin/python -m pip install --quiet --upgrade pip && \
			$(HA_VENV)/bin/python -m pip install --quiet -r $(HA_REQS) && \
			$(HA_VENV)/bin/python -m pip install --quiet -e . -c $(HA_PINS) && \
			touch $(HA_STAMP) || exit 1; \
		fi; \
		cd examples/home_assistant && ../../$(HA_VENV)/bin/python -m pytest -q; \
	fi

# Everything on each of Python 3.11 to 3.13 found (pyenv's included).
test-matrix: $(STAMP)
	@for v in 3.11 3.12 3.13; do \
		py=$$(for c in python$$v $$HOME/.pyenv/versions/$$v*/bin/python$$v; do \
			$$c -c 'import sys' >/dev/null 2>&1 && { echo $$c; break; }; done); \
		if [ -z "$$py" ]; then echo "== skipped: no Python $$v"; continue; fi; \
		echo "== Python $$v ($$py) =="; \
		[ -x .venv-$$v/bin/python ] || $$py -m venv .venv-$$v; \
		.venv-$$v/bin/python -m pip install --quiet -e '.[test]' && \
		.venv-$$v/bin/python -m pytest -q -p no:randomly || exit 1; \
	done

package-check: $(STAMP)
	$(BIN)/python scripts/check_package.py

test: lint typecheck pytest test-313 test-ha package-check

# The long reliability profile (30 min); not part of `make test` or CI.
soak: $(STAMP)
	NUKIASYNC_SOAK=1 $(BIN)/python -m pytest tests/soak -q -p no:randomly

# Benchmarks on the simulator over loopback; results in bench/results/.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

# Mutation testing (mutmut) of the matching rule and the log reader against their fast unit
# tests ([tool.mutmut] in pyproject.toml); a report, not a gate; not part of `make test`.
# About 4 minutes on 2 cores; results in mutants/ (summary.json), survivors listed at the end.
mutation: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_report.py

# The main job on the built-in simulator: who locks and unlocks, as it happens.
demo: $(STAMP)
	$(BIN)/nukiasync demo

clean:
	rm -rf $(VENV) .venv313 .venv-ha .coverage build dist mutants
