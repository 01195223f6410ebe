"""Funnel analysis of notebook 02 (helpers/metrics/funnel_analysis.py), pinned with hand-computed cases.

Period P = 2025Q3 = [2025-07-01, 2025-09-30]; as_of 2025-12-31 unless said.
Every expected number is worked out by hand in the comment next to it.
"""
from __future__ import annotations

import json
import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from helpers.metrics.funnel_analysis import (
    MIN_GROUP, POP_KPIS, ROI_KEYS, SLA_KEYS, TRANSITIONS, change, follow_up_sla, funnel_metrics_extra,
    heatmap_table, marketing_roi, period_over_period, rate_table, stage_time_samples, stage_times,
    wilson_interval, with_target_fit,
)
from helpers.data.periods import make_period

START, END = pd.Timestamp("2025-07-01"), pd.Timestamp("2025-09-30")
AS_OF = pd.Timestamp("2025-12-31")
Q3 = make_period(2025, 3)


def _dates(frame, *columns):
    for c in columns:
        frame[c] = pd.to_datetime(frame[c], format="ISO8601").astype("datetime64[ns]")
    return frame


def _wilson_closed_form(k: int, n: int, confidence: float = 0.95):
    """(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), written out independently of statsmodels."""
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _isnull(value) -> bool:
    return value is None or pd.isna(value)


# --------------------------------------------------------------------------- frames for the rate table and ROI
def _leads() -> pd.DataFrame:
    rows = [
        # lead  created       channel    industry  mql_at        opportunity_id
        ("L1", "2025-07-01", "web", "IT", "2025-07-02", "O1"),
        ("L2", "2025-07-05", "web", "IT", "2025-07-06", None),
        ("L3", "2025-07-10", "web", "Retail", None, None),
        ("L4", "2025-08-01", "seminar", "IT", None, None),       # -> O2 via opps.lead_id; O2's own channel is web
        ("L5", "2025-08-02", "ads", None, None, None),
        ("L6", "2025-06-15", "web", "IT", None, "O4"),           # created before P: not in the cohort
        ("L7", "2025-09-01", "seminar", "Retail", None, None),
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "channel", "industry", "mql_at", "opportunity_id"])
    frame["sql_at"] = pd.NaT
    return _dates(frame, "created_at", "mql_at", "sql_at")


def _opps() -> pd.DataFrame:
    rows = [
        # opp   created       closed        outcome amount lead_id channel
        ("O1", "2025-07-15", "2025-08-30", "won", 100.0, "L1", "web"),
        ("O2", "2025-08-10", "2025-09-10", "won", 300.0, "L4", "web"),
        ("O3", "2025-07-20", "2025-09-15", "lost", 50.0, None, "web"),
        ("O4", "2025-07-01", None, "open", 70.0, None, "seminar"),
        ("O5", "2025-09-01", "2025-09-20", "lost", 20.0, None, "partner"),
        ("O6", "2025-09-05", "2025-09-25", "won", 200.0, None, "partner"),
    ]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome", "amount",
                                        "lead_id", "channel"])
    frame["outcome"] = pd.Categorical(frame["outcome"], categories=["open", "won", "lost"])
    return _dates(frame, "created_at", "closed_at")


def _spend() -> pd.DataFrame:
    frame = pd.DataFrame({
        "month": ["2025-06-01", "2025-07-01", "2025-08-01", "2025-09-01", "2025-10-01"],
        "channel": ["seminar", "web", "web", "ads", "web"],
        "amount": [40.0, 100.0, 50.0, 30.0, 999.0],
    })
    return _dates(frame, "month")


# --------------------------------------------------------------------------- Wilson
@pytest.mark.parametrize("k, n, low, high", [
    # 8/20: p = .4, z² = 3.8415, 1 + z²/n = 1.19207; centre (.4 + .09604)/1.19207 = .41611;
    # half 1.95996/1.19207 * sqrt(.012 + .0024009) = 1.64417 * .120004 = .19731 -> (.2188, .6134)
    (8, 20, 0.2188, 0.6134),
    # 0/10: 1 + z²/n = 1.38415; centre .19207/1.38415 = .13877 = half -> (0, .2775)
    (0, 10, 0.0, 0.2775),
    # 10/10: the mirror image of 0/10 -> (.7225, 1)
    (10, 10, 0.7225, 1.0),
])
def test_wilson_interval_known_values(k, n, low, high):
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=5e-5)
    assert got == pytest.approx(_wilson_closed_form(k, n), abs=1e-9)


def test_wilson_interval_other_confidence_and_zero_n():
    # 90%: z = 1.6449; 3/7 checked against the closed form only
    assert wilson_interval(3, 7, confidence=0.90) == pytest.approx(_wilson_closed_form(3, 7, 0.90), abs=1e-9)
    assert wilson_interval(3, 7, confidence=0.90)[1] < wilson_interval(3, 7)[1]   # narrower than 95%
    assert wilson_interval(0, 0) == (None, None)
    assert wilson_interval(None, None) == (None, None)
    assert MIN_GROUP == 20


# --------------------------------------------------------------------------- rate table
def test_rate_table_ranked_by_lead_to_opportunity_rate_with_small_groups_last():
    table = rate_table(_leads(), _opps(), "channel", START, END, AS_OF, min_group=2)
    # values (breakdown): leads web, seminar, ads; opps web, seminar, partner
    # cohort (leads created in P): web L1, L2, L3 -> 3 leads, opportunity L1 = 1 -> 1/3
    #   seminar L4, L7 -> 2 leads, opportunity L4 (O2) = 1 -> 0.5; ads L5 -> 1 lead (small); partner 0 (small)
    # ranked: seminar .5, web .333; then small ones in key order: ads, partner; total last
    assert list(table["channel"]) == ["seminar", "web", "ads", "partner", "total"]
    assert list(table["is_total"]) == [False, False, False, False, True]
    assert list(table["small_group"]) == [False, False, True, True, False]
    assert list(table["small_group"]) == list(table["small_lead_to_opportunity"])
    web = table.set_index("channel").loc["web"]
    assert (web["leads"], web["mql"], web["opportunity"], web["won"]) == (3, 2, 1, 1)   # mql L1, L2
    assert web["lead_to_opportunity_rate"] == pytest.approx(1 / 3)
    assert (web["lead_to_opportunity_rate_low"], web["lead_to_opportunity_rate_high"]) == \
        pytest.approx(_wilson_closed_form(1, 3))
    # pipeline side, the opportunity's own channel: web O1, O2, O3 created in P = 3; won O1, O2; lost O3
    assert (web["opportunities_created"], web["won_count"], web["lost_count"]) == (3, 2, 1)
    assert web["win_rate"] == pytest.approx(2 / 3)
    assert (web["win_rate_low"], web["win_rate_high"]) == pytest.approx(_wilson_closed_form(2, 3))
    assert web["won_revenue"] == pytest.approx(400.0)                                  # 100 + 300
    # seminar: the cohort won L4 (O2 won) but O2 is a web opportunity: won_count 0, revenue 0 here
    seminar = table.set_index("channel").loc["seminar"]
    assert (seminar["leads"], seminar["opportunity"], seminar["won"]) == (2, 1, 1)
    assert (seminar["opportunities_created"], seminar["won_count"], seminar["lost_count"]) == (1, 0, 0)  # O4 open
    assert seminar["won_revenue"] == 0.0


