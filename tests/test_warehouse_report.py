"""A report run on a warehouse gives the metrics.json of the same data as a folder, byte for byte (issue 26).

The sample's tables are uploaded with helpers.metrics.warehouse.upload (typed as a CRM replica holds them: dates as
dates, amounts as numbers, owners' real names, blank opportunity channels) into a DuckDB file and into the real
PostgreSQL server `.ci/run` starts (.ci/with-postgres sets WORKBOOK_TEST_PG; without it that test is skipped); the
folder holds the same CSV files. `python -m helpers.report.run` runs every notebook of one period on each, and the
two metrics.json files are compared as bytes. In the warehouse runs every notebook's session holds a Workbook without
rows (helpers.data.rowless: any read of s.wb.leads, opportunities or touches raises), so every figure came from the
warehouse through s.source.
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

