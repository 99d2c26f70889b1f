# qzfp — the two commands of the README.
#   make report   set up (once) and produce the baseline report in reports/baseline/
#   make test     set up (once) and run the linters and the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.qzfp-installed

.PHONY: report test setup lint bench clean

report: $(STAMP)
	$(BIN)/qzfp run params/baseline.yaml

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (qzfp)" >/dev/null
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