def test_rate_table_null_rates_never_zero():
    table = rate_table(_leads(), _opps(), "channel", START, END, AS_OF, min_group=2).set_index("channel")
    # seminar closed no deal: win rate and its interval are null (0 of 0), not 0
    for column in ("win_rate", "win_rate_low", "win_rate_high", "avg_deal_size"):
        assert _isnull(table.loc["seminar", column])
    # partner has no leads: the lead-side rates are null; ads has 1 lead and no opportunity: a real 0.0
    assert _isnull(table.loc["partner", "lead_to_opportunity_rate"])
    assert _isnull(table.loc["partner", "lead_to_opportunity_rate_low"])
    assert table.loc["ads", "lead_to_opportunity_rate"] == 0.0
    assert table.loc["ads", "lead_to_opportunity_rate_low"] == 0.0
    assert table.loc["ads", "lead_to_opportunity_rate_high"] == pytest.approx(_wilson_closed_form(0, 1)[1])
    assert table.loc["ads", "opportunities_created"] == 0 and _isnull(table.loc["ads", "win_rate"])


def test_rate_table_ranked_by_win_rate_and_total_from_all_rows():
    table = rate_table(_leads(), _opps(), "channel", START, END, AS_OF, min_group=2, rank_by="win_rate")
    # closed deals: web 3 (2/3), partner 2 (O5 lost, O6 won: 1/2), seminar 0, ads 0 -> small
    assert list(table["channel"]) == ["web", "partner", "ads", "seminar", "total"]
    assert list(table["small_group"]) == [False, False, True, True, False]
    total = table.iloc[-1]
    # total, from the whole frames: opps created O1..O6 = 6; won O1, O2, O6 = 3; lost O3, O5 = 2 -> 0.6
    assert (total["opportunities_created"], total["won_count"], total["lost_count"]) == (6, 3, 2)
    assert total["win_rate"] == pytest.approx(0.6)
    # the pooled rate, not the mean of the row rates ((2/3 + 1/2) / 2 = 0.583)
    assert total["win_rate"] != pytest.approx(table["win_rate"].iloc[:-1].mean())
    assert (total["win_rate_low"], total["win_rate_high"]) == pytest.approx(_wilson_closed_form(3, 5))
    assert total["won_revenue"] == pytest.approx(600.0)
    # cohort: L1, L2, L3, L4, L5, L7 = 6 leads; opportunity L1, L4 = 2 -> 1/3 (mean of row rates would be .278)
    assert (total["leads"], total["opportunity"], total["won"]) == (6, 2, 2)
    assert total["lead_to_opportunity_rate"] == pytest.approx(1 / 3)
    assert (total["lead_to_opportunity_rate_low"], total["lead_to_opportunity_rate_high"]) == \
        pytest.approx(_wilson_closed_form(2, 6))
    assert total["small_group"] == False  # noqa: E712  (5 closed >= 2)


def test_rate_table_unknown_row_is_never_ranked():
    leads = _leads()
    leads.loc[leads["lead_id"] == "L5", "channel"] = None
    table = rate_table(leads, _opps(), "channel", START, END, AS_OF, min_group=1)
    # ranked: seminar .5, web 1/3; unknown (L5, 0/1 = 0.0) is big enough but not ranked; partner (0 leads) small
    # -> unranked in key order: partner, unknown; total last
    assert list(table["channel"]) == ["seminar", "web", "partner", "unknown", "total"]
    assert table.set_index("channel").loc["unknown", "lead_to_opportunity_rate"] == 0.0
    assert table.set_index("channel").loc["unknown", "small_group"] == False  # noqa: E712


def test_rate_table_default_min_group_marks_everything_small_and_keeps_key_order():
    table = rate_table(_leads(), _opps(), "channel", START, END, AS_OF)
    # every row has fewer than 20 leads -> nothing ranked: key order, total last
    assert list(table["channel"]) == ["ads", "partner", "seminar", "web", "total"]
    assert table["small_group"].tolist() == [True] * 5


def test_rate_table_as_of_cut():
    as_of = pd.Timestamp("2025-08-31")
    table = rate_table(_leads(), _opps(), "channel", START, END, as_of, min_group=1).set_index("channel")
    # web: O1 won 08-30 counts; O2 (09-10) and O3 (09-15) closed after as_of are still open
    assert (table.loc["web", "won_count"], table.loc["web", "lost_count"]) == (1, 0)
    assert table.loc["web", "won_revenue"] == pytest.approx(100.0)
    # seminar: L7 (created 09-01) does not exist yet; L4 reached O2 (created 08-10) but has not won yet
    assert (table.loc["seminar", "leads"], table.loc["seminar", "opportunity"], table.loc["seminar", "won"]) == (1, 1, 0)
    # partner: O5, O6 created 09-01 / 09-05 do not exist yet, so there is no partner row at all
    assert "partner" not in table.index


