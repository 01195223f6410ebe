"""The breakdowns' lead side from one join of the linked pairs (helpers/metrics/engine_links.py) and the pipeline's
grouped pass by key combinations (helpers.metrics.engine.pipeline_expr): hand-computed counts, and the same rows as
the expressions they replace in helpers.metrics.breakdown.

Period P = 2025Q3 = [2025-07-01, 2025-09-30]; as_of 2025-12-31.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import as_dates

from helpers.metrics import engine, engine_links
from helpers.metrics.engine import ALL

S, LAST, A = dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 12, 31)


def _leads() -> pd.DataFrame:
    rows = [
        # lead created       channel    mql_at        sql_at        opportunity_id
        ("A", "2025-07-01", "web", "2025-07-05", "2025-07-10", "O1"),
        ("B", "2025-07-15", "web", "2025-07-20", None, None),           # -> O2 through O2's lead_id
        ("C", "2025-06-01", "seminar", "2025-07-02", None, None),       # created before P, MQL in P
        ("D", "2026-01-05", "seminar", "2025-08-01", None, None),       # created after as_of: does not exist
        ("E", None, "web", "2025-08-02", None, None),                   # no created_at: does not exist
        ("F", "2025-08-10", "seminar", None, None, "O3"),               # O3 names F too: one pair
        ("G", "2025-09-01", "web", None, None, "O4"),                   # O4 won after P
        ("H", "2025-05-01", "seminar", None, None, None),               # O4 names H: a deal of two leads
        ("I", "2025-08-15", "web", None, None, "O5"),                   # O5 created before its lead: -14 days
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "channel", "mql_at", "sql_at", "opportunity_id"])
    return as_dates(frame, "created_at", "mql_at", "sql_at")


def _opps() -> pd.DataFrame:
    rows = [
        # opp  created       closed        outcome amount lead_id channel
        ("O1", "2025-07-20", "2025-09-01", "won", 100.0, None, "web"),      # 43 days
        ("O2", "2025-08-01", None, "open", 200.0, "B", "web"),
        ("O3", "2025-08-20", "2025-09-10", "lost", 50.0, "F", "seminar"),
        ("O4", "2025-10-05", "2025-12-01", "won", 300.0, "H", "web"),
        ("O5", "2025-08-01", None, "open", None, None, "web"),
        ("O6", "2025-07-01", "2025-07-31", "won", 70.0, None, "web"),       # 30 days
    ]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id",
                                        "channel"])
    return as_dates(frame, "created_at", "closed_at")


def _tables(dims=("channel",)):
    keys = {d: d for d in dims}
    return engine.leads_table(_leads(), keys), engine.opps_table(_opps())


@pytest.mark.parametrize("dims", [[], ["channel"]])
def test_the_lead_side_counts_by_hand(dims):
    leads, opps = _tables(dims)
    links = engine_links.links_expr(leads, opps, A)
    found = engine.run(engine_links.lead_funnel_links_expr(leads, links, S, LAST, A, dims))
    # created in P and existing: A B F G I; MQL in P by an existing lead: A B C (D after as_of, E undated); SQL: A
    # reached a deal: A (O1 won) B (O2) F (O3) G (O4 won, after P) I (O5); skipped MQL: F G I; skipped SQL: B F G I
    assert found[(ALL, ALL)] == {"p_leads": 5, "p_mqls": 3, "p_sqls": 1, "c_leads": 5, "c_mql": 5, "c_sql": 5, "c_opp": 5,
                                 "c_won": 2, "skipped_mql": 3, "skipped_sql": 4, "exists": 7}
    if dims:
        assert found[("channel", "web")] == {"p_leads": 4, "p_mqls": 2, "p_sqls": 1, "c_leads": 4, "c_mql": 4, "c_sql": 4,
                                             "c_opp": 4, "c_won": 2, "skipped_mql": 2, "skipped_sql": 3, "exists": 4}
        assert found[("channel", "seminar")] == {"p_leads": 1, "p_mqls": 1, "p_sqls": 0, "c_leads": 1, "c_mql": 1,
                                                 "c_sql": 1, "c_opp": 1, "c_won": 0, "skipped_mql": 1, "skipped_sql": 1,
                                                 "exists": 3}
    flags = engine.lead_flags_expr(leads, opps, S, LAST, A)   # the expression it replaces: the same rows
    assert found == engine.run(engine.lead_funnel_expr(flags, S, LAST, dims))


def test_the_linked_deals_by_hand():
    leads, opps = _tables()
    links = engine_links.links_expr(leads, opps, A)
    found = engine.run(engine_links.linked_counts_expr(links, opps, S, LAST, A, ["channel"]))
    # web leads A B G I: O1 O2 O5 created in P (O4 after), O1 won in P; seminar leads F H: O3 (O4 after), none won
    assert found == {(ALL, ALL): {"opps": 4, "won": 1}, ("channel", "web"): {"opps": 3, "won": 1},
                     ("channel", "seminar"): {"opps": 1, "won": 0}}
    with engine.materialized(engine.linked_expr(leads, opps, A)) as old:
        assert found == engine.run(engine.linked_opps_expr(old, opps, S, LAST, A, ["channel"]))


def test_the_day_quantiles_by_hand():
    leads, opps = _tables()
    links = engine_links.links_expr(leads, opps, A)
    row = engine.run(engine.link_quantiles_expr(links, A, 0.8, 0.9))[ALL]
    # days to the deal: 10 17 19 34 157 (I's -14 left out): p80 at 3.2 = 34 + 0.2 * 123; to a win: 62 91 214, p90
    # at 1.8 = 91 + 0.8 * 123
    assert (row["n"], row["n_won"]) == (5, 3)
    assert row["q"] == pytest.approx(58.6, abs=1e-9) and row["q_won"] == pytest.approx(189.4, abs=1e-9)
    assert row == engine.run(engine.day_quantiles_expr(leads, opps, A, 0.8, 0.9))[ALL]


def test_the_pipeline_by_key_combinations_by_hand():
    opps = engine.opps_table(_opps(), {"channel": "channel", "lead": "lead_id"})
    found = engine.run(engine.pipeline_expr(opps, S, LAST, A, ["channel", "lead"]))
    web = found[("channel", "web")]
    # created in P: O1 O2 O5 O6; won in P: O1 (43 days, 100) O6 (30 days, 70); open on 2025-09-30: O2 (200), O5 (none)
    assert (web["created"], web["won"], web["won_amount"], web["won_known"]) == (4, 2, 170.0, 2)
    assert web["cycle_days"] == 36.5
    assert (web["open_count"], web["open_amount"], web["open_unknown"], web["exists"]) == (2, 200.0, 1, 5)
    assert found[("channel", "seminar")]["cycle_days"] is None and found[("channel", "seminar")]["lost"] == 1
    assert found[("lead", "unknown")]["cycle_days"] == 36.5   # O1 and O6 have no lead_id
    # the rows of the grouped pass over (dim, key) it replaces: every dimension's rows, one grouped pass of each row
    longer = engine._longer(engine._prepared_opps(opps), ["channel", "lead"])
    assert found == engine.run(longer.group_by(["dim", "k"]).aggregate(**engine._pipeline_counts(longer, S, LAST, A)))
