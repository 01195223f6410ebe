"""Attribution (notebook 06, contract section 6) on warehouse tables (issue 26): the sample's leads, opportunities and
touches in a DuckDB file give metrics.json's attribution block equal to the folder's, and the rows fetched from the
warehouse do not grow with the tables (only aggregates come back: sums per channel, one grouped count of paths);
notebook 06's compute() and views on a warehouse session (s.source) fetch the same rows from tables twice the size;
touches tied in time and touch_id are ordered in a warehouse by their own columns (it has no file order).
"""
from __future__ import annotations

import json
import os
import uuid

import pandas as pd
import pytest

from counting_backend import Counting
from helpers.data.load import first_data_date, load_workbook
from helpers.data.periods import complete_periods
from helpers.metrics.attribution_paths import attribution_figures, attribution_section
from helpers.paths import SAMPLE_DATA_DIR
from helpers.storage import dumps

SAMPLES = 60
PG = os.environ.get("WORKBOOK_TEST_PG")


@pytest.fixture(scope="module")
def sample():
    """The sample workbook and its latest complete period's (start, end)."""
    wb = load_workbook(SAMPLE_DATA_DIR)
    period = complete_periods(first_data_date(wb), wb.as_of, wb.config.fiscal_year_start_month)[-1]
    return wb, period.start.date(), period.end.date()


def _twice(wb) -> dict[str, pd.DataFrame]:
    """The sample's three tables with a copy of every row under other ids ("-2" added to each id): every path, deal
    and channel twice over."""
    def copy(frame, ids):
        return pd.concat([frame, frame.assign(**{c: frame[c].astype("string") + "-2" for c in ids if c in frame})])

    return {"leads": copy(wb.leads, ("lead_id", "opportunity_id")),
            "opportunities": copy(wb.opportunities, ("opportunity_id", "lead_id")),
            "touches": copy(wb.touches, ("touch_id", "lead_id", "opportunity_id"))}


@pytest.fixture(scope="module")
def duckdb_file(sample, tmp_path_factory):
    """A DuckDB file holding the sample's tables in schema `once` and the doubled tables in schema `twice`."""
    from helpers.metrics.warehouse import connect, upload

    wb = sample[0]
    url = f"duckdb://{tmp_path_factory.mktemp('wh') / 'crm.duckdb'}"
    con = connect(url, writable=True)
    upload({"leads": wb.leads, "opportunities": wb.opportunities, "touches": wb.touches}, con, "once")
    upload(_twice(wb), con, "twice")
    con.disconnect()
    return url


def _block(url: str, schema: str, wb, start, end, backend=None) -> dict:
    """metrics.json's attribution block computed on the warehouse tables of `schema` (as JSON text reads back)."""
    from helpers.metrics.warehouse import attribution_tables, connect

    con = connect(url)
    try:
        touches, leads, opps = attribution_tables(con, schema)
        run = backend(con) if backend else con
        section = attribution_figures(touches, leads, opps, wb.config, wb.as_of, start, end, SAMPLES, backend=run)
        return json.loads(dumps(section)), run
    finally:
        con.disconnect()


@pytest.fixture(scope="module")
def once_block(sample, duckdb_file) -> tuple[dict, Counting]:
    """(block, counting backend) of the sample's tables in the DuckDB file (schema `once`): made once for the
    comparison with the folder and the doubling test (the counting backend hands every result on unchanged)."""
    wb, start, end = sample
    return _block(duckdb_file, "once", wb, start, end, Counting)


def test_the_attribution_block_from_a_duckdb_file_equals_the_folders(sample, once_block):
    wb, start, end = sample
    folder = json.loads(dumps(attribution_section(wb, start, end, samples=SAMPLES)))
    warehouse, _ = once_block
    assert warehouse == folder
    # figures that would hide an empty computation: real credits, paths and deals on both sides
    assert warehouse["data_driven"]["converted_paths"] >= 30 and warehouse["data_driven"]["markov"]
    assert warehouse["coverage"]["touches"] == len(wb.touches) > 0
    assert warehouse["sourced"]["won"]["count"] > 0 and warehouse["content"]


