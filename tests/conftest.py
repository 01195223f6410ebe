"""Shared test fixtures: tiny canonical data folders written by hand, the sample's `--all` reports (one runner
invocation per language per worker), and the order and grouping of the suite under pytest-xdist."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

LEADS_CSV = """lead_id,created_at,channel,campaign,industry,company_size,mql_at,sql_at,first_sales_touch_at,opportunity_id,owner,email
L1,2025-04-01,web,,製造,50-299,2025-04-03,2025-04-10,2025-04-04T09:00:00,O1,佐藤,a@example.com
L2,2025-04-15,seminar,ウェビナー,IT・通信,1-49,2025-04-16,,,,鈴木,b@example.com
L3,2025-05-20,web,,小売,1000+,,,,,,c@example.com
"""

OPPS_CSV = """opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel,industry,company_size,owner,loss_reason
O1,2025-04-12,2025-06-01,won,1200000,L1,,製造,50-299,佐藤,
O2,2025-05-01,2025-06-30,lost,500000,,outbound,金融,300-999,鈴木,価格
O3,2025-06-10,,open,800000,,,,,鈴木,
"""


def as_dates(frame, *columns):
    """Cast the named columns of a hand-built frame to datetime64[ns] (the loader's date type), in place."""
    for c in columns:
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    return frame


def write_folder(path: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    """Write {file name: text} into `path` and return it."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    """A valid data folder: 3 leads, 3 opportunities."""
    return write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})


#: Runner output folders whose reports were scanned in this test session (by the fixture below).
SCANNED_REPORTS: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def scan_every_report():
    """Every runner invocation of the test suite gets its reports scanned as it publishes them.

    helpers.report.run.main calls helpers.report.index_page.write_index after each run; wrapped here, it then
    scans OUT/index.html and every OUT/<period>/*.html (tests/report_scan.py) and fails the run,
    and so the test that started it, on any None, NaN, nan, <NA>, null or float with more than
    4 decimals in visible text. Works under pytest-xdist (each worker wraps its own import).
    """
    from helpers.report import index_page
    from report_scan import scan_folder

    original = index_page.write_index

    def write_index_and_scan(out, *args, **kwargs):
        page = original(out, *args, **kwargs)
        SCANNED_REPORTS.append(Path(out))
        found = scan_folder(Path(out))
        assert not found, "reports show text they never may:\n" + "\n".join(found[:30])
        return page

    index_page.write_index = write_index_and_scan
    yield SCANNED_REPORTS
    index_page.write_index = original


#: The folder of the session's compiled-SQL store, in the session's folder (keep_compiled_sql_in_the_session_store).
SQL_STORE = "sql-store"


def keep_compiled_sql_in_the_session_store(config):
    """Every process of the test session keeps compiled SQL (helpers.metrics.sql_store) in ONE store of its own: the
    session's base temp folder's SQL_STORE (under pytest-xdist the parent of the workers' base temp folders, as
    :func:`session_folder`), set as WORKBOOK_SQL_CACHE in this process's environment, which the runner's kernels, the
    apps and the labs it starts inherit; never the user's store (~/.cache). WORKBOOK_SQL_CACHE=off is kept (no store:
    to measure the suite without it). A test that counts Ibis' compiles makes a store of its own or none."""
    from helpers.metrics.sql_store import ENV

    factory = getattr(config, "_tmp_path_factory", None)
    if os.environ.get(ENV, "").strip().lower() == "off" or factory is None:
        os.environ[ENV] = "off"   # no session folder known (pytest's tmp_path plugin off): no store at all
        return
    os.environ[ENV] = str(session_folder(factory) / SQL_STORE)


@contextlib.contextmanager
def kept_environment():
    """Run a block with os.environ restored after it: the runner (helpers.report.run.main) sets its kernels'
    environment (WORKBOOK_STATIC, MPLBACKEND, OPENBLAS_NUM_THREADS) in its own process, which a test that runs it
    in-process and then starts another program (an app, a lab) must not pass on."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --------------------------------------------------------------------------- one browser per test process
#: Debian's Chromium, which the browser tests drive through Playwright (WORKBOOK_CHROMIUM names another).
CHROMIUM = Path(os.environ.get("WORKBOOK_CHROMIUM", "/usr/bin/chromium"))
#: Its command-line switches: headless, and nothing that would make a request of its own (updates, sync, extensions).
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--disable-extensions"]


def require_chromium() -> None:
    """Skip the calling test when CHROMIUM is not installed; under CI (CI set) that is an error instead."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium fonts-ipafont-gothic)")


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test of this process (tests/test_browser.py, test_app_browser.py,
    test_lab_browser.py, test_report_language.py): Playwright's driver and the browser start once per worker, not once
    per module; each test opens its own context or pages and closes them."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


# --------------------------------------------------------------------------- the sample's reports, shared
#: Output folder of the `--all` run over the sample, per language, made in this process (see sample_all_periods).
SAMPLE_RUNS: dict[str, Path] = {}


def session_folder(tmp_path_factory) -> Path:
    """A folder every process of this test session sees: the session's base temp folder, or under pytest-xdist
    its parent (each worker's base temp is a folder of its own inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


#: The periods of the sample that every language's run reports: the first (no prior period, no prior year, young
#: cohorts), the first with a prior year, and the latest (the period a plain run reports). The English run reports
#: every period of the sample (`--all`, fourteen), the Japanese one these three, which show every kind of heading,
#: headline card, table, note and chart count the fourteen English periods show (checked on the English run by
#: tests/test_label_values_all_periods.py).
SAMPLE_LANGUAGE_PERIODS = ("FY2023Q1", "FY2024Q1", "FY2026Q2")
#: The periods of each language's sample run: None is every period (`--all`).
SAMPLE_PERIODS = {"en": None, "ja": SAMPLE_LANGUAGE_PERIODS}


@pytest.fixture(scope="session")
def sample_all_periods(tmp_path_factory):
    """`run(lang)` -> the output folder of one `python -m helpers.report.run --lang LANG` over the sample, run once
    per language in a worker: in English `--all` (FY2023Q1 to FY2026Q2, the latest, FY2026Q2, being the period a
    plain run reports), in Japanese the periods SAMPLE_PERIODS names (`--period` each, one runner invocation). It is
    shared by the modules that read it (tests/test_label_values_all_periods.py, tests/test_report_language.py; the
    grouping below sends their tests of one language to one worker). When a run is published, its folder is named
    in `sample-all-LANG.path` of :func:`session_folder`, so a test can compare it with the other language's run of
    the same session (:func:`other_sample_run`)."""
    from helpers.report.run import main

    def run(lang: str) -> Path:
        if lang not in SAMPLE_RUNS:
            out = tmp_path_factory.mktemp(f"sample-all-{lang}")
            periods = SAMPLE_PERIODS[lang]
            which = ["--all"] if periods is None else [arg for period in periods for arg in ("--period", period)]
            assert main(["--out", str(out), *which, "--lang", lang]) == 0
            SAMPLE_RUNS[lang] = out
            note = session_folder(tmp_path_factory) / f"sample-all-{lang}.path"
            note.with_suffix(".tmp").write_text(str(out), encoding="utf-8")
            note.with_suffix(".tmp").replace(note)
        return SAMPLE_RUNS[lang]

    return run


def other_sample_run(tmp_path_factory, lang: str) -> Path | None:
    """The output folder of this session's finished `--all` sample run in `lang` (made by any worker), None before
    it is published. A worker names its own run before it asks for the other's, so of the two language runs of a
    session at least one test sees the other's."""
    if lang in SAMPLE_RUNS:
        return SAMPLE_RUNS[lang]
    note = session_folder(tmp_path_factory) / f"sample-all-{lang}.path"
    return Path(note.read_text(encoding="utf-8")) if note.is_file() else None


# --------------------------------------------------------------------------- order and grouping under xdist
#: Modules whose tests take one report run per language: module -> the group name of its tests of one language
#: (a test's language: "en" or "ja" among the dash-separated parts of its parameter id). Under `--dist loadfile`
#: (make test) the tests of one language form one group, so the two languages run on two workers at once; the two
#: modules on the sample's runs share a group per language (one run each, sample_all_periods).
BY_LANGUAGE = {
    "tests/test_label_values_all_periods.py": "sample-all",
    "tests/test_report_language.py": "sample-all",
    "tests/test_honest_figures.py": "honest-figures",
}
#: Tests (module::name, without parameters) that join a group of BY_LANGUAGE whatever their parameters: they read
#: that group's sample run when their worker has made it (tests/test_warehouse_report.py compares the warehouse's
#: metrics.json with the latest period, FY2026Q2, instead of running the period again over a copy of the sample). They
#: join the Japanese group: its run reports FY2026Q2 too (SAMPLE_LANGUAGE_PERIODS; metrics.json is the same bytes in
#: both languages, tests/test_report_language.py), and the English group, its `--all` run, is the longest of the suite.
WITH_GROUP = {
    "tests/test_warehouse_report.py::test_a_duckdb_file_gives_the_folders_metrics_json_byte_for_byte": "sample-all-ja",
}
#: Modules whose tests each form a group of their own (each runs the runner on data of its own), except the tests of
#: a class, which share a class-scoped run and so form one group, and the tests WITH_GROUP sends to a group.
BY_TEST = ("tests/test_run.py", "tests/test_warehouse_report.py")
#: Measured CPU seconds of the costly groups (per-test CPU of the worker and the processes it waited for, kernels and
#: Chromium included, summed by group): tests/cpu_seconds.py over .ci/run's `make test` (-n 3 --dist loadfile, with
#: PostgreSQL and the headless JupyterLab) at 46d6b2f on 2026-12-08, load 10-12; a parametrized BY_TEST group is listed
#: once, without its parameters, with its costliest parameter's CPU. The three browser modules are measured again
#: after their tests shared pages (labcpu, 2026-12-08, load 7-15): tests/test_lab_browser.py 110 in the worker's tree
#: (Chromium) and 69 in the lab server's kernels, outside that tree, listed as their sum, the most of any group, so
#: that it starts first (unlisted, it counted ESTIMATE a test, 3 s, and started last, alone for its ~4 minutes while
#: the other workers had finished). See docs/benchmarks.md's paragraph "`make test`'s speed". The groups are
#: handed out the most CPU first, so that no long group starts last and leaves the other workers idle at the end; a
#: group not listed counts ESTIMATE seconds a test.
CPU_SECONDS = {
    "tests/test_lab_browser.py": 179, "sample-all-en": 162, "tests/test_app_browser.py": 71,
    "sample-all-ja": 83, "tests/test_browser.py": 38, "tests/test_warehouse.py": 60,
    "tests/test_ingest_cases_run.py": 55, "honest-figures-en": 46, "tests/test_fastcsv.py": 42,
    "honest-figures-ja": 42,
    "tests/test_warehouse_report.py::test_postgresql_with_another_collation_gives_the_folders_metrics_json_byte_for_byte": 42,
    "tests/test_attribution_warehouse.py": 41, "tests/test_run.py::TestAllPeriodsRun": 40,
    "tests/test_warehouse_gaps.py": 33, "tests/test_warehouse_values.py": 32,
    "tests/test_lead_quality_warehouse.py": 22, "tests/test_warehouse_load.py": 22,
    "tests/test_run.py::test_no_complete_period_reports_the_partial_one_and_says_so": 21,
    "tests/test_checks_engine.py": 20, "tests/test_run.py::TestLatestPeriodRun": 17, "tests/test_ingest.py": 15,
    "tests/test_lead_engine.py": 15, "tests/test_report_warnings_language.py": 13,
    "tests/test_run.py::test_partial_data_shapes_run_every_notebook": 12, "tests/test_shared_source.py": 12,
    "tests/test_misread.py": 12, "tests/test_warehouse_goals.py": 12, "tests/test_ingest_kinds.py": 12,
    "tests/test_section6_reference.py": 11, "tests/test_run.py::test_runner_takes_exports_with_a_mapping": 11,
    "tests/test_views.py": 10, "tests/test_funnel_analysis.py": 9, "tests/test_goals.py": 9,
    "tests/test_velocity.py": 9, "tests/test_run.py::test_partial_data_opportunities_only": 8,
    "notebooks/01_checklist_diagnostic.ipynb": 8, "tests/test_goals_engine.py": 8, "tests/test_attribution.py": 8,
    "tests/test_goals_sample.py": 8, "tests/test_sql_store.py": 7, "notebooks/04_goals_plan.ipynb": 7,
    "tests/test_warehouse_report.py::test_the_runner_fetches_the_same_rows_from_row_tables_twice_the_size": 7,
    "tests/test_memory.py": 7, "notebooks/05_lead_quality.ipynb": 7, "tests/test_layers.py": 7,
    "tests/test_forecast_season.py": 7, "tests/test_cli_pipe.py": 7,
}
ESTIMATE = 0.3


def xdist_group_of(nodeid: str) -> str:
    """The group a test runs in under make test: its module (as --dist loadfile), its module's group for its
    language (BY_LANGUAGE), the group it joins (WITH_GROUP), or itself or its class (BY_TEST)."""
    module = nodeid.split("::")[0]
    name = nodeid.split("[", 1)[0]                     # module::test or module::Class::test, without the parameters
    if name in WITH_GROUP:
        return WITH_GROUP[name]
    if module in BY_TEST:
        return name.rsplit("::", 1)[0] if name.count("::") > 1 else nodeid
    if module in BY_LANGUAGE and nodeid.endswith("]"):
        parts = nodeid[nodeid.index("[", len(module)) + 1:-1].split("-")
        lang = next((part for part in parts if part in ("en", "ja")), None)
        if lang:
            return f"{BY_LANGUAGE[module]}-{lang}"
    return module


def group_costs(nodeids: list[str]) -> dict[str, float]:
    """{group: its estimated CPU seconds} of the groups the tests `nodeids` form (CPU_SECONDS, ESTIMATE)."""
    tests = {}
    for nodeid in nodeids:
        group = xdist_group_of(nodeid)
        tests[group] = tests.get(group, 0) + 1
    return {group: CPU_SECONDS.get(group, CPU_SECONDS.get(group.split("[", 1)[0], ESTIMATE * count))
            for group, count in tests.items()}


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """The groups (xdist_group_of) in the order xdist hands them out: the most CPU first (group_costs); a group's
    tests keep their order (pytest's, by fixture parameter)."""
    costs = group_costs([item.nodeid for item in items])
    items[:] = sorted(items, key=lambda item: -costs[xdist_group_of(item.nodeid)])   # stable


@pytest.hookimpl(optionalhook=True)   # an xdist hook: without xdist (-p no:xdist) pytest would refuse it as unknown
def pytest_xdist_make_scheduler(config, log):
    """Under `--dist loadfile`: xdist's scheduling by scope, a scope being a group of xdist_group_of (a module, or
    a module's tests of one language), handed out in the collection's order (pytest_collection_modifyitems).
    (pytest-xdist's --dist loadgroup would do the grouping from marks, but it renames a test through
    `item._nodeid`, which pytest 9 no longer reads.) Any other --dist: xdist's own."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group_of(nodeid)

    config.option.loadscopereorder = False
    return GroupScheduling(config, log)


# --------------------------------------------------------------------------- the test modules rewritten once
def test_modules(config) -> list[Path]:
    """The files of the session's paths that pytest rewrites on import (its python_files patterns, conftest.py), but
    those under an --ignore'd path."""
    import fnmatch

    patterns = [*config.getini("python_files"), "conftest.py"]
    ignored = [Path(p).resolve() for p in config.getoption("ignore") or []]
    found = []
    for arg in config.args:
        root = Path(arg.split("::")[0]).resolve()
        for path in ([root] if root.is_file() else sorted(root.rglob("*.py"))):
            if any(fnmatch.fnmatch(path.name, p) for p in patterns) and not any(path.is_relative_to(i) for i in ignored):
                found.append(path)
    return found


@pytest.hookimpl(trylast=True)   # after pytest's tmp_path plugin made config._tmp_path_factory
def pytest_configure(config):
    """The session's compiled-SQL store (:func:`keep_compiled_sql_in_the_session_store`), then the test modules
    rewritten once (:func:`rewrite_test_modules_once`)."""
    keep_compiled_sql_in_the_session_store(config)
    rewrite_test_modules_once(config)


def rewrite_test_modules_once(config):
    """Under pytest-xdist, the controller rewrites every test module's asserts once, before the test processes start,
    and writes each as pytest's own cached pyc (tests/__pycache__/*-pytest-*.pyc, keyed by the source's hash), which
    they then read. Where PYTHONDONTWRITEBYTECODE is set (this machine's environment) pytest writes none, so each of
    `make test`'s three processes rewrote the suite's ~100 modules itself, about 6 CPU s of its 18 s collection
    (docs/benchmarks.md, make test's speed); an unchanged module's pyc stays valid for the next run."""
    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", None):
        return
    from _pytest.assertion.rewrite import (PYC_TAIL, _read_pyc, _rewrite_test, _write_pyc, assertstate_key,
                                           get_cache_dir, try_makedirs)

    if config.getoption("assertmode") != "rewrite" or assertstate_key not in config.stash:
        return
    state = config.stash[assertstate_key]
    for path in test_modules(config):
        pyc = get_cache_dir(path) / (path.name[:-3] + PYC_TAIL)
        if _read_pyc(path, pyc) is None and try_makedirs(pyc.parent):
            try:
                source_hash, code = _rewrite_test(path, config)
            except (SyntaxError, ValueError, OSError):   # the test process that imports it reports it
                continue
            _write_pyc(state, code, source_hash, pyc)