def test_rate_table_without_leads_and_by_target_fit():
    table = rate_table(None, _opps(), "channel", START, END, AS_OF, min_group=1)
    assert table["leads"].isna().all() and table["lead_to_opportunity_rate"].isna().all()
    assert table.iloc[-1]["won_count"] == 3
    leads, opps = with_target_fit(_leads(), _opps(), ["IT"], [])
    table = rate_table(leads, opps, "target_fit", START, END, AS_OF, min_group=1).set_index("target_fit")
    # leads in P: target L1, L2, L4 (IT) -> opportunity L1, L4 = 2/3; non_target L3, L7; unknown L5
    assert table.loc["target", "lead_to_opportunity_rate"] == pytest.approx(2 / 3)
    assert table.loc["non_target", "leads"] == 2 and table.loc["non_target", "opportunity"] == 0
    assert "target_fit" not in _leads().columns   # inputs unchanged


# --------------------------------------------------------------------------- stage times
def _stage_leads() -> pd.DataFrame:
    rows = [
        # lead  created       mql_at        sql_at        opportunity_id
        ("S1", "2025-07-01", "2025-07-05", "2025-07-15", "X1"),
        ("S2", "2025-07-10", "2025-07-08", "2025-07-20", None),   # mql before creation: -2 days; -> X2 via opp
        ("S3", "2025-06-01", "2025-06-20", "2025-07-04", "X3"),
        ("S4", "2025-08-01", "2025-08-11", "2025-10-05", None),
        ("S5", "2025-09-01", "2025-09-02", None, None),
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "mql_at", "sql_at", "opportunity_id"])
    return _dates(frame, "created_at", "mql_at", "sql_at")


def _stage_opps() -> pd.DataFrame:
    rows = [
        ("X1", "2025-07-25", "2025-09-04", "won", "S1"),
        ("X2", "2025-07-18", "2025-08-17", "lost", "S2"),
        ("X3", "2025-10-02", None, "open", None),
        ("X4", "2025-06-01", "2025-07-01", "won", None),
        ("X5", "2025-05-01", "2025-08-31", "lost", None),
        ("X6", "2025-09-01", "2025-08-31", "lost", None),   # closed before created: -1 day
    ]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome", "lead_id"])
    frame["amount"] = 1.0
    return _dates(frame, "created_at", "closed_at")


def test_stage_times_in_period():
    table = stage_times(_stage_leads(), _stage_opps(), AS_OF, START, END).set_index("transition")
    assert list(table.index) == list(TRANSITIONS)
    # lead_to_mql, mql_at in P: S1 4, S2 -2 (negative, left out), S4 10, S5 1 (S3's mql 06-20 is before P)
    #   [1, 4, 10]: median 4; p90 at position .9*2 = 1.8 -> 4 + .8*6 = 8.8
    assert table.loc["lead_to_mql"].tolist() == pytest.approx([3, 4.0, 8.8, 1])
    # mql_to_sql, sql_at in P: S1 10, S2 12, S3 14 (S4's sql 10-05 is after P) -> median 12; p90 12 + .8*2 = 13.6
    assert table.loc["mql_to_sql"].tolist() == pytest.approx([3, 12.0, 13.6, 0])
    # sql_to_opportunity: S1 07-15 -> X1 07-25 = 10; S2 07-20 -> X2 07-18 = -2 (negative); X3 created 10-02 not in P
    assert table.loc["sql_to_opportunity"].tolist() == pytest.approx([1, 10.0, 10.0, 1])
    # opportunity_to_close, closed in P: X1 41, X2 30, X4 30, X5 122, X6 -1 (negative)
    #   [30, 30, 41, 122]: median 35.5; p90 at position 2.7 -> 41 + .7*81 = 97.7
    assert table.loc["opportunity_to_close"].tolist() == pytest.approx([4, 35.5, 97.7, 1])


def test_stage_times_all_history_cut_at_as_of():
    as_of = pd.Timestamp("2025-08-31")
    table = stage_times(_stage_leads(), _stage_opps(), as_of).set_index("transition")
    # lead_to_mql up to 08-31: S1 4, S2 -2 (negative), S3 19, S4 10; S5's mql 09-02 is after as_of
    #   [4, 10, 19]: median 10; p90 10 + .8*9 = 17.2
    assert table.loc["lead_to_mql"].tolist() == pytest.approx([3, 10.0, 17.2, 1])
    # sql_to_opportunity: X1 07-25 - S1 sql 07-15 = 10; S2 -2; S3 -> X3 created 10-02 after as_of
    assert table.loc["sql_to_opportunity"].tolist() == pytest.approx([1, 10.0, 10.0, 1])
    # opportunity_to_close: X2 30, X4 30, X5 122; X1 closed 09-04 after as_of; X6 created 09-01 does not exist yet
    #   [30, 30, 122]: median 30; p90 30 + .8*92 = 103.6; no negative
    assert table.loc["opportunity_to_close"].tolist() == pytest.approx([3, 30.0, 103.6, 0])


def test_stage_time_samples_are_the_values_summarised():
    samples = stage_time_samples(_stage_leads(), _stage_opps(), AS_OF, START, END)
    assert list(samples.columns) == ["transition", "days"]
    got = {name: sorted(samples.loc[samples["transition"] == name, "days"]) for name in TRANSITIONS}
    assert got == {"lead_to_mql": [1, 4, 10], "mql_to_sql": [10, 12, 14], "sql_to_opportunity": [10],
                   "opportunity_to_close": [30, 30, 41, 122]}
    # without leads only the opportunity transition is left; stage_times shows the lead ones as null
    assert set(stage_time_samples(None, _stage_opps(), AS_OF)["transition"]) == {"opportunity_to_close"}
    table = stage_times(None, _stage_opps(), AS_OF).set_index("transition")
    assert _isnull(table.loc["lead_to_mql", "n"]) and _isnull(table.loc["lead_to_mql", "median_days"])


def _stage_gaps_by_numpy(leads, opps, as_of, start, end):
    """The stage gaps written out with plain pandas/numpy (a reference independent of the engine's SQL)."""
    last = min(end, as_of)
    keep = lambda e, l: e.notna() & l.notna() & (e <= as_of) & (l <= as_of) & (l >= start) & (l <= last)
    gaps = {}
    for name, e, l in (("lead_to_mql", leads.created_at, leads.mql_at), ("mql_to_sql", leads.mql_at, leads.sql_at)):
        gaps[name] = (l - e)[keep(e, l)].dt.days.to_numpy()
    links = pd.concat([leads[["lead_id", "opportunity_id"]], opps[["lead_id", "opportunity_id"]]]).dropna()
    links = links.apply(lambda c: c.str.strip()).drop_duplicates()
    lead_side = leads.assign(lead_id=leads.lead_id.str.strip())[["lead_id", "created_at", "sql_at"]]
    opp_side = opps.assign(opportunity_id=opps.opportunity_id.str.strip())[["opportunity_id", "created_at"]]
    j = links.merge(lead_side, on="lead_id").merge(opp_side, on="opportunity_id", suffixes=("", "_opp"))
    j = j[j.created_at <= as_of]
    gaps["sql_to_opportunity"] = (j.created_at_opp - j.sql_at)[keep(j.sql_at, j.created_at_opp)].dt.days.to_numpy()
    closed = opps[opps.outcome.isin(["won", "lost"])]
    gaps["opportunity_to_close"] = (closed.closed_at - closed.created_at)[keep(closed.created_at, closed.closed_at)].dt.days.to_numpy()
    return gaps


