"""A leads-only folder (tests/fixtures/newuser/leads-only: leads.csv, no opportunities table): every opportunity count
and money figure is null with the reason no_opportunities (undefined without the table, never 0, and not "no amounts"),
in both languages."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
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
    ("en", "There are no opportunities (no opportunities table, or one without rows): export the opportunities (商談) too, "
           "to see pipeline, win rate and velocity.",
     "n/a (no opportunities in the data)"),
    ("ja", "商談がありません(商談のテーブルがないか、行がありません)。パイプライン・受注率・ベロシティを見るには、商談も出力してください。",
     "該当なし(データに商談がありません)")])
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
    assert cohort["days_observed"] == 0   # FY2025Q1 ends 06-30, as_of 05-20 (L4): still running, not -41
    for key in limits.NO_OPPORTUNITIES_FUNNEL["cohort"]:
        assert cohort[key] is None and cohort["null_reasons"][key] == "no_opportunities", key
    projected = core_metrics(wb, parse_period("FY2025Q1", 4), projected=True)["funnel"]["cohort"]
    for key in ("projected_lead_to_opportunity_rate", "projected_lead_to_won_rate", "skipped_sql"):
        assert projected[key] is None and projected["null_reasons"][key] == "no_opportunities", key
    web = core["by_channel"]["web"]
    assert web["opportunities_created"] is None and web["funnel"]["period"]["opportunities"] is None


# --------------------------------------------------------------------------- notebook 00's data health figures
def test_the_data_health_deal_figures_are_null_not_0(wb):
    """Notebook 00 asks the engine on s.source (helpers.metrics.core.workbook_source): without the table the open deals,
    their age and the traceability counts are unknown, not 0 (the engine alone cannot tell the stand-in empty table
    from an export without rows: the source says so, Source.has_opportunities)."""
    from helpers.metrics import health_engine
    from helpers.metrics.core import workbook_source
    from helpers.views.health_views import traceability_text

    source = workbook_source(wb)
    assert wb.has_opportunities is False and source.has_opportunities is False
    stale = health_engine.stale_open_deals_of(source, wb.as_of, 180)
    assert stale == {"threshold_days": 180, "open": None, "stale": None, "stale_amount": None, "oldest_days": None,
                     "null_reasons": dict.fromkeys(("open", "stale", "stale_amount", "oldest_days"), "no_opportunities")}
    keys = ("won_count", "won_revenue", "revenue_traceable_share", "revenue_linked_to_lead_share",
            "opportunities_without_lead", "opportunities_unknown_channel")
    trace = health_engine.traceability_of(source, wb.as_of)
    assert trace == {**dict.fromkeys(keys), "null_reasons": dict.fromkeys(keys, "no_opportunities")}
    linked = ("with_opportunity", "with_opportunity_share", "skipped_sql")
    assert health_engine.stage_completeness_of(source, wb.as_of) == {
        "leads": 4, "with_mql_at": 3, "with_mql_at_share": 0.75, "with_sql_at": 2, "with_sql_at_share": 0.5,
        "skipped_mql": 0, **dict.fromkeys(linked), "null_reasons": dict.fromkeys(linked, "no_opportunities")}
    backwards = ("opportunity_before_lead", "won_before_lead")
    assert health_engine.negative_intervals_of(source, wb.as_of) == {
        **dict.fromkeys(backwards), "null_reasons": dict.fromkeys(backwards, "no_opportunities")}
    assert not {w["code"] for w in limits.workbook_warnings(wb, source)} & {*backwards, "null_reasons"}
    assert traceability_text(trace, trace) == ("all history: won null, revenue_traceable_share null, linked_to_lead null\n"
                                               "period: won null, revenue_traceable_share null\n"
                                               "opportunities_without_lead null, unknown_channel null")


def leads_only_workbook(folder, extra: dict[str, str]):
    """The leads-only folder's leads.csv and workbook.yaml copied into `folder`, with `extra` files {name: text},
    loaded."""
    for name in ("leads.csv", "workbook.yaml"):
        (folder / name).write_bytes((FOLDER / name).read_bytes())
    for name, text in extra.items():
        (folder / name).write_text(text, encoding="utf-8")
    return load_workbook(folder, load_config(folder))


EMPTY_OPPS = "opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel\n"


@pytest.fixture(scope="module")
def empty_wb(tmp_path_factory):
    """The leads-only folder with an opportunities.csv of a header only: a table, without rows."""
    return leads_only_workbook(tmp_path_factory.mktemp("empty-opps"), {"opportunities.csv": EMPTY_OPPS})


def test_an_empty_opportunities_table_counts_0_deals_and_its_money_says_no_opportunities(empty_wb):
    """A table without rows: 0 open deals, 0 won (counts over no row), but the money figures are null with
    no_opportunities, not no_amounts (there are no deals at all: helpers.metrics.pipeline.amounts_reason)."""
    from helpers.metrics import health_engine
    from helpers.metrics.core import workbook_source

    source = workbook_source(empty_wb)
    assert empty_wb.has_opportunities and source.has_opportunities
    facts = limits.workbook_facts(empty_wb, source)
    assert (facts.no_opportunities, facts.empty_opportunities, facts.no_amounts) == (False, True, True)
    assert facts.amounts_code == "no_opportunities" and facts.codes() == ["no_opportunities"]
    assert health_engine.stale_open_deals_of(source, empty_wb.as_of, 180) == {
        "threshold_days": 180, "open": 0, "stale": 0, "stale_amount": None, "oldest_days": None,
        "null_reasons": {"stale_amount": "no_opportunities", "oldest_days": "no_open_deals"}}
    assert health_engine.traceability_of(source, empty_wb.as_of) == {
        "won_count": 0, "won_revenue": None, "revenue_traceable_share": None, "revenue_linked_to_lead_share": None,
        "opportunities_without_lead": 0, "opportunities_unknown_channel": 0,
        "null_reasons": dict.fromkeys(("won_revenue", "revenue_traceable_share", "revenue_linked_to_lead_share"),
                                      "no_opportunities")}
    pipe = core_metrics(empty_wb, parse_period("FY2025Q1", 4), source=source)["pipeline"]
    assert (pipe["opportunities_created"], pipe["won_count"], pipe["open_pipeline"]["count"]) == (0, 0, 0)
    assert pipe["null_reasons"]["won_revenue"] == pipe["null_reasons"]["win_rate_by_amount"] == "no_opportunities"


@pytest.mark.parametrize("rows, amounts, code", [(None, 0, "no_opportunities"), (0, 0, "no_opportunities"),
                                                 (3, 0, "no_amounts"), (3, 1, None)])
def test_one_rule_chooses_the_money_reason(rows, amounts, code):
    from helpers.metrics.pipeline import amounts_reason

    assert amounts_reason(rows, amounts) == code


# --------------------------------------------------------------------------- marketing ROI and attribution
SPEND = "month,channel,amount\n2025-04,web,100000\n2025-05,seminar,50000\n"
TOUCHES = ("touch_id,lead_id,touched_at,channel,campaign,touch_type,content,opportunity_id\n"
           "T1,L1,2025-04-02,web,,form,,\nT2,L2,2025-04-10,seminar,,event,,\n")


@pytest.fixture(scope="module")
def spend_wb(tmp_path_factory):
    """The leads-only folder with spend and touches."""
    return leads_only_workbook(tmp_path_factory.mktemp("leads-spend"), {"spend.csv": SPEND, "touches.csv": TOUCHES})


def test_the_roi_deal_counts_and_money_say_no_opportunities(spend_wb):
    """FY2025Q1 (Apr-Jun 2025): web spent 100,000 on L1 and L3 (50,000 a lead), seminar 50,000 on L2, ad nothing on
    L4 (cost per lead unknown, not free); total 150,000 / 4 leads = 37,500. Deals and money: no_opportunities."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.roi import roi_rows

    rows, total = roi_rows(spend_wb, parse_period("FY2025Q1", 4), workbook_source(spend_wb))
    nulls = ("opportunities_created", "cost_per_opportunity", "pipeline_amount", "won_revenue", "cohort_won_revenue",
             "return_on_spend")
    expected = {"web": (100000.0, 2, 50000.0), "seminar": (50000.0, 1, 50000.0), "ad": (0.0, 1, None)}
    assert sorted(rows) == sorted(expected)
    for channel, row in [*rows.items(), ("total", total)]:
        assert (row["spend"], row["leads"], row["cost_per_lead"]) == expected.get(channel, (150000.0, 4, 37500.0))
        assert all(row[k] is None for k in nulls) and row["null_reasons"] == dict.fromkeys(nulls, "no_opportunities")


