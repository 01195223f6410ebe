"""Notebook 05 (lead quality, contract section 5) on warehouse tables (issue 26): the sample's leads (with the extra
columns the settings study) and opportunities in a DuckDB file give metrics.json's lead_quality block equal to the
folder's, no view reads the workbook's own rows, and the rows fetched do not grow when every table is doubled (only
aggregates come back: counts per channel, status, attribute value and distinct design row of the score)."""
from __future__ import annotations

import dataclasses
import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from counting_backend import Counting
from helpers.config import lead_quality_columns, load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.record import Recorder
from helpers.report.session import Session
from helpers.storage import dumps
from helpers.views import lead_views as lv
from test_warehouse import REVOPS, URL as PG_URL, Unreadable, doubled, needs_pg, sample_tables

PERIOD = "FY2026Q1"


@pytest.fixture(scope="module")
def config():
    return load_config(SAMPLE_DATA_DIR)


def _session(config, source=None) -> Session:
    """The sample's session for PERIOD; with `source` (a warehouse's), a Workbook whose leads and opportunities cannot
    be read."""
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    if source is not None:
        wb = dataclasses.replace(wb, leads=Unreadable(), opportunities=Unreadable(), extras={})
    s = Session(config=config, wb=wb, period=parse_period(PERIOD, config.fiscal_year_start_month), lang="en",
                recorder=Recorder(""))
    if source is not None:
        s._source = source
    return s


def _views(s: Session) -> tuple[dict, object]:
    """compute() and every view of notebook 05, the explorer's first choice included: (the block as JSON reads it
    back, the LeadQuality)."""
    lq = lv.compute(s)
    for view in (lv.horizon_view, lv.rule_view, lv.missed_text, lv.conditions_table, lv.forest_plot, lv.guard_view,
                 lv.score_view, lv.decile_table, lv.reliability_chart, lv.scorecard, lv.same_size_view, lv.feedback_view,
                 lv.explorer):
        view(s, lq)
    lv.channel_table(s, lq, history=True)
    number = next(k for k, (_, numeric) in lq.attrs.items() if numeric and lq.known[k] == "before_contact")
    lv.explorer_view(s, lq, number, 0.2, None, "any")
    plt.close("all")
    return json.loads(dumps(lq.section)), lq


def _warehouse(config, tables: dict[str, pd.DataFrame], path) -> tuple[dict, Counting]:
    """Notebook 05's block and views computed in a DuckDB file holding `tables` (the studied lead columns included),
    through the counting backend: (the block, the backend)."""
    from helpers.metrics.warehouse import WarehouseSource, connect, upload

    url = f"duckdb://{path}"
    con = connect(url, writable=True)
    upload(tables, con, REVOPS, {"leads": tuple(c for c in lead_quality_columns(config.lead_quality) if c in tables["leads"])})
    con.disconnect()
    counting = Counting(connect(url))
    try:
        block, _ = _views(_session(config, WarehouseSource(counting, config, REVOPS)))
    finally:
        counting.disconnect()
    return block, counting


@pytest.fixture(scope="module")
def folder_block(config) -> dict:
    """Notebook 05's block on the sample's folder: made once for the tests that compare a warehouse's with it."""
    return _views(_session(config))[0]


@pytest.fixture(scope="module")
def sample_warehouse(config, tmp_path_factory) -> tuple[dict, Counting]:
    """(block, counting backend) of notebook 05 on the sample's tables in a DuckDB file (_warehouse): made once for
    the three tests that read it (the comparison with the folder, the doubling, the cap on the score's rows)."""
    return _warehouse(config, sample_tables(), tmp_path_factory.mktemp("lq") / "crm.duckdb")


def test_the_lead_quality_block_from_a_duckdb_file_is_the_folders(folder_block, sample_warehouse):
    folder, (warehouse, _) = folder_block, sample_warehouse
    assert dumps(warehouse) == dumps(folder)
    # figures that would hide an empty computation: a rule audited, conditions, the guard, a score and feedback
    assert folder["mql_audit"]["period"]["flagged"] > 0 and folder["conditions"] and folder["suspect"]
    assert folder["score"]["auc"] is not None and len(folder["score"]["deciles"]) == 10 and folder["same_size"]["size"] > 0
    assert folder["feedback"]["period"]["disqualified"] > 0


def test_doubling_the_tables_leaves_the_rows_fetched_unchanged(config, sample_warehouse, tmp_path):
    """Every lead and deal twice (ids ending in '-2'): the same rows come back (one per channel, status and reason,
    attribute value, quintile, distinct design row...), while the counts double; far fewer rows than the leads."""
    once, a = sample_warehouse
    twice, b = _warehouse(config, doubled(sample_tables()), tmp_path / "twice.duckdb")
    assert twice["observed_leads"] == 2 * once["observed_leads"] > 0
    assert twice["mql_audit"]["all_history"]["flagged"] == 2 * once["mql_audit"]["all_history"]["flagged"] > 0
    assert twice["feedback"]["period"]["mqls"] == 2 * once["feedback"]["period"]["mqls"] > 0
    assert twice["score"]["train_leads"] + twice["score"]["test_leads"] == twice["observed_leads"]
    assert (b.fetched, b.queries) == (a.fetched, a.queries) and a.fetched > 0


def test_the_scores_rows_are_bounded(config, sample_warehouse, tmp_path, monkeypatch):
    """Most rows fetched are the score's distinct design rows (a number such as employees makes nearly every lead's
    row distinct): at most MAX_SCORED_LEADS leads of each side are read, an evenly spaced sample by lead_id beyond."""
    from helpers.metrics import lead_engine

    full, a = sample_warehouse   # made with the default cap (the fixture is set up before the patch below)
    assert lead_engine.MAX_SCORED_LEADS > 500
    monkeypatch.setattr(lead_engine, "MAX_SCORED_LEADS", 500)
    capped, b = _warehouse(config, sample_tables(), tmp_path / "capped.duckdb")
    assert full["score"]["fit_leads"] == full["score"]["train_leads"] > 500
    assert capped["score"]["fit_leads"] == 500 and capped["score"]["test_leads"] == 500
    assert capped["score"]["train_leads"] == full["score"]["train_leads"]
    assert b.fetched <= a.fetched - (full["score"]["train_leads"] - 500), (a.fetched, b.fetched)


@needs_pg
def test_the_lead_quality_block_from_postgresql_is_the_folders(config, folder_block):
    """The same on a real PostgreSQL server (.ci/with-postgres): its own aggregates, quantiles and windows give the
    folder's block byte for byte."""
    import uuid

    from helpers.metrics.warehouse import WarehouseSource, connect, upload

    folder = folder_block
    con = connect(PG_URL)
    schema = f"workbook_lq_{uuid.uuid4().hex[:8]}"
    try:
        tables = sample_tables()
        upload(tables, con, schema, {"leads": tuple(c for c in lead_quality_columns(config.lead_quality) if c in tables["leads"])})
        counting = Counting(con)
        warehouse, _ = _views(_session(config, WarehouseSource(counting, config, schema)))
    finally:
        con.drop_database(schema, force=True, cascade=True)
        con.disconnect()
    assert dumps(warehouse) == dumps(folder)
    assert warehouse["score"]["auc"] is not None and warehouse["feedback"]["period"]["mqls"] > 0
