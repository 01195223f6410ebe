"""The same metrics in a warehouse: the sample loaded into PostgreSQL gives metrics.json's core figures equal to the CSV folder's.

Needs a PostgreSQL server: `.ci/run` starts a throwaway one (.ci/with-postgres) and sets
WORKBOOK_TEST_PG; without it the test is skipped.
"""
from __future__ import annotations

import json
import os
import uuid

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.metrics.core import core_metrics
from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.bench_scale import count_figures, differences, figures
from helpers.storage import to_jsonable

URL = os.environ.get("WORKBOOK_TEST_PG")
pytestmark = pytest.mark.skipif(not URL, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/run starts one)")


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
