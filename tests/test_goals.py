"""Shared goals (helpers/metrics/goals.py): survival estimates against known truths, the forecast, coverage,
the reverse funnel, targets and their validation. Every expectation is computed by hand (or from a
known distribution), never copied from the code's output."""
import math

import numpy as np
import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, as_dates, write_folder
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.errors import DataValidationError
from helpers.labels import t
from helpers.metrics import goals


# --------------------------------------------------------------------------- survival estimates
def test_aalen_johansen_by_hand():
    # durations 2 (won), 3 (won), 3 (lost), 5 (open), 8 (won). Overall KM: 0.8 after day 2, 0.4 after day 3.
    # CIF_won: day 2: 1 x 1/5 = 0.2; day 3: 0.8 x 1/4 = 0.2 more (the tie with the loss, in either order) -> 0.4;
    # day 8: one at risk, S = 0.4 before -> + 0.4 = 0.8.
    cif = goals.cumulative_incidence([2, 3, 3, 5, 8], [1, 1, 2, 0, 1], 1, days=8)
    assert cif == pytest.approx([0, 0, 0.2, 0.4, 0.4, 0.4, 0.4, 0.4, 0.8])
    lost = goals.cumulative_incidence([2, 3, 3, 5, 8], [1, 1, 2, 0, 1], 2, days=8)
    assert lost == pytest.approx([0, 0, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0.2])
    alive = goals.survival_curve([2, 3, 3, 5, 8], [True, True, True, False, True], days=8)
    assert alive == pytest.approx([1, 1, 0.8, 0.4, 0.4, 0.4, 0.4, 0.4, 0.0])
    assert goals.cumulative_incidence([4, 6], [0, 2], 1, days=3) == pytest.approx([0, 0, 0, 0])  # no such outcome: 0


def test_survival_against_exponential_truth_with_censoring():
    # Competing exponential times: won at rate 0.01/day, lost at 0.02/day; independent censoring uniform on
    # [0, 150] days; whole days as a CRM records them (ceil), n = 4000, fixed seed. Truth:
    # CIF_won(t) = 1/3 (1 - exp(-0.03 t)); all-cause median = ln 2 / 0.03 = 23.1 days.
    rng = np.random.default_rng(7)
    n = 4000
    won_t, lost_t, cens = rng.exponential(100, n), rng.exponential(50, n), rng.uniform(0, 150, n)
    time = np.ceil(np.minimum.reduce([won_t, lost_t, cens]))
    event = np.where(cens < np.minimum(won_t, lost_t), 0, np.where(won_t < lost_t, 1, 2))
    cif = goals.cumulative_incidence(time, event, 1, days=120)
    for day in (10, 30, 60, 100):
        assert cif[day] == pytest.approx((1 - math.exp(-0.03 * day)) / 3, abs=0.015), day
    median = goals.km_median(time, event > 0)
    assert abs(median - math.log(2) / 0.03) <= 2.0  # whole days: the estimate lands on 23 or 24
    alive = goals.survival_curve(time, event > 0, days=60)
    assert alive[60] == pytest.approx(math.exp(-1.8), abs=0.015)


def test_kaplan_meier_median_of_lifelines_documented_example():
    # lifelines docs, "Survival analysis with lifelines": the democracy/dictatorship data, median time in office 4.0
    from lifelines.datasets import load_dd

    dd = load_dd()
    assert goals.km_median(dd["duration"], dd["observed"]) == 4.0
    assert goals.km_median([5, 6], [False, False]) is None  # never falls to one half: null, not infinity
    assert goals.km_median([], []) is None


