"""Lead funnel, period and cohort views (contract section 3, "Lead funnel"), pinned with hand-computed cases.

Period P = 2025Q3 = [2025-07-01, 2025-09-30]; as_of 2025-12-31 unless said.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import as_dates

from helpers.metrics.funnel import COHORT_KEYS, PERIOD_KEYS, funnel_cohort, funnel_period, linked_pairs, typical_days_to_opportunity

START, END = pd.Timestamp("2025-07-01"), pd.Timestamp("2025-09-30")
AS_OF = pd.Timestamp("2025-12-31")
nan = float("nan")


def _leads() -> pd.DataFrame:
    rows = [
        # lead  created       channel       mql_at        sql_at        opportunity_id
        ("L1", "2025-07-01", "web", "2025-07-05", "2025-07-10", "O1"),     # first day of P; link only on the lead side
        ("L2", "2025-07-15", "web", "2025-07-20", None, None),             # link only on the opp side (O2); no sql date
        ("L3", "2025-08-01", "seminar", None, "2025-08-10", None),         # sql without mql -> skipped mql; no opp
        ("L4", "2025-08-05", "seminar", None, None, None),                 # linked (opp side) to O7, created after as_of
        ("L5", "2025-09-30", "web", "2025-09-30", None, "O3"),             # last day of P; linked both sides; won 11-20
        ("L6", "2025-06-30", "web", "2025-07-02", "2025-07-03", "O4"),     # created the day before P
        ("L7", "2025-10-01", "email", "2025-10-02", None, None),           # created the day after P
        ("L9", "2025-08-20", "web", "2025-08-21", "2025-08-25", "O5"),     # opp 12-01, won 2026-01-20 (after as_of)
        ("L10", "2025-09-10", "exhibition", "2025-09-12", "2025-09-20", "O9"),  # O9 is not in the opps table
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "channel", "mql_at", "sql_at", "opportunity_id"])
    frame["first_sales_touch_at"] = pd.NaT
    return as_dates(frame, "created_at", "mql_at", "sql_at", "first_sales_touch_at")


def _opps(categorical_outcome: bool = False) -> pd.DataFrame:
    rows = [
        # opp   created       closed        outcome amount lead_id channel
        ("O1", "2025-07-20", "2025-09-01", "won", 100.0, None, "web"),
        ("O2", "2025-08-01", None, "open", 200.0, "L2", "exhibition"),
        ("O3", "2025-10-10", "2025-11-20", "won", 300.0, "L5", "web"),
        ("O4", "2025-07-05", "2025-09-30", "lost", 50.0, "L6", "web"),
        ("O5", "2025-12-01", "2026-01-20", "won", 500.0, "L9", "web"),
        ("O6", "2025-09-15", None, "open", 80.0, None, "seminar"),          # no lead
        ("O7", "2026-01-03", None, "open", 90.0, "L4", "seminar"),          # created after as_of
        ("O8", "2025-08-10", "2025-09-05", "lost", 40.0, None, "partner"),  # no lead
    ]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id", "channel"])
    if categorical_outcome:
        frame["outcome"] = pd.Categorical(frame["outcome"], categories=["open", "won", "lost"])
    return as_dates(frame, "created_at", "closed_at")


# --------------------------------------------------------------------------- period view
def test_period_view_hand_computed():
    f = funnel_period(_leads(), _opps(), START, END, AS_OF)
    # leads created in P: L1 (first day), L2, L3, L4, L5 (last day), L9, L10 = 7 (L6 day before, L7 day after)
    # mql_at in P: L1, L2, L5 (09-30), L6 (07-02: lead older than P, event in P), L9, L10 = 6 (L7 10-02 not)
    # sql_at in P: L1, L3, L6, L9, L10 = 5
    # opportunities = opportunities_created: O1, O2, O4, O6, O8 = 5 (O3 10-10, O5 12-01, O7 2026 not)
    # won = won_count: O1 (09-01) = 1 (O3 won 11-20, after P)
    assert f == {"leads": 7, "mqls": 6, "sqls": 5, "opportunities": 5, "won": 1}
    assert tuple(f) == PERIOD_KEYS


def test_period_view_as_of_inside_period():
    f = funnel_period(_leads(), _opps(), START, END, pd.Timestamp("2025-09-15"))
    # leads to 09-15: L1, L2, L3, L4, L9, L10 = 6 (L5 created 09-30 does not exist yet)
    # mqls to 09-15: L1, L2, L6, L9, L10 (09-12) = 5 (L5 09-30 not)
    # sqls to 09-15: L1, L3, L6, L9 = 4 (L10 09-20 not)
    # opportunities to 09-15: O1, O2, O4, O6 (09-15, the as_of day itself), O8 = 5; won: O1 = 1
    assert f == {"leads": 6, "mqls": 5, "sqls": 4, "opportunities": 5, "won": 1}


def test_lead_created_after_as_of_does_not_exist():
    # L11 is created on 2025-09-20 but as_of is 09-15: even with a (bad) mql date inside P it does not count
    leads = pd.concat([_leads(), as_dates(pd.DataFrame({
        "lead_id": ["L11"], "created_at": ["2025-09-20"], "channel": ["web"], "mql_at": ["2025-09-01"],
        "sql_at": [None], "opportunity_id": [None], "first_sales_touch_at": [None]}),
        "created_at", "mql_at", "sql_at", "first_sales_touch_at")], ignore_index=True)
    as_of = pd.Timestamp("2025-09-15")
    assert funnel_period(leads, _opps(), START, END, as_of)["mqls"] == 5      # same as without L11
    assert funnel_cohort(leads, _opps(), START, END, as_of)["leads"] == 6


def test_no_leads_table():
    assert funnel_period(None, _opps(), START, END, AS_OF) is None
    assert funnel_cohort(None, _opps(), START, END, AS_OF) is None
    assert typical_days_to_opportunity(None, _opps(), AS_OF) is None


# --------------------------------------------------------------------------- cohort view
def test_cohort_hand_computed():
    c = funnel_cohort(_leads(), _opps(), START, END, AS_OF)
    # cohort: L1, L2, L3, L4, L5, L9, L10 = 7
    # opportunity (linked opp created by 12-31): L1 (O1, lead-side link), L2 (O2, opp-side link),
    #   L5 (O3), L9 (O5 12-01) = 4; L10 (O9 not in opps) no, L4 (O7 created 2026) no, L3 none
    # won by 12-31: L1 (O1 09-01), L5 (O3 11-20) = 2; L9 (O5 won 2026-01-20) no
    # sql: dates L1, L3, L9, L10 + via opportunity L2, L5 = 6 -> skipped_sql 2
    # mql: dates L1, L2, L5, L9, L10 + via sql L3 = 6 -> skipped_mql 1 (L3); L4 reached nothing
    # typical days (pairs with both created by 12-31): L6-O4 5, L5-O3 10, L2-O2 17, L1-O1 19, L9-O5 103
    #   80th pct: position 0.8 * 4 = 3.2 -> 19 + 0.2 * (103 - 19) = 35.8
    # maturity: lead-to-won days of the linked pairs won by 12-31: L5-O3 09-30 -> 11-20 = 51, L1-O1 07-01 -> 09-01 = 62
    #   90th pct: 51 + 0.9 * (62 - 51) = 60.9
    # days observed 09-30 -> 12-31 = 31 + 30 + 31 = 92 >= 60.9 -> not immature
    assert c == {
        "leads": 7, "mql": 6, "sql": 6, "opportunity": 4, "won": 2,
        "mql_rate": pytest.approx(6 / 7), "sql_rate": pytest.approx(1.0),
        "opportunity_rate": pytest.approx(4 / 6), "won_rate": pytest.approx(0.5),
        "lead_to_opportunity_rate": pytest.approx(4 / 7), "lead_to_won_rate": pytest.approx(2 / 7),
        "immature": False, "days_observed": 92, "typical_days_to_opportunity": pytest.approx(35.8),
        "skipped_mql": 1, "skipped_sql": 2, "maturity_days": pytest.approx(60.9), "maturity_measure": "p90_lead_to_won_days",
    }
    assert tuple(c) == COHORT_KEYS
    assert list(c) == [
        "leads", "mql", "sql", "opportunity", "won", "mql_rate", "sql_rate", "opportunity_rate", "won_rate",
        "lead_to_opportunity_rate", "lead_to_won_rate", "immature", "days_observed",
        "typical_days_to_opportunity", "skipped_mql", "skipped_sql", "maturity_days", "maturity_measure",
    ]
    json.dumps(c)
    for key in ("leads", "mql", "sql", "opportunity", "won", "days_observed", "skipped_mql", "skipped_sql"):
        assert type(c[key]) is int
    assert type(c["immature"]) is bool and type(c["typical_days_to_opportunity"]) is float


def test_cohort_immature_when_young():
    c = funnel_cohort(_leads(), _opps(), START, END, pd.Timestamp("2025-10-15"))
    # days observed 09-30 -> 10-15 = 15
    # typical at 10-15 (O5 12-01 not yet): gaps 5, 10, 17, 19 -> position 0.8 * 3 = 2.4 -> 17 + 0.4 * 2 = 17.8
    assert c["days_observed"] == 15
    assert c["typical_days_to_opportunity"] == pytest.approx(17.8)
    # maturity at 10-15: the only linked win by then is L1-O1, 62 days -> p90 62; 15 < 62
    assert c["maturity_days"] == 62.0 and c["maturity_measure"] == "p90_lead_to_won_days"
    assert c["immature"] is True
    # opportunity by 10-15: L1, L2, L5 (O3 10-10) = 3; won by 10-15: L1 = 1 (O3 won 11-20)
    assert (c["opportunity"], c["won"]) == (3, 1)


def test_cohort_as_of_inside_period():
    c = funnel_cohort(_leads(), _opps(), START, END, pd.Timestamp("2025-09-15"))
    # cohort to 09-15: L1, L2, L3, L4, L9, L10 = 6
    # opportunity: L1 (O1 07-20), L2 (O2 08-01) = 2; won: L1 (09-01) = 1
    # sql: dates L1, L3, L9 (L10's 09-20 not known yet) + L2 = 4 -> skipped_sql 1
    # mql: dates L1, L2, L9, L10 + L3 = 5 -> skipped_mql 1
    # days observed: P still running, from min(09-30, 09-15) to 09-15 = 0 (never negative; was as_of - end = -15)
    assert [c[k] for k in ("leads", "mql", "sql", "opportunity", "won", "skipped_mql", "skipped_sql", "days_observed")] \
        == [6, 5, 4, 2, 1, 1, 1, 0]


@pytest.mark.parametrize("days, immature", [(100, True), (92, False), (92.5, True), (91, False)])
def test_cohort_given_maturity(days, immature):
    # 92 days observed; immature iff 92 < the maturity days given (one yardstick for every breakdown row)
    c = funnel_cohort(_leads(), _opps(), START, END, AS_OF, typical_days=days, maturity=(days, "p90_lead_to_won_days"))
    assert c["typical_days_to_opportunity"] == float(days) and c["maturity_days"] == float(days)
    assert c["immature"] is immature


def test_maturity_falls_back_to_typical_days_to_opportunity_without_a_linked_win():
    opps = _opps()
    opps.loc[opps["outcome"] == "won", "outcome"] = "lost"
    c = funnel_cohort(_leads(), opps, START, END, AS_OF)
    # no linked win: the typical days to opportunity (35.8, as in test_cohort_hand_computed) is the yardstick
    assert c["maturity_measure"] == "p80_lead_to_opportunity_days"
    assert c["maturity_days"] == pytest.approx(35.8) and c["immature"] is False


def test_maturity_is_judged_by_the_slow_wins_not_the_typical_opportunity():
    # 10 linked leads; 9 win 30 days after the lead, one 200 days after: p90 = 30 + 0.1 * 170 = 47.0
    # and L10, created in the cohort's period (an empty cohort has nothing to mature: immature null)
    leads = as_dates(pd.DataFrame({"lead_id": [f"L{i}" for i in range(11)], "created_at": ["2025-01-01"] * 10 + ["2025-08-01"],
                                   "channel": ["web"] * 11, "opportunity_id": [f"O{i}" for i in range(10)] + [None]}),
                     "created_at")
    closed = ["2025-01-31"] * 9 + ["2025-07-20"]
    opps = as_dates(pd.DataFrame({"opportunity_id": [f"O{i}" for i in range(10)], "created_at": ["2025-01-02"] * 10,
                                  "closed_at": closed, "outcome": ["won"] * 10, "lead_id": [None] * 10}),
                    "created_at", "closed_at")
    c = funnel_cohort(leads, opps, pd.Timestamp("2025-07-01"), pd.Timestamp("2025-09-30"), pd.Timestamp("2025-11-10"))
    # typical days to opportunity is 1 day, but 41 days observed (09-30 -> 11-10) < 47.0: not mature yet
    assert c["typical_days_to_opportunity"] == 1.0
    assert c["maturity_days"] == pytest.approx(47.0) and c["immature"] is True and c["leads"] == 1


def test_cohort_without_any_link_has_unknown_maturity():
    leads = _leads().drop(columns="opportunity_id")
    opps = _opps().drop(columns="lead_id")
    c = funnel_cohort(leads, opps, START, END, AS_OF)
    # no links: opportunity 0, won 0; sql: L1, L3, L9, L10 = 4; mql: L1, L2, L5, L9, L10 + L3 = 6
    assert (c["leads"], c["mql"], c["sql"], c["opportunity"], c["won"]) == (7, 6, 4, 0, 0)
    assert c["opportunity_rate"] == 0.0           # 0 / 4
    assert c["won_rate"] is None                  # 0 / 0
    assert c["typical_days_to_opportunity"] is None
    assert c["immature"] is None
    assert c["days_observed"] == 92


def test_empty_cohort_gives_null_rates():
    c = funnel_cohort(_leads(), _opps(), pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-31"), AS_OF)
    assert (c["leads"], c["mql"], c["sql"], c["opportunity"], c["won"]) == (0, 0, 0, 0, 0)
    for key in ("mql_rate", "sql_rate", "opportunity_rate", "won_rate", "lead_to_opportunity_rate", "lead_to_won_rate"):
        assert c[key] is None
    # 2024-03-31 -> 2025-12-31 = 275 + 365 = 640 days; no lead to mature: immature null (reason no_cohort_leads)
    assert c["days_observed"] == 640
    assert c["immature"] is None


def test_categorical_outcome_cohort():
    c = funnel_cohort(_leads(), _opps(categorical_outcome=True), START, END, AS_OF)
    assert (c["opportunity"], c["won"]) == (4, 2)
    assert funnel_period(_leads(), _opps(categorical_outcome=True), START, END, AS_OF)["won"] == 1


def test_inputs_not_mutated():
    leads, opps = _leads(), _opps(categorical_outcome=True)
    leads_before, opps_before = leads.copy(deep=True), opps.copy(deep=True)
    funnel_period(leads, opps, START, END, AS_OF)
    funnel_cohort(leads, opps, START, END, AS_OF)
    typical_days_to_opportunity(leads, opps, AS_OF)
    linked_pairs(leads, opps)
    pd.testing.assert_frame_equal(leads, leads_before)
    pd.testing.assert_frame_equal(opps, opps_before)


# --------------------------------------------------------------------------- links and maturity
def test_linked_pairs_is_the_union_of_both_sides():
    pairs = linked_pairs(_leads(), _opps())
    got = set(map(tuple, pairs[["lead_id", "opportunity_id"]].to_numpy()))
    # lead side: L1-O1, L5-O3, L6-O4, L9-O5, L10-O9; opp side: L2-O2, L5-O3, L6-O4, L9-O5, L4-O7
    assert got == {("L1", "O1"), ("L5", "O3"), ("L6", "O4"), ("L9", "O5"), ("L10", "O9"), ("L2", "O2"), ("L4", "O7")}
    assert len(pairs) == 7  # duplicates (linked on both sides) counted once


def test_typical_days_hand_computed():
    # as in test_cohort_hand_computed: 5, 10, 17, 19, 103 -> 35.8
    assert typical_days_to_opportunity(_leads(), _opps(), AS_OF) == pytest.approx(35.8)
    # before any opportunity exists (O4, the first, is created 07-05)
    assert typical_days_to_opportunity(_leads(), _opps(), pd.Timestamp("2025-07-04")) is None


def test_typical_days_negative_gap_is_left_out():
    leads = as_dates(pd.DataFrame({"lead_id": ["A", "B"], "created_at": ["2025-03-10", "2025-03-01"],
                                 "opportunity_id": ["X", "Y"]}), "created_at")
    opps = as_dates(pd.DataFrame({"opportunity_id": ["X", "Y"], "created_at": ["2025-03-01", "2025-03-11"],
                                "closed_at": [None, None], "outcome": ["open", "open"], "lead_id": [None, None]}),
                  "created_at", "closed_at")
    # A: opp 9 days before the lead -> a data error, left out (never 0 days); B: 10 days -> 80th pct of [10] = 10
    assert typical_days_to_opportunity(leads, opps, AS_OF) == pytest.approx(10.0)


def test_typical_and_maturity_in_one_pass_match_the_two_measures():
    """typical_and_maturity_of (one query over the linked pairs, or over a breakdown's links) gives the values of the
    two single-measure queries (helpers.metrics.engine.typical_days, lead_to_won_quantile): the hand-computed 35.8 days
    to opportunity with the wins' p90, the fallback to 35.8 without a win, 1.0 and 47.0 for the slow wins, and None
    without a link. It is the one owner of both figures: typical_days_of, maturity_days_of and a breakdown read its
    memo (one entry a source and as_of), whoever asks first."""
    from helpers.metrics import engine
    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.engine_links import links_expr
    from helpers.metrics.funnel import maturity_days_of, typical_and_maturity_of, typical_days_of
    from helpers.metrics.source import FrameSource

    no_win = _opps()
    no_win.loc[no_win["outcome"] == "won", "outcome"] = "lost"
    slow_leads = as_dates(pd.DataFrame({"lead_id": [f"L{i}" for i in range(10)], "created_at": ["2025-01-01"] * 10,
                                        "opportunity_id": [f"O{i}" for i in range(10)]}), "created_at")
    slow_opps = as_dates(pd.DataFrame({"opportunity_id": [f"O{i}" for i in range(10)], "created_at": ["2025-01-02"] * 10,
                                       "closed_at": ["2025-01-31"] * 9 + ["2025-07-20"], "outcome": ["won"] * 10,
                                       "lead_id": [None] * 10}), "created_at", "closed_at")
    cases = [(_leads(), _opps(), AS_OF), (_leads(), no_win, AS_OF), (slow_leads, slow_opps, pd.Timestamp("2025-11-10")),
             (_leads().drop(columns="opportunity_id"), _opps().drop(columns="lead_id"), AS_OF)]
    found = []
    for leads, opps, as_of in cases:
        both = typical_and_maturity_of(FrameSource(leads, opps), as_of)
        typical = engine.typical_days(leads, opps, as_of, 0.8)
        won = engine.lead_to_won_quantile(leads, opps, as_of, 0.9)
        assert both[0] == typical
        assert both[1] == ((won, "p90_lead_to_won_days") if won is not None
                           else (None, None) if typical is None else (typical, "p80_lead_to_opportunity_days"))
        source = FrameSource(leads, opps)
        links = links_expr(source.leads(), source.opps(), engine._day(as_of))
        assert typical_and_maturity_of(source, as_of, links=links) == both
        found.append(both)
    assert found[0][0] == pytest.approx(35.8) and found[0][1][1] == "p90_lead_to_won_days"
    assert found[1] == (pytest.approx(35.8), (pytest.approx(35.8), "p80_lead_to_opportunity_days"))
    assert found[2] == (1.0, (pytest.approx(47.0), "p90_lead_to_won_days"))
    assert found[3] == (None, (None, None))
    assert typical_and_maturity_of(FrameSource(None, _opps()), AS_OF) == (None, (None, None))
    source = FrameSource(_leads(), _opps())
    breakdowns_of(source, [], AS_OF - pd.Timedelta(days=89), AS_OF, AS_OF, with_totals=True)
    assert [key for key in source._memo if "days" in str(key[0])] == [("typical_and_maturity_days", AS_OF.date())]
    assert (typical_days_of(source, AS_OF), maturity_days_of(source, AS_OF)) == found[0]


def test_a_breakdown_takes_held_typical_and_maturity_without_a_temporary_table(monkeypatch):
    """A breakdown of no dimension whose source's memo already holds the typical days and maturity reads the links
    once: it makes no temporary table of them, asks for no quantile, and gives the totals of a fresh source (where the
    join is shared by the quantiles and the funnel, so made a temporary table once)."""
    from helpers.metrics import engine, funnel
    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.funnel import typical_and_maturity_held, typical_and_maturity_of
    from helpers.metrics.source import FrameSource

    start = AS_OF - pd.Timedelta(days=89)
    made, asked = [], []
    real_materialized, real_quantiles = engine.materialized, engine.link_quantiles_expr
    monkeypatch.setattr(engine, "materialized", lambda *a, **k: made.append(1) or real_materialized(*a, **k))
    monkeypatch.setattr(engine, "link_quantiles_expr", lambda *a, **k: asked.append(1) or real_quantiles(*a, **k))
    fresh = breakdowns_of(FrameSource(_leads(), _opps()), [], start, AS_OF, AS_OF, with_totals=True)
    assert (made, asked) == ([1], [1])
    source = FrameSource(_leads(), _opps())
    assert typical_and_maturity_held(source, AS_OF) is None
    held = typical_and_maturity_of(source, AS_OF)
    assert typical_and_maturity_held(source, AS_OF) == held and held[0] == pytest.approx(35.8)
    made.clear(), asked.clear()
    assert breakdowns_of(source, [], start, AS_OF, AS_OF, with_totals=True) == fresh
    assert (made, asked) == ([], [])
    assert fresh[1]["funnel"]["cohort"]["typical_days_to_opportunity"] == pytest.approx(35.8)
    assert typical_and_maturity_held(FrameSource(None, _opps()), AS_OF) == (None, (None, None))
    assert funnel._memo_key(AS_OF.date()) in source._memo


@pytest.mark.parametrize("as_of, days", [
    ("2025-12-31", 92),   # P over: 09-30 -> 12-31 = 31 + 30 + 31
    ("2025-09-30", 0),    # P's last day: its newest leads were created today
    ("2025-08-15", 0),    # P still running: was -46 (as_of - end), now min(end, as_of) -> as_of = 0
    ("2025-06-15", 0),    # P starts after as_of: no lead of it exists yet, observed for no day (was -107)
])
def test_days_observed_is_never_negative(as_of, days):
    """days_observed = days from min(end, as_of) to as_of: the youngest possible lead's age (the immature flag's
    input), never negative. A running P is immature whenever maturity_days > 0; one not started has no lead, so
    nothing to mature (immature null, reason no_cohort_leads)."""
    from helpers.metrics.funnel import days_observed

    assert days_observed(END, pd.Timestamp(as_of)) == days
    c = funnel_cohort(_leads(), _opps(), START, END, pd.Timestamp(as_of))
    assert c["days_observed"] == days
    if days == 0 and c["maturity_days"] is not None:
        assert c["immature"] is (True if c["leads"] else None)


def test_a_running_period_is_observed_0_days_and_immature():
    """as_of 2025-08-15, inside P: the cohort so far L1, L2, L3, L4 = 4 (L9 08-20, L10, L5 later). No linked win by
    then (O1 won 09-01), so maturity falls back to the typical lead -> opportunity days of the pairs created by 08-15:
    L6-O4 5, L2-O2 17, L1-O1 19 -> 80th percentile at 0.8 * 2 = 1.6 -> 17 + 0.6 * 2 = 18.2. Observed 0 < 18.2:
    immature."""
    c = funnel_cohort(_leads(), _opps(), START, END, pd.Timestamp("2025-08-15"))
    assert (c["leads"], c["days_observed"], c["immature"]) == (4, 0, True)
    assert c["maturity_days"] == pytest.approx(18.2) and c["maturity_measure"] == "p80_lead_to_opportunity_days"
