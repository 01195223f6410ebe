"""A forecast's point lies inside its own intervals (new-user case velocity-hand, tests/fixtures/newuser/README.md):
the backtest row "2025Q1, 60 days" once read expected 3,018,265 with a 95% interval [3,000,000, 3,000,000], and
notebook 04's backtest chart failed on the negative error bar."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers.metrics import goals
from helpers.metrics.goals_forecast import percentile_bounds
from helpers.paths import PROJ_ROOT
from helpers.report.session import open_session

CASE = PROJ_ROOT / "tests" / "fixtures" / "newuser" / "velocity-hand"


def test_percentile_bounds_move_out_to_the_point():
    samples = np.array([3_000_000.0] * 985 + [4_200_000.0] * 15)   # 1.5% of the draws win one more deal
    mean = float(samples.mean())                                      # 3,018,000: above the 97.5th percentile
    assert percentile_bounds(samples, mean, 95) == (3_000_000.0, pytest.approx(3_018_000.0))
    assert percentile_bounds(samples, 3_000_000.0, 95) == (3_000_000.0, 3_000_000.0)
    assert percentile_bounds(np.arange(101.0), 50.0, 80) == (10.0, 90.0)   # a point inside: the plain percentiles
    assert percentile_bounds(np.arange(101.0), -5.0, 80) == (-5.0, 90.0)


def test_the_backtest_point_lies_in_its_interval_by_hand():
    """2025Q1 at day 60 (forecast on 2025-03-01, as of 2025-03-31): won so far A1 2,000,000 + A2 1,000,000; no open
    deal (A3 lost on 03-01); new deals at 5 created in the 365 days / 365 per day, each winning by day j < 30 only as
    A1 did (day 20 of 9 history deals): Σ_{j=0}^{29} F_won(j) = 10 × 1/9; mean won amount (1+1+1+2+1)/5 M = 1.2M.
    Expected = 3,000,000 + 5/365 × 10/9 × 1,200,000 = 3,018,264.84; 98.5% of the simulated totals are 3,000,000,
    so the 2.5th and 97.5th percentiles are 3,000,000 and the upper bound moves out to the expected value."""
    opps = pd.read_csv(CASE / "opportunities.csv")
    bt = goals.backtest(opps, pd.Timestamp("2025-03-31"))
    row = next(r for r in bt["periods"] if r["period"] == "2025Q1" and r["days_into"] == 60)
    expected = 3_000_000 + 5 / 365 * 10 / 9 * 1_200_000
    assert row["expected"] == pytest.approx(expected)
    assert (row["low_95"], row["high_95"]) == (3_000_000.0, pytest.approx(expected))
    assert (row["low_80"], row["high_80"]) == (3_000_000.0, pytest.approx(expected))
    assert row["actual"] == 3_000_000.0
    for r in bt["periods"]:
        assert r["low_95"] <= r["low_80"] <= r["expected"] <= r["high_80"] <= r["high_95"], r


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_backtest_chart_draws_this_data(lang):
    from helpers.views import goals_views as gv

    s = open_session(str(CASE), period="2025Q1", as_of="2025-03-31", lang=lang)
    g = gv.compute(s)
    assert len(g.section["backtest"]["periods"]) == 4
    chart = gv.backtest_chart(s, g)
    ax = chart.fig.axes[0]   # the points drawn are the backtest's: one diamond per period at its actual, one error
    rows = g.section["backtest"]["periods"]   # bar per (period, horizon) at its expected value, never negative
    actual = {r["period"]: r["actual"] for r in rows}
    assert list(ax.collections[-1].get_offsets()[:, 1]) == [actual[p] for p in dict.fromkeys(r["period"] for r in rows)]
    drawn = sorted(y for line in ax.lines for y in line.get_ydata() if line.get_marker() == "o")
    assert drawn == sorted(r["expected"] for r in rows)
    assert chart.png()[:4] == b"\x89PNG"
    plt.close("all")


def test_percentile_bounds_leave_out_values_that_are_not_numbers():
    """NaN and ±inf are left out before the percentiles: [1, 2, 3, NaN] at 80% -> the 10th and 90th percentiles of
    [1, 2, 3]: 1 + 0.1 × 2 = 1.2 and 1 + 0.9 × 2 = 2.8. Half finite still stands ([0, 10, NaN, inf]: 1.0, 9.0); fewer
    than half (2 of 5) leaves both bounds null."""
    assert percentile_bounds(np.array([1.0, 2.0, 3.0, np.nan]), 2.0, 80) == (pytest.approx(1.2), pytest.approx(2.8))
    assert percentile_bounds(np.array([0.0, 10.0, np.nan, np.inf]), 5.0, 80) == (pytest.approx(1.0), pytest.approx(9.0))
    assert percentile_bounds(np.array([0.0, 10.0, np.inf, -np.inf, np.nan]), 5.0, 80) == (None, None)
    assert percentile_bounds(np.array([np.nan, np.nan]), 5.0, 95) == (None, None)


@pytest.mark.parametrize("lang, text", [
    ("en", "1 [n/a: Fewer than half of the simulated values are numbers (a resample without a known won amount has no "
           "revenue), so the interval is not shown.]"),
    ("ja", "1 [該当なし:シミュレーションの値のうち数値になったものが半分未満のため(既知の受注金額を含まない再標本には"
           "金額がありません)、区間は表示しません。]")])
def test_a_forecast_interval_of_too_few_numbers_is_null_with_its_reason(lang, text):
    """3 of 4 simulated totals NaN: the expected value stays (1.0), every bound null with too_few_finite_samples, said
    beside the point; the backtest's coverage counts only the forecasts that have an interval (1 of 1 inside)."""
    from types import SimpleNamespace

    from helpers.metrics.goals_forecast import _interval, interval_coverage
    from helpers.views.goals_views import _interval_text

    iv = _interval(np.array([np.nan, np.nan, np.nan, 1.0]), 1.0)
    bounds = ("low_80", "high_80", "low_95", "high_95")
    assert iv == {"expected": 1.0, **dict.fromkeys(bounds), "null_reasons": dict.fromkeys(bounds, "too_few_finite_samples")}
    assert _interval_text(iv, False, SimpleNamespace(lang=lang, config=None), 95) == text
    assert "null_reasons" not in _interval(np.array([1.0, 2.0, 3.0, np.nan]), 2.0)
    rows = [{"low_95": 1.0, "high_95": 3.0, "actual": 2.0}, {"low_95": None, "high_95": None, "actual": 5.0}]
    assert interval_coverage(rows, 95) == 1.0 and interval_coverage(rows[1:], 95) is None