def test_censoring_aware_median_sales_cycle():
    # Deals created in 2025Q2: won after 10, 20 and 30 days; open at ages 25 and 40 on as_of; one lost (left out).
    # KM: 10 -> 4/5 = 0.8, 20 -> 0.6, 25 censored, 30 -> 0.6 x 1/2 = 0.3: the median is 30 days.
    as_of = pd.Timestamp("2025-06-30")
    rows = [("A", as_of - pd.Timedelta(days=50), as_of - pd.Timedelta(days=40), "won"),
            ("B", as_of - pd.Timedelta(days=60), as_of - pd.Timedelta(days=40), "won"),
            ("C", as_of - pd.Timedelta(days=80), as_of - pd.Timedelta(days=50), "won"),
            ("D", as_of - pd.Timedelta(days=25), pd.NaT, "open"),
            ("E", as_of - pd.Timedelta(days=40), pd.NaT, "open"),
            ("F", as_of - pd.Timedelta(days=40), as_of - pd.Timedelta(days=39), "lost")]
    opps = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome"]).assign(amount=1.0)
    out = goals.sales_cycle_median(opps, "2025-04-01", "2025-06-30", as_of)
    assert out["median_days"] == 30.0 and (out["won"], out["censored"]) == (3, 2)
    # today's mean of won deals closed in the period: (10 + 20 + 30) / 3
    assert out["mean_won_days"] == pytest.approx(20.0) and out["null_reason"] is None
    young = goals.sales_cycle_median(opps[opps["outcome"] == "open"], "2025-04-01", "2025-06-30", as_of)
    assert young["median_days"] is None and young["null_reason"] == "fewer_than_half_won_yet"


# --------------------------------------------------------------------------- forecast
def _forecast_opps():
    """A: won after 10 days, B: lost after 10, C: won after 20, D: lost after 30, E: open, age 15 on 2025-05-31."""
    return as_dates(pd.DataFrame({
        "opportunity_id": ["A", "B", "C", "D", "E"],
        "created_at": ["2025-01-01", "2025-01-01", "2025-02-01", "2025-03-01", "2025-05-16"],
        "closed_at": ["2025-01-11", "2025-01-11", "2025-02-21", "2025-03-31", None],
        "outcome": ["won", "lost", "won", "lost", "open"],
        "amount": [2_000_000.0, 500_000.0, 4_000_000.0, 700_000.0, 1_000_000.0]}), "created_at", "closed_at")


def test_forecast_by_hand():
    # Durations 10 (won), 10 (lost), 15 (open: censored), 20 (won), 30 (lost).
    # S: 0.6 after day 10, 0.3 after day 20, 0 after 30. F_won: 0.2 from day 10, 0.5 from day 20.
    # as_of 2025-05-31, period 2025Q2 ends 06-30: closes 1..30 days ahead count.
    # Open deal E (age 15): (F_won(45) - F_won(15)) / S(15) = (0.5 - 0.2) / 0.6 = 0.5 -> 0.5 deals, 500,000.
    # New deals: 5 created in the last 365 days -> 5/365 a day; each created k days ahead wins with F_won(30 - k):
    # sum over k = 1..30 of F_won(30 - k) = 10 x 0.2 + 10 x 0.5 = 7.0 -> 35/365 deals at the mean won amount 3,000,000.
    f = goals.forecast(_forecast_opps(), parse_period("2025Q2"), "2025-05-31", refits=20, simulations=20)
    parts = f["parts"]
    assert parts["open_expected_count"] == pytest.approx(0.5)
    assert parts["open_expected_revenue"] == pytest.approx(500_000)
    assert parts["new_expected_count"] == pytest.approx(35 / 365)
    assert parts["new_expected_revenue"] == pytest.approx(35 / 365 * 3_000_000)
    assert (parts["won_so_far_count"], parts["remaining_days"]) == (0, 30)
    assert f["won_count"]["expected"] == pytest.approx(0.5 + 35 / 365)
    rev = f["won_revenue"]
    assert rev["expected"] == pytest.approx(500_000 + 35 / 365 * 3_000_000)
    assert 0 <= rev["low_95"] <= rev["low_80"] <= rev["high_80"] <= rev["high_95"]
    assert rev["high_95"] >= 1_000_000  # E can win (a Bernoulli draw), so the upper end holds its amount
    again = goals.forecast(_forecast_opps(), parse_period("2025Q2"), "2025-05-31", refits=20, simulations=20)
    assert again == f  # fixed seed: the same numbers every run


def test_forecast_of_a_finished_period_is_what_happened():
    f = goals.forecast(_forecast_opps(), parse_period("2025Q1"), "2025-05-31")
    # Q1 won: A (2,000,000) and C (4,000,000); no day left, so every bound equals the actual
    assert f["won_count"] == dict.fromkeys(goals.INTERVAL_KEYS, 2.0)
    assert f["won_revenue"] == dict.fromkeys(goals.INTERVAL_KEYS, 6_000_000.0)
    assert goals.forecast(_forecast_opps().iloc[0:0], parse_period("2025Q2"), "2025-05-31") is None