def test_stage_times_match_numpy_on_random_data():
    rng = np.random.default_rng(7)
    n_leads, n_opps = 400, 160
    day0 = pd.Timestamp("2025-01-01")
    offsets = lambda n, scale: pd.to_timedelta(rng.integers(-5, scale, n), unit="D")
    created = day0 + pd.to_timedelta(rng.integers(0, 360, n_leads), unit="D")
    mql = (created + offsets(n_leads, 40)).where(rng.random(n_leads) < 0.7)
    sql = (mql + offsets(n_leads, 60)).where(rng.random(n_leads) < 0.6)
    opp_ids = [f" O{i} " if i % 7 == 0 else f"O{i}" for i in range(n_opps)]   # padded ids match trimmed links
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n_leads)], "created_at": created, "mql_at": mql, "sql_at": sql,
                          "opportunity_id": [opp_ids[i].strip() if i < n_opps and i % 2 else None for i in range(n_leads)]})
    opp_created = day0 + pd.to_timedelta(rng.integers(0, 400, n_opps), unit="D")
    outcome = rng.choice(["won", "lost", "open"], n_opps)
    opps = pd.DataFrame({"opportunity_id": opp_ids, "created_at": opp_created,
                         "closed_at": (opp_created + offsets(n_opps, 120)).where(outcome != "open"), "outcome": outcome,
                         "lead_id": [f"L{i}" if i % 3 else None for i in range(n_opps)], "amount": 1.0})
    as_of, start, end = pd.Timestamp("2025-11-15"), pd.Timestamp("2025-04-01"), pd.Timestamp("2025-12-31")
    table = stage_times(leads, opps, as_of, start, end).set_index("transition")
    for name, gaps in _stage_gaps_by_numpy(leads, opps, as_of, start, end).items():
        good = gaps[gaps >= 0]
        assert len(good) > 10, name   # the data set exercises every transition
        assert table.loc[name, "n"] == len(good) and table.loc[name, "negative"] == (gaps < 0).sum(), name
        assert table.loc[name, "median_days"] == pytest.approx(np.median(good)), name
        assert table.loc[name, "p90_days"] == pytest.approx(np.percentile(good, 90)), name


# --------------------------------------------------------------------------- follow-up SLA
def _sla_leads() -> pd.DataFrame:
    rows = [
        # lead  created       mql_at        first_sales_touch_at   owner
        ("M1", "2025-06-25", "2025-07-01", "2025-07-02T09:00", "A"),   # 33 h: hit
        ("M2", "2025-06-25", "2025-07-01", "2025-07-03T00:00", "A"),   # exactly 48 h: hit
        ("M3", "2025-06-25", "2025-07-01", "2025-07-03T00:01", "A"),   # 48 h 1 min: late
        ("M4", "2025-07-05", "2025-07-10", None, "B"),                 # untouched
        ("M6", "2025-09-01", "2025-09-29", None, "B"),                 # deadline 10-01 00:00 = end of as_of: due, untouched
        ("M7", "2025-09-01", "2025-09-30", "2025-09-30T10:00", None),  # deadline 10-02: not yet due
        ("M8", "2025-06-01", "2025-06-30", "2025-06-30T10:00", "A"),   # MQL before P
        ("M9", "2025-07-20", "2025-08-01", "2025-10-02T10:00", "B"),   # touch after as_of: untouched as known
        ("M10", "2025-10-01", "2025-09-15", "2025-09-15T10:00", "C"),  # lead created after as_of: does not exist
        ("M11", "2025-07-01", "2025-07-20", "2025-07-19T15:00", "B"),  # touched the day before MQL: hit, 0 h
        ("M12", "2025-07-01", None, "2025-07-02T10:00", "B"),          # never an MQL
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "mql_at", "first_sales_touch_at", "owner"])
    return _dates(frame, "created_at", "mql_at", "first_sales_touch_at")


SLA_AS_OF = pd.Timestamp("2025-09-30")


def test_follow_up_sla_hit_miss_untouched_and_too_young():
    result = follow_up_sla(_sla_leads(), SLA_AS_OF, 48, START, END)
    assert list(result) == list(SLA_KEYS)
    # due MQLs of P: M1, M2, M3, M4, M6, M9, M11 = 7; hit M1, M2, M11 = 3; late M3; untouched M4, M6, M9 = 3
    assert (result["mqls"], result["touched_within_sla"], result["touched_late"], result["untouched"],
            result["not_yet_due"]) == (7, 3, 1, 3, 1)
    assert result["hit_rate"] == pytest.approx(3 / 7)
    assert (result["hit_rate_low"], result["hit_rate_high"]) == pytest.approx(_wilson_closed_form(3, 7))
    assert result["untouched_share"] == pytest.approx(3 / 7)
    # hours to touch: M11 -9 -> 0, M1 33, M2 48, M3 48.0167 -> median (33 + 48) / 2
    assert result["median_hours_to_touch"] == pytest.approx(40.5)
    json.dumps(result)


def test_follow_up_sla_window_of_24_hours_and_all_history():
    # 24 h: M1 33 h is now late, M2 late, M3 late, M11 still hit; M6's deadline 09-30 00:00 is due, M7 10-01 00:00 too
    result = follow_up_sla(_sla_leads(), SLA_AS_OF, 24, START, END)
    # due: M1, M2, M3, M4, M6, M7, M9, M11 = 8; hit M11 and M7 (touched 10 h after) = 2
    assert (result["mqls"], result["touched_within_sla"], result["touched_late"], result["untouched"],
            result["not_yet_due"]) == (8, 2, 3, 3, 0)
    # all history (start None) at 48 h adds M8 (hit, 10 h): 8 due, 4 hit
    result = follow_up_sla(_sla_leads(), SLA_AS_OF, 48)
    assert (result["mqls"], result["touched_within_sla"]) == (8, 4)
    assert result["hit_rate"] == pytest.approx(0.5)


