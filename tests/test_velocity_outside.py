"""Before/after velocity windows the data does not reach (tests/fixtures/newuser/initiative-edge: the data's first day
is 2024-04-01, the initiative 古い施策 starts then): such a window's figures are null with before_data / after_data,
never 0, its intervals empty, and the report says why under the factor table in both languages."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.metrics import limits
from helpers.metrics.pipeline import PIPELINE_KEYS
from helpers.metrics.velocity import velocity_comparison
from helpers.metrics.velocity_change import outside_data, unknown_intervals, unknown_window, windows
from helpers.views.velocity_views import window_notes

T = pd.Timestamp
FOLDER = Path(__file__).parent / "fixtures" / "newuser" / "initiative-edge"


def test_outside_data_hand_computed():
    win = windows(T("2024-04-01"), 90)   # before 2024-01-02..03-31, after 04-01..06-29, a year earlier 2023-...
    assert outside_data(win, T("2024-04-01"), T("2025-10-12")) == {
        "before": "before_data", "before_last_year": "before_data", "after_last_year": "before_data"}
    assert outside_data(win, T("2024-03-31"), None) == {"before_last_year": "before_data", "after_last_year": "before_data"}
    # the data ends 2024-03-31: the after window (from 04-01) lies after it; the before window ends on that day
    assert outside_data(win, T("2023-01-01"), T("2024-03-31")) == {"after": "after_data"}
    assert outside_data(win, None, None) == {}


def test_an_unknown_windows_figures_and_intervals_are_null():
    got = unknown_window({"opportunities_created": 0, "won_revenue": 0.0, "open_pipeline": {"count": 0}}, "after_data")
    assert got == {"opportunities_created": None, "won_revenue": None, "open_pipeline": None,
                   "null_reasons": dict.fromkeys(("opportunities_created", "won_revenue", "open_pipeline"), "after_data")}
    iv = {"low": 0.0, "high": 0.0, "valid_resamples": 10}
    empty = {"low": None, "high": None, "valid_resamples": 0}
    intervals = {name: {"sales_velocity": dict(iv)} for name in ("before", "after", "before_last_year", "after_last_year")}
    intervals |= {"change": {"sales_velocity": dict(iv)}, "change_points": {"win_rate": dict(iv)},
                  "contributions": {"win_rate": dict(iv)}, "seasonally_adjusted_change": dict(iv)}
    got = unknown_intervals(intervals, {"after_last_year": "before_data"})
    assert got["after_last_year"] == {"sales_velocity": empty} and got["before"] == {"sales_velocity": iv}
    assert got["change"] == {"sales_velocity": iv} and got["seasonally_adjusted_change"] == empty
    got = unknown_intervals(intervals, {"before": "before_data"})
    assert got["change"] == {"sales_velocity": empty} and got["contributions"] == {"win_rate": empty}


@pytest.fixture(scope="module")
def vc():
    config = load_config(FOLDER)
    wb = load_workbook(FOLDER, config)
    assert wb.as_of == T("2025-10-12")
    # the report of FY2025Q2 (Jul-Sep 2025, the latest complete) picks 古い施策 (2024-04-01): the later one starts after it
    return velocity_comparison(wb.opportunities, wb.initiatives, wb.as_of, T("2025-09-30"), {"bootstrap_samples": 200},
                               config.fiscal_year_start_month)


def test_windows_before_the_data_are_null_not_0(vc):
    assert vc["start"] == T("2024-04-01")
    for name in ("before", "before_last_year", "after_last_year"):
        assert all(vc[name][key] is None for key in PIPELINE_KEYS), name
        assert vc[name]["null_reasons"]["opportunities_created"] == vc[name]["null_reasons"]["won_revenue"] == "before_data"
        assert vc["intervals"][name]["sales_velocity"]["low"] is None
    # the after window 2024-04-01..06-29, by hand from opportunities.csv: 9 deals created, O008 won (¥1,200,000)
    assert vc["after"]["opportunities_created"] == 9 and vc["after"]["won_revenue"] == 1_200_000
    assert vc["change"]["sales_velocity"] is None and vc["seasonally_adjusted_change"] is None
    assert vc["conclusion"]["code"] == "not_measurable"


@pytest.mark.parametrize("lang, lines", [
    ("en", ["⚠ Before is before the data starts: its figures are unknown, not zero, so there is no change against it.",
            "⚠ Before, a year earlier is before the data starts: its figures are unknown, not zero, so there is no change against it.",
            "⚠ After, a year earlier is before the data starts: its figures are unknown, not zero, so there is no change against it."]),
    ("ja", ["⚠ 施策前はデータの開始前のため、数値は0ではなく不明です。その期間との比較はできません。",
            "⚠ 前年の施策前期間はデータの開始前のため、数値は0ではなく不明です。その期間との比較はできません。",
            "⚠ 前年の施策後期間はデータの開始前のため、数値は0ではなく不明です。その期間との比較はできません。"])])
def test_the_report_says_why_under_the_factor_table(vc, lang, lines):
    assert window_notes(vc, lang) == lines
    after = dict(vc, after=unknown_window(vc["after"], "after_data"), before={}, before_last_year={}, after_last_year={})
    assert window_notes(after, lang)[0].startswith("⚠ " + ("After is after the data ends" if lang == "en" else "施策後はデータの終了後"))


def test_the_reasons_have_sentences_in_both_languages():
    from helpers.labels import t

    assert {"before_data", "after_data"} <= set(limits.REASON_CODES)
    assert t("reason_before_data", "en") == "Before the data starts: the figures are unknown, not zero."
    assert t("reason_after_data", "ja") == "データの終了後のため、数値は0ではなく不明です。"