def test_elapsed_share_and_progress():
    q2 = parse_period("2025Q2")  # 91 days
    assert goals.elapsed_share(q2, "2025-05-31") == pytest.approx(61 / 91)
    assert goals.elapsed_share(q2, "2025-03-01") == 0.0 and goals.elapsed_share(q2, "2025-12-31") == 1.0
    opps = _forecast_opps()
    rows = goals.progress(None, opps, [{"metric": "won_revenue", "department": "shared", "channel": None,
                                        "source": "targets.csv", "target": 4_000_000.0},
                                       {"metric": "leads", "department": "marketing", "channel": None,
                                        "source": "last_year", "target": 0.0}], parse_period("2025Q1"), "2025-05-31")
    assert rows[0]["actual"] == 6_000_000.0 and rows[0]["attainment"] == pytest.approx(1.5)
    assert rows[1]["actual"] is None and rows[1]["attainment"] is None  # no leads table; target 0: null, never 0


def test_pipeline_coverage_by_hand():
    opps = _forecast_opps()
    # as_of 2025-05-31: open pipeline = E 1,000,000; won in Q2 so far 0; remaining 4,000,000 -> coverage 0.25.
    # Win rate of the deals closed in the last 365 days: 2 won / 4 closed = 0.5 -> implied coverage 2.0.
    c = goals.pipeline_coverage(opps, parse_period("2025Q2"), "2025-05-31", 4_000_000)
    assert (c["open_pipeline_amount"], c["remaining_target"], c["coverage"]) == (1_000_000.0, 4_000_000.0, 0.25)
    assert (c["win_rate"], c["implied_coverage"], c["sufficient"]) == (0.5, 2.0, False)
    assert goals.pipeline_coverage(opps, parse_period("2025Q2"), "2025-05-31", None)["null_reasons"] == {"coverage": "no_target"}
    assert goals.pipeline_coverage(opps, parse_period("2025Q1"), "2025-05-31", 1.0)["null_reasons"] == {"coverage": "period_over"}


# --------------------------------------------------------------------------- reverse funnel
def test_reverse_funnel_arithmetic_by_hand():
    # 10,000,000 ÷ 2,000,000 = 5 won; ÷ 0.25 = 20 opportunities; 90% of them from leads = 18 ÷ 0.6 = 30 SQLs;
    # ÷ 0.5 = 60 MQLs; ÷ 0.4 = 150 leads.
    out = goals.reverse_arithmetic(10_000_000, 2_000_000, 0.25, 0.6, 0.5, 0.4, lead_sourced_share=0.9)
    assert out == pytest.approx({"won_count": 5.0, "opportunities": 20.0, "sqls": 30.0, "mqls": 60.0, "leads": 150.0})
    none = goals.reverse_arithmetic(10_000_000, 2_000_000, 0.0, 0.6, 0.5, 0.4)
    assert none["won_count"] == 5.0 and none["opportunities"] is None and none["leads"] is None  # win rate 0: null
    assert goals.reverse_arithmetic(None, 2_000_000, 0.25, 0.6, 0.5, 0.4)["won_count"] is None


def test_reverse_funnel_intervals_come_from_the_rates_uncertainty():
    rates = {"avg_deal_size": 2_000_000.0, "won_amounts": np.array([1_000_000.0, 3_000_000.0] * 50),
             "win_rate": 0.25, "closed_count": 400, "lead_sourced_share": 0.9, "opportunities_recent": 300,
             "opportunity_rate": 0.6, "sql": 500, "sql_rate": 0.5, "mql": 1000, "mql_rate": 0.4, "leads": 2500}
    out = goals.reverse_funnel(10_000_000, rates)
    assert out["leads"]["expected"] == pytest.approx(150.0)
    for key in goals.FUNNEL_STEPS:
        assert out[key]["low_95"] < out[key]["expected"] < out[key]["high_95"], key
    # the win rate's sampling sd is sqrt(.25 x .75 / 400) = 0.0217 (8.7% of it); the deal mean's 1M/sqrt(100) = 5%:
    # the opportunities' 95% interval spans roughly +-2 x 10% around 20, so it lies inside [14, 28]
    assert 14 < out["opportunities"]["low_95"] and out["opportunities"]["high_95"] < 28
    assert goals.reverse_funnel(None, rates)["leads"] == {"expected": None, "low_95": None, "high_95": None}