def test_the_attribution_money_and_deals_say_no_opportunities(spend_wb):
    """Notebooks 06 and 00 on s.source: the money null with no_opportunities (no deal at all, not no_amounts), the
    touch coverage's deal counts unknown (not 0 / 0); its 2 touches (T1, T2) still counted."""
    from helpers.metrics.attribution_paths import attribution_of, attribution_section, coverage_of
    from helpers.metrics.core import workbook_source

    period = parse_period("FY2025Q1", 4)
    frames = attribution_section(spend_wb, period.start, period.end, samples=10)   # the frames: the rule on 0 rows
    assert frames["null_reasons"]["revenue"] == "no_opportunities"
    source = workbook_source(spend_wb)
    section = attribution_of(source, spend_wb.config, spend_wb.as_of, period.start, period.end, samples=10)
    deals = ("won_deals_with_touches", "won_deals_without_touches", "touches_after_close")
    assert section["null_reasons"]["revenue"] == "no_opportunities"
    assert {k: section["null_reasons"][f"coverage.{k}"] for k in deals} == dict.fromkeys(deals, "no_opportunities")
    for cov in (section["coverage"], coverage_of(source, spend_wb.config, spend_wb.as_of, period.start, period.end)):
        assert cov == {**dict.fromkeys(deals), "won_revenue_with_touches": None, "won_revenue_without_touches": None,
                       "won_revenue_share_with_touches": None, "touches": 2, "touches_unknown_lead": 0,
                       "touches_after_as_of": 0}