def test_follow_up_sla_by_owner():
    table = follow_up_sla(_sla_leads(), SLA_AS_OF, 48, START, END, by="owner", min_group=4)
    # owners of the leads existing on as_of: A, B, unknown (M7); C's only lead is created after as_of
    assert list(table["owner"]) == ["A", "B", "unknown", "total"]
    t = table.set_index("owner")
    # A: M1, M2 hit, M3 late -> 2/3
    assert (t.loc["A", "mqls"], t.loc["A", "touched_within_sla"], t.loc["A", "untouched"]) == (3, 2, 0)
    assert t.loc["A", "hit_rate"] == pytest.approx(2 / 3)
    # B: M4, M6, M9 untouched, M11 hit -> 1/4 hit, 3/4 untouched (the MQLs left for later)
    assert (t.loc["B", "mqls"], t.loc["B", "untouched"]) == (4, 3)
    assert t.loc["B", "hit_rate"] == pytest.approx(0.25) and t.loc["B", "untouched_share"] == pytest.approx(0.75)
    # B's only touch (M11) came 9 h before the MQL date: counted as 0 hours, not -9
    assert t.loc["B", "median_hours_to_touch"] == 0.0
    # unknown: only M7, not yet due -> 0 MQLs, rates null
    assert t.loc["unknown", "mqls"] == 0 and t.loc["unknown", "not_yet_due"] == 1
    assert _isnull(t.loc["unknown", "hit_rate"]) and _isnull(t.loc["unknown", "hit_rate_low"])
    assert t.loc["total", "mqls"] == 7
    assert list(t["small_group"]) == [True, False, True, False]   # fewer than 4 MQLs