# --------------------------------------------------------------------------- cohort projection
def test_projected_cohort_rate_by_hand():
    # 10 old leads (created 2023, long past the 365-day horizon): 4 became opportunities 5 days after creation,
    # none won yet -> F_opp(H) = 4/10. Five leads created on as_of (age 0) have not converted: each still converts
    # with (0.4 - 0) / (1 - 0) = 0.4, so the cohort's projected lead -> opportunity rate is 0.4, its raw rate 0.
    as_of = pd.Timestamp("2024-06-30")
    old = pd.Timestamp("2023-09-01")
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(15)],
                          "created_at": [old] * 10 + [as_of] * 5, "channel": "web"})
    opps = pd.DataFrame({"opportunity_id": [f"O{i}" for i in range(4)], "created_at": [old + pd.Timedelta(days=5)] * 4,
                         "closed_at": pd.NaT, "outcome": "open", "amount": 1.0, "lead_id": [f"L{i}" for i in range(4)]})
    leads, opps = as_dates(leads, "created_at"), as_dates(opps, "created_at", "closed_at")
    out = goals.projected_cohort_rates(leads, opps, "2024-04-01", "2024-06-30", as_of, refits=10, simulations=10)
    assert out["projected_lead_to_opportunity_rate"]["expected"] == pytest.approx(0.4)
    assert out["projected_lead_to_won_rate"]["expected"] == 0.0  # nobody has won: nothing to project from
    curves = goals.conversion_curves(leads, opps, as_of)
    assert curves["lead_to_opportunity"].iloc[4] == 0.0 and curves["lead_to_opportunity"].iloc[5] == pytest.approx(0.4)
    assert goals.projected_cohort_rates(None, opps, "2024-04-01", "2024-06-30", as_of) is None


# --------------------------------------------------------------------------- targets.csv
TARGETS_OK = "period,metric,target,department,channel\n2025Q2,won_revenue,3000000,shared,\n2025Q2,Leads,10,,web\n"


def test_targets_load_and_are_used(tmp_path):
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                                     "targets.csv": TARGETS_OK}))
    assert list(wb.targets["metric"]) == ["won_revenue", "leads"]  # metric names are case-insensitive
    rows = goals.targets_for(wb.leads, wb.opportunities, wb.targets, parse_period("2025Q2"), wb.as_of, pd.Timestamp("2025-04-01"))
    by = {(r["metric"], r["channel"]): r for r in rows}
    assert by[("won_revenue", None)] | {} == {"period": "2025Q2", "metric": "won_revenue", "department": "shared", "channel": None,
                                              "target": 3_000_000.0, "source": "targets.csv", "null_reason": None}
    assert by[("leads", "web")]["department"] == "marketing" and by[("leads", "web")]["target"] == 10.0
    # every metric without an all-channel row falls back to a year earlier, which the data (from 2025-04) does not cover
    assert by[("leads", None)] | {} == {"period": "2025Q2", "metric": "leads", "department": "marketing", "channel": None,
                                        "target": None, "source": "last_year", "null_reason": "no_data_last_year"}
    progress = goals.progress(wb.leads, wb.opportunities, rows, parse_period("2025Q2"), wb.as_of)
    web = next(p for p in progress if p["metric"] == "leads" and p["channel"] == "web")
    assert web["actual"] == 2 and web["attainment"] == pytest.approx(0.2)  # L1 and L3 are web leads of 2025Q2


def test_last_year_goal_is_last_years_actual():
    opps = _forecast_opps()
    # the data starts 2025-01-01; 2026Q1's year-earlier period 2025Q1 starts on it: leads/opportunities count,
    # won deals need the 180-day warm-up (deals won then were often created before the data began)
    rows = goals.targets_for(None, opps, None, parse_period("2026Q1"), "2026-03-31", pd.Timestamp("2025-01-01"))
    by = {r["metric"]: r for r in rows}
    assert by["opportunities_created"]["target"] == 4.0  # A, B, C, D and by["opportunities_created"]["source"] == "last_year"
    assert by["won_revenue"]["target"] is None and by["won_revenue"]["null_reason"] == "warmup_last_year"
    assert by["leads"]["null_reason"] == "no_leads_table"
    later = goals.targets_for(None, opps, None, parse_period("2026Q3"), "2026-09-30", pd.Timestamp("2025-01-01"))
    assert {r["metric"]: r["target"] for r in later}["won_revenue"] == 0.0  # 2025Q3 is covered: nothing was won


