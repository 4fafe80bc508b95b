# Two commands do all the set-up on a fresh machine:
#   make demo   — install, start the embedded warehouse and a local mail sink, run the pipeline on the sample delivery
#   make test   — install, then the whole test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json

export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export GX_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: install demo test manifest benchmark clean stop

install: $(STAMP) $(MANIFEST)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip==26.3"
	$(BIN)/pip install --quiet --constraint constraints.txt --editable ".[dev]"
	touch $(STAMP)

# cosmos renders the dbt models as tasks from this manifest; dbt parse needs no database.
$(MANIFEST): $(STAMP) $(shell find dbt_project -name '*.sql' -o -name '*.yml' -o -name '*.csv' | grep -v target/)
	cd dbt_project && ../$(BIN)/dbt parse --profiles-dir . --quiet
	touch $(MANIFEST)

manifest: $(MANIFEST)

demo: install
	$(BIN)/econ-monitor demo

test: install
	$(BIN)/pytest

benchmark: install
	$(BIN)/python benchmarks/ingest.py

stop:
	-$(BIN)/econ-monitor warehouse stop

clean: stop
	rm -rf .local $(VENV) dbt_project/target dbt_project/logs
