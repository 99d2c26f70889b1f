# qzfp — the two commands of the README.
#   make report   set up (once) and produce the baseline report in reports/baseline/
#                 (report.pdf needs Chromium: apt-get install chromium)
#   make test     set up (once) and run the linters and the whole test suite
# The set-up installs the versions of constraints.txt (those the test suite passed with).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.qzfp-installed

.PHONY: report renderer test setup lint bench clean

report: $(STAMP) renderer
	$(BIN)/qzfp run params/baseline.yaml

# Chromium prints report.pdf.  As root on Debian/Ubuntu it is installed from apt (once);
# otherwise one line says how, and the report is written without the PDF.
renderer:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || command -v google-chrome >/dev/null 2>&1 || [ -n "$$QZFP_CHROMIUM" ] \
	  || if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	       echo "installing Chromium (Debian package chromium) for report.pdf ..."; \
	       (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium) >/dev/null 2>&1 \
	         || echo "note: Chromium could not be installed; report.pdf will be skipped"; \
	     else \
	       echo "note: no Chromium: report.pdf will be skipped (install it with: sudo apt-get install chromium)"; \
	     fi

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (qzfp)" >/dev/null
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
