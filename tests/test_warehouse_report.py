"""A report run on a warehouse gives the metrics.json of the same data as a folder, byte for byte (issue 26).

The sample's tables are uploaded with helpers.metrics.warehouse.upload (typed as a CRM replica holds them: dates as
dates, amounts as numbers, owners' real names, blank opportunity channels) into a DuckDB file and into the real
PostgreSQL server `.ci/run` starts (.ci/with-postgres sets WORKBOOK_TEST_PG; without it that test is skipped); the
folder holds the same CSV files. `python -m helpers.report.run` runs every notebook of one period on each, and the
two metrics.json files are compared as bytes.
"""
from __future__ import annotations

import os
import shutil
import uuid

import pandas as pd
import pytest

from helpers.config import lead_quality_columns, load_config
from helpers.data.schema import TABLES
from helpers.paths import SAMPLE_DATA_DIR

PG = os.environ.get("WORKBOOK_TEST_PG")
PERIOD = "FY2026Q2"
SCHEMA = "revops"


def typed_sample() -> dict[str, pd.DataFrame]:
    """Every canonical table of the sample as a warehouse holds it: dates and datetimes typed, amounts and targets
    as numbers (the checklist's answers stay text: yes/partial/no), everything else text."""
    out = {}
    for name, table in TABLES.items():
        path = SAMPLE_DATA_DIR / f"{name}.csv"
        if not path.is_file():
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        for column in table.columns:
            if column.name in frame and column.kind in ("date", "datetime"):
                frame[column.name] = pd.to_datetime(frame[column.name]).astype("datetime64[ns]")
            elif column.name in frame and column.kind == "number" and name != "checklist":
                frame[column.name] = frame[column.name].astype(float)
        out[name] = frame
    return out


def studied_columns() -> tuple[str, ...]:
    """The extra lead columns the sample's lead_quality settings study (notebook 05): uploaded with the contract's."""
    return tuple(lead_quality_columns(load_config(SAMPLE_DATA_DIR).lead_quality))


def run_report(tmp, *args: str) -> bytes:
    """metrics.json of `helpers.report.run` for PERIOD with the sample's settings and every notebook."""
    from helpers.report import run

    out = tmp / "out"
    code = run.main([*args, "--period", PERIOD, "--out", str(out), "--config", str(SAMPLE_DATA_DIR / "workbook.yaml")])
    assert code == 0
    return (out / PERIOD / "metrics.json").read_bytes()


@pytest.fixture(scope="module")
def folder_metrics(tmp_path_factory) -> bytes:
    """The same data as a folder: the sample's CSV files of the tables uploaded."""
    tmp = tmp_path_factory.mktemp("folder")
    data = tmp / "data"
    data.mkdir()
    for name in typed_sample():
        shutil.copy(SAMPLE_DATA_DIR / f"{name}.csv", data)
    return run_report(tmp, "--data", str(data))


def test_a_duckdb_file_gives_the_folders_metrics_json_byte_for_byte(folder_metrics, tmp_path):
    from helpers.metrics.warehouse import connect, upload

    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    con = connect(url, writable=True)
    upload(typed_sample(), con, SCHEMA, {"leads": studied_columns()})
    con.disconnect()
    metrics = run_report(tmp_path, "--warehouse", url, "--schema", SCHEMA)
    assert b'"lead_quality"' in metrics and b'"attribution"' in metrics and b'"goals"' in metrics
    assert metrics == folder_metrics


@pytest.mark.skipif(not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/run starts one)")
def test_postgresql_gives_the_folders_metrics_json_byte_for_byte(folder_metrics, tmp_path):
    from helpers.metrics.warehouse import connect, upload

    con = connect(PG)
    schema = f"workbook_test_{uuid.uuid4().hex[:8]}"
    try:
        upload(typed_sample(), con, schema, {"leads": studied_columns()})
        metrics = run_report(tmp_path, "--warehouse", PG, "--schema", schema)
    finally:
        con.drop_database(schema, force=True, cascade=True)
        con.disconnect()
    assert metrics == folder_metrics


#: The notebooks that compute every figure on the session's source (helpers.report.session.Session.source). Notebook
#: 00's last section (touch coverage: helpers.views.attribution_views.coverage_figures) and notebook 06 still read the
#: touch rows.
SOURCE_NOTEBOOKS = ("01_checklist_diagnostic.ipynb", "02_funnel_breakdown.ipynb", "03_velocity_comparison.ipynb",
                    "04_goals_plan.ipynb", "05_lead_quality.ipynb")


@pytest.fixture(scope="module")
def source_notebooks(tmp_path_factory):
    """A notebooks folder holding :data:`SOURCE_NOTEBOOKS` only."""
    from helpers.paths import NOTEBOOKS_DIR

    folder = tmp_path_factory.mktemp("notebooks")
    for name in SOURCE_NOTEBOOKS:
        shutil.copy(NOTEBOOKS_DIR / name, folder)
    return folder


def test_notebooks_01_to_05_read_no_row_of_the_warehouse(source_notebooks, tmp_path, monkeypatch):
    """A warehouse run's sessions hold a Workbook without rows (helpers.data.rowless): with the runner's copy refused
    (ROWS_ENV=refuse: any read of s.wb.leads, opportunities or touches raises), notebooks 01-05 still run, and their
    metrics.json is the folder's (the same notebooks on the sample's CSV files) byte for byte."""
    from helpers.data.rowless import ROWS_ENV
    from helpers.metrics.warehouse import connect, upload

    folder = tmp_path / "folder"
    folder.mkdir()
    data = folder / "data"
    data.mkdir()
    for name in typed_sample():
        shutil.copy(SAMPLE_DATA_DIR / f"{name}.csv", data)
    expected = run_report(folder, "--data", str(data), "--notebooks", str(source_notebooks))
    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    con = connect(url, writable=True)
    upload(typed_sample(), con, SCHEMA, {"leads": studied_columns()})
    con.disconnect()
    monkeypatch.setenv(ROWS_ENV, "refuse")
    metrics = run_report(tmp_path, "--warehouse", url, "--schema", SCHEMA, "--notebooks", str(source_notebooks))
    assert all(f'"{key}"'.encode() in metrics for key in ("checklist", "sales_cycle", "velocity_comparison", "goals",
                                                          "lead_quality"))
    assert metrics == expected