@pytest.mark.parametrize("text, code, column, row", [
    ("period,metric,target\n2025Q2,revenue,100\n", "unknown_metric", "metric", 2),
    ("period,metric,target\n2025Q2,leads,100\n2025Q2,leads,120\n", "duplicate_target", "metric", 3),
    ("period,metric,target\nFY2025Q1,leads,100\n", "bad_period", "period", 2),
    ("period,metric,target\n2025Q2,leads,-1\n", "negative_target", "target", 2),
    ("period,metric,target,department\n2025Q2,leads,1,finance\n", "unknown_department", "department", 2),
    ("period,metric,target\n2025Q2,leads,lots\n", "bad_number", "target", 2),
])
def test_targets_validation_errors(tmp_path, text, code, column, row):
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "targets.csv": text})
    with pytest.raises(DataValidationError) as err:
        load_workbook(folder)
    found = [f for f in err.value.findings if f.code == code]
    assert found and found[0].file == "targets.csv" and found[0].column == column and found[0].rows[0] == row
    assert found[0].fix


def test_period_label_of_the_other_fiscal_calendar_is_refused(tmp_path):
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                           "targets.csv": "period,metric,target\n2025Q2,leads,10\n",
                                           "workbook.yaml": "fiscal_year_start_month: 4\n"})
    with pytest.raises(DataValidationError, match="FY2026Q1"):
        load_workbook(folder)


def test_goal_labels_in_both_languages():
    assert t("goal", "ja") == "目標" and t("forecast", "ja") == "着地見込み"
    assert t("pipeline_coverage", "ja") == "パイプラインカバレッジ" and t("reverse_funnel", "ja") == "逆算"
    assert t("goal", "en") == "Target" and t("pipeline_coverage", "en") == "Pipeline coverage"


def test_index_page_has_one_goal_line_per_period():
    from helpers.config import load_config
    from helpers.report.index_page import goal_lines

    config = load_config()  # JPY, en
    goals_q2 = {"targets": [{"metric": "won_revenue", "channel": None, "target": 40_000_000.0, "source": "last_year"}],
                "progress": [{"metric": "won_revenue", "channel": None, "attainment": 0.5}],
                "forecast": {"won_revenue": {"expected": 45_000_000.0, "low_95": 38_000_000.0, "high_95": 52_000_000.0}}}
    goals_q3 = {"targets": [{"metric": "won_revenue", "channel": None, "target": None, "source": "last_year",
                             "null_reason": "no_amounts"}],
                "progress": [{"metric": "won_revenue", "channel": None, "attainment": None}],
                "forecast": {"won_revenue": None, "null_reasons": {"won_revenue": "no_lost_deals"}}}
    # an ended period: its won revenue, not a forecast with an interval of zero width
    goals_q4 = {"targets": [{"metric": "won_revenue", "channel": None, "target": 40_000_000.0, "source": "targets_csv"}],
                "progress": [{"metric": "won_revenue", "channel": None, "actual": 50_000_000.0, "attainment": 1.25,
                              "elapsed_share": 1.0}],
                "forecast": {"won_revenue": {"expected": 50_000_000.0, "low_95": 50_000_000.0, "high_95": 50_000_000.0}}}
    goals_none = {"targets": [], "progress": [], "forecast": {"won_revenue": None}}
    rows = [("2025Q1", {}, []), ("2025Q2", {"goals": goals_q2}, []), ("2025Q3", {"goals": goals_q3}, []),
            ("2025Q4", {"goals": goals_q4}, []), ("2026Q1", {"goals": goals_none}, [])]
    assert goal_lines(rows, config, "en") == [
        "2025Q2: target ¥40,000,000 (Same period last year), forecast ¥45,000,000 (95%: ¥38,000,000 – ¥52,000,000), attainment 50.0%",
        "2025Q3: target n/a (no amounts in the data), no forecast (The data holds no lost deals: a win rate needs losses.)",
        "2025Q4: target ¥40,000,000 (targets.csv), won ¥50,000,000 (period ended), attainment 125.0%",
        "2026Q1: no revenue target, no forecast (the data gives no forecast for this period)"]
    no_amounts = {"targets": [{"metric": "won_revenue", "channel": None, "target": None, "source": "last_year",
                               "null_reason": "no_amounts"}],
                  "progress": [], "forecast": {"won_revenue": None, "null_reasons": {"won_revenue": "no_amounts"}}}
    assert goal_lines([("2026Q2", {"goals": no_amounts}, [])], config, "en") == [
        "2026Q2: target n/a (no amounts in the data), no forecast (the same reason)"]   # one reason, said once
    assert goal_lines(rows[3:4], config, "ja") == ["2025Q4: 目標 ¥40,000,000(targets.csv)、受注金額 ¥50,000,000(期間終了)、達成率 125.0%"]