def test_the_attribution_deal_counts_are_null_not_0(spend_wb):
    """Every count of deals in the attribution section (the models' credits in deals, sourced / influenced / by
    department, the data-driven converted paths) is unknown without an opportunities table: null with
    no_opportunities, in the frames' section and the source's alike; the paths of the 2 touched leads still counted."""
    from helpers.metrics.attribution import POSITION_MODELS
    from helpers.metrics.attribution_paths import attribution_of, attribution_section
    from helpers.metrics.core import workbook_source
    from helpers.views.attribution_views import AttributionResult, key_text

    period = parse_period("FY2025Q1", 4)
    none = {"pipeline": {"count": None, "amount": None}, "won": {"count": None, "revenue": None}}
    for section in (attribution_section(spend_wb, period.start, period.end, samples=10),
                    attribution_of(workbook_source(spend_wb), spend_wb.config, spend_wb.as_of, period.start,
                                   period.end, samples=10)):
        for model in POSITION_MODELS:
            figs = section["models"][model]
            assert figs == {"won": {"no_touches": {"revenue": None, "deals": None}},
                            "pipeline": {"no_touches": {"amount": None, "deals": None}}}, model
        assert section["sourced"] == section["influenced"] == none
        assert section["by_department"] == {"marketing": none, "other": none, "no_touches": none}
        dd = section["data_driven"]
        assert (dd["paths"], dd["converted_paths"], dd["revenue"]) == (2, None, None)
        reasons = section["null_reasons"]
        for key in ("models.deals", "sourced.count", "influenced.count", "by_department.count",
                    "data_driven.converted_paths", "data_driven.markov", "data_driven.shapley"):
            assert reasons[key] == "no_opportunities", key
        lines = key_text(AttributionResult(section)).splitlines()   # notebook 06's nbval text: null, never None
        assert [x for x in lines if x.startswith(("sourced", "influenced"))] == [
            "sourced: pipeline null null, won null null", "influenced: pipeline null null, won null null"]


