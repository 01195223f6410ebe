"""Pipeline metrics (contract section 3, "Pipeline"), pinned with hand-computed cases.

Period P = 2025Q3 = [2025-07-01, 2025-09-30], both days inclusive.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers.metrics.pipeline import PIPELINE_KEYS, pipeline_metrics, velocity

START, END = pd.Timestamp("2025-07-01"), pd.Timestamp("2025-09-30")
AS_OF = pd.Timestamp("2025-12-31")
NaT = pd.NaT
nan = float("nan")


def _opps(categorical_outcome: bool = False) -> pd.DataFrame:
    rows = [
        # id     created       closed        outcome amount channel
        ("O1", "2025-07-01", "2025-08-10", "won", 100.0, "web"),         # created first day of P; cycle 40 days
        ("O2", "2025-06-15", "2025-07-01", "won", 200.0, "web"),         # closed first day of P; cycle 16 days
        ("O3", "2025-09-30", "2025-09-30", "won", 300.0, "seminar"),     # created and closed last day of P; cycle 0
        ("O4", "2025-05-01", "2025-09-30", "lost", 50.0, "seminar"),     # lost on the last day of P
        ("O5", "2025-08-01", "2025-10-15", "won", 1000.0, "web"),        # won after P -> open at the end of P
        ("O6", "2025-08-20", None, "open", 400.0, "exhibition"),
        ("O7", "2025-09-01", None, "open", nan, "exhibition"),           # open, amount unknown
        ("O8", "2025-06-30", "2025-10-01", "lost", 70.0, "web"),         # created the day before P, lost after P
        ("O9", "2025-10-01", None, "open", 500.0, "web"),                # created the day after P
        ("O10", "2025-04-01", "2025-06-30", "won", 999.0, "web"),        # won the day before P
        ("O11", "2025-07-10", "2025-08-15", "lost", nan, "seminar"),     # lost, amount unknown
    ]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome", "amount", "channel"])
    frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[ns]")
    frame["closed_at"] = pd.to_datetime(frame["closed_at"]).astype("datetime64[ns]")
    frame["lead_id"] = nan
    frame["loss_reason"] = nan
    if categorical_outcome:
        frame["outcome"] = pd.Categorical(frame["outcome"], categories=["open", "won", "lost"])
    return frame


def _assert_plain(value):
    """Only plain JSON types (no numpy scalars) anywhere in the result."""
    if isinstance(value, dict):
        for v in value.values():
            _assert_plain(v)
    else:
        assert value is None or type(value) in (int, float, bool), (value, type(value))


# --------------------------------------------------------------------------- the full period
def test_full_period_hand_computed():
    m = pipeline_metrics(_opps(), START, END, AS_OF)
    # created in [07-01, 09-30]: O1 (first day), O3 (last day), O5, O6, O7, O11 = 6 (O2, O4, O8, O10 before; O9 after)
    assert m["opportunities_created"] == 6
    # won with closed_at in P: O1 (08-10), O2 (07-01, first day), O3 (09-30, last day) = 3; O5 (10-15) and O10 (06-30) not
    assert m["won_count"] == 3
    # lost in P: O4 (09-30), O11 (08-15) = 2; O8 (10-01) not
    assert m["lost_count"] == 2
    # win_rate 3 / (3 + 2) = 0.6
    assert m["win_rate"] == pytest.approx(0.6)
    # by amount: won 100+200+300 = 600; lost known amounts 50 (O11 unknown, skipped) -> 600 / 650
    assert m["win_rate_by_amount"] == pytest.approx(600 / 650)
    assert m["won_revenue"] == pytest.approx(600.0)
    # avg 600 / 3 = 200
    assert m["avg_deal_size"] == pytest.approx(200.0)
    # cycles: O1 07-01 -> 08-10 = 40, O2 06-15 -> 07-01 = 16, O3 0 -> 56 / 3
    assert m["sales_cycle_days"] == pytest.approx(56 / 3)
    # velocity 6 * 200 * 0.6 / (56/3) = 720 * 3 / 56 = 38.571428...
    assert m["sales_velocity"] == pytest.approx(2160 / 56)
    # open at 09-30: O5 (won 10-15, 1000), O6 (400), O7 (unknown), O8 (lost 10-01, 70) -> 4, 1470, 1 unknown
    assert m["open_pipeline"] == {"count": 4, "amount": pytest.approx(1470.0), "amount_unknown_count": 1}


def test_key_order_and_plain_types():
    m = pipeline_metrics(_opps(), START, END, AS_OF)
    assert list(m) == [
        "opportunities_created", "won_count", "lost_count", "win_rate", "win_rate_by_amount",
        "won_revenue", "avg_deal_size", "sales_cycle_days", "sales_velocity", "open_pipeline",
    ]
    assert tuple(m) == PIPELINE_KEYS
    assert list(m["open_pipeline"]) == ["count", "amount", "amount_unknown_count"]
    _assert_plain(m)
    json.dumps(m)  # JSON-ready


def test_categorical_outcome_gives_the_same_numbers():
    plain = pipeline_metrics(_opps(), START, END, AS_OF)
    categorical = pipeline_metrics(_opps(categorical_outcome=True), START, END, AS_OF)
    assert categorical == plain
    assert categorical["won_count"] == 3 and categorical["lost_count"] == 2


def test_input_not_mutated():
    opps = _opps(categorical_outcome=True)
    before = opps.copy(deep=True)
    pipeline_metrics(opps, START, END, AS_OF)
    pd.testing.assert_frame_equal(opps, before)


# --------------------------------------------------------------------------- as_of inside the period
def test_as_of_inside_period():
    m = pipeline_metrics(_opps(), START, END, pd.Timestamp("2025-09-15"))
    # created in [07-01, 09-15]: O1, O5, O6, O7, O11 = 5 (O3 created 09-30 does not exist yet)
    assert m["opportunities_created"] == 5
    # won by 09-15: O1, O2 = 2 (O3 closed 09-30 after as_of); lost: O11 = 1 (O4 lost 09-30 after as_of)
    assert (m["won_count"], m["lost_count"]) == (2, 1)
    assert m["win_rate"] == pytest.approx(2 / 3)
    # by amount: the only lost deal (O11) has no amount, so 300 / (300 + 0) would read 100%: null (lost_amounts_zero
    # applied to the period's own lost deals, helpers.metrics.pipeline.derive_pipeline)
    assert m["win_rate_by_amount"] is None
    assert m["won_revenue"] == pytest.approx(300.0)
    assert m["avg_deal_size"] == pytest.approx(150.0)
    # cycles 40 and 16 -> 28
    assert m["sales_cycle_days"] == pytest.approx(28.0)
    # velocity 5 * 150 * (2/3) / 28 = 500 / 28
    assert m["sales_velocity"] == pytest.approx(500 / 28)
    # open at 09-15: O4 (lost 09-30, after as_of -> still open, 50), O5 (1000), O6 (400), O7 (unknown),
    # O8 (70) -> 5, 1520, 1 unknown; O3 (created 09-30) does not exist yet
    assert m["open_pipeline"] == {"count": 5, "amount": pytest.approx(1520.0), "amount_unknown_count": 1}


def test_deal_closed_after_as_of_is_open():
    # Only O4: created 05-01, lost 09-30. Known on 09-29 it is still open, known on 09-30 it is lost.
    one = _opps().iloc[[3]]
    before = pipeline_metrics(one, START, END, pd.Timestamp("2025-09-29"))
    assert before["lost_count"] == 0
    assert before["win_rate"] is None
    assert before["open_pipeline"] == {"count": 1, "amount": 50.0, "amount_unknown_count": 0}
    after = pipeline_metrics(one, START, END, pd.Timestamp("2025-09-30"))
    assert after["lost_count"] == 1
    assert after["win_rate"] == 0.0
    assert after["open_pipeline"] == {"count": 0, "amount": 0.0, "amount_unknown_count": 0}


# --------------------------------------------------------------------------- zero denominators
def test_empty_period_gives_nulls_not_zeros():
    # 2025Q1: nothing created, won or lost in it (the first opportunity, O10, is created 04-01)
    m = pipeline_metrics(_opps(), pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31"), AS_OF)
    assert m == {
        "opportunities_created": 0, "won_count": 0, "lost_count": 0,
        "win_rate": None, "win_rate_by_amount": None,
        "won_revenue": 0.0,          # a true sum of no rows
        "avg_deal_size": None, "sales_cycle_days": None, "sales_velocity": None,
        "open_pipeline": {"count": 0, "amount": 0.0, "amount_unknown_count": 0},
    }


def test_only_lost_deals():
    # O4 (lost, 50) and O11 (lost, unknown amount) only
    m = pipeline_metrics(_opps().iloc[[3, 10]], START, END, AS_OF)
    assert (m["won_count"], m["lost_count"]) == (0, 2)
    assert m["win_rate"] == 0.0                       # 0 / 2: a real zero
    assert m["win_rate_by_amount"] == 0.0             # 0 / (0 + 50)
    assert m["won_revenue"] == 0.0
    assert m["avg_deal_size"] is None                 # 0 / 0
    assert m["sales_cycle_days"] is None
    assert m["sales_velocity"] is None


def test_amounts_all_unknown_or_zero_give_null_amount_rate():
    # O11 alone: lost with an unknown amount -> won 0 + lost 0 known -> 0/0
    m = pipeline_metrics(_opps().iloc[[10]], START, END, AS_OF)
    assert m["win_rate"] == 0.0
    assert m["win_rate_by_amount"] is None


def test_zero_day_cycle_gives_null_velocity():
    # P = the single day 09-30: O3 created and won that day (cycle 0), O4 lost that day
    day = pd.Timestamp("2025-09-30")
    m = pipeline_metrics(_opps(), day, day, AS_OF)
    assert (m["opportunities_created"], m["won_count"], m["lost_count"]) == (1, 1, 1)
    assert m["win_rate"] == pytest.approx(0.5)
    assert m["sales_cycle_days"] == 0.0
    assert m["sales_velocity"] is None


def test_empty_frame():
    empty = _opps().iloc[0:0]
    m = pipeline_metrics(empty, START, END, AS_OF)
    assert m["opportunities_created"] == 0
    assert m["win_rate"] is None
    assert m["open_pipeline"] == {"count": 0, "amount": 0.0, "amount_unknown_count": 0}


# --------------------------------------------------------------------------- velocity
def test_velocity_hand_computed():
    # 10 opportunities * 1000 * 0.25 / 50 days = 50 per day
    assert velocity(10, 1000.0, 0.25, 50.0) == pytest.approx(50.0)
    # 48 * 1654853.4 * 0.1774 / 49.73 = 283,358.3...: 48*1654853.4 = 79,432,963.2; *0.1774 = 14,091,407.67; /49.73
    assert velocity(48, 1654853.4, 0.1774, 49.73) == pytest.approx(14091407.671680 / 49.73)


@pytest.mark.parametrize("args", [
    (None, 1000.0, 0.25, 50.0),
    (10, None, 0.25, 50.0),
    (10, 1000.0, None, 50.0),
    (10, 1000.0, 0.25, None),
    (10, 1000.0, 0.25, 0),
    (10, 1000.0, 0.25, 0.0),
    (10, float("nan"), 0.25, 50.0),
])
def test_velocity_undefined(args):
    assert velocity(*args) is None


def test_velocity_accepts_numpy_and_returns_float():
    result = velocity(np.int64(4), np.float64(250.0), np.float64(0.5), np.float64(10.0))
    # 4 * 250 * 0.5 / 10 = 50
    assert result == pytest.approx(50.0)
    assert type(result) is float
    # zero opportunities is a real zero, not undefined
    assert velocity(0, 250.0, 0.5, 10.0) == 0.0


def test_won_deals_without_amounts_give_no_win_rate_by_amount_not_0():
    """2 deals won with no amount, 1 lost at 100: 0 / (0 + 100) would read 0%; null like won_revenue, with the
    reason won_amounts_missing (helpers.metrics.limits.explain_pipeline), not lost_amounts_zero."""
    from helpers.metrics.limits import DataFacts, explain_pipeline
    from helpers.metrics.pipeline import derive_pipeline

    row = derive_pipeline({"created": 3, "won": 2, "lost": 1, "won_amount": None, "lost_amount": 100.0, "won_known": 0,
                           "lost_known": 1, "cycle_days": 10.0})
    assert (row["win_rate"], row["win_rate_by_amount"], row["won_revenue"]) == (pytest.approx(2 / 3), None, None)
    said = explain_pipeline(row, DataFacts())
    assert said["null_reasons"]["win_rate_by_amount"] == "won_amounts_missing"
    assert said["null_reasons"]["won_revenue"] == "won_amounts_missing"
