# Alignment workbook. `make help` lists the targets.
# Every target creates or updates the project's own virtual environment (.venv) first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := alignment-workbook
JOBS ?= 2
# make test's test processes: one more than this machine's 2 cores, because a runner test's processes all sleep for
# about a sixth of its CPU time (kernel start and shutdown polls: docs/benchmarks.md, make test's speed), which a third process fills.
TEST_JOBS ?= 3
# Jupyter refuses to start as root (containers run as root) unless told it may.
LAB_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)

.DEFAULT_GOAL := help

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Alignment workbook (Python)" >/dev/null
	@touch $(STAMP)

.PHONY: help venv report test test-attack lab app sample ingest notebooks-refresh bench-report bench-scale bench-save bench-forecast bench-ingest clean-reports

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {name[NR] = $$1; text[NR] = $$2; if (length($$1) > w) w = length($$1)} \
	  END {for (i = 1; i <= NR; i++) printf "  make %-*s  %s\n", w, name[i], text[i]}'

venv: $(STAMP) ## create or update the virtual environment (.venv) and the Jupyter kernel

report: $(STAMP) ## produce the HTML reports for the sample data in reports/ (ARGS="--all --lang ja" etc.)
	$(BIN)/python -m helpers.report.run $(ARGS)

# --dist loadfile: tests/conftest.py's scheduler groups the tests by module, the report-running modules by language,
# and hands the longest groups out first. compileall first: where PYTHONDONTWRITEBYTECODE is set (this machine's
# environment) no process writes helpers' bytecode, so each of the suite's ~90 kernels and child processes compiled
# the modules it imports again (about 0.16 CPU s a kernel); they read the compiled files compileall writes once (the
# test modules' helpers and benchmarks/ too; the test modules themselves pytest rewrites: tests/conftest.py's
# pytest_configure writes them once for the three test processes).
test: $(STAMP) ## run every test (unit tests, notebooks under nbval, browser test; the attack suite is make test-attack)
	$(BIN)/python -m compileall -q -x '/test_[^/]*\.py$$' helpers benchmarks tests
	WORKBOOK_STATIC=1 $(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile tests notebooks --ignore=tests/attack \
	  --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg $(ARGS)

test-attack: $(STAMP) ## attack suite: concurrent saves, kill -9, two runners, bad inputs, fuzzing (real processes)
	WORKBOOK_STATIC=1 $(BIN)/python -m pytest -n $(JOBS) --dist loadfile tests/attack -p no:cacheprovider $(ARGS)

lab: $(STAMP) ## JupyterLab on working copies of the notebooks in one language (work/notebooks/LANG; LANG=ja for Japanese); DATA=folder picks the data (default work/data, a copy of the sample)
	$(BIN)/python -m helpers.report.lab $(if $(DATA),--data "$(DATA)") $(if $(filter en ja,$(LANG)),--lang $(LANG)) -- $(LAB_ROOT) $(ARGS)

app: $(STAMP) ## the notebooks as a read-only web app (Voilà: no code, the control panel, explorers and answer form live) on 127.0.0.1 with a token; LANG=ja, DATA=folder as for make lab
	$(BIN)/python -m helpers.report.app $(if $(DATA),--data "$(DATA)") $(if $(filter en ja,$(LANG)),--lang $(LANG)) -- $(ARGS)

sample: $(STAMP) ## regenerate data/sample from the seeded generator (ARGS="--seed 7", or "--out DIR" with its workbook.yaml)
	$(BIN)/python -m helpers.data.sample $(ARGS)

ingest: $(STAMP) ## convert CRM exports into a data folder (ARGS="--exports DIR --mapping salesforce_ja --out data/mine")
	$(BIN)/python -m helpers.data.ingest $(ARGS)

notebooks-refresh: $(STAMP) ## re-execute the notebooks on the sample data and store only the nbval-checked outputs
	WORKBOOK_STATIC=1 $(BIN)/python -m helpers.report.nbtools refresh

bench-report: $(STAMP) ## benchmark: report command vs a floor of trivial notebooks (prints the ratio)
	$(BIN)/python -m benchmarks.bench $(ARGS)

bench-forecast: $(STAMP) ## benchmark: the goals forecast's backtest coverage on the sample and on a generated set with drifting rates
	$(BIN)/python -m benchmarks.bench_forecast $(ARGS)

bench-save: $(STAMP) ## benchmark: saving 15 checklist answers into a 188k-row file vs a small one (prints the ratio)
	$(BIN)/python -m benchmarks.bench_save $(ARGS)

bench-ingest: $(STAMP) ## benchmark: ingest's repeated-deal check (products report) on 50k-row exports vs a plain pandas duplicated() pass (prints the ratio)
	$(BIN)/python -m benchmarks.bench_ingest_checks $(ARGS)

bench-scale: $(STAMP) ## benchmark at 100k and 1M leads (ARGS=--big adds 10M; ARGS="--big --report" times a full report at 10M; ARGS=--attribution-only: only notebook 06 vs SQL at 1M): workbook vs plain DuckDB SQL vs a bare read
	$(BIN)/python -m benchmarks.bench_scale $(ARGS)

clean-reports: $(STAMP) ## remove the reports the runner wrote in reports/ (ARGS="--out DIR" for another folder); a user's own files there stay
	$(BIN)/python -m helpers.report.clean $(ARGS)