def test_an_empty_opportunities_table_keeps_the_attribution_counts_0(tmp_path):
    """An opportunities table without rows: the attribution's counts of deals are real 0s (no reason)."""
    from helpers.metrics.attribution_paths import attribution_section

    for name in ("leads.csv", "workbook.yaml"):
        (tmp_path / name).write_bytes((FOLDER / name).read_bytes())
    (tmp_path / "opportunities.csv").write_text(EMPTY_OPPS, encoding="utf-8")
    (tmp_path / "touches.csv").write_text(TOUCHES, encoding="utf-8")
    wb = load_workbook(tmp_path, load_config(tmp_path))
    period = parse_period("FY2025Q1", 4)
    section = attribution_section(wb, period.start, period.end, samples=10)
    assert section["sourced"]["won"]["count"] == 0 and section["data_driven"]["converted_paths"] == 0
    assert section["models"]["linear"]["won"]["no_touches"]["deals"] == 0
    assert section["coverage"]["won_deals_with_touches"] == 0 and section["coverage"]["touches_after_close"] == 0
    assert "models.deals" not in section["null_reasons"] and "sourced.count" not in section["null_reasons"]


# --------------------------------------------------------------------------- sales cycle and stage times
def test_the_sales_cycle_and_the_deal_stage_times_say_no_opportunities(wb):
    """Notebook 02 on s.source: the cycle's median, mean and its counts of won and open deals unknown (not 0, not
    no_created_dates); the stage times from SQL to opportunity and opportunity to close null (n too), the lead ones
    counted: L1 -> L2 -> L3 MQL after 1, 2, 1 days (median 1), L1, L2 SQL after 2, 3 days (median 2.5)."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.funnel_analysis import _stage_times_explained
    from helpers.metrics.goals import sales_cycle_median
    from helpers.views.goals_views import projection_text

    source, period = workbook_source(wb), parse_period("FY2025Q1", 4)
    cycle = sales_cycle_median(wb.opportunities, period.start, period.end, wb.as_of, source=source)
    keys = ("median_days", "won", "censored", "mean_won_days")
    assert cycle == {**dict.fromkeys(keys), "null_reason": "no_opportunities",
                     "null_reasons": dict.fromkeys(keys, "no_opportunities")}
    assert projection_text({}, cycle).endswith("sales_cycle: km_median null (won null, censored null), mean_won null")
    stats = _stage_times_explained(wb.leads, wb.opportunities, wb.as_of, period.start, period.end, source)
    figures = ("n", "median_days", "p90_days", "negative")
    for name in ("sql_to_opportunity", "opportunity_to_close"):
        assert stats[name] == {**dict.fromkeys(figures), "null_reasons": dict.fromkeys(figures, "no_opportunities")}
    assert (stats["lead_to_mql"]["n"], stats["lead_to_mql"]["median_days"]) == (3, 1.0)
    assert (stats["mql_to_sql"]["n"], stats["mql_to_sql"]["median_days"]) == (2, 2.5)


# --------------------------------------------------------------------------- goals (notebook 04)
def test_the_goals_deal_figures_say_no_opportunities(wb):
    """Without targets.csv the goals are last year's actuals: the deal goals (won revenue, won deals, opportunities
    created) have no target and no actual (unknown, not 0 of 0); the forecast, the backtest and the coverage's win
    rate null with no_opportunities (not no_closed_deals); the lead goals counted (FY2025Q1: 4 leads, 3 MQLs, 2 SQLs;
    last year's FY2024Q1 holds no lead: target 0)."""
    from helpers.metrics import goals
    from helpers.metrics.core import workbook_source

    period = parse_period("FY2025Q1", 4)
    got = goals.goals_of(workbook_source(wb), period, wb.as_of, wb.targets, wb.spend, wb.config)
    section, forecast = limits.explain_goals(got["section"], got["forecast"], got["facts"])
    assert forecast is None
    assert section["forecast"] == {"won_revenue": None, "won_count": None,
                                   "null_reasons": dict.fromkeys(("won_count", "won_revenue"), "no_opportunities")}
    assert section["backtest"]["null_reasons"] == {"backtest": "no_opportunities"}
    cov = section["coverage"]
    assert all(cov[k] is None for k in ("win_rate", "implied_coverage", "sufficient", "open_pipeline_amount"))
    assert set(cov["null_reasons"].values()) == {"no_opportunities"}
    deals = ("won_revenue", "won_count", "opportunities_created")
    progress = {r["metric"]: r for r in section["progress"]}
    for metric in deals:
        r = progress[metric]
        assert (r["target"], r["actual"], r["attainment"], r["null_reasons"]) == (None, None, None,
                                                                                  {"actual": "no_opportunities"})
    assert {r["metric"]: r["null_reason"] for r in section["targets"] if r["metric"] in deals} == dict.fromkeys(
        deals, "no_opportunities")
    assert {m: progress[m]["actual"] for m in ("leads", "mqls", "sqls")} == {"leads": 4, "mqls": 3, "sqls": 2}


# --------------------------------------------------------------------------- lead quality (notebook 05)
def test_the_lead_quality_outcomes_say_no_opportunities(wb):
    """Whether a lead became an opportunity is unknown without the table (not "none did"): every audit's converted,
    precision, recall, base rate, lift and missed deals null with no_opportunities, its observed and flagged leads
    counted; the score and the conditions say no_opportunities, not too_few_converted."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.lead_quality import AUDIT_OUTCOMES, LeadQuality
    from helpers.metrics.lead_source import lead_quality_of
    from helpers.views.lead_views import key_text

    period = parse_period("FY2025Q1", 4)
    section = lead_quality_of(workbook_source(wb), {}, period.start, period.end, wb.as_of).section
    reasons = dict.fromkeys(("converted", "flagged_converted", "missed", "precision", "recall", "base_rate", "lift"),
                            "no_opportunities")
    mql = section["mql_audit"]
    audits = [mql["period"], mql["all_history"], *mql["by_channel"].values(), *mql["by_channel_all_history"].values()]
    # H = 30 days before as_of 2025-05-20: L1 (04-02) and L2 (04-10) observed, both MQLs (flagged by the default
    # rule); L3 and L4 still in play
    assert (section["observed_leads"], section["still_in_play"]) == (2, 2)
    assert [(mql[k]["observed"], mql[k]["flagged"]) for k in ("period", "all_history")] == [(2, 2), (2, 2)]
    assert sorted(mql["by_channel_all_history"]) == ["seminar", "web"]
    for a in audits:
        assert all(a[k] is None for k in AUDIT_OUTCOMES) and a["missed"] == {"count": None, "won_revenue": None}
        assert a["null_reasons"] == reasons
    assert set(section["score"]["null_reasons"].values()) == {"no_opportunities"}
    assert section["conditions"] == [] and section["null_reasons"]["conditions"] == "no_opportunities"
    lines = key_text(LeadQuality(section)).splitlines()   # notebook 05's nbval text: null, never None
    assert lines[1:3] == ["period: flagged 2, converted null, precision null, recall null, lift null, missed null",
                          "all_history: flagged 2, converted null, precision null, recall null, lift null, missed null"]


# --------------------------------------------------------------------------- notebook 02's rate tables
def test_the_rate_tables_lead_to_opportunity_is_null_not_0(wb):
    """By channel over FY2025Q1 (L1, L3 web; L2 seminar; L4 ad): the leads and MQLs counted, the opportunity and
    won counts, the lead-to-opportunity rate and its interval null in every row and the total (not 0 [0%-x%])."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.funnel_rates import rate_tables_of

    period = parse_period("FY2025Q1", 4)
    table = rate_tables_of(workbook_source(wb), ["channel"], period.start, period.end, wb.as_of)["channel"]
    got = {r.channel: (r.leads, r.mql) for r in table.itertuples()}
    assert got == {"web": (2, 2), "seminar": (1, 1), "ad": (1, 0), "total": (4, 3)}
    for key in ("opportunity", "won", "lead_to_opportunity_rate", "lead_to_opportunity_rate_low",
                "lead_to_opportunity_rate_high", "lead_to_won_rate", "opportunities_created", "win_rate"):
        assert table[key].isna().all(), key


# --------------------------------------------------------------------------- one warning for a leads-only ingest
@pytest.mark.parametrize("lang, said, repeated", [
    ("en", "report1790000000300.csv is a leads export (it has the columns of tables.leads, not those of "
           "tables.opportunities), and the folder holds no opportunities export: the data folder holds leads only. The "
           "lead funnel is reported; every figure that needs deals (pipeline, win rate, revenue, velocity) is left empty "
           "with the reason no_opportunities, not 0",
     "there is no opportunities table"),
    ("ja", "report1790000000300.csv はリードの出力です(tables.leads の列があり、tables.opportunities の列はありません)。"
           "フォルダに商談の出力がないため、データフォルダはリードだけです。リードのファネルは出ますが、商談が必要な数値"
           "(パイプライン・受注率・受注金額・ベロシティ)は 0 ではなく、理由 no_opportunities を添えて空欄になります",
     "商談のテーブルがありません")])
def test_a_leads_only_ingest_says_so_once(tmp_path, lang, said, repeated):
    """The Salesforce lead report alone (tests/fixtures/newuser2/sf-lead-report-only, 3 leads): the ingest's
    leads_only_export names the file; the loader's no_opportunities says the same and is left out, in the ingest's
    summary (2 warnings: that one and the 18-character ids) and in the reports' warning table alike. The facts still
    know there are no opportunities."""
    from helpers.data.ingest import ingest
    from helpers.metrics.core import workbook_source

    result = ingest(Path(__file__).parent / "fixtures" / "newuser2" / "sf-lead-report-only", "salesforce_en",
                    tmp_path / "out")
    assert [w.code for w in result.all_warnings] == ["leads_only_export", "salesforce_id_18"]
    summary = result.summary(lang)
    assert summary.count(said) == 1 and repeated not in summary
    wb = load_workbook(tmp_path / "out", load_config(tmp_path / "out"))
    source = workbook_source(wb)
    items = limits.workbook_warnings(wb, source)
    assert [w["code"] for w in items] == ["leads_only_export", "salesforce_id_18"]
    assert limits.warning_sentences(items[0], lang)[0] == said
    assert limits.workbook_facts(wb, source).codes() == ["no_opportunities"]


# --------------------------------------------------------------------------- notebook 02's unknown-owner line
@pytest.mark.parametrize("lang, line", [
    ("en", "Unknown owner: 1 of the period's leads have no owner yet (a lead gets one when sales take it on); whether "
           "they became an opportunity is unknown, as the data has no opportunities."),
    ("ja", "担当者不明: 当期のリードのうち1件はまだ担当者がいません(営業が引き受けた時点で担当者が付きます)。"
           "データに商談がないため、商談化したかどうかは不明です。")])
def test_the_unknown_owner_line_is_true_without_opportunities(lang, line):
    """FY2025Q1's L4 (ad, 2025-05-20) has no owner: 1 lead; whether it became an opportunity is unknown (not "n/a of
    them")."""
    import html

    from helpers.report.session import open_session
    from helpers.views import funnel_views as fv

    s = open_session(str(FOLDER), period="FY2025Q1", lang=lang)
    text = html.unescape(fv.rate_view(s, "owner").data)
    assert line in text and t("not_available", lang) + (" of them" if lang == "en" else "件") not in text


# --------------------------------------------------------------------------- notebook 02's metrics.json piece
@pytest.mark.parametrize("lang, line", [
    ("en", "Won revenue with a known channel: There are no opportunities (no opportunities table, or one without rows): "
           "export the opportunities (商談) too, to see pipeline, win rate and velocity."),
    ("ja", "チャネルが判明している受注金額の割合:商談がありません(商談のテーブルがないか、行がありません)。パイプライン・受注率・"
           "ベロシティを見るには、商談も出力してください。")])
def test_the_traceable_share_is_null_with_its_reason(wb, empty_wb, lang, line):
    """revenue_traceable_share of FY2025Q1 (notebook 02, metrics.json): without the table, and with a table of no row,
    null with no_opportunities (not a bare null), said as the data health report says it."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.funnel_analysis import funnel_metrics_extra
    from helpers.views.common import reasons_lines

    for book in (wb, empty_wb):
        extra = funnel_metrics_extra(book.leads, book.opportunities, None, parse_period("FY2025Q1", 4), book.as_of, 48,
                                     source=workbook_source(book))
        assert extra["revenue_traceable_share"] is None
        assert extra["null_reasons"] == {"revenue_traceable_share": "no_opportunities"}
        assert reasons_lines(extra["null_reasons"], lang) == [line]


# --------------------------------------------------------------------------- notebook 01's evidence
CHECKLIST = "respondent,department,answered_on,item,answer\n" + "".join(
    f"{who},{dept},2025-05-01,{item},yes\n" for who, dept in (("m1", "marketing"), ("s1", "sales")) for item in range(1, 16))


@pytest.mark.parametrize("lang, line", [
    ("en", "Items 6, 7, 8, 9, 10: There are no opportunities (no opportunities table, or one without rows): export the "
           "opportunities (商談) too, to see pipeline, win rate and velocity."),
    ("ja", "項目6、7、8、9、10:商談がありません(商談のテーブルがないか、行がありません)。パイプライン・受注率・ベロシティを"
           "見るには、商談も出力してください。")])
def test_the_checklist_evidence_of_deals_is_null_not_0(tmp_path, lang, line):
    """Both departments answer yes to all 15 items. The deal items (6 lost with a reason, 7 linked, 8 lead-to-
    opportunity computable, 9 win rate computable, 10 traceable revenue) have no evidence without the table: value,
    verdict and n null with no_opportunities (not n 0, not "0% computable"), so no answer is contradicted; item 3 is
    the leads' own (L1, L2 reached SQL, both with an MQL date: 2 / 2 = 1.0)."""
    import html

    from helpers.metrics import checklist
    from helpers.report.session import open_session
    from helpers.views import checklist_views as cv

    leads_only_workbook(tmp_path, {"checklist.csv": CHECKLIST})
    s = open_session(str(tmp_path), period="FY2025Q1", lang=lang)
    ck = checklist.checklist_metrics(s.wb.checklist, s.wb.leads, s.wb.opportunities, s.period, s.as_of, s.config,
                                     source=s.source)
    ev = ck["evidence"]
    assert (ev[3]["value"], ev[3]["n"], ev[3]["supports"]) == (1.0, 2, True) and "null_reasons" not in ev[3]
    for item in (6, 7, 8, 9, 10):
        assert (ev[item]["value"], ev[item]["supports"], ev[item]["n"]) == (None, None, None), item
        assert ev[item]["null_reasons"] == dict.fromkeys(("value", "supports", "n"), "no_opportunities"), item
    assert ck["contradictions"] == []
    text = html.unescape(cv.evidence_table(s, ck).data)
    assert line in text and text.count(line) == 1


# --------------------------------------------------------------------------- notebook 00's overview and value counts
@pytest.mark.parametrize("lang, none, line, note", [
    ("en", "none in the data",
     "Opportunities: There are no opportunities (no opportunities table, or one without rows): export the opportunities "
     "(商談) too, to see pipeline, win rate and velocity.",
     "Leads only: there are no opportunities in the data to count."),
    ("ja", "データになし",
     "商談:商談がありません(商談のテーブルがないか、行がありません)。パイプライン・受注率・ベロシティを見るには、商談も"
     "出力してください。",
     "リードだけのデータのため、数える商談がありません。")])
def test_the_overview_and_the_value_counts_show_no_opportunity_count(wb, lang, none, line, note):
    """What came in: the leads 4 rows (2025-04-02 .. 2025-05-20), the opportunities not a row of 0 but "none in the
    data" with the reason under the table; the channel values (web 2, ad 1, seminar 1) counted on the leads alone,
    no opportunities column of 0s, and a sentence saying so."""
    import html

    from helpers.metrics import health
    from helpers.metrics.core import workbook_source
    from helpers.views import health_views

    source = workbook_source(wb)
    overview = health.table_overview(wb, lang, source)
    assert overview[["rows", "first", "last", "null_reason"]].to_dict("records") == [
        {"rows": 4, "first": "2025-04-02", "last": "2025-05-20", "null_reason": None},
        {"rows": None, "first": "", "last": "", "null_reason": "no_opportunities"}]
    text = html.unescape(health_views.overview_view(wb, lang, source).data)
    assert f"<td>{none}</td>" in text and text.count(line) == 1 and "<td>0</td>" not in text
    counts = health.value_counts(wb, "channel", source)
    assert counts.to_dict("records") == [{"value": "web", "leads": 2}, {"value": "ad", "leads": 1},
                                         {"value": "seminar", "leads": 1}]
    for column in ("channel", "industry", "company_size"):
        text = html.unescape(health_views.value_counts_view(wb, column, lang, source).data)
        assert note in text and "<td>0</td>" not in text, column


def test_an_empty_opportunities_table_counts_0_rows(empty_wb):
    """A table without rows is a real count: 0 rows, no reason, and its column of value counts kept (0s are true)."""
    from helpers.metrics import health
    from helpers.metrics.core import workbook_source

    source = workbook_source(empty_wb)
    row = health.table_overview(empty_wb, "en", source).iloc[1]
    assert (row["rows"], row["null_reason"]) == (0, None)
    assert health.value_counts(empty_wb, "channel", source)["opportunities"].tolist() == [0, 0, 0]


# --------------------------------------------------------------------------- notebook 02's heatmap and period over period
@pytest.fixture(scope="module")
def many_wb(tmp_path_factory):
    """A leads-only folder of 20 web / 製造 leads created 2025-04-01 .. 2025-04-20, M1..M10 MQLs on 2025-04-25 (a
    heatmap cell big enough to colour)."""
    folder = tmp_path_factory.mktemp("many-leads")
    rows = "".join(f"M{i},2025-04-{i:02d},web,製造,50-299,{'2025-04-25' if i <= 10 else ''}\n" for i in range(1, 21))
    (folder / "leads.csv").write_text("lead_id,created_at,channel,industry,company_size,mql_at\n" + rows, encoding="utf-8")
    (folder / "workbook.yaml").write_bytes((FOLDER / "workbook.yaml").read_bytes())
    return folder


@pytest.mark.parametrize("lang, line", [
    ("en", "Lead-to-opportunity rate: There are no opportunities (no opportunities table, or one without rows): export "
           "the opportunities (商談) too, to see pipeline, win rate and velocity."),
    ("ja", "商談化率:商談がありません(商談のテーブルがないか、行がありません)。パイプライン・受注率・ベロシティを"
           "見るには、商談も出力してください。")])
def test_the_heatmap_and_the_period_over_period_rate_are_not_0(many_wb, lang, line):
    """FY2025Q1: 20 web / 製造 leads, none known to have become an opportunity (no table): the heatmap cell's rate is
    unknown (NaN, not 0%; its 20 leads counted) and the view says why instead of drawing 0%; the period over period's
    lead-to-opportunity rate null (not 0.0%), its leads 20 counted."""
    import html

    from helpers.metrics import funnel_analysis as fa
    from helpers.report.session import open_session
    from helpers.views import funnel_views as fv

    s = open_session(str(many_wb), period="FY2025Q1", lang=lang)
    start, end = s.period.start, s.period.end
    assert fa.heatmap_table_of(s.source, "channel", "industry", start, end, s.as_of).isna().all().all()
    assert fa.heatmap_table_of(s.source, "channel", "industry", start, end, s.as_of, value="leads").loc["web", "製造"] == 20
    assert html.unescape(fv.heatmap(s).data) == f"<ul><li>{line}</li></ul>"
    pop = fa.period_over_period_of(s.source, s.period, s.as_of).set_index("kpi")
    assert (pop.loc["leads", "current"], pop.loc["mql_rate", "current"]) == (20, 0.5)
    assert pd.isna(pop.loc["lead_to_opportunity_rate", "current"])
    shown = html.unescape(fv.pop_view(s).data)
    assert ">0.0%<" not in shown and ">50.0%<" in shown
