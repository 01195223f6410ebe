"""The key figures the notebooks pin (nbval-checked outputs) recomputed independently with plain pandas.

The stored outputs in notebooks/*.ipynb are what nbval compares against on every test run; this
test recomputes the latest period's pipeline and cohort figures from the sample CSVs directly, in
code that shares nothing with helpers/, so a golden value copied from a wrong computation fails here.
"""
import re

import nbformat
import pandas as pd
import pytest

from helpers.paths import NOTEBOOKS_DIR, SAMPLE_DATA_DIR

START, END = pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30")  # FY2026Q2, the latest complete period
AS_OF = END  # the sample's snapshot: its latest date


def checked_output(notebook: str) -> str:
    nb = nbformat.read(NOTEBOOKS_DIR / notebook, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("# NBVAL_CHECK_OUTPUT")]
    return "".join(o.get("text", "") for o in cells[0].outputs)


@pytest.fixture(scope="module")
def opps():
    o = pd.read_csv(SAMPLE_DATA_DIR / "opportunities.csv", parse_dates=["created_at", "closed_at"])
    return o


@pytest.fixture(scope="module")
def leads():
    return pd.read_csv(SAMPLE_DATA_DIR / "leads.csv", parse_dates=["created_at", "mql_at", "sql_at"])


def value(text: str, key: str) -> float:
    return float(re.search(rf"^{key}: (\S+)", text, flags=re.M).group(1))


def test_pipeline_figures_match_an_independent_computation(opps):
    text = checked_output("00_data_health.ipynb")
    assert "period FY2026Q2 (2026-07-01 .. 2026-09-30), as_of 2026-09-30" in text
    created = opps[(opps.created_at >= START) & (opps.created_at <= END)]
    won = opps[(opps.outcome == "won") & (opps.closed_at >= START) & (opps.closed_at <= END)]
    lost = opps[(opps.outcome == "lost") & (opps.closed_at >= START) & (opps.closed_at <= END)]
    win_rate = len(won) / (len(won) + len(lost))
    avg = won.amount.sum() / len(won)
    cycle = (won.closed_at - won.created_at).dt.days.mean()
    assert value(text, "opportunities_created") == len(created)
    assert value(text, "won_count") == len(won)
    assert value(text, "lost_count") == len(lost)
    assert value(text, "win_rate") == pytest.approx(win_rate, abs=5e-5)
    assert value(text, "won_revenue") == won.amount.sum()
    assert value(text, "sales_cycle_days") == pytest.approx(cycle, abs=5e-5)
    assert value(text, "sales_velocity") == pytest.approx(len(created) * avg * win_rate / cycle, abs=5e-5)
    open_at_end = opps[(opps.created_at <= END) & ~(opps.outcome.isin(["won", "lost"]) & (opps.closed_at <= END))]
    assert f"open_pipeline: {len(open_at_end)} deals" in text


def test_cohort_funnel_matches_an_independent_computation(leads, opps):
    text = checked_output("00_data_health.ipynb")
    cohort = leads[(leads.created_at >= START) & (leads.created_at <= END)]
    linked = set(opps.loc[opps.created_at <= AS_OF, "opportunity_id"])
    won_ids = set(opps.loc[(opps.outcome == "won") & (opps.closed_at <= AS_OF), "opportunity_id"])
    by_lead = opps.dropna(subset=["lead_id"]).groupby("lead_id")["opportunity_id"].apply(set)
    def opp_ids(row):
        ids = set(by_lead.get(row.lead_id, set()))
        if isinstance(row.opportunity_id, str):
            ids.add(row.opportunity_id)
        return ids
    has_opp = cohort.apply(lambda r: bool(opp_ids(r) & linked), axis=1)
    has_won = cohort.apply(lambda r: bool(opp_ids(r) & won_ids), axis=1)
    sql = cohort.sql_at.notna() | has_opp
    mql = cohort.mql_at.notna() | sql
    expected = f"funnel.cohort: leads {len(cohort)}, mql {mql.sum()}, sql {sql.sum()}, opportunity {has_opp.sum()}, won {has_won.sum()}"
    assert expected in text
    assert f"lead_to_opportunity_rate {has_opp.sum() / len(cohort):.4f}" in text