def test_doubling_the_warehouse_tables_leaves_the_fetched_rows_unchanged(sample, duckdb_file, once_block):
    """The sample and the sample twice over (every row copied under other ids): the same queries fetch the same rows
    (one per channel, per asset, per distinct path, one row of deal figures...), while the counts double."""
    wb, start, end = sample
    once, a = once_block
    twice, b = _block(duckdb_file, "twice", wb, start, end, Counting)
    assert (b.fetched, b.queries) == (a.fetched, a.queries)
    # aggregates only: most of them are the distinct (path, converted) rows of the one grouped count of paths (938 on
    # the sample), which depend on the paths' variety, not on the number of leads or touches (20,681)
    assert 0 < a.fetched < len(wb.touches) // 10 and a.queries < 20
    assert twice["coverage"]["touches"] == 2 * once["coverage"]["touches"] == 2 * len(wb.touches)
    assert twice["data_driven"]["paths"] == 2 * once["data_driven"]["paths"]
    assert twice["sourced"]["won"]["count"] == 2 * once["sourced"]["won"]["count"] > 0
    assert twice["data_driven"]["markov"].keys() == once["data_driven"]["markov"].keys()


@pytest.mark.parametrize("name", ["over_12_channels_new_york_cents", "few_paths_no_amounts", "default_horizon_earlier_as_of",
                                  "bulk_created_at", "ties_ids_and_committees"])
def test_the_hard_cases_from_a_duckdb_file_equal_the_folders(name, tmp_path):
    """The generated data sets of test_section6_reference (cents and a New York clock, no amounts, H from the data,
    bulk-loaded created_at, buying committees): the warehouse gives the frames' block. A warehouse keeps no row order,
    so a tie in time and touch_id is broken there by the touch's other columns, not by file order: each touch without
    an id gets one in file order here ('#' + position: sorting before the generated ids, as a missing id does), so
    that both sides order alike."""
    from test_section6_reference import AS_OF, CASES, END, START, generate

    from helpers.metrics.warehouse import attribution_tables, connect, upload

    kw = dict(CASES[name])
    as_of = kw.pop("as_of", AS_OF)
    wb = load_workbook(generate(tmp_path / "data", kw.pop("seed"), **kw), as_of=str(as_of))
    ids = wb.touches["touch_id"].astype("string")
    touches = wb.touches.assign(touch_id=ids.fillna(pd.Series([f"#{i:06d}" for i in range(len(ids))], index=ids.index)))
    frames = attribution_figures(touches, wb.leads, wb.opportunities, wb.config, wb.as_of, START, END, SAMPLES)
    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    con = connect(url, writable=True)
    upload({"leads": wb.leads, "opportunities": wb.opportunities, "touches": touches}, con, "revops")
    con.disconnect()
    con = connect(url)
    try:
        tables = attribution_figures(*attribution_tables(con, "revops"), wb.config, wb.as_of, START, END, SAMPLES, backend=con)
    finally:
        con.disconnect()
    assert json.loads(dumps(tables)) == json.loads(dumps(frames))
    assert frames["coverage"]["touches_after_close"] > 0 and frames["coverage"]["touches_unknown_lead"] > 0


def _tie_key(touches: pd.DataFrame) -> pd.DataFrame:
    """`touches` sorted by a warehouse's order key of touches (helpers.metrics.warehouse.touches_engine_table: touch_id,
    '' when empty, then touched_at, lead_id, opportunity_id, channel, content; by code point, an empty value last)."""
    key = touches.assign(touch_id=touches["touch_id"].astype("string").fillna(""))
    return touches.loc[key.sort_values(["touch_id", "touched_at", "lead_id", "opportunity_id", "channel", "content"],
                                       kind="stable", na_position="last").index]