def test_follow_up_sla_null_without_data_and_same_as_checklist_evidence():
    assert follow_up_sla(None, SLA_AS_OF, 48) is None
    assert follow_up_sla(_sla_leads().drop(columns="first_sales_touch_at"), SLA_AS_OF, 48) is None
    empty = follow_up_sla(_sla_leads(), SLA_AS_OF, 48, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-03-31"))
    assert empty["mqls"] == 0 and empty["hit_rate"] is None and empty["untouched_share"] is None
    assert empty["median_hours_to_touch"] is None
    from helpers.metrics.checklist import evidence
    item5 = evidence(_sla_leads(), _stage_opps(), SLA_AS_OF, 48)[5]
    assert item5["value"] == pytest.approx(follow_up_sla(_sla_leads(), SLA_AS_OF, 48)["hit_rate"])


# --------------------------------------------------------------------------- marketing ROI
def test_marketing_roi_by_channel():
    table = marketing_roi(_spend(), _leads(), _opps(), START, END, AS_OF)
    assert list(table.columns) == ["channel", "is_total", *ROI_KEYS]
    # channels: spend web, ads, seminar; leads web, seminar, ads; opps web, seminar, partner
    assert list(table["channel"]) == ["ads", "partner", "seminar", "web", "total"]
    t = table.set_index("channel")
    # web: spend 07 + 08 = 150 (October's 999 is after P); leads L1, L2, L3 = 3; opps O1, O2, O3 = 3,
    #   pipeline 100 + 300 + 50 = 450; won O1 + O2 = 400 (closed in P); CPL 50, cost per opportunity 50;
    #   cohort basis: web leads of P L1 (-> O1 won 100), L2, L3 -> 100 to as_of; return 100 / 150 (O2 is L4's, a seminar lead)
    assert t.loc["web", ROI_KEYS].tolist() == pytest.approx([150.0, 3, 3, 450.0, 400.0, 100.0, 50.0, 50.0, 100 / 150])
    # ads: spend 30 but no deal: CPL 30/1; cost per opportunity null (0 opps); return 0/30 = 0.0 (a real 0)
    assert t.loc["ads", ["spend", "leads", "opportunities_created", "won_revenue", "cost_per_lead"]].tolist() \
        == pytest.approx([30.0, 1, 0, 0.0, 30.0])
    assert _isnull(t.loc["ads", "cost_per_opportunity"]) and t.loc["ads", "return_on_spend"] == 0.0
    # partner: deals (O5 lost 20, O6 won 200) but no spend: costs and return null, never 0 or infinite
    assert t.loc["partner", ["spend", "opportunities_created", "pipeline_amount", "won_revenue"]].tolist() \
        == pytest.approx([0.0, 2, 220.0, 200.0])
    for column in ("cost_per_lead", "cost_per_opportunity", "return_on_spend"):
        assert _isnull(t.loc["partner", column])
    # seminar: June's 40 is before P -> spend 0 in P; O4 open 70; its lead L4 brought O2 (won 300): revenue, but
    # no spend in P -> no ratio (not infinite, not the 300 credited to a channel that paid for it)
    assert t.loc["seminar", ["spend", "leads", "pipeline_amount", "cohort_won_revenue"]].tolist() == pytest.approx([0.0, 2, 70.0, 300.0])
    assert _isnull(t.loc["seminar", "return_on_spend"])
    # total: spend 150 + 30 = 180; leads 6; opps 6; pipeline 740; won 600; cohort revenue O1 + O2 = 400; CPL 30; CPO 30;
    # return counts the channels with spend only: (web 100 + ads 0) / 180, never seminar's 300 that had no spend
    assert t.loc["total", ROI_KEYS].tolist() == pytest.approx([180.0, 6, 6, 740.0, 600.0, 400.0, 30.0, 30.0, 100 / 180])


def test_marketing_roi_as_of_cut_and_no_spend():
    assert marketing_roi(None, _leads(), _opps(), START, END, AS_OF) is None
    t = marketing_roi(_spend(), _leads(), _opps(), START, END, pd.Timestamp("2025-08-15")).set_index("channel")
    # months whose first day is in [07-01, 08-15]: web 07 + 08 = 150; ads (09-01) not yet
    assert t.loc["total", "spend"] == pytest.approx(150.0) and t.loc["ads", "spend"] == 0.0
    # web won by 08-15: none (O1 08-30) -> return 0.0; opps created by 08-15: O1, O2, O3 (web), O4 (seminar)
    assert t.loc["web", "won_revenue"] == 0.0 and t.loc["web", "return_on_spend"] == 0.0
    assert t.loc["total", "opportunities_created"] == 4
    # leads created by 08-15: L1..L5 = 5 (L7 09-01 not yet) -> total CPL 150/5
    assert t.loc["total", "cost_per_lead"] == pytest.approx(30.0)


# --------------------------------------------------------------------------- period over period
def _pop_frames():
    opps = pd.DataFrame([
        ("P1", "2025-07-10", "2025-08-09", "won", 200.0, "K1"),   # 30 days
        ("P2", "2025-07-20", "2025-09-18", "lost", 100.0, None),
        ("P3", "2025-04-05", "2025-05-05", "won", 100.0, "K3"),   # 30 days
        ("P4", "2025-04-10", "2025-06-09", "won", 100.0, "K4"),   # 60 days
        ("P5", "2024-07-01", "2024-08-30", "lost", 50.0, None),
    ], columns=["opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id"])
    opps["channel"] = "web"
    leads = pd.DataFrame([
        ("K1", "2025-07-01", None), ("K2", "2025-08-01", None),
        ("K3", "2025-04-01", None), ("K4", "2025-04-02", None), ("K5", "2025-05-01", "2025-05-03"),
        ("K6", "2025-05-02", None),
    ], columns=["lead_id", "created_at", "mql_at"])
    leads["channel"] = "web"
    return _dates(leads, "created_at", "mql_at"), _dates(opps, "created_at", "closed_at")


def test_period_over_period():
    leads, opps = _pop_frames()
    table = period_over_period(leads, opps, Q3, pd.Timestamp("2025-09-30"))
    assert table.attrs["periods"] == {"current": "2025Q3", "previous": "2025Q2", "year_ago": "2024Q3"}
    assert list(table["kpi"]) == list(POP_KPIS)
    t = table.set_index("kpi")
    # opportunities created: Q3 P1, P2 = 2; Q2 P3, P4 = 2; 2024Q3 P5 = 1 -> change 0.0 and +1.0
    assert t.loc["opportunities_created", ["current", "previous", "year_ago", "change_vs_previous",
                                           "change_vs_year_ago"]].tolist() == pytest.approx([2, 2, 1, 0.0, 1.0])
    # win rate: 1/2, 2/2, 0/1 -> vs previous .5/1 - 1 = -.5 and -.5 points; vs a year ago 0 -> change null, +.5 points
    row = t.loc["win_rate"]
    assert row[["current", "previous", "year_ago", "change_vs_previous", "diff_vs_previous", "diff_vs_year_ago"]] \
        .tolist() == pytest.approx([0.5, 1.0, 0.0, -0.5, -0.5, 0.5])
    assert _isnull(row["change_vs_year_ago"]) and row["is_rate"]
    # won revenue 200, 200, 0.0 -> 0.0 and null; no points for money
    assert t.loc["won_revenue", ["current", "previous", "year_ago", "change_vs_previous"]].tolist() \
        == pytest.approx([200.0, 200.0, 0.0, 0.0])
    assert _isnull(t.loc["won_revenue", "change_vs_year_ago"]) and _isnull(t.loc["won_revenue", "diff_vs_previous"])
    # avg deal 200 vs 100 -> +1.0; cycle 30 vs 45 -> -1/3; velocity 2*200*.5/30 = 6.667 vs 2*100*1/45 = 4.444 -> +.5
    assert t.loc["avg_deal_size", "change_vs_previous"] == pytest.approx(1.0)
    assert t.loc["sales_cycle_days", "change_vs_previous"] == pytest.approx(-1 / 3)
    assert t.loc["sales_velocity", ["current", "previous", "change_vs_previous"]].tolist() \
        == pytest.approx([20 / 3, 200 / 45, 0.5])
    assert _isnull(t.loc["sales_velocity", "year_ago"])
    # leads 2 vs 4 (-.5) vs 0 (null)
    assert t.loc["leads", ["current", "previous", "year_ago", "change_vs_previous"]].tolist() \
        == pytest.approx([2, 4, 0, -0.5])
    assert _isnull(t.loc["leads", "change_vs_year_ago"])
    # cohort lead -> opportunity: Q3 K1 of K1, K2 = .5; Q2 K3, K4 of 4 = .5; 2024Q3 no lead -> null
    assert t.loc["lead_to_opportunity_rate", ["current", "previous", "change_vs_previous", "diff_vs_previous"]] \
        .tolist() == pytest.approx([0.5, 0.5, 0.0, 0.0])
    # CVR (mql_rate): Q3 K1 (via its opportunity) of 2 = .5; Q2 K3, K4, K5 of 4 = .75 -> -1/3, -.25 points
    assert t.loc["mql_rate", ["current", "previous", "change_vs_previous", "diff_vs_previous"]].tolist() \
        == pytest.approx([0.5, 0.75, -1 / 3, -0.25])
    # maturity: typical days = p80 of K1 9, K3 4, K4 8 -> 8 + .6*1 = 8.6; Q3 observed 0 days -> immature;
    # Q2 observed 92 days -> mature
    assert t.loc["lead_to_opportunity_rate", "immature_current"] == True  # noqa: E712
    assert t.loc["lead_to_opportunity_rate", "immature_previous"] == False  # noqa: E712
    assert _isnull(t.loc["win_rate", "immature_current"])


def test_change_rule():
    assert change(3, 2) == pytest.approx(0.5)
    assert change(0, 2) == -1.0
    assert change(3, 0) is None and change(None, 2) is None and change(3, None) is None


# --------------------------------------------------------------------------- heatmap
def test_heatmap_table():
    leads, opps = _leads(), _opps()
    rates = heatmap_table(leads, opps, "channel", "industry", START, END, AS_OF, min_group=2)
    # cohort L1..L5, L7: rows ads, seminar, web; columns IT, Retail, unknown
    assert list(rates.index) == ["ads", "seminar", "web"] and list(rates.columns) == ["IT", "Retail", "unknown"]
    # web x IT: L1, L2 -> opportunity L1 -> 0.5; every other cell has fewer than 2 leads -> NaN
    assert rates.loc["web", "IT"] == pytest.approx(0.5)
    assert int(rates.notna().sum().sum()) == 1
    counts = heatmap_table(leads, opps, "channel", "industry", START, END, AS_OF, value="leads")
    # web IT 2, web Retail 1 (L3), seminar IT 1 (L4), seminar Retail 1 (L7), ads unknown 1 (L5)
    assert counts.to_dict() == {"IT": {"ads": 0, "seminar": 1, "web": 2}, "Retail": {"ads": 0, "seminar": 1, "web": 1},
                                "unknown": {"ads": 1, "seminar": 0, "web": 0}}
    rates1 = heatmap_table(leads, opps, "channel", "industry", START, END, AS_OF, min_group=1)
    # one lead is enough now: seminar IT L4 -> 1.0; seminar Retail L7 -> 0.0; empty cells stay NaN
    assert rates1.loc["seminar", "IT"] == 1.0 and rates1.loc["seminar", "Retail"] == 0.0
    assert np.isnan(rates1.loc["ads", "IT"])
    assert heatmap_table(None, opps, "channel", "industry", START, END, AS_OF) is None


# --------------------------------------------------------------------------- metrics.json pieces
def test_funnel_metrics_extra():
    opps = _opps()
    opps.loc[opps["opportunity_id"] == "O6", "channel"] = "unknown"
    leads = _leads()
    leads["first_sales_touch_at"] = pd.to_datetime(["2025-07-02 10:00", None, None, None, None, None, None])
    extra = funnel_metrics_extra(leads, opps, _spend(), Q3, AS_OF, 48)
    assert set(extra) >= {"sla", "roi", "revenue_traceable_share", "stage_times"}
    json.dumps(extra)
    # won in P: O1 100 (web), O2 300 (web), O6 200 (unknown) -> traceable 400 / 600
    assert extra["revenue_traceable_share"] == pytest.approx(2 / 3)
    # MQLs of P: L1 (07-02, touched 10 h later) and L2 (07-06, untouched) -> 1/2
    assert (extra["sla"]["mqls"], extra["sla"]["touched_within_sla"], extra["sla"]["untouched"]) == (2, 1, 1)
    assert extra["sla"]["hit_rate"] == pytest.approx(0.5)
    assert extra["roi"]["web"]["return_on_spend"] == pytest.approx(100 / 150)   # L1 -> O1 won 100, cohort basis
    assert extra["roi"]["partner"]["return_on_spend"] is None
    assert extra["roi_total"]["spend"] == pytest.approx(180.0)
    # stage times of P: opportunity_to_close O1 46, O2 31, O3 57, O5 19, O6 20 -> median 31
    assert extra["stage_times"]["opportunity_to_close"]["n"] == 5
    assert extra["stage_times"]["opportunity_to_close"]["median_days"] == pytest.approx(31.0)
    assert set(extra["stage_times"]) == set(TRANSITIONS)
    none = funnel_metrics_extra(None, opps, None, Q3, AS_OF, 48)
    assert none["sla"] is None and none["roi"] is None and none["roi_total"] is None
    assert none["stage_times"]["lead_to_mql"]["n"] is None
    assert "null_reasons" not in extra


def test_the_traceable_share_says_why_it_is_null():
    """Q4 2025: nothing won (O1..O6 close by 09-25) -> no_won_deals; Q3 without any amount -> no_amounts; Q3 with the
    won deals' amounts (O1, O2, O6) missing, the lost ones' kept -> no_closed_amounts (won deals, no known revenue)."""
    opps = _opps()
    q4 = funnel_metrics_extra(None, opps, None, make_period(2025, 4), AS_OF, 48)
    assert q4["revenue_traceable_share"] is None and q4["null_reasons"] == {"revenue_traceable_share": "no_won_deals"}
    blank = opps.assign(amount=float("nan"))
    assert funnel_metrics_extra(None, blank, None, Q3, AS_OF, 48)["null_reasons"] == {
        "revenue_traceable_share": "no_amounts"}
    unknown_won = opps.assign(amount=opps["amount"].where(opps["outcome"] != "won"))
    assert funnel_metrics_extra(None, unknown_won, None, Q3, AS_OF, 48)["null_reasons"] == {
        "revenue_traceable_share": "no_closed_amounts"}


def test_marketing_roi_without_leads_has_no_cohort_return():
    """No leads table: the revenue a period's spend bought is unknown, so there is no return (null, reason no_leads)."""
    t = marketing_roi(_spend(), None, _opps(), START, END, AS_OF).set_index("channel")
    assert all(_isnull(v) for v in t["cohort_won_revenue"]) and all(_isnull(v) for v in t["return_on_spend"])
    assert t.loc["web", "won_revenue"] == 400.0   # the period's closed revenue is still known
    extra = funnel_metrics_extra(None, _opps(), _spend(), Q3, AS_OF, 48)
    assert extra["roi_total"]["null_reasons"] == {"cohort_won_revenue": "no_leads", "return_on_spend": "no_leads"}


def test_stage_time_boxes_are_matplotlibs_box_statistics_of_the_samples():
    """The box plot's numbers come from the engine; they equal matplotlib.cbook.boxplot_stats (seaborn's boxplot) of
    the day values themselves. Hand check, opportunity_to_close in P: [30, 30, 41, 122]: q1 30, median 35.5,
    q3 41 + .25*81 = 61.25; reach 1.5 * 31.25 = 46.875, so 122 > 108.125 is out: the lower whisker is 30, and the
    largest day within reach, 41, lies inside the box, so the upper whisker stops at q3 (matplotlib's rule)."""
    from matplotlib.cbook import boxplot_stats

    from helpers.metrics.funnel_analysis import stage_time_boxes

    boxes = stage_time_boxes(_stage_leads(), _stage_opps(), AS_OF, START, END).set_index("transition")
    assert boxes.loc["opportunity_to_close"].tolist() == pytest.approx([4, 30, 35.5, 61.25, 30, 61.25])
    for args in ((_stage_leads(), _stage_opps(), AS_OF, START, END), (_stage_leads(), _stage_opps(), AS_OF),
                 (None, _stage_opps(), AS_OF)):
        boxes = stage_time_boxes(*args).set_index("transition")
        samples = stage_time_samples(*args)
        assert list(boxes.index) == [t for t in TRANSITIONS if (samples["transition"] == t).any()]
        for name, row in boxes.iterrows():
            days = samples.loc[samples["transition"] == name, "days"].to_numpy()
            expected = boxplot_stats(days)[0]
            assert row["n"] == len(days)
            assert [row[k] for k in ("q1", "median", "q3", "whislo", "whishi")] == pytest.approx(
                [expected[k] for k in ("q1", "med", "q3", "whislo", "whishi")])


def test_the_stage_time_boxes_fetch_one_row_per_transition_whatever_the_size(monkeypatch):
    """A box plot's data is four rows from the engine, for the sample and for the sample twice over (issue 26)."""
    from counting_backend import Counting

    from helpers.config import load_config
    from helpers.data.load import load_workbook
    from helpers.metrics import engine
    from helpers.metrics.funnel_analysis import stage_time_boxes
    from helpers.paths import SAMPLE_DATA_DIR

    counting = Counting(engine.default_backend())
    monkeypatch.setattr(engine, "default_backend", lambda: counting)
    wb = load_workbook(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    once = stage_time_boxes(wb.leads, wb.opportunities, wb.as_of)
    assert (counting.fetched, counting.queries) == (4, 1)
    copies = {name: frame.assign(**{c: frame[c] + "-2" for c in ("lead_id", "opportunity_id")})
              for name, frame in (("leads", wb.leads), ("opps", wb.opportunities))}
    twice = stage_time_boxes(pd.concat([wb.leads, copies["leads"]]), pd.concat([wb.opportunities, copies["opps"]]), wb.as_of)
    assert (counting.fetched, counting.queries) == (8, 2)
    assert twice["n"].tolist() == [2 * n for n in once["n"]]
    assert twice["median"].tolist() == once["median"].tolist()


def test_the_heatmap_is_one_engine_query_equal_to_each_cells_cohort_funnel(monkeypatch):
    """Each cell's rate is funnel_cohort on the cell's leads (computed here cell by cell), and the whole table is one
    engine query fetching one row per cell, however many leads (the sample twice over: the same rows, counts doubled)."""
    from counting_backend import Counting

    from helpers.config import load_config
    from helpers.data.load import load_workbook
    from helpers.data.periods import parse_period
    from helpers.metrics import engine
    from helpers.metrics.breakdown import _labels
    from helpers.metrics.funnel import funnel_cohort
    from helpers.paths import SAMPLE_DATA_DIR

    wb = load_workbook(SAMPLE_DATA_DIR, load_config(SAMPLE_DATA_DIR))
    p = parse_period("FY2026Q2", 4)
    counting = Counting(engine.default_backend())
    monkeypatch.setattr(engine, "default_backend", lambda: counting)
    rates = heatmap_table(wb.leads, wb.opportunities, "channel", "industry", p.start, p.end, wb.as_of, min_group=1)
    monkeypatch.undo()
    cohort = wb.leads[wb.leads["created_at"].between(p.start, p.end)]
    cells = list(cohort.groupby([_labels(cohort["channel"]), _labels(cohort["industry"])]))
    assert len(cells) == int(rates.notna().sum().sum()) > 20
    # one row per (channel, industry) pair of all the leads (the cohort's cells and those with leads in other periods)
    pairs = len(wb.leads.groupby([_labels(wb.leads["channel"]), _labels(wb.leads["industry"])]))
    assert counting.queries == 1 and counting.fetched == pairs < 50
    for (r, c), cell in cells:
        expected = funnel_cohort(cell, wb.opportunities, p.start, p.end, wb.as_of)["lead_to_opportunity_rate"]
        assert rates.loc[r, c] == expected, (r, c)
    twice = [pd.concat([f, f.assign(**{k: f[k] + "-2" for k in ("lead_id", "opportunity_id")})])
             for f in (wb.leads, wb.opportunities)]
    monkeypatch.setattr(engine, "default_backend", lambda: counting)
    counts = heatmap_table(*twice, "channel", "industry", p.start, p.end, wb.as_of, value="leads")
    assert counting.queries == 2 and counting.fetched == 2 * pairs
    assert counts.to_numpy().sum() == 2 * len(cohort)


def test_a_periods_follow_up_sla_total_and_by_owner_come_from_one_query_of_a_source(monkeypatch):
    """Notebook 02 asks for the period's SLA total, by channel and by owner: one query counted by every SLA column
    serves them all, with the figures of the one-column queries (test_follow_up_sla_by_owner's)."""
    from helpers.metrics import engine
    from helpers.metrics.funnel_analysis import follow_up_sla_of
    from helpers.metrics.source import FrameSource

    leads = _sla_leads()
    leads["channel"] = ["web", "web", "ad", None, "ad", "web", "web", "ad", "ad", "web", "web"]
    source = FrameSource(leads, None)
    queries = []
    run = engine.to_arrow
    monkeypatch.setattr(engine, "to_arrow", lambda con, expr: queries.append(expr) or run(con, expr))
    total = follow_up_sla_of(source, SLA_AS_OF, 48, START, END)
    by_owner = follow_up_sla_of(source, SLA_AS_OF, 48, START, END, by="owner", min_group=4).set_index("owner")
    by_channel = follow_up_sla_of(source, SLA_AS_OF, 48, START, END, by="channel").set_index("channel")
    assert len(queries) == 1
    assert (total["mqls"], total["touched_within_sla"], total["untouched"]) == (7, 3, 3)
    assert total["median_hours_to_touch"] == pytest.approx(40.5)
    assert list(by_owner.index) == ["A", "B", "unknown", "total"]
    assert (by_owner.loc["A", "mqls"], by_owner.loc["A", "touched_within_sla"]) == (3, 2)
    assert (by_owner.loc["B", "mqls"], by_owner.loc["B", "untouched"]) == (4, 3)
    # channel: web M1, M2 (hit), M11 (hit) due; ad M3 (late), M6, M9 (untouched); unknown M4 (untouched)
    assert (by_channel.loc["web", "mqls"], by_channel.loc["web", "touched_within_sla"]) == (3, 3)
    assert (by_channel.loc["ad", "mqls"], by_channel.loc["ad", "untouched"]) == (3, 2)
    assert by_channel.loc["unknown", "mqls"] == 1 and by_channel.loc["total", "mqls"] == 7
    # all history (no period) is its own query, uncounted by columns
    assert follow_up_sla_of(source, SLA_AS_OF, 48)["mqls"] == 8 and len(queries) == 2
