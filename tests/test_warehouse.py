"""The same metrics in a warehouse: the sample loaded into PostgreSQL gives metrics.json's core figures equal to the CSV folder's.

Needs a PostgreSQL server: `.ci/run` starts a throwaway one (.ci/with-postgres) and sets
WORKBOOK_TEST_PG; without it the test is skipped.
"""
from __future__ import annotations

import json
import os
import uuid

import pytest

from helpers.bench_scale import count_figures, differences
from helpers.config import load_config
from helpers.load import load_workbook
from helpers.metrics import core_metrics
from helpers.paths import SAMPLE_DATA_DIR
from helpers.periods import parse_period
from helpers.record import to_jsonable

URL = os.environ.get("WORKBOOK_TEST_PG")
pytestmark = pytest.mark.skipif(not URL, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/run starts one)")


def plain(figures: dict) -> dict:
    return json.loads(json.dumps(to_jsonable(figures)))


@pytest.fixture
def warehouse():
    from helpers.warehouse import connect

    con = connect(URL)
    schema = f"workbook_test_{uuid.uuid4().hex[:8]}"
    yield con, schema
    con.drop_database(schema, force=True, cascade=True)
    con.disconnect()


@pytest.mark.parametrize("period", ["FY2026Q2", "FY2025Q4"])
def test_postgres_figures_equal_the_csv_folder_figure_by_figure(warehouse, period):
    from helpers.warehouse import upload, warehouse_core_metrics

    con, schema = warehouse
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    upload(wb, con, schema)
    csv = plain(core_metrics(wb, parse_period(period, config.fiscal_year_start_month)))
    pg = plain(warehouse_core_metrics(con, config, period, schema=schema))
    assert differences(csv, pg) == []
    assert count_figures(pg) > 500
    assert pg["by_segment"]["owner"].keys() == csv["by_segment"]["owner"].keys()