@pytest.mark.parametrize("where", ["duckdb", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/run starts one)"))])
def test_tied_touches_in_a_warehouse_are_ordered_by_their_columns_as_a_folder_in_that_order(where, tmp_path):
    """Touches of one person at the same time without a touch_id (the generated ties of test_section6_reference): a
    folder orders them by file order (the contract), a warehouse by the touch's columns, whatever order it stores
    them in (here the reverse). Notebook 06's computation on a WarehouseSource (a DuckDB file; PostgreSQL in .ci's
    C.UTF-8 locale, which compares text by code point) equals the folder's whose file lists the tied touches in that
    order; the file in the reverse order gives other figures, so the ties matter here."""
    from test_section6_reference import AS_OF, CASES, END, START, generate

    from helpers.metrics.attribution_paths import attribution_of
    from helpers.metrics.warehouse import WarehouseSource, connect, upload

    kw = dict(CASES["ties_ids_and_committees"])
    wb = load_workbook(generate(tmp_path / "data", kw.pop("seed"), **kw), as_of=str(AS_OF))
    ordered = _tie_key(wb.touches)
    ties = ordered[ordered["touch_id"].isna()].groupby(["lead_id", "touched_at"])["channel"].nunique()
    assert (ties > 1).sum() >= 5   # tied touches of one person in different channels (6 in this data set)

    def folder(touches):
        return json.loads(dumps(attribution_figures(touches, wb.leads, wb.opportunities, wb.config, wb.as_of, START, END,
                                                    SAMPLES)))

    url, schema = (f"duckdb://{tmp_path / 'crm.duckdb'}", "revops") if where == "duckdb" else \
        (PG, f"workbook_test_{uuid.uuid4().hex[:8]}")
    con = connect(url, writable=True)
    upload({"leads": wb.leads, "opportunities": wb.opportunities, "touches": ordered.iloc[::-1]}, con, schema)
    if where == "duckdb":
        con.disconnect()
        con = connect(url)   # read-only, as a report opens it
    try:
        source = WarehouseSource(con, wb.config, schema)
        warehouse = json.loads(dumps(attribution_of(source, wb.config, wb.as_of, START, END, SAMPLES)))
    finally:
        if where != "duckdb":
            con.drop_database(schema, force=True, cascade=True)
        con.disconnect()
    assert warehouse == folder(ordered)
    reversed_file = folder(ordered.iloc[::-1])   # the paths through tied touches change order: other Markov shares
    assert reversed_file["data_driven"]["markov"]["web"]["share"] != warehouse["data_driven"]["markov"]["web"]["share"]


def _with_touches_twice(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """test_warehouse.doubled's copy, the touches' ids too ("-2" added: every touch of the copy is its own)."""
    from test_warehouse import doubled

    out = doubled(tables)
    n = len(tables["touches"])
    ids = out["touches"]["touch_id"].astype("string")
    out["touches"]["touch_id"] = ids.where(ids.isna() | (pd.Series(range(len(ids))) < n).to_numpy(), ids + "-2")
    return out


def notebook_06(tables: dict[str, pd.DataFrame], path) -> tuple[dict, int]:
    """Notebook 06's compute() and every view of it, and notebook 00's touch coverage, on a session whose source is a
    DuckDB file holding `tables` through the counting backend and whose workbook's lead, deal and touch rows cannot
    be read (test_warehouse.warehouse_session): (the attribution section as JSON reads it, rows fetched)."""
    import dataclasses

    import matplotlib.pyplot as plt
    from test_warehouse import Unreadable, warehouse_session

    from helpers.views import attribution_views as av

    s, counting = warehouse_session(tables, path)
    s.wb = dataclasses.replace(s.wb, touches=Unreadable())
    a = av.compute(s)
    for view in (av.missing_note, av.weights_table, av.models_chart, av.data_driven_table, av.sourced_table,
                 av.content_table):
        assert view(s, a) is not None or view is av.missing_note
    av.models_table(s, a, "won"), av.models_table(s, a, "pipeline")
    av.coverage_view(s, a.section["coverage"])
    assert av.coverage_figures(s) == a.section["coverage"]   # notebook 00's coverage, from the pairs, deal figures and touch counts notebook 06 kept in the source
    av.key_text(a)
    plt.close("all")
    counting.disconnect()
    return json.loads(dumps(a.section)), counting.fetched


def test_notebook_06_fetches_the_same_rows_from_warehouse_tables_twice_the_size(sample, tmp_path):
    """Notebook 06 on a warehouse (s.source): the position credits, deal figures, coverage and content are aggregates,
    and the paths come back as one grouped count of distinct (path, converted), bounded by the paths' variety: the
    sample twice over (every lead, deal and touch copied under other ids) fetches exactly the same rows, while the
    counts double and the shares stay. The figures are the folder's (the warehouse holds the sample's CSV values)."""
    from test_warehouse import sample_tables

    wb = sample[0]
    tables = {**sample_tables(), "touches": wb.touches.assign(touched_at=pd.to_datetime(wb.touches["touched_at"]))}
    once, rows = notebook_06(tables, tmp_path / "once.duckdb")
    twice, rows_twice = notebook_06(_with_touches_twice(tables), tmp_path / "twice.duckdb")
    assert rows_twice == rows
    assert 0 < rows < len(wb.touches) // 10, rows
    assert twice["coverage"]["touches"] == 2 * once["coverage"]["touches"] == 2 * len(wb.touches)
    assert twice["data_driven"]["paths"] == 2 * once["data_driven"]["paths"] > 0
    assert twice["sourced"]["won"]["count"] == 2 * once["sourced"]["won"]["count"] > 0
    assert {c: round(r["share"], 9) for c, r in twice["data_driven"]["markov"].items()} == \
        {c: round(r["share"], 9) for c, r in once["data_driven"]["markov"].items()}
    from helpers.data.periods import parse_period
    from helpers.metrics import limits

    period = parse_period("FY2026Q1", wb.config.fiscal_year_start_month)
    codes = [f"{w['code']}:leads" for w in limits.ingest_warnings(wb.data_dir) if limits.about_leads(w)]
    assert once == json.loads(dumps(attribution_section(wb, period.start, period.end, warning_codes=codes)))
