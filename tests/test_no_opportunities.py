"""A leads-only folder (tests/fixtures/newuser/leads-only: leads.csv, no opportunities table): every opportunity count
and money figure is null with the reason no_opportunities (undefined without the table, never 0, and not "no amounts"),
in both languages."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.labels import t
from helpers.metrics import limits
from helpers.metrics.core import core_metrics
from helpers.metrics.source import FrameSource

FOLDER = Path(__file__).parent / "fixtures" / "newuser" / "leads-only"


@pytest.fixture(scope="module")
def wb():
    return load_workbook(FOLDER, load_config(FOLDER))


@pytest.mark.parametrize("with_source", [False, True])
def test_the_pipeline_is_null_with_no_opportunities_not_0(wb, with_source):
    source = FrameSource(wb.leads, wb.opportunities) if with_source else None
    facts = limits.workbook_facts(wb, source)
    assert facts.no_opportunities and facts.codes() == ["no_opportunities"] and facts.amounts_code == "no_opportunities"
    core = core_metrics(wb, parse_period("FY2025Q1", 4), source=source)
    pipe = core["pipeline"]
    for key in limits.NO_OPPORTUNITIES_KEYS:
        assert pipe[key] is None and pipe["null_reasons"][key] == "no_opportunities", key
    assert pipe["open_pipeline"]["count"] is None and pipe["open_pipeline"]["amount"] is None
    assert pipe["null_reasons"]["open_pipeline_count"] == pipe["null_reasons"]["open_pipeline_amount"] == "no_opportunities"
    assert "no_amounts" not in pipe["null_reasons"].values()
    assert core["funnel"]["period"]["leads"] == 4   # the lead funnel still counts: L1..L4 created in Apr-May 2025


def test_money_figures_elsewhere_say_no_opportunities_not_no_amounts():
    facts = limits.DataFacts(no_amounts=True, no_opportunities=True)
    cov = limits._explain_coverage({"open_pipeline_amount": 0.0, "remaining_target": 5.0, "coverage": 0.0,
                                    "sufficient": False}, facts)
    assert set(cov["null_reasons"].values()) == {"no_opportunities"}
    assert limits.DataFacts(no_amounts=True).amounts_code == "no_amounts"
    assert limits.DataFacts().amounts_code is None


@pytest.mark.parametrize("lang, reason, goal", [
    ("en", "There is no opportunities table: export the opportunities (商談) too, to see pipeline, win rate and velocity.",
     "n/a (no opportunities table)"),
    ("ja", "商談のテーブルがありません。パイプライン・受注率・ベロシティを見るには、商談も出力してください。",
     "該当なし(商談のテーブルなし)")])
def test_the_reason_is_said_in_both_languages(lang, reason, goal):
    assert t("reason_no_opportunities", lang) == reason
    assert t("goal_null_no_opportunities", lang) == goal


def test_the_lead_funnels_opportunity_counts_are_null_too(wb):
    """L1..L4 (Apr-May 2025): 4 leads, 3 MQLs, 2 SQLs counted; their opportunities and wins unknown, not 0."""
    core = core_metrics(wb, parse_period("FY2025Q1", 4))
    period, cohort = core["funnel"]["period"], core["funnel"]["cohort"]
    assert (period["leads"], period["mqls"], period["sqls"]) == (4, 3, 2)
    assert period["opportunities"] is None and period["won"] is None
    assert period["null_reasons"] == {"opportunities": "no_opportunities", "won": "no_opportunities"}
    assert (cohort["leads"], cohort["mql"], cohort["sql"], cohort["mql_rate"]) == (4, 3, 2, 0.75)
    for key in limits.NO_OPPORTUNITIES_FUNNEL["cohort"]:
        assert cohort[key] is None and cohort["null_reasons"][key] == "no_opportunities", key
    web = core["by_channel"]["web"]
    assert web["opportunities_created"] is None and web["funnel"]["period"]["opportunities"] is None
