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

.PHONY: install report-deps apt-report-deps system-deps apt-system-deps demo test lint fix manifest benchmark clean stop superset

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

demo: install report-deps
	$(BIN)/econ-monitor demo

# The reports' PDF needs Debian's pango (WeasyPrint) and a CJK font (report-deps, for the demo too); the tests
# also read the PDFs back with poppler-utils and render the HTML in headless Chromium, the cluster test runs
# Debian's redis-server as the Celery broker and the compose test validates docker-compose.yml with Debian's
# docker-compose (system-deps).
# Installed when the machine lets us (root with apt-get).
REPORT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk
define apt_install
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing $(1)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; \
	else echo "missing some of $(1) (needs root and apt-get): $(2)"; fi
endef

report-deps:
	@if ! (ldconfig -p | grep -q libpangoft2-1.0 && fc-list :lang=zh | grep -q .); then $(MAKE) --no-print-directory apt-report-deps; fi

apt-report-deps:
	$(call apt_install,$(REPORT_PACKAGES),the reports' PDF cannot be made)

system-deps: report-deps
	@if ! (command -v chromium >/dev/null && command -v pdftotext >/dev/null && command -v redis-server >/dev/null \
		&& command -v docker-compose >/dev/null); then $(MAKE) --no-print-directory apt-system-deps; fi

apt-system-deps:
	$(call apt_install,poppler-utils chromium redis-server docker-compose,the tests that need them will be skipped)

# Parallel (pytest-xdist): each worker its own embedded Postgres (tests/conftest.py); a test file runs whole
# on one worker, so its module fixtures are built once, and files start in conftest's order (longest first;
# --no-loadscope-reorder keeps xdist from reordering them by number of tests). One worker more than cores:
# much of the end-to-end tests' time is waiting on Airflow's scheduler, Celery and dbt subprocesses.
# `TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: install system-deps
	@started=$$(date +%s); $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=25; code=$$?; \
	echo "make test: $$(( $$(date +%s) - started )) s"; exit $$code

# Style: ruff (lint and format) for Python, SQLFluff for the dbt SQL (jinja templater: no database needed).
# The configuration is in pyproject.toml and .sqlfluff; CONTRIBUTING.md says why. `make fix` applies what the
# tools can fix by themselves.
# All three run even when one fails, so one CI run lists everything.
lint: $(STAMP)
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros || status=1; \
	exit $$status

fix: $(STAMP)
	BIN=$(BIN) scripts/fix-style

benchmark: install
	$(BIN)/python benchmarks/ingest.py --floor --row-by-row
	$(BIN)/python benchmarks/quality_gate.py
	$(BIN)/python benchmarks/dbt_build.py

# Apache Superset (its own venv under .local/) on the demo's warehouse, the indicator board imported.
# Not part of `make test`'s set-up (the venv adds minutes); once it exists, tests/test_superset.py runs.
superset: install
	deploy/superset.sh up

stop:
	-$(BIN)/econ-monitor warehouse stop

clean: stop
	rm -rf .local $(VENV) dbt_project/target dbt_project/logs