def test_every_goals_figure_is_in_the_glossary_with_its_null_rule():
    from helpers.paths import PROJ_ROOT

    text = (PROJ_ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    keys = ["goals.targets", "goals.progress", "goals.forecast.won_revenue", "goals.forecast.won_count",
            "goals.coverage.coverage", "goals.coverage.implied_coverage", "goals.backtest.interval_coverage_95",
            "goals.backtest.mean_absolute_error", "goals.backtest.periods",
            *[f"goals.reverse_funnel.{k}" for k in goals.FUNNEL_STEPS],
            "funnel.cohort.projected_lead_to_opportunity_rate", "funnel.cohort.projected_lead_to_won_rate",
            "sales_cycle.median_days"]
    rows = {line.split("|")[1].strip().strip("`"): line for line in text.splitlines() if line.startswith("| `")}
    for key in keys:
        assert key in rows, key
        null_rule = rows[key].rstrip().rstrip("|").split("|")[-1].strip()
        assert null_rule and ("null" in null_rule or "empty" in null_rule), key


def test_targets_with_empty_cells_are_refused_clearly(tmp_path):
    text = "period,metric,target\n,leads,10\n,leads,10\n2025Q2,,5\n"
    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "targets.csv": text})
    with pytest.raises(DataValidationError) as err:
        load_workbook(folder)
    missing = {(f.column, f.rows) for f in err.value.findings if f.code == "missing_value"}
    assert missing == {("period", (2, 3)), ("metric", (4,))}


def test_aalen_johansen_equals_lifelines_on_untied_times():
    # independent implementation: lifelines' AalenJohansenFitter needs no jitter when no two event times tie
    import warnings

    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(11)
    t = rng.permutation(np.arange(1, 301)).astype(float)[:200]        # 200 distinct whole days
    e = rng.choice([0, 1, 2], 200, p=[0.3, 0.3, 0.4])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = AalenJohansenFitter(calculate_variance=False).fit(t, e, event_of_interest=1)
    expected = goals._step_values(fit.cumulative_density_, 300, 0.0)
    assert goals.cumulative_incidence(t, e, 1, days=300) == pytest.approx(expected, abs=1e-12)


def test_aalen_johansen_counts_a_deal_censored_on_an_event_day_at_risk_that_day():
    # day 1: one won among 3 at risk (the deal still open on day 1 is at risk): F = 1/3; S = 2/3.
    # day 2: the last deal is won: F = 1/3 + 2/3 x 1/1 = 1.
    cif = goals.cumulative_incidence([1, 1, 2], [1, 0, 1], 1, days=2)
    assert cif == pytest.approx([0, 1 / 3, 1.0])


def test_aalen_johansen_on_a_million_tied_whole_days():
    # lifelines' fitter re-jitters these ties recursively and exhausts memory; the counts per day do not care.
    # Constant hazards per day: won 1%, lost 2%, censoring none -> F_won(t) = 1/3 (1 - 0.97^t) exactly.
    rng = np.random.default_rng(5)
    n = 1_000_000
    t = rng.geometric(0.03, n).astype(float)
    e = np.where(rng.random(n) < 1 / 3, 1, 2)
    cif = goals.cumulative_incidence(t, e, 1, days=60)
    assert cif[30] == pytest.approx((1 - 0.97 ** 30) / 3, abs=0.002)
