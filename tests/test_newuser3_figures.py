"""Figures a new user's data cannot support are null with their reason, never a guess (the trial of 2026-12-08,
tests/fixtures/newuser3/). Every expectation below is counted by hand from the fixture files."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.labels import t
from helpers.metrics.core import core_metrics

NEWUSER3 = Path(__file__).parent / "fixtures" / "newuser3"


def _core(case: str, label: str):
    wb = load_workbook(NEWUSER3 / case)
    period = parse_period(label, wb.config.fiscal_year_start_month)
    return wb, period, core_metrics(wb, period)


# --------------------------------------------------------------------------- 1. no MQL / SQL dates at all
# sf-ja-no-mql: a Salesforce lead report without MQL/SQL columns (leads.csv has no mql_at, no sql_at). FY2025Q1 =
# 2025-04-01..06-30 (April fiscal year), as_of 2025-10-05 (the last date). Leads created in it: LLL01-06, 09, 10, 11
# = 9; of those linked to an opportunity: LLL01-06 = 6. Opportunities created in it: AAA01-05 = 5; won in it: AAA01
# (05-20), AAA03 (06-25) = 2. Before the fix every linked lead counted as an MQL: CVR 6/9 = 66.7%, period MQLs 0.
def test_no_mql_dates_makes_mql_and_sql_figures_null_with_reason():
    _, _, core = _core("sf-ja-no-mql", "FY2025Q1")
    period, cohort = core["funnel"]["period"], core["funnel"]["cohort"]
    assert (period["leads"], period["opportunities"], period["won"]) == (9, 5, 2)
    assert period["mqls"] is None and period["sqls"] is None
    assert period["null_reasons"] == {"mqls": "no_mql_dates", "sqls": "no_sql_dates"}
    assert (cohort["leads"], cohort["opportunity"], cohort["won"]) == (9, 6, 2)
    assert cohort["lead_to_opportunity_rate"] == pytest.approx(6 / 9)
    assert cohort["won_rate"] == pytest.approx(2 / 6)
    for key in ("mql", "sql", "mql_rate", "sql_rate", "opportunity_rate", "skipped_mql", "skipped_sql"):
        assert cohort[key] is None, key
    reasons = cohort["null_reasons"]
    assert (reasons["mql"], reasons["mql_rate"], reasons["sql_rate"], reasons["skipped_mql"]) == ("no_mql_dates",) * 4
    assert (reasons["sql"], reasons["opportunity_rate"], reasons["skipped_sql"]) == ("no_sql_dates",) * 3
    web = core["by_channel"]["Web"]["funnel"]   # Web: LLL01, 03, 05, 09, 10 = 5 leads, 3 with a deal
    assert (web["cohort"]["leads"], web["cohort"]["opportunity"], web["cohort"]["mql_rate"]) == (5, 3, None)
    assert web["cohort"]["null_reasons"]["mql_rate"] == "no_mql_dates"


def test_empty_mql_column_is_no_mql_dates_too(tmp_path):
    """An mql_at column that is empty everywhere says what an absent one says; an sql_at with one date does not."""
    import shutil

    folder = tmp_path / "d"
    shutil.copytree(NEWUSER3 / "sf-ja-no-mql", folder)
    lines = (folder / "leads.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0] + ",mql_at,sql_at"] + [line + ",," for line in lines[1:]]
    rows[1] = lines[1] + ",,2025-04-08"   # LLL01 (created 04-02, linked to AAA01) has an sql_at
    (folder / "leads.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    wb = load_workbook(folder)
    core = core_metrics(wb, parse_period("FY2025Q1", 4))
    period, cohort = core["funnel"]["period"], core["funnel"]["cohort"]
    assert period["mqls"] is None and period["sqls"] == 1
    # the cohort's SQLs: LLL01 (its sql_at) and LLL02-06 (a linked deal, a later stage) = 6; sql_rate needs MQLs
    assert cohort["sql"] == 6 and cohort["mql"] is None and cohort["sql_rate"] is None
    assert cohort["opportunity_rate"] == pytest.approx(6 / 6)
    assert cohort["null_reasons"]["sql_rate"] == "no_mql_dates"


def test_no_mql_dates_audit_is_null_not_recall_zero():
    """Notebook 05's audit: the rule in use is "an mql_at within H days" (none written); with no mql_at it cannot be
    read, so flagged, precision, recall, lift and the missed deals are null (before: recall 0.0%, missed 6 deals
    ¥2,700,000); observed 9 and converted 6 (LLL01-06) and the base rate 6/9 stay."""
    from helpers.metrics.lead_section import lead_quality

    wb, period, _ = _core("sf-ja-no-mql", "FY2025Q1")
    section = lead_quality(wb.leads, wb.opportunities, None, {}, period.start, period.end, wb.as_of).section
    audit = section["mql_audit"]["period"]
    assert (audit["observed"], audit["converted"]) == (9, 6)
    assert audit["base_rate"] == pytest.approx(6 / 9)
    for key in ("flagged", "flagged_converted", "precision", "recall", "lift"):
        assert audit[key] is None, key
    assert audit["missed"] == {"count": None, "won_revenue": None}
    assert audit["null_reasons"]["recall"] == "no_mql_dates" and audit["null_reasons"]["missed"] == "no_mql_dates"
    assert all(a["recall"] is None for a in section["mql_audit"]["by_channel"].values())
    assert section["feedback"]["null_reasons"] == {"period": "no_mql_dates"}


@pytest.mark.parametrize("lang, words", [("en", "No lead has an MQL date"), ("ja", "MQL日を持つリードがありません")])
def test_no_mql_dates_reason_is_said(lang, words):
    assert t("reason_no_mql_dates", lang).startswith(words)
    assert t("reason_no_sql_dates", lang)


# --------------------------------------------------------------------------- 2. unpriced open deals beside the amount
# sf-en-us-usd (USD, the Salesforce EN report, owners renamed), as_of 2025-05-30 (the last date). Open at the end of 2025Q1
# (03-31): XyZ04 (open, no amount), XyZ05 (won 04-22, $5,250.50), XyZ06 (lost 05-09, $0.00: a lost deal's 0 is the
# CRM's placeholder, unknown while it was open) = 3 deals, $5,250.50 known, 2 without an amount.
def _session(case: str, label: str, lang: str):
    from helpers.report.session import open_session

    return open_session(str(NEWUSER3 / case), period=label, lang=lang, theme=False)


@pytest.mark.parametrize("lang, text", [("en", "$5,250.50 (+2 deals without an amount)"),
                                        ("ja", "$5,250.50 (ほかに金額のない商談2件)")])
def test_open_pipeline_amount_says_the_unpriced_deals(lang, text):
    from helpers.views.common import pipeline_kpis

    s = _session("sf-en-us-usd", "2025Q1", lang)
    pipe = core_metrics(s.wb, s.period)["pipeline"]
    assert pipe["open_pipeline"] == {"count": 3, "amount": 5250.5, "amount_unknown_count": 2}
    label, value, why = pipeline_kpis(pipe, s.config, lang)[-1]
    assert (label, value, why) == (t("open_pipeline_amount", lang), text, None)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_coverage_says_unpriced_open_deals_and_the_currency(lang):
    """Notebook 04 on 2025-05-30: open then are XyZ04 (no amount) and XyZ08 ($15,000.00): "$15,000.00 (+1 deal without
    an amount)". The trailing 365 days' win rate: won XyZ01, 03, 05, 07, lost XyZ02, 06 = 4 / 6, so 1 ÷ win rate =
    1.50: "every $1 ... about $1.50" (before: "every yen ... 1.50 yen" on USD data)."""
    from helpers.views import goals_views as gv

    s = _session("sf-en-us-usd", "2025Q2", lang)
    g = gv.compute(s)
    cov = g.section["coverage"]
    assert (cov["open_pipeline_amount"], cov["open_amount_unknown_count"]) == (15000.0, 1)
    assert cov["win_rate"] == pytest.approx(4 / 6) and cov["implied_coverage"] == pytest.approx(1.5)
    html = gv.coverage_view(s, g).data
    one = {"en": "$15,000.00 (+1 deal without an amount)", "ja": "$15,000.00 (ほかに金額のない商談1件)"}[lang]
    rule = {"en": "every $1 still to win needs about $1.50 of open pipeline", "ja": "残りの受注$1につき約$1.50の"}[lang]
    assert one in html and rule in html
    assert "yen" not in html and "円" not in html and "¥" not in html


@pytest.mark.parametrize("lang, zero", [("en", "(not $0.00)"), ("ja", "($0.00ではありません)")])
def test_open_amounts_missing_sentence_names_the_workbooks_zero(lang, zero):
    from helpers.views import fmt

    s = _session("sf-en-us-usd", "2025Q2", lang)
    text = t("coverage_null_open_amounts_missing", lang).format(zero=fmt.money(0, s.config))
    assert zero in text and "¥" not in text and "0円" not in text


# --------------------------------------------------------------------------- 4. win rate by amount, per period
def test_win_rate_by_amount_is_null_when_the_periods_lost_deals_are_all_zero():
    """2025Q2 (to 05-30): won XyZ05 $5,250.50 and XyZ07 $3,000.00, lost XyZ06 $0.00 only: the rate by amount would be
    8,250.50 / 8,250.50 = 100% (before: 1.0), so it is null with lost_amounts_zero, though the whole data's lost
    deals are not all 0 (XyZ02 $8,000.00). 2025Q1: won XyZ01 12,500 + XyZ03 20,000, lost XyZ02 8,000: 32,500 / 40,500."""
    _, _, q2 = _core("sf-en-us-usd", "2025Q2")
    pipe = q2["pipeline"]
    assert (pipe["won_count"], pipe["lost_count"], pipe["win_rate"]) == (2, 1, pytest.approx(2 / 3))
    assert pipe["win_rate_by_amount"] is None
    assert pipe["null_reasons"]["win_rate_by_amount"] == "lost_amounts_zero"
    _, _, q1 = _core("sf-en-us-usd", "2025Q1")
    assert q1["pipeline"]["win_rate_by_amount"] == pytest.approx(32500 / 40500)
    assert "win_rate_by_amount" not in (q1["pipeline"].get("null_reasons") or {})
    partner = q2["by_channel"]["Partner Referral"]   # the row's own lost deal: XyZ06 $0.00, nothing won
    assert partner["win_rate_by_amount"] is None and partner["null_reasons"]["win_rate_by_amount"] == "lost_amounts_zero"


# --------------------------------------------------------------------------- 3. an unpriced deal is not ¥0 in attribution
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_unpriced_deal_without_touches_is_null_not_zero(lang):
    """touches-ja-channels, FY2024Q1 (April FY: 2024-04-01..06-30). Deals created in it: D-001 ¥12,000,000 (R-001,
    touched), D-002 ¥880,000 (R-002, T5), D-003 ¥3,500,000 (R-003, touched), D-004 no amount (R-004: no touch). So
    no_touches' pipeline is 1 deal whose amount is unknown (before: ¥0), the others 3 deals ¥16,380,000; the
    position models' pipeline row 'no touches recorded' is null too, and the total is the priced deals'."""
    from helpers.views import attribution_views as av

    s = _session("touches-ja-channels", "FY2024Q1", lang)
    a = av.compute(s)
    bare = a.section["by_department"]["no_touches"]
    assert bare["pipeline"] == {"count": 1, "amount": None}
    assert a.section["by_department"]["other"]["pipeline"] == {"count": 3, "amount": 16_380_000.0}
    linear = a.section["models"]["linear"]["pipeline"]
    assert linear["no_touches"] == {"amount": None, "deals": 1.0}
    assert sum(c["amount"] for ch, c in linear.items() if ch != "no_touches") == pytest.approx(16_380_000.0)
    html = av.sourced_table(s, a).data + av.models_table(s, a, "pipeline").data
    assert t("attribution_unpriced_no_touches", lang).format(zero="¥0") in html
    assert "None" not in html and "nan" not in html


# --------------------------------------------------------------------------- 6. the forecast says its unpriced deals
@pytest.mark.parametrize("lang, text", [
    ("en", "Open deals without an amount (1 of the 2) are each counted at the mean won amount, $10,187.62."),
    ("ja", "進行中の商談2件のうち1件は金額がないため、それぞれ平均受注金額 $10,187.62 として数えています。")])
def test_forecast_says_open_deals_counted_at_the_mean_won_amount(lang, text):
    """sf-en-us-usd 2025Q2 on 2025-05-30: open are XyZ04 (no amount) and XyZ08 ($15,000.00); the wins of the lookback are
    XyZ01 12,500.00, XyZ03 20,000.00, XyZ05 5,250.50, XyZ07 3,000.00: mean 40,750.50 / 4 = 10,187.625, shown $10,187.62 (half to even)."""
    from helpers.views import goals_views as gv

    s = _session("sf-en-us-usd", "2025Q2", lang)
    g = gv.compute(s)
    parts = g.forecast["parts"]
    assert (parts["open_deals"], parts["open_deals_unpriced"]) == (2, 1)
    assert parts["mean_won_amount"] == pytest.approx(10187.625)
    assert text in gv.forecast_view(s, g).data


def test_no_mql_dates_stage_times_and_skips_are_null():
    """The stage times to and from MQL and SQL (before: n 0) and data health's leads that 'skipped' MQL / SQL (before:
    8 each, every lead linked to a deal: LLL01-08) are unknown when no lead has those dates; the leads linked to a
    deal stay 8 of the 12."""
    from helpers.metrics.funnel_analysis import _stage_times_explained
    from helpers.metrics.health_engine import stage_completeness_of
    from helpers.metrics.source import FrameSource

    wb, period, _ = _core("sf-ja-no-mql", "FY2025Q1")
    source = FrameSource(wb.leads, wb.opportunities)
    times = _stage_times_explained(wb.leads, wb.opportunities, wb.as_of, period.start, period.end, source)
    for name, code in (("lead_to_mql", "no_mql_dates"), ("mql_to_sql", "no_mql_dates"), ("sql_to_opportunity", "no_sql_dates")):
        assert times[name]["n"] is None and times[name]["null_reasons"]["n"] == code, name
    assert times["opportunity_to_close"]["n"] == 3   # AAA01 (05-20), AAA02 (06-10), AAA03 (06-25) closed in FY2025Q1
    done = stage_completeness_of(source, wb.as_of)
    assert (done["leads"], done["with_mql_at"], done["with_opportunity"]) == (12, 0, 8)
    assert done["skipped_mql"] is None and done["skipped_sql"] is None
    assert done["null_reasons"] == {"skipped_mql": "no_mql_dates", "skipped_sql": "no_sql_dates"}


# --------------------------------------------------------------------------- 3. notebook 04's plan without MQL / SQL dates
# sf-ja-no-mql, as_of 2025-10-05. Deals closed in the 365 days before: AAA01 won 1,200,000, AAA02 lost, AAA03 won
# 1,500,000, AAA07 lost: win rate 2/4, average deal 1,350,000. Days lead created -> won: LLL01 48 (04-02 -> 05-20),
# LLL03 74 (04-12 -> 06-25): maturity = their 80th percentile 48 + 0.8 × 26 = 68.8 days, so the cohort ends
# 2025-07-28 and holds LLL01-07, 09, 10, 11 = 10 leads: Web 6 (01, 03, 05, 07, 09, 10), セミナー 3, 展示会 1. No lead
# has an mql_at or an sql_at: the rates into and out of MQL / SQL are unknown (before: mql_rate 0.7, sql_rate 1.0).
def test_plan_rates_without_stage_dates_are_null_with_reason():
    from helpers.metrics import goals

    wb, _, _ = _core("sf-ja-no-mql", "FY2025Q1")
    rates = goals.funnel_rates(wb.leads, wb.opportunities, wb.as_of)
    assert (rates["avg_deal_size"], rates["win_rate"], rates["leads"]) == (1_350_000, 0.5, 10)
    assert rates["maturity_days"] == pytest.approx(68.8)
    for key in ("mql", "sql", "mql_rate", "sql_rate", "opportunity_rate"):
        assert rates[key] is None, key
    assert rates["null_reasons"] == {"mql": "no_mql_dates", "mql_rate": "no_mql_dates", "sql_rate": "no_mql_dates",
                                     "sql": "no_sql_dates", "opportunity_rate": "no_sql_dates"}
    assert rates["channel_mix"] == {"Web": {"leads": 0.6, "mql": None}, "セミナー": {"leads": 0.3, "mql": None},
                                    "展示会": {"leads": 0.1, "mql": None}}
    # a 2,700,000 goal: 2,700,000 / 1,350,000 = 2 won deals, 2 / 0.5 = 4 opportunities; then SQLs ÷ the unknown
    # SQL -> opportunity rate (no_sql_dates), MQLs ÷ the unknown MQL -> SQL rate and leads ÷ lead -> MQL (no_mql_dates)
    rf = goals.reverse_funnel(2_700_000, rates)
    assert (rf["won_count"]["expected"], rf["opportunities"]["expected"]) == (2.0, 4.0)
    assert all(rf[k] == {"expected": None, "low_95": None, "high_95": None} for k in ("sqls", "mqls", "leads"))
    assert rf["null_reasons"] == {"sqls": "no_sql_dates", "mqls": "no_mql_dates", "leads": "no_mql_dates"}


@pytest.mark.parametrize("lang, na", [("en", "n/a"), ("ja", "該当なし")])
def test_plan_view_says_the_unrecorded_stages_are_na(tmp_path, lang, na):
    """Notebook 04 with a FY2025Q1 revenue goal of 2,700,000: the reverse funnel's SQL, MQL and lead rows are n/a with
    both reasons under the table, and the marketing list says n/a with the reason, never an MQL count or channel mix."""
    import html
    import shutil

    from helpers.report.session import open_session
    from helpers.views import goals_views as gv

    folder = tmp_path / "d"
    shutil.copytree(NEWUSER3 / "sf-ja-no-mql", folder)
    (folder / "targets.csv").write_text("period,metric,target\nFY2025Q1,won_revenue,2700000\n", encoding="utf-8")
    s = open_session(str(folder), period="FY2025Q1", lang=lang, theme=False)
    g = gv.compute(s)
    assert g.section["reverse_funnel"]["null_reasons"] == {"sqls": "no_sql_dates", "mqls": "no_mql_dates",
                                                           "leads": "no_mql_dates"}
    table = gv.reverse_funnel_view(s, g).data
    mql_reason, sql_reason = (html.escape(t(f"reason_no_{x}_dates", lang)) for x in ("mql", "sql"))   # sales&#x27;
    assert table.count(f"<td>{na}</td>") == 3
    assert table.count(mql_reason) == 1 and table.count(sql_reason) == 1
    lists = gv.department_lists(s, g).data
    assert f"{t('mqls', lang)}: {na} ({mql_reason})" in lists and f"{t('leads', lang)}: {na} ({mql_reason})" in lists
    assert t("reverse_by_channel", lang) not in lists
