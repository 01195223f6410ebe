"""Notebook 04 (shared goals) computed where the data lives: its goals, forecast, backtest, rates and plan read the
session's source, bring back aggregates only (a table twice the size gives the same rows fetched in the same
queries), never read the workbook's lead or deal rows, and equal the folder's figures on a DuckDB file."""
from __future__ import annotations

import numpy as np

from helpers.config import load_config
from helpers.metrics import goals
from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.session import open_session
from test_warehouse import Unreadable, doubled, needs_pg, plain, sample_tables, warehouse, warehouse_session  # noqa: F401


def goals_views(tables, path) -> tuple:
    """Notebook 04's compute(), its views and the what-if rates in a DuckDB file holding `tables`
    (test_warehouse.warehouse_session: the workbook's lead and deal rows unreadable, the counting backend):
    (GoalsResult, the what-if's rates, rows fetched and queries of compute())."""
    from helpers.views import goals_views as gv

    import matplotlib.pyplot as plt

    from helpers.views import goals_whatif

    s, counting = warehouse_session(tables, path)
    g = gv.compute(s)
    rows, queries = counting.fetched, counting.queries
    for view in (gv.targets_note, gv.progress_table, gv.forecast_view, gv.forecast_chart, gv.backtest_view,
                 gv.backtest_chart, gv.coverage_view, gv.reverse_funnel_view, gv.department_lists):
        view(s, g)   # the page's views read the result only: nothing more is fetched
    gv.key_text(g)
    goals_whatif.whatif_view(s, g.rates, s.period.label, 1_000_000, 0.3, 200_000)
    plt.close("all")
    assert (counting.fetched, counting.queries) == (rows, queries)
    rates = goals.funnel_rates_of(goals.GoalData(s.source, s.as_of))   # what save_whatif computes without the page's
    counting.disconnect()
    return g, rates, rows, queries


def test_notebook_04_fetches_the_same_rows_in_the_same_queries_from_a_table_twice_the_size(tmp_path):
    """Doubling every lead and deal doubles the goals' counts (progress, the coverage's open deals, the cohort) and
    leaves the rates, the rows fetched and the queries as they were: counts per day, amount, window and channel."""
    tables = sample_tables()
    once, rates, rows, queries = goals_views(tables, tmp_path / "once.duckdb")
    twice, rates_twice, rows_twice, queries_twice = goals_views(doubled(tables), tmp_path / "twice.duckdb")
    actual = {(r["metric"], r["channel"]): r["actual"] for r in once.section["progress"]}
    actual_twice = {(r["metric"], r["channel"]): r["actual"] for r in twice.section["progress"]}
    assert actual[("won_count", None)] > 0 and actual[("leads", None)] > 0
    assert actual_twice == {k: None if v is None else 2 * v for k, v in actual.items()}
    assert twice.rates["leads"] == 2 * once.rates["leads"] > 0
    assert twice.rates["closed_count"] == 2 * once.rates["closed_count"] > 0
    assert twice.rates["win_rate"] == once.rates["win_rate"] and twice.rates["mql_rate"] == once.rates["mql_rate"]
    assert (twice.section["coverage"]["open_pipeline_amount"]
            == 2 * once.section["coverage"]["open_pipeline_amount"] > 0)
    assert len(twice.section["backtest"]["periods"]) == len(once.section["backtest"]["periods"]) > 0
    assert (rows_twice, queries_twice) == (rows, queries)
    # the source's channel cells and owner names (helpers.metrics.warehouse.channel_labels, canonical_of's
    # pseudonyms: one row per distinct value), the facts, the forecasts' counts (one query for the period's and every
    # backtest forecast), the rates' row and deal sizes, the windows (one query per table), the cohort's channel mix
    assert queries == 9, queries
    assert rates["win_rate"] == once.rates["win_rate"] and rates["mql_rate"] == once.rates["mql_rate"]
    assert np.array_equal(rates["won_amounts"], once.rates["won_amounts"])


def test_notebook_04_in_a_duckdb_file_equals_the_folder(tmp_path):
    """metrics.json's goals block, the forecast, rates and plan computed in a DuckDB file holding the sample equal the
    folder's, figure by figure (the same period, as_of, targets and settings)."""
    there, _, _, _ = goals_views(sample_tables(), tmp_path / "crm.duckdb")
    assert_folders(there)


@needs_pg
def test_notebook_04_on_postgresql_equals_the_folder(warehouse):
    """The same on a PostgreSQL server (.ci/with-postgres): the goals block, forecast, rates and plan equal the folder's,
    the workbook's lead and deal rows unreadable."""
    import dataclasses

    from helpers.data.load import load_workbook
    from helpers.data.periods import parse_period
    from helpers.metrics.warehouse import WarehouseSource, upload
    from helpers.report.record import Recorder
    from helpers.report.session import Session
    from helpers.views import goals_views as gv

    con, schema = warehouse
    upload(sample_tables(), con, schema)
    config = load_config(SAMPLE_DATA_DIR)
    wb = dataclasses.replace(load_workbook(SAMPLE_DATA_DIR, config), leads=Unreadable(), opportunities=Unreadable())
    s = Session(config=config, wb=wb, period=parse_period("FY2026Q1", config.fiscal_year_start_month), lang="en",
                recorder=Recorder(""))
    s._source = WarehouseSource(con, config, schema)
    assert_folders(gv.compute(s))


def assert_folders(there) -> None:
    """`there` (a GoalsResult of FY2026Q1 computed in a warehouse holding the sample) equals the folder's."""
    from helpers.views import goals_views as gv

    config = load_config(SAMPLE_DATA_DIR)
    s = open_session(str(SAMPLE_DATA_DIR), period="FY2026Q1", lang="en", theme=False)
    assert s.config.fiscal_year_start_month == config.fiscal_year_start_month
    folder = gv.compute(s)
    assert plain(there.section) == plain(folder.section)
    assert plain(there.forecast) == plain(folder.forecast) and folder.forecast["won_revenue"]["expected"] > 0
    assert plain(there.plan) == plain(folder.plan)
    assert plain({k: v for k, v in there.rates.items() if k != "won_amounts"}) == \
        plain({k: v for k, v in folder.rates.items() if k != "won_amounts"})
    assert np.array_equal(there.rates["won_amounts"], folder.rates["won_amounts"])
