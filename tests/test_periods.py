"""Periods (contract section 2), every expectation worked out on a calendar."""
import pandas as pd
import pytest

from helpers.data.periods import complete_periods, make_period, parse_period, period_of, periods_between
from helpers.errors import WorkbookError

T = pd.Timestamp


def test_calendar_quarter_label_and_bounds():
    p = parse_period("2025Q3")
    assert (p.start, p.end, p.label, p.days) == (T("2025-07-01"), T("2025-09-30"), "2025Q3", 92)


def test_april_fiscal_year_is_named_by_its_start_year():
    p = parse_period("FY2025Q1", 4)
    assert (p.start, p.end) == (T("2025-04-01"), T("2025-06-30"))
    q4 = parse_period("FY2025Q4", 4)
    assert (q4.start, q4.end) == (T("2026-01-01"), T("2026-03-31"))


def test_pandas_q_mar_names_the_same_quarter_differently():
    # The trap: pandas' Q-MAR names April-June 2025 by the year its fiscal year ends in.
    assert str(pd.Period("2025-04-01", freq="Q-MAR")) == "2026Q1"
    assert period_of("2025-04-01", 4).label == "FY2025Q1"
    assert period_of("2026-03-31", 4).label == "FY2025Q4"


def test_period_of_at_boundaries():
    assert period_of("2025-03-31", 4).label == "FY2024Q4"
    assert period_of("2025-04-01", 4).label == "FY2025Q1"
    assert period_of("2025-12-31").label == "2025Q4"
    assert period_of("2026-01-01").label == "2026Q1"
    assert period_of("2024-02-29").end == T("2024-03-31")


def test_other_start_months_follow_the_start_year_convention():
    p = parse_period("FY2025Q2", 10)  # FY2025 = Oct 2025 - Sep 2026; Q2 = Jan-Mar 2026
    assert (p.start, p.end) == (T("2026-01-01"), T("2026-03-31"))


def test_labels_must_match_the_calendar():
    with pytest.raises(WorkbookError, match="does not match the configured fiscal calendar"):
        parse_period("2025Q1", 4)
    with pytest.raises(WorkbookError, match="does not match"):
        parse_period("FY2025Q1", 1)
    with pytest.raises(WorkbookError, match="not a period label"):
        parse_period("2025-Q5")
    with pytest.raises(WorkbookError, match="1 to 12"):
        make_period(2025, 1, 13)


def test_shift_and_contains():
    p = parse_period("FY2025Q4", 4)
    assert p.shift(1).label == "FY2026Q1"
    assert p.shift(-4).label == "FY2024Q4"
    assert p.contains("2026-03-31") and p.contains("2026-01-01") and not p.contains("2026-04-01")


def test_periods_between_and_complete_periods():
    labels = [p.label for p in periods_between("2025-02-10", "2025-10-01")]
    assert labels == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    # data from 2025-02-10: 2025Q1 is only partly covered; as_of 2025-09-29 leaves 2025Q3 incomplete
    assert [p.label for p in complete_periods("2025-02-10", "2025-09-29")] == ["2025Q2"]
    assert [p.label for p in complete_periods("2025-04-01", "2025-09-30", 4)] == ["FY2025Q1", "FY2025Q2"]
    assert complete_periods(None, "2025-09-30") == []


def test_a_calendar_label_under_an_april_fiscal_year_names_the_matching_fiscal_quarter():
    from helpers.errors import WorkbookError

    # 2026Q2 = April-June 2026 = FY2026Q1 when the fiscal year starts in April (named by its start year)
    with pytest.raises(WorkbookError) as err:
        parse_period("2026Q2", 4)
    assert "Write the period as FY2026Q1 (the same months, 2026-04 to 2026-06" in str(err.value)
    # 2026Q1 = January-March 2026 = the fourth quarter of FY2025
    with pytest.raises(WorkbookError, match=r"Write the period as FY2025Q4 \(the same months, 2026-01 to 2026-03"):
        parse_period("2026Q1", 4)
