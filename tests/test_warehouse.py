"""The same metrics in a warehouse: the sample loaded into PostgreSQL or a DuckDB file gives metrics.json's core
figures equal to the CSV folder's, and every mistake in naming the warehouse ends in a clear error.

The PostgreSQL tests need a server: `.ci/run` starts a throwaway one (.ci/with-postgres) and sets
WORKBOOK_TEST_PG; without it they are skipped. The DuckDB-file tests always run.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.metrics.core import core_metrics
from helpers.errors import WorkbookError
from helpers.paths import NOTEBOOKS_DIR, SAMPLE_DATA_DIR
from benchmarks.bench_scale import count_figures, differences, figures
from helpers.storage import to_jsonable

URL = os.environ.get("WORKBOOK_TEST_PG")
needs_pg = pytest.mark.skipif(not URL, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/run starts one)")


def sample_tables() -> dict[str, pd.DataFrame]:
    """The sample's leads and opportunities as a CRM replica would hold them: typed, owners' real names, blank channels."""
    out = {}
    for name, dates in (("leads", ["created_at", "mql_at", "sql_at", "first_sales_touch_at"]), ("opportunities", ["created_at", "closed_at"])):
        frame = pd.read_csv(SAMPLE_DATA_DIR / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
        for col in dates:
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
        if "amount" in frame:
            frame["amount"] = frame["amount"].astype(float)
        out[name] = frame
    return out


def plain(figures: dict) -> dict:
    return json.loads(json.dumps(to_jsonable(figures)))


@pytest.fixture
def warehouse():
    from helpers.metrics.warehouse import connect

    con = connect(URL)
    schema = f"workbook_test_{uuid.uuid4().hex[:8]}"
    yield con, schema
    con.drop_database(schema, force=True, cascade=True)
    con.disconnect()


@needs_pg
@pytest.mark.parametrize("period", ["FY2026Q2", "FY2025Q4"])
def test_postgres_figures_equal_the_csv_folder_figure_by_figure(warehouse, period):
    from helpers.metrics.warehouse import upload, warehouse_core_metrics

    con, schema = warehouse
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    tables = sample_tables()
    assert tables["opportunities"]["channel"].isna().any()  # the warehouse fills them from the lead, as the loader does
    assert not tables["leads"]["owner"].dropna().str.startswith("Owner").any()  # and pseudonymizes the owners
    upload(tables, con, schema)
    csv = plain(figures(core_metrics(wb, parse_period(period, config.fiscal_year_start_month))))
    pg = plain(warehouse_core_metrics(con, config, period, schema=schema))
    assert differences(csv, pg) == []
    assert count_figures(pg) > 500
    assert pg["by_segment"]["owner"].keys() == csv["by_segment"]["owner"].keys()


@needs_pg
def test_the_runner_reads_a_warehouse_into_a_data_folder_with_the_same_figures(warehouse, tmp_path):
    from helpers.metrics.warehouse import export_folder, upload

    con, schema = warehouse
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    upload(sample_tables(), con, schema)
    folder = export_folder(URL, tmp_path / "_data", schema)
    assert sorted(p.name for p in folder.iterdir()) == ["leads.parquet", "opportunities.parquet"]
    again = load_workbook(folder, config)
    period = parse_period("FY2026Q2", config.fiscal_year_start_month)
    assert differences(plain(core_metrics(wb, period)), plain(core_metrics(again, period))) == []


def test_a_warehouse_that_cannot_be_reached_is_a_clear_error_without_the_password():
    from helpers.errors import WorkbookError
    from helpers.metrics.warehouse import connect

    with pytest.raises(WorkbookError) as err:
        connect("postgresql://someone:secret@127.0.0.1:1/nothing")
    assert "cannot connect to the warehouse postgresql://someone:***@127.0.0.1:1/nothing" in str(err.value)
    assert "secret" not in str(err.value)
    said = err.value.in_language("ja")   # the runner and the CLI print it in the terminal's language
    assert said.startswith("--warehouse: ウェアハウス postgresql://someone:***@127.0.0.1:1/nothing に接続できません: ")
    assert "~/.pgpass か PGPASSWORD に置いてください" in said and "secret" not in said


# --------------------------------------------------------------------------- a DuckDB file as the warehouse
REVOPS = "revops"


@pytest.fixture(scope="module")
def duckdb_replica(tmp_path_factory) -> Path:
    """The sample as a CRM replica in a DuckDB file, under other table names (crm_leads, crm_opportunities) in
    schema revops: written once for the module; each test gets a copy of its own (duckdb_file)."""
    from helpers.metrics.warehouse import connect, upload

    path = tmp_path_factory.mktemp("replica") / "crm.duckdb"
    con = connect(f"duckdb://{path}", writable=True)
    upload(sample_tables(), con, REVOPS)
    con.raw_sql(f"ALTER TABLE {REVOPS}.leads RENAME TO crm_leads")
    con.raw_sql(f"ALTER TABLE {REVOPS}.opportunities RENAME TO crm_opportunities")
    con.disconnect()
    return path


@pytest.fixture
def duckdb_file(duckdb_replica, tmp_path) -> str:
    """A copy of duckdb_replica in the test's own folder; the URL ibis.connect reads (duckdb:/// and the absolute
    path)."""
    path = tmp_path / "crm.duckdb"
    shutil.copyfile(duckdb_replica, path)
    return f"duckdb://{path}"


def file_digest(url: str) -> str:
    return hashlib.sha256(open(url.removeprefix("duckdb://"), "rb").read()).hexdigest()


@pytest.mark.parametrize("period", ["FY2026Q1", "FY2025Q3"])
def test_duckdb_file_figures_equal_the_csv_folder_figure_by_figure(duckdb_file, period):
    from helpers.metrics.warehouse import connect, warehouse_core_metrics

    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    before = file_digest(duckdb_file)
    con = connect(duckdb_file)
    duck = plain(warehouse_core_metrics(con, config, period, REVOPS, "crm_leads", "crm_opportunities"))
    con.disconnect()
    csv = plain(figures(core_metrics(wb, parse_period(period, config.fiscal_year_start_month))))
    assert differences(csv, duck) == []
    assert count_figures(duck) > 500 and duck["pipeline"]["won_count"] == csv["pipeline"]["won_count"] > 0
    assert file_digest(duckdb_file) == before  # opened read-only


@pytest.fixture(scope="module")
def one_notebook(tmp_path_factory):
    folder = tmp_path_factory.mktemp("nb")
    shutil.copy(NOTEBOOKS_DIR / "00_data_health.ipynb", folder)
    return folder


def test_the_runner_reports_from_a_duckdb_file_with_the_folder_figures(duckdb_file, one_notebook, tmp_path, capsys):
    """`helpers.report.run --warehouse duckdb:///...` (crashed in Ibis on DuckDB 2): metrics.json's core figures are
    those of the same data as a folder; its first line names the tables it reads in the warehouse (their rows stay
    there, none is copied) and what the warehouse lacks."""
    from helpers.report import run

    out = tmp_path / "out"
    code = run.main(["--warehouse", duckdb_file, "--schema", REVOPS, "--table", "leads=crm_leads",
                     "--table", "opportunities=crm_opportunities", "--out", str(out), "--period", "FY2026Q1",
                     "--config", str(SAMPLE_DATA_DIR / "workbook.yaml"), "--notebooks", str(one_notebook)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert ("Read leads (revops.crm_leads, 4,400 rows), opportunities (revops.crm_opportunities, 896 rows) in the "
            "warehouse (schema revops; its rows stay there); not in the warehouse: spend, checklist, initiatives, targets"
            ) in printed.out
    assert not list((out / "_data").glob("*.parquet"))   # no row copied
    metrics = json.loads((out / "FY2026Q1" / "metrics.json").read_text(encoding="utf-8"))
    config = load_config(SAMPLE_DATA_DIR)
    folder = plain(figures(core_metrics(load_workbook(SAMPLE_DATA_DIR, config), parse_period("FY2026Q1", 4))))
    for key in ("pipeline", "funnel", "by_channel", "by_segment"):
        assert differences(folder[key], figures(metrics[key])) == [], key


def test_a_warehouse_run_refuses_a_period_after_the_data(duckdb_file, one_notebook, tmp_path, capsys):
    """The sample's dates end on 2026-09-30 (the latest of every lead and opportunity date column, found in the
    warehouse's aggregate row): FY2027Q1 with an as_of after it has no data, exit 2 before any report."""
    from helpers.report import run

    out = tmp_path / "out"
    code = run.main(["--warehouse", duckdb_file, "--schema", REVOPS, "--table", "leads=crm_leads",
                     "--table", "opportunities=crm_opportunities", "--out", str(out), "--period", "FY2027Q1",
                     "--as-of", "2027-06-30", "--config", str(SAMPLE_DATA_DIR / "workbook.yaml"),
                     "--notebooks", str(one_notebook)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert ("period(s) FY2027Q1 start after the data's last date 2026-09-30 (the latest date in the leads and "
            "opportunities): there is no data for them\n  How to fix: Choose FY2026Q2 or earlier; a later --as-of adds "
            "no data.") in err
    assert not (out / "FY2027Q1").exists()


def test_a_table_named_on_the_command_line_that_is_not_there_stops_the_run(duckdb_file, one_notebook, tmp_path, capsys):
    """A typo in --table (crm_oportunities) is no silent run without that table: exit 2 before any report, naming
    the schema, its tables and the close match; the same for the opportunities table left at its default name."""
    from helpers.report import run

    out = tmp_path / "out"
    args = ["--warehouse", duckdb_file, "--schema", REVOPS, "--out", str(out), "--notebooks", str(one_notebook)]
    assert run.main([*args, "--table", "leads=crm_leads", "--table", "opportunities=crm_oportunities"]) == 2
    err = capsys.readouterr().err
    assert ("error: --warehouse: the warehouse has no table crm_oportunities (--table opportunities=crm_oportunities) "
            "in schema revops; its tables: crm_leads, crm_opportunities\n  How to fix: Did you mean crm_opportunities? "
            "Name a table that exists with --table opportunities=TABLE, or give the schema holding the tables with "
            "--schema.") in err
    assert run.main([*args, "--table", "leads=crm_leads", "--lang", "ja"]) == 2  # the default name, said in Japanese
    assert ("error: --warehouse: ウェアハウスのスキーマ revops にテーブル opportunities (--table opportunities=opportunities) "
            "はありません。このスキーマのテーブル: crm_leads, crm_opportunities\n  対処方法: crm_opportunities のことでは"
            "ありませんか。") in capsys.readouterr().err
    assert run.main([*args, "--table", "opportunity=crm_opportunities"]) == 2
    assert ("error: --table opportunity=crm_opportunities: opportunity is not a canonical table\n  How to fix: Did you "
            "mean opportunities?") in capsys.readouterr().err
    assert run.main([*args, "--table", "crm_leads"]) == 2
    assert "error: --table crm_leads: expected NAME=TABLE" in capsys.readouterr().err
    assert run.main(["--schema", REVOPS, "--out", str(out)]) == 2
    assert "error: --schema: works with --warehouse only" in capsys.readouterr().err
    assert not any(p.name.startswith("FY") for p in out.iterdir())  # no report


def test_a_schema_without_the_tables_names_the_schemas_there(duckdb_file):
    from helpers.metrics.warehouse import export_folder

    with pytest.raises(WorkbookError) as err:
        export_folder(duckdb_file, "unused", "rev_ops")
    assert ("--warehouse: the warehouse has no table opportunities (--table opportunities=opportunities): schema "
            "rev_ops holds no tables (the schemas there: main, revops)") in str(err.value)


def test_a_missing_required_column_is_named_with_the_table(tmp_path):
    from helpers.metrics.warehouse import connect, export_folder

    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    con = connect(url, writable=True)
    con.raw_sql("CREATE TABLE opportunities AS SELECT 'O1' AS opportunity_id, DATE '2025-04-01' AS created_at, "
                "'won' AS status")
    con.disconnect()
    with pytest.raises(WorkbookError) as err:
        export_folder(url, tmp_path / "out")
    assert ("--warehouse: the warehouse table opportunities (schema main), read as the opportunities table, has no "
            "column outcome; its columns: created_at, opportunity_id, status") in str(err.value)
    assert not (tmp_path / "out").exists() and not (tmp_path / ".out.tmp").exists()


def test_a_duckdb_path_that_is_not_a_file_is_refused_without_creating_one(tmp_path, monkeypatch):
    """duckdb:///crm.duckdb is /crm.duckdb for Ibis (three slashes, then an absolute path): when only the current
    folder has crm.duckdb, the fix says how to write it; nothing is created."""
    from helpers.metrics.warehouse import connect

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipeline.duckdb").write_bytes(b"")
    with pytest.raises(WorkbookError) as err:
        connect("duckdb:///pipeline.duckdb")
    assert ("duckdb:///pipeline.duckdb: the URL names the DuckDB file /pipeline.duckdb, which does not exist (none was "
            "created)\n  How to fix: pipeline.duckdb is in the current folder: write duckdb://pipeline.duckdb") in str(err.value)
    assert not os.path.exists("/pipeline.duckdb")


# --------------------------------------------------------------------------- the figures-only command
def warehouse_cli(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    """The warehouse command (`python -m helpers.metrics.warehouse ARGS`) in the folder `cwd`, in English (no locale
    variable) unless `env` sets one (LANG=ja_JP.UTF-8: Japanese): its exit status, standard output and standard error.
    Run in this process as `python -m` runs it (test_stable_names.in_process: no interpreter to start for each of its
    ten runs); a traceback would end the test with the exception, as it fails the assertions on a child's stderr."""
    from test_stable_names import in_process

    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
            mp.delenv(name, raising=False)
        for name, value in (env or {}).items():
            mp.setenv(name, value)
        return in_process("helpers.metrics.warehouse", *args)


def test_the_warehouse_command_reads_settings_from_config_only(duckdb_file, tmp_path):
    """A workbook.yaml in the current folder is not read (it would turn the fiscal year to April); --config is."""
    (tmp_path / "workbook.yaml").write_text("fiscal_year_start_month: 4\n", encoding="utf-8")
    (tmp_path / "april.yaml").write_text("fiscal_year_start_month: 4\n", encoding="utf-8")
    args = ["--warehouse", duckdb_file, "--schema", REVOPS, "--leads-table", "crm_leads",
            "--opportunities-table", "crm_opportunities", "--as-of", "2026-01-15"]
    plain_run = warehouse_cli(*args, cwd=tmp_path)
    assert plain_run.returncode == 0, plain_run.stderr
    assert json.loads(plain_run.stdout)["period"] == "2025Q4"  # calendar quarters: the defaults
    configured = warehouse_cli(*args, "--config", "april.yaml", cwd=tmp_path)
    assert json.loads(configured.stdout)["period"] == "FY2025Q3"  # October-December of fiscal 2025 (April start)


@pytest.mark.parametrize("args, expected", [
    (["--period", "2026-Q2"], ["error: 2026-Q2: the label is not written as the configured fiscal calendar writes it "
                               "(fiscal_year_start_month = 1: calendar quarters, written like 2025Q1)",
                               "How to fix: Write it as 2026Q2 (2026-04 to 2026-06)."]),
    (["--opportunities-table", "crm_opportunities"],
     ["error: --warehouse: the warehouse has no table leads (--leads-table leads) in schema revops; its tables: "
      "crm_leads, crm_opportunities", "How to fix: Did you mean crm_leads? Name a table that exists with "
      "--leads-table TABLE"]),
    (["--leads-table", "crm_leads", "--opportunities-table", "crm_opportunities", "--config", "settings.yml"],
     ["error: ", "settings.yml"]),
])
def test_the_warehouse_command_says_what_is_wrong_without_a_traceback(duckdb_file, tmp_path, args, expected):
    done = warehouse_cli("--warehouse", duckdb_file, "--schema", REVOPS, *args, cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == "" and "Traceback" not in done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr


@pytest.mark.parametrize("password", ["Kz@9:w/x", "tr0ub?d#r", "a:b@c"])
def test_no_part_of_a_password_is_ever_printed(tmp_path, password):
    """A password written into the URL with characters a URL cannot hold is refused, and no piece of it (split at
    the characters parsers split at) is printed; a well-formed one is hidden in the connection error."""
    done = warehouse_cli("--warehouse", f"postgresql://ana:{password}@127.0.0.1:1/crm", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    pieces = [p for p in re.split(r"[@:/?#]", password) if len(p) > 1] + [password]
    assert not [p for p in pieces if p in done.stdout + done.stderr], done.stderr
    assert "postgresql://ana:***@127.0.0.1:1/crm" in done.stderr


def test_a_read_the_warehouse_refuses_is_an_error_not_a_traceback(tmp_path):
    """A view whose amount cannot be computed ('12k' as an integer): the runner's copy and the figures command
    both end in the warehouse's reason with the fix, and no half-written data folder is left."""
    import duckdb

    path = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE VIEW opportunities AS SELECT 'O1' AS opportunity_id, DATE '2025-04-01' AS created_at, "
                "'won' AS outcome, CAST('12k' AS INTEGER) AS amount")
    con.execute("CREATE TABLE leads AS SELECT 'L1' AS lead_id, DATE '2025-03-01' AS created_at, 'web' AS channel")
    con.close()
    from helpers.metrics.warehouse import export_folder

    with pytest.raises(WorkbookError) as err:
        export_folder(f"duckdb://{path}", tmp_path / "_data")
    assert (f"the warehouse duckdb://{path} refused to read table opportunities (schema main): ConversionException: "
            "Conversion Error: Could not convert string '12k' to INT32") in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crm.duckdb"]
    done = warehouse_cli("--warehouse", f"duckdb://{path}", "--period", "2025Q2", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    assert f"error: --warehouse: the warehouse duckdb://{path} refused a query: ConversionException" in done.stderr
    assert "How to fix: Check that the user may read the tables" in done.stderr
    done = warehouse_cli("--warehouse", f"duckdb://{path}", "--period", "2025Q2", cwd=tmp_path, env={"LANG": "ja_JP.UTF-8"})
    assert done.returncode == 2
    assert f"error: --warehouse: ウェアハウス duckdb://{path} がクエリを拒否しました: ConversionException" in done.stderr
    assert "列の型が docs/data_dictionary.md のとおりであること" in done.stderr


# --------------------------------------------------------------------------- fetched rows independent of the table's size
def doubled(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every lead and opportunity twice: the copy's ids (and links) end in '-2', every other value is the same."""
    out = {}
    for name, frame in tables.items():
        copy = frame.copy()
        for col in ("lead_id", "opportunity_id"):
            copy[col] = copy[col].where(copy[col].isna(), copy[col] + "-2")
        out[name] = pd.concat([frame, copy], ignore_index=True)
    return out


def fetched_for(tables: dict[str, pd.DataFrame], path) -> tuple[dict, int, int]:
    """(core figures and stage times, rows fetched, queries) computed in a DuckDB file holding `tables`."""
    from counting_backend import Counting
    from helpers.metrics.warehouse import connect, upload, warehouse_core_metrics, warehouse_stage_times

    url = f"duckdb://{path}"
    con = connect(url, writable=True)
    upload(tables, con, REVOPS)
    con.disconnect()
    counting = Counting(connect(url))
    config = load_config(SAMPLE_DATA_DIR)
    figures_ = plain({**warehouse_core_metrics(counting, config, "FY2026Q1", REVOPS),
                      "stage_times": warehouse_stage_times(counting, config, "FY2026Q1", REVOPS)})
    counting.disconnect()
    return figures_, counting.fetched, counting.queries


def test_the_figures_fetch_the_same_rows_from_a_table_twice_the_size(tmp_path):
    """Only aggregates come back: doubling every table leaves the rows fetched unchanged (one row per breakdown
    value and per scalar), while the counts double."""
    tables = sample_tables()
    once, rows, queries = fetched_for(tables, tmp_path / "once.duckdb")
    twice, rows_twice, queries_twice = fetched_for(doubled(tables), tmp_path / "twice.duckdb")
    assert twice["funnel"]["cohort"]["leads"] == 2 * once["funnel"]["cohort"]["leads"] > 0
    assert twice["pipeline"]["won_count"] == 2 * once["pipeline"]["won_count"] > 0
    assert twice["stage_times"]["mql_to_sql"]["n"] == 2 * once["stage_times"]["mql_to_sql"]["n"] > 0
    assert (rows_twice, queries_twice) == (rows, queries)
    # far fewer rows than the tables hold: the breakdown rows (channel, segments, owners) and the scalars
    assert rows < len(tables["leads"]) / 10, rows


class Unreadable:
    """A table a notebook must not read in a warehouse run: any use of its rows fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"a view read the workbook's rows ({name}) instead of the warehouse")

    def __getitem__(self, key):
        raise AssertionError(f"a view read the workbook's rows ([{key!r}]) instead of the warehouse")

    def __len__(self):
        raise AssertionError("a view counted the workbook's rows instead of the warehouse")


def warehouse_session(tables: dict[str, pd.DataFrame], path):
    """(a session whose source is a WarehouseSource over a DuckDB file holding `tables`, through the counting backend,
    and whose Workbook's leads and opportunities cannot be read; the counting backend): the sample's settings,
    as_of, warnings and small tables (spend, initiatives), period FY2026Q1 (helpers.report.session.Session.source)."""
    import dataclasses

    from counting_backend import Counting
    from helpers.metrics.warehouse import WarehouseSource, connect, upload
    from helpers.report.record import Recorder
    from helpers.report.session import Session

    url = f"duckdb://{path}"
    con = connect(url, writable=True)
    upload(tables, con, REVOPS)
    con.disconnect()
    config = load_config(SAMPLE_DATA_DIR)
    wb = dataclasses.replace(load_workbook(SAMPLE_DATA_DIR, config), leads=Unreadable(), opportunities=Unreadable())
    s = Session(config=config, wb=wb, period=parse_period("FY2026Q1", config.fiscal_year_start_month), lang="en",
                recorder=Recorder(""))
    counting = Counting(connect(url))
    s._source = WarehouseSource(counting, config, REVOPS)
    return s, counting


def notebook_views(tables: dict[str, pd.DataFrame], path) -> tuple[dict, int]:
    """Notebook 01's checklist evidence and notebook 02's figures and views that compute in the warehouse
    (:func:`warehouse_session`): (some figures, rows fetched)."""
    import matplotlib.pyplot as plt

    from helpers.metrics.checklist import checklist_metrics
    from helpers.metrics.funnel_analysis import funnel_metrics_extra, roi_table
    from helpers.metrics.goals import sales_cycle_median
    from helpers.metrics.roi import roi_rows
    from helpers.views import funnel_views as fv
    from helpers.views import goals_views as gv

    s, counting = warehouse_session(tables, path)
    ck = checklist_metrics(s.wb.checklist, s.wb.leads, s.wb.opportunities, s.period, s.as_of, s.config, source=s.source)
    core = plain(core_metrics(s.wb, s.period, projected=True, source=s.source))
    cycle = plain(sales_cycle_median(s.wb.opportunities, s.period.start, s.period.end, s.as_of, source=s.source))
    gv.conversion_chart(s)
    extra = plain(funnel_metrics_extra(s.wb.leads, s.wb.opportunities, s.wb.spend, s.period, s.as_of,
                                       s.config.sla_hours, source=s.source))
    fv.sla_view(s, extra)
    fv.sla_by_view(s, "channel")
    fv.sla_by_view(s, "owner")
    for view in (fv.stage_time_view, fv.stage_time_chart, fv.target_fit_view, fv.segment_views, fv.roi_view,
                 fv.roi_chart, fv.pop_view):
        view(s)
    fv.rate_view(s, "channel")
    fv.rate_chart(s, "channel", "win_rate")
    fv.heatmap(s, "channel", "industry")
    plt.close("all")
    roi = roi_table(roi_rows(s.wb, s.period, s.source))
    counting.disconnect()
    evidence = {item: row["n"] for item, row in ck["evidence"].items()}
    return ({**core, "roi_leads": int(roi["leads"].sum()), "sla": extra["sla"], "evidence_n": evidence, "cycle": cycle},
            counting.fetched)


def test_notebooks_01_and_02_fetch_the_same_rows_from_a_table_twice_the_size(tmp_path):
    """Notebook 01's checklist evidence and notebook 02's core figures (with the projected cohort rates), rate tables
    and charts, heatmap, stage times and box plots, conversion curves, sales cycle, follow-up SLA, ROI and period
    over period read the warehouse through the session's source and
    bring back only aggregates: doubling every table leaves the rows fetched unchanged while the counts double, and
    no view reads the workbook's own rows."""
    tables = sample_tables()
    once, rows = notebook_views(tables, tmp_path / "once.duckdb")
    twice, rows_twice = notebook_views(doubled(tables), tmp_path / "twice.duckdb")
    assert twice["funnel"]["cohort"]["leads"] == 2 * once["funnel"]["cohort"]["leads"] > 0
    assert twice["roi_leads"] == 2 * once["roi_leads"] > 0
    assert twice["sla"]["mqls"] == 2 * once["sla"]["mqls"] > 0
    assert twice["sla"]["hit_rate"] == once["sla"]["hit_rate"]
    assert twice["cycle"]["won"] == 2 * once["cycle"]["won"] > 0 and twice["cycle"]["median_days"] == once["cycle"]["median_days"]
    assert once["funnel"]["cohort"]["projected_lead_to_won_rate"]["expected"] is not None
    assert twice["evidence_n"] == {item: 2 * n for item, n in once["evidence_n"].items()} and once["evidence_n"][3] > 0
    assert rows_twice == rows
    # aggregates: a row per value, transition, day or (days to opportunity, days to close, outcome) cell of the
    # conversion curves and projections (most of these rows), fewer than the leads even on the sample
    assert rows < len(tables["leads"]), rows


def velocity_views(tables: dict[str, pd.DataFrame], path) -> tuple[dict, int]:
    """Notebook 03's comparison (velocity windows, quarters, caveats and the bootstrap) and its charts computed in the
    warehouse (:func:`warehouse_session`): (the comparison, rows fetched)."""
    import matplotlib.pyplot as plt

    from helpers.views import velocity_views as vv

    s, counting = warehouse_session(tables, path)
    vc = vv.comparison(s)
    vv.trend_chart(s, vc)
    vv.seasonal_view(s)
    vv.stl_chart(s)
    plt.close("all")
    counting.disconnect()
    return plain(vc), counting.fetched


def test_notebook_03s_comparison_fetches_the_same_rows_from_a_table_twice_the_size_but_the_bootstraps_deals(tmp_path):
    """Notebook 03 reads the warehouse through the session's source: the windows, quarters and caveats are aggregates
    (the same rows fetched from a table twice the size); the bootstrap fetches the deals of its four windows, a
    sample bounded by the windows (twice as many deals in them, twice the rows), never the table."""
    tables = sample_tables()
    once, rows = velocity_views(tables, tmp_path / "once.duckdb")
    twice, rows_twice = velocity_views(doubled(tables), tmp_path / "twice.duckdb")
    deals, deals_twice = (v["intervals"]["relevant_opportunities"] for v in (once, twice))
    assert twice["after"]["won_count"] == 2 * once["after"]["won_count"] > 0
    assert deals_twice == 2 * deals and 0 < deals < len(tables["opportunities"]) / 2
    assert rows_twice - deals_twice == rows - deals
    assert rows - deals < 100, rows


def test_a_warehouse_sources_touches_are_the_folders(tmp_path):
    """WarehouseSource.touches() shapes the warehouse's touches as engine.touches_table shapes a folder's: the same
    rows (the sample's touches are in touch_id order, which pos follows there), ids trimmed, days of the stamps."""
    from helpers.metrics import engine
    from helpers.metrics.warehouse import WarehouseSource, connect, upload

    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    tables = {**sample_tables(), "touches": wb.touches.assign(touched_at=pd.to_datetime(wb.touches["touched_at"]))}
    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    con = connect(url, writable=True)
    upload(tables, con, REVOPS)
    con.disconnect()
    source = WarehouseSource(connect(url), config, REVOPS)
    columns = ["pos", "touch_id", "lead_id", "ts", "d", "channel", "content", "opportunity_id"]
    there = source.fetch(source.touches().select(*columns).order_by("pos")).to_pandas()
    folder = engine.default_backend().to_pyarrow(engine.touches_table(wb.touches).select(*columns).order_by("pos")).to_pandas()
    assert len(there) == len(wb.touches) > 1000
    assert there["pos"].tolist() == folder["pos"].tolist() == list(range(len(folder)))   # Ibis' row_number is 0-based
    for column in columns[1:]:
        assert there[column].astype("string").fillna("").tolist() == folder[column].astype("string").fillna("").tolist(), column
    source.backend.disconnect()


def test_the_stage_times_computed_in_the_warehouse_are_the_folders(duckdb_file):
    """metrics.json's funnel.stage_times from the same expression run in the DuckDB file (one row per transition),
    equal to the folder's for the same period; the command prints them beside the core figures."""
    from helpers.metrics.funnel_analysis import funnel_metrics_extra
    from helpers.metrics.warehouse import connect, warehouse_stage_times

    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    period = parse_period("FY2026Q1", config.fiscal_year_start_month)
    folder = funnel_metrics_extra(wb.leads, wb.opportunities, None, period, wb.as_of, 48)["stage_times"]
    con = connect(duckdb_file)
    there = warehouse_stage_times(con, config, "FY2026Q1", REVOPS, "crm_leads", "crm_opportunities")
    con.disconnect()
    assert differences(plain(folder), plain(there)) == []
    assert there["opportunity_to_close"]["n"] > 0 and there["lead_to_mql"]["median_days"] is not None
    done = warehouse_cli("--warehouse", duckdb_file, "--schema", REVOPS, "--leads-table", "crm_leads",
                         "--opportunities-table", "crm_opportunities", "--period", "FY2026Q1",
                         "--config", str(SAMPLE_DATA_DIR / "workbook.yaml"), cwd=SAMPLE_DATA_DIR)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["stage_times"] == plain(there)


def health_figures(s) -> dict:
    """Notebook 00's figures of session `s`, each computed on ``s.source`` (helpers.metrics.health_engine), and its
    views drawn (they must read no row of the workbook)."""
    import matplotlib.pyplot as plt

    from helpers.metrics import health
    from helpers.metrics import health_engine as he
    from helpers.views import health_views as hv

    src = s.source
    per_period = health.rows_per_period(s.wb, health.periods_to(s.wb, s.period, src), src)
    out = {"completeness": he.stage_completeness_of(src, s.as_of),
           "stale": he.stale_open_deals_of(src, s.as_of, s.config.stale_open_days),
           "trace_all": he.traceability_of(src, s.as_of),
           "trace_period": he.traceability_of(src, s.as_of, s.period.start, s.period.end),
           "negative": he.negative_intervals_of(src, s.as_of),
           "rows_per_period": per_period.to_dict("records"),
           "channels": health.value_counts(s.wb, "channel", src).to_dict("records"),
           "sizes": health.value_counts(s.wb, "company_size", src).to_dict("records"),
           "overview": health.table_overview(s.wb, "en", src)[["table", "rows", "first", "last"]].to_dict("records"),
           "warnings": [w["code"] for w in health.warnings_record(s.wb, src)]}
    hv.limits_view(s)
    hv.coverage_note(s)
    hv.overview_view(s.wb, s.lang, src)
    hv.rows_per_period_chart(per_period, s.lang)
    for column in ("channel", "industry", "company_size"):
        hv.value_counts_view(s.wb, column, s.lang, src)
    hv.findings_view(s.wb, s.lang, src)
    hv.negative_intervals_view(s)
    hv.dict_view(out["stale"], s.config, s.lang)
    hv.traceability_view(s, out["trace_all"], out["trace_period"])
    plt.close("all")
    return plain(out)


def test_notebook_00s_figures_fetch_the_same_rows_from_a_table_twice_the_size(tmp_path):
    """Notebook 00 (data health) computes every section in the warehouse through the session's source, reading no
    row of the workbook: the figures are the folder's (the same data loaded from the CSV files), and doubling every
    table doubles the counts while the rows fetched (one per month, value, table or scalar) stay the same."""
    from helpers.report.record import Recorder
    from helpers.report.session import Session

    touches = pd.read_csv(SAMPLE_DATA_DIR / "touches.csv", dtype=str, keep_default_na=False, na_values=[""])
    tables = {**sample_tables(), "touches": touches.assign(touched_at=pd.to_datetime(touches["touched_at"], format="ISO8601"))}
    config = load_config(SAMPLE_DATA_DIR)
    folder = Session(config=config, wb=load_workbook(SAMPLE_DATA_DIR, config), lang="en", recorder=Recorder(""),
                     period=parse_period("FY2026Q1", config.fiscal_year_start_month))
    expected = health_figures(folder)
    s, counting = warehouse_session(tables, tmp_path / "once.duckdb")
    once, rows = health_figures(s), counting.fetched
    counting.disconnect()
    s, counting = warehouse_session(doubled(tables), tmp_path / "twice.duckdb")
    twice, rows_twice = health_figures(s), counting.fetched
    counting.disconnect()
    assert once == expected
    assert once["completeness"]["leads"] == 4400 and once["trace_all"]["won_count"] > 0
    assert twice["completeness"]["leads"] == 2 * once["completeness"]["leads"]
    assert twice["completeness"]["with_opportunity_share"] == once["completeness"]["with_opportunity_share"]
    touched, touched_twice = ([r for r in f["overview"] if r["table"] == "Touches"][0] for f in (once, twice))
    assert touched_twice == dict(touched, rows=2 * touched["rows"]) and touched["rows"] > 20000
    assert twice["trace_all"]["won_count"] == 2 * once["trace_all"]["won_count"]
    assert twice["trace_all"]["revenue_traceable_share"] == once["trace_all"]["revenue_traceable_share"]
    assert twice["stale"]["stale"] == 2 * once["stale"]["stale"] > 0
    assert [r["leads"] for r in twice["rows_per_period"]] == [2 * r["leads"] for r in once["rows_per_period"]]
    assert rows_twice == rows
    assert rows < 300, rows   # months, values and scalars, never the 4,400 leads


def test_a_duckdb_file_made_with_duckdbs_read_csv_gives_the_folder_figures(tmp_path):
    """A new user's warehouse (README "The metrics in a warehouse"): the sample's CSV files put into a DuckDB file by
    DuckDB's own read_csv, with the types it detects (DATE, BIGINT amounts; not the replica's timestamps and
    floats above), under their canonical names in the default schema: the core figures equal the folder's."""
    import duckdb

    from helpers.metrics.warehouse import connect, warehouse_core_metrics

    path = tmp_path / "sample.duckdb"
    raw = duckdb.connect(str(path))
    for name in ("leads", "opportunities"):
        raw.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv(?)", [str(SAMPLE_DATA_DIR / f"{name}.csv")])
    detected = dict(raw.execute("SELECT column_name, data_type FROM information_schema.columns "
                                "WHERE table_name = 'opportunities'").fetchall())
    raw.close()
    assert detected["created_at"] == "DATE" and detected["amount"] in ("BIGINT", "DOUBLE")
    config = load_config(SAMPLE_DATA_DIR)
    con = connect(f"duckdb://{path}")
    duck = plain(warehouse_core_metrics(con, config, "FY2026Q2", None, "leads", "opportunities"))
    con.disconnect()
    csv = plain(figures(core_metrics(load_workbook(SAMPLE_DATA_DIR, config), parse_period("FY2026Q2", 4))))
    assert differences(csv, duck) == []
    assert count_figures(duck) > 500 and duck["pipeline"]["won_count"] == csv["pipeline"]["won_count"] == 25


def test_the_warehouse_command_gives_every_null_figure_the_folders_reason(duckdb_file, tmp_path):
    """A null figure printed by `python -m helpers.metrics.warehouse` carries the report's null_reasons: the sample's
    unknown channel in FY2026Q2 has no closed deal (win rate null: no_closed_deals), as in the folder's metrics."""
    run = warehouse_cli("--warehouse", duckdb_file, "--schema", REVOPS, "--leads-table", "crm_leads",
                        "--opportunities-table", "crm_opportunities", "--config", str(SAMPLE_DATA_DIR / "workbook.yaml"),
                        "--period", "FY2026Q2", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    printed = json.loads(run.stdout)
    config = load_config(SAMPLE_DATA_DIR)
    folder = plain(core_metrics(load_workbook(SAMPLE_DATA_DIR, config), parse_period("FY2026Q2", 4)))
    assert printed["by_channel"]["unknown"]["null_reasons"] == folder["by_channel"]["unknown"]["null_reasons"]
    assert printed["by_channel"]["unknown"]["null_reasons"]["win_rate"] == "no_closed_deals"
    assert printed["by_segment"]["company_size"]["1000+"]["null_reasons"] == {
        "avg_deal_size": "no_won_deals", "sales_cycle_days": "no_won_deals", "sales_velocity": "no_won_deals"}


# --------------------------------------------------------------------------- the default period: one rule
@pytest.mark.parametrize("as_of, label", [(None, "2025Q2"), ("2025-12-31", "2025Q2")])
def test_a_duckdb_file_picks_the_folders_default_period(tmp_path, as_of, label):
    """Without a period the warehouse takes the folder run's default (helpers.data.periods.latest_period). The data:
    O0 created 2025-01-01 (the first date), O2 lost 2025-06-30 (the last record date; O3's open closed_at none);
    calendar quarters. as_of 2025-06-30 (the data's): 2025Q1 and 2025Q2 complete, the latest 2025Q2. as_of
    2025-12-31 (the settings'): 2025Q3 and 2025Q4 are complete too but start after the data's last record date, so
    2025Q2 still (the old rule took 2025Q4, a period without data that the runner refuses)."""
    from conftest import LEADS_CSV, OPPS_CSV, write_folder
    from helpers.data.load import first_data_date, last_data_date
    from helpers.data.periods import latest_period
    from helpers.metrics.warehouse import connect, upload, warehouse_core_metrics, warehouse_stage_times

    files = {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV + "O0,2025-01-01,2025-03-20,won,300000,,referral,,,,\n"}
    if as_of:
        files["workbook.yaml"] = f"as_of: {as_of}\n"
    folder = write_folder(tmp_path / "data", files)
    config = load_config(folder)
    wb = load_workbook(folder, config)
    default, complete = latest_period(first_data_date(wb), wb.as_of, 1, last_data_date(wb))
    assert (default.label, complete, str(last_data_date(wb).date())) == (label, True, "2025-06-30")
    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    con = connect(url, writable=True)
    upload({"leads": wb.leads, "opportunities": wb.opportunities}, con, REVOPS)
    con.disconnect()
    con = connect(url)
    duck = plain(warehouse_core_metrics(con, config, None, REVOPS))
    times = plain(warehouse_stage_times(con, config, None, REVOPS))
    con.disconnect()
    assert (duck["period"], duck["start"][:10], duck["end"][:10]) == (label, "2025-04-01", "2025-06-30")
    assert duck["as_of"][:10] == (as_of or "2025-06-30")
    folder_core = plain(figures(core_metrics(wb, default)))
    assert differences(folder_core, duck) == []
    assert duck["pipeline"]["won_count"] == 1 and duck["pipeline"]["lost_count"] == 1   # O1 won 06-01, O2 lost 06-30
    assert times["opportunity_to_close"]["n"] == 2   # O1 and O2 closed in 2025Q2
