"""Breakdowns by channel and segment, and target (ICP) fit (contract section 3, "Breakdowns").

Period P = 2025Q3 = [2025-07-01, 2025-09-30]; as_of 2025-12-31. The frames are
those of tests/test_funnel.py plus segment columns.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import as_dates

from helpers.metrics.breakdown import breakdown, segment_columns, target_fit
from helpers.metrics.funnel import funnel_period
from helpers.metrics.pipeline import PIPELINE_KEYS, pipeline_metrics

START, END = pd.Timestamp("2025-07-01"), pd.Timestamp("2025-09-30")
AS_OF = pd.Timestamp("2025-12-31")
nan = float("nan")


def _leads() -> pd.DataFrame:
    rows = [
        # lead  created      channel       industry         campaign  mql_at        sql_at        opportunity_id
        ("L1", "2025-07-01", "web", "IT", "spring", "2025-07-05", "2025-07-10", "O1"),
        ("L2", "2025-07-15", "web", "IT", "spring", "2025-07-20", None, None),          # -> O2 via opps.lead_id
        ("L3", "2025-08-01", "seminar", "Manufacturing", None, None, "2025-08-10", None),
        ("L4", "2025-08-05", "seminar", None, None, None, None, None),                   # -> O7 (created 2026)
        ("L5", "2025-09-30", "web", "IT", None, "2025-09-30", None, "O3"),
        ("L6", "2025-06-30", "web", "Retail", None, "2025-07-02", "2025-07-03", "O4"),
        ("L7", "2025-10-01", "email", None, None, "2025-10-02", None, None),
        ("L9", "2025-08-20", "web", "Manufacturing", None, "2025-08-21", "2025-08-25", "O5"),
        ("L10", "2025-09-10", "exhibition", "IT", None, "2025-09-12", "2025-09-20", "O9"),  # O9 unknown
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "channel", "industry", "campaign",
                                        "mql_at", "sql_at", "opportunity_id"])
    frame["company_size"] = nan
    return as_dates(frame, "created_at", "mql_at", "sql_at")


def _opps() -> pd.DataFrame:
    rows = [
        # opp   created      closed        outcome amount lead_id channel       industry        owner   loss_reason
        ("O1", "2025-07-20", "2025-09-01", "won", 100.0, None, "web", "IT", "Sato", None),
        ("O2", "2025-08-01", None, "open", 200.0, "L2", "exhibition", "IT", None, None),  # its lead L2 is web
        ("O3", "2025-10-10", "2025-11-20", "won", 300.0, "L5", "web", "IT", None, None),
        ("O4", "2025-07-05", "2025-09-30", "lost", 50.0, "L6", "web", "Retail", None, "price"),
        ("O5", "2025-12-01", "2026-01-20", "won", 500.0, "L9", "web", "Manufacturing", None, None),
        ("O6", "2025-09-15", None, "open", 80.0, None, "seminar", None, None, None),
        ("O7", "2026-01-03", None, "open", 90.0, "L4", "seminar", None, None, None),
        ("O8", "2025-08-10", "2025-09-05", "lost", 40.0, None, "partner", "Finance", None, "timing"),
    ]
    frame = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id",
                                        "channel", "industry", "owner", "loss_reason"])
    frame["outcome"] = pd.Categorical(frame["outcome"], categories=["open", "won", "lost"])
    return as_dates(frame, "created_at", "closed_at")


NO_DEALS = {"opportunities_created": 0, "won_count": 0, "lost_count": 0, "win_rate": None,
            "win_rate_by_amount": None, "won_revenue": 0.0, "avg_deal_size": None, "sales_cycle_days": None,
            "sales_velocity": None, "open_pipeline": {"count": 0, "amount": 0.0, "amount_unknown_count": 0}}


# --------------------------------------------------------------------------- by channel
def test_channel_keys_include_values_from_either_table():
    rows = breakdown(_leads(), _opps(), "channel", START, END, AS_OF)
    # leads: web, seminar, email, exhibition; opps: web, exhibition, seminar, partner -> sorted
    assert list(rows) == ["email", "exhibition", "partner", "seminar", "web"]
    for row in rows.values():
        assert list(row) == list(PIPELINE_KEYS) + ["funnel"]
        assert list(row["funnel"]) == ["period", "cohort"]
    json.dumps(rows)


def test_channel_pipeline_side_uses_the_opportunity_channel():
    rows = breakdown(_leads(), _opps(), "channel", START, END, AS_OF)
    web = rows["web"]
    # web opps O1, O3, O4, O5: created in P O1, O4 = 2; won O1 = 1; lost O4 = 1 -> 0.5; by amount 100/150
    # cycle O1 07-20 -> 09-01 = 43; velocity 2 * 100 * 0.5 / 43; open at 09-30: none (O3, O5 created later)
    assert web["opportunities_created"] == 2
    assert (web["won_count"], web["lost_count"]) == (1, 1)
    assert web["win_rate"] == pytest.approx(0.5)
    assert web["win_rate_by_amount"] == pytest.approx(100 / 150)
    assert web["won_revenue"] == pytest.approx(100.0)
    assert web["avg_deal_size"] == pytest.approx(100.0)
    assert web["sales_cycle_days"] == pytest.approx(43.0)
    assert web["sales_velocity"] == pytest.approx(100 / 43)
    assert web["open_pipeline"] == {"count": 0, "amount": 0.0, "amount_unknown_count": 0}
    # seminar: O6 open (O7 created after as_of) -> a channel with no closed deal: win_rate null
    seminar = rows["seminar"]
    assert seminar["opportunities_created"] == 1
    assert seminar["win_rate"] is None and seminar["win_rate_by_amount"] is None
    assert seminar["won_revenue"] == 0.0 and seminar["avg_deal_size"] is None and seminar["sales_velocity"] is None
    assert seminar["open_pipeline"] == {"count": 1, "amount": 80.0, "amount_unknown_count": 0}
    # partner (opps only): O8 lost -> win_rate 0/1 = 0.0 (a real zero)
    assert rows["partner"]["win_rate"] == 0.0
    assert rows["partner"]["lost_count"] == 1
    # exhibition: O2 open, 200
    assert rows["exhibition"]["open_pipeline"] == {"count": 1, "amount": 200.0, "amount_unknown_count": 0}
    # email (leads only): no deals
    assert {k: rows["email"][k] for k in PIPELINE_KEYS} == NO_DEALS


def test_channel_funnel_side_attributes_opportunities_through_the_lead():
    rows = breakdown(_leads(), _opps(), "channel", START, END, AS_OF)
    web = rows["web"]["funnel"]
    # web leads L1, L2, L5, L6, L9 -> linked O1, O2 (own channel exhibition), O3, O4, O5
    # period: leads in P L1, L2, L5, L9 = 4; mql_at in P L1, L2, L5, L6, L9 = 5; sql_at in P L1, L6, L9 = 3
    #   opportunities created in P among O1..O5: O1, O2, O4 = 3 (pipeline side says 2); won O1 = 1
    assert web["period"] == {"leads": 4, "mqls": 5, "sqls": 3, "opportunities": 3, "won": 1}
    # cohort L1, L2, L5, L9: opportunity all 4; won L1, L5 = 2; sql dates L1, L9 (+ L2, L5) = 4; mql dates all 4
    c = web["cohort"]
    assert [c[k] for k in ("leads", "mql", "sql", "opportunity", "won", "skipped_mql", "skipped_sql")] \
        == [4, 4, 4, 4, 2, 0, 2]
    assert c["won_rate"] == pytest.approx(0.5) and c["lead_to_won_rate"] == pytest.approx(0.5)
    # maturity uses the typical time of all leads: 35.8 (see test_funnel), 92 days observed
    assert c["typical_days_to_opportunity"] == pytest.approx(35.8)
    assert c["immature"] is False

    seminar = rows["seminar"]["funnel"]
    # L3 (sql 08-10, no mql), L4 (-> O7 created 2026)
    assert seminar["period"] == {"leads": 2, "mqls": 0, "sqls": 1, "opportunities": 0, "won": 0}
    c = seminar["cohort"]
    assert [c[k] for k in ("leads", "mql", "sql", "opportunity", "won", "skipped_mql", "skipped_sql")] \
        == [2, 1, 1, 0, 0, 1, 0]
    assert c["mql_rate"] == pytest.approx(0.5)
    assert c["opportunity_rate"] == 0.0          # 0 / 1
    assert c["won_rate"] is None                 # 0 / 0

    # exhibition: L10 links to O9, which is not in the opps table -> no opportunity
    assert rows["exhibition"]["funnel"]["period"] == {"leads": 1, "mqls": 1, "sqls": 1, "opportunities": 0, "won": 0}
    assert rows["exhibition"]["funnel"]["cohort"]["opportunity"] == 0
    # partner (opps only): empty funnel; email: L7 created 10-01, after P
    for channel in ("partner", "email"):
        f = rows[channel]["funnel"]
        assert f["period"]["leads"] == 0 and f["cohort"]["leads"] == 0
        assert f["cohort"]["mql_rate"] is None
    assert rows["email"]["funnel"]["cohort"]["typical_days_to_opportunity"] == pytest.approx(35.8)


def test_total_is_not_the_sum_of_rows():
    leads, opps = _leads(), _opps()
    rows = breakdown(leads, opps, "channel", START, END, AS_OF)
    total = pipeline_metrics(opps, START, END, AS_OF)
    # total: created O1, O2, O4, O6, O8 = 5; the pipeline rows happen to add up (2+1+1+1+0) ...
    assert total["opportunities_created"] == 5
    assert sum(r["opportunities_created"] for r in rows.values()) == 5
    # ... but the funnel rows do not: web 3 (O2 through L2) + others 0 = 3, total 5 (O6, O8 have no lead)
    assert funnel_period(leads, opps, START, END, AS_OF)["opportunities"] == 5
    assert sum(r["funnel"]["period"]["opportunities"] for r in rows.values()) == 3
    # and the total win rate 1/3 (won O1; lost O4, O8) is not an average of the row rates
    assert total["win_rate"] == pytest.approx(1 / 3)


def test_explicit_maturity_sets_maturity_of_every_row():
    rows = breakdown(_leads(), _opps(), "channel", START, END, AS_OF, typical_days=120, maturity=(120.0, "p90_lead_to_won_days"))
    for row in rows.values():
        assert row["funnel"]["cohort"]["typical_days_to_opportunity"] == 120.0
        assert row["funnel"]["cohort"]["maturity_days"] == 120.0
        # 92 < 120: immature; a channel without cohort leads (deals only) has nothing to mature: null
        assert row["funnel"]["cohort"]["immature"] is (True if row["funnel"]["cohort"]["leads"] else None)
    assert [r["funnel"]["cohort"]["immature"] for r in rows.values()].count(True) >= 1


# --------------------------------------------------------------------------- by segment
def test_industry_keys_sorted_with_unknown_last():
    rows = breakdown(_leads(), _opps(), "industry", START, END, AS_OF)
    assert list(rows) == ["Finance", "IT", "Manufacturing", "Retail", "unknown"]
    unknown = rows["unknown"]
    # opps with no industry: O6 (open, 80; O7 created after as_of)
    assert unknown["opportunities_created"] == 1
    assert unknown["win_rate"] is None
    assert unknown["open_pipeline"] == {"count": 1, "amount": 80.0, "amount_unknown_count": 0}
    # leads with no industry: L4 (in P), L7 (after P)
    assert unknown["funnel"]["period"] == {"leads": 1, "mqls": 0, "sqls": 0, "opportunities": 0, "won": 0}
    it = rows["IT"]
    # opps O1, O2, O3: created in P O1, O2 = 2; won O1 -> win_rate 1/1; cycle 43; velocity 2 * 100 * 1 / 43
    assert (it["opportunities_created"], it["won_count"], it["lost_count"]) == (2, 1, 0)
    assert it["win_rate"] == pytest.approx(1.0)
    assert it["sales_velocity"] == pytest.approx(200 / 43)
    assert it["open_pipeline"] == {"count": 1, "amount": 200.0, "amount_unknown_count": 0}
    # leads L1, L2, L5, L10: mqls 4, sqls L1, L10 = 2; opps O1, O2 = 2; cohort opportunity L1, L2, L5 = 3, won 2
    assert it["funnel"]["period"] == {"leads": 4, "mqls": 4, "sqls": 2, "opportunities": 2, "won": 1}
    assert (it["funnel"]["cohort"]["opportunity"], it["funnel"]["cohort"]["won"]) == (3, 2)


def test_unknown_is_last_even_when_it_would_sort_earlier():
    opps = _opps()
    opps.loc[opps["opportunity_id"] == "O8", "channel"] = None       # null -> 'unknown'
    opps.loc[opps["opportunity_id"] == "O6", "channel"] = "unknown"  # the loader's fill value, same key
    rows = breakdown(None, opps, "channel", START, END, AS_OF)
    # plain sorting would put 'unknown' before 'web'
    assert list(rows) == ["exhibition", "web", "unknown"]
    # unknown = O6 (open, 80) + O8 (lost 09-05, 40): created 2, lost 1, win_rate 0/1
    assert (rows["unknown"]["opportunities_created"], rows["unknown"]["lost_count"]) == (2, 1)
    assert rows["unknown"]["win_rate"] == 0.0
    # O7 (seminar) is created after as_of, so 'seminar' has no row
    assert "seminar" not in rows


def test_column_only_in_leads_gives_null_pipeline_side():
    rows = breakdown(_leads(), _opps(), "campaign", START, END, AS_OF)
    assert list(rows) == ["spring", "unknown"]
    spring = rows["spring"]
    assert all(spring[k] is None for k in PIPELINE_KEYS)
    # L1, L2 -> O1, O2 both created in P; O1 won in P
    assert spring["funnel"]["period"] == {"leads": 2, "mqls": 2, "sqls": 1, "opportunities": 2, "won": 1}


def test_column_only_in_opps_gives_null_funnel():
    rows = breakdown(_leads(), _opps(), "loss_reason", START, END, AS_OF)
    assert list(rows) == ["price", "timing", "unknown"]
    assert rows["price"]["lost_count"] == 1 and rows["timing"]["lost_count"] == 1
    assert rows["unknown"]["won_count"] == 1            # O1
    assert all(r["funnel"] is None for r in rows.values())


def test_no_leads_table_gives_pipeline_only():
    rows = breakdown(None, _opps(), "channel", START, END, AS_OF)
    # opps created by as_of: exhibition, partner, seminar, web (O7 2026 is seminar anyway)
    assert list(rows) == ["exhibition", "partner", "seminar", "web"]
    assert rows["web"]["opportunities_created"] == 2
    assert all(r["funnel"] is None for r in rows.values())


def test_link_through_a_lead_created_after_as_of_is_ignored():
    # O6 (seminar, created 09-15) is linked to L12, a seminar lead created 2026-01-02 (after as_of):
    # L12 does not exist on as_of, so O6 is not attributed to the seminar funnel
    leads = pd.concat([_leads(), as_dates(pd.DataFrame({
        "lead_id": ["L12"], "created_at": ["2026-01-02"], "channel": ["seminar"], "industry": [None],
        "campaign": [None], "mql_at": [None], "sql_at": [None], "opportunity_id": [None], "company_size": [nan]}),
        "created_at", "mql_at", "sql_at")], ignore_index=True)
    opps = _opps()
    opps.loc[opps["opportunity_id"] == "O6", "lead_id"] = "L12"
    rows = breakdown(leads, opps, "channel", START, END, AS_OF)
    assert rows["seminar"]["funnel"]["period"]["opportunities"] == 0
    assert rows["seminar"]["opportunities_created"] == 1   # the pipeline side still has O6


def test_column_in_neither_table():
    with pytest.raises(KeyError):
        breakdown(_leads(), _opps(), "region", START, END, AS_OF)


def test_values_only_after_as_of_get_no_row():
    opps = _opps()
    opps.loc[opps["opportunity_id"] == "O7", "channel"] = "referral"   # O7 is created 2026-01-03
    rows = breakdown(None, opps, "channel", START, END, AS_OF)
    assert "referral" not in rows


def test_segment_columns():
    # leads: industry has values, company_size all null; opps: industry, owner (Sato), no company_size
    assert segment_columns(_leads(), _opps()) == ["industry", "owner"]
    assert segment_columns(None, _opps()) == ["industry", "owner"]
    assert segment_columns(_leads(), _opps().drop(columns=["owner", "industry"])) == ["industry"]
    assert segment_columns(None, _opps()[["opportunity_id", "created_at"]]) == []


def test_inputs_not_mutated():
    leads, opps = _leads(), _opps()
    leads_before, opps_before = leads.copy(deep=True), opps.copy(deep=True)
    breakdown(leads, opps, "channel", START, END, AS_OF)
    breakdown(leads, opps, "industry", START, END, AS_OF)
    target_fit(leads, ["IT"], [])
    segment_columns(leads, opps)
    pd.testing.assert_frame_equal(leads, leads_before)
    pd.testing.assert_frame_equal(opps, opps_before)


# --------------------------------------------------------------------------- target fit
def _firms(categorical: bool = False) -> pd.DataFrame:
    frame = pd.DataFrame({
        "industry":     ["IT",      "IT",  "Retail",  None,      "IT", "Retail", "",      "Manufacturing"],
        "company_size": ["100-499", "1-9", "100-499", "100-499", None, None,     "1000+", "1000+"],
    }, index=[10, 11, 12, 13, 14, 15, 16, 17])
    if categorical:
        frame = frame.astype("category")
    return frame


@pytest.mark.parametrize("categorical", [False, True])
def test_target_fit_both_criteria(categorical):
    fit = target_fit(_firms(categorical), ["IT", "Manufacturing"], ["100-499", "1000+"])
    assert list(fit.index) == [10, 11, 12, 13, 14, 15, 16, 17]
    assert fit.tolist() == [
        "target",       # IT, 100-499
        "non_target",   # IT, 1-9: size out
        "non_target",   # Retail, 100-499: industry out
        "unknown",      # industry missing
        "unknown",      # size missing
        "unknown",      # size missing (even though Retail is already out)
        "unknown",      # blank industry
        "target",       # Manufacturing, 1000+
    ]


def test_target_fit_empty_list_means_any_value():
    # industries [] -> only the size counts, and a missing industry does not matter
    fit = target_fit(_firms(), [], ["100-499", "1000+"])
    assert fit.tolist() == ["target", "non_target", "target", "target", "unknown", "unknown", "target", "target"]
    # sizes None -> only the industry counts
    fit = target_fit(_firms(), ["IT"], None)
    assert fit.tolist() == ["target", "target", "non_target", "unknown", "target", "non_target", "unknown",
                            "non_target"]


def test_target_fit_missing_column_is_unknown():
    frame = _firms()[["industry"]]
    assert target_fit(frame, ["IT"], ["1-9"]).tolist() == ["unknown"] * 8
    assert target_fit(frame, ["IT"], []).tolist()[:3] == ["target", "target", "non_target"]


def test_breakdown_by_target_fit_column():
    leads = _leads()
    leads = leads.assign(target_fit=target_fit(leads, ["IT"], []))
    opps = _opps()
    opps = opps.assign(target_fit=target_fit(opps, ["IT"], []))
    rows = breakdown(leads, opps, "target_fit", START, END, AS_OF)
    assert list(rows) == ["non_target", "target", "unknown"]
    # target opps O1, O2, O3 -> created in P 2; target leads L1, L2, L5, L10 -> 4 leads in P
    assert rows["target"]["opportunities_created"] == 2
    assert rows["target"]["funnel"]["period"]["leads"] == 4
    # non_target opps O4 (Retail, lost), O5 (Manufacturing), O8 (Finance, lost): created in P O4 (07-05), O8 = 2
    assert (rows["non_target"]["opportunities_created"], rows["non_target"]["lost_count"]) == (2, 2)


def test_breakdowns_of_one_source_are_kept_by_the_set_of_columns_and_the_yardsticks(monkeypatch):
    """Notebook 02's rate tables ask for notebook 00's core breakdowns in another order, with the typical days and
    maturity the first call measured: the kept result serves them (no query), and each caller gets its own copy."""
    from helpers.metrics import engine
    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.funnel import maturity_days_of, typical_days_of
    from helpers.metrics.source import FrameSource

    source = FrameSource(_leads(), _opps())
    queries = []
    run = engine.to_arrow
    monkeypatch.setattr(engine, "to_arrow", lambda con, expr: queries.append(expr) or run(con, expr))
    rows, totals = breakdowns_of(source, ["channel", "industry"], START, END, AS_OF, with_totals=True)
    first = len(queries)
    assert first >= 3   # the pipeline, the lead funnel, the linked deals (the typical days from the same join)
    # 35.8 days typical (test_channel_funnel_side_attributes_opportunities_through_the_lead), measured by the call
    typical, maturity = typical_days_of(source, AS_OF), maturity_days_of(source, AS_OF)
    assert typical == pytest.approx(35.8) and len(queries) == first
    again, again_totals = breakdowns_of(source, ["industry", "channel"], START, END, AS_OF, typical_days=typical,
                                        maturity=maturity, with_totals=True)
    assert len(queries) == first and list(again) == ["industry", "channel"]
    assert again == rows and again_totals == totals
    assert again["channel"]["web"]["funnel"]["period"] == {"leads": 4, "mqls": 5, "sqls": 3, "opportunities": 3, "won": 1}
    again["channel"]["web"]["funnel"]["period"]["leads"] = 99   # a copy: the kept result does not change
    only, _ = breakdowns_of(source, ["channel"], START, END, AS_OF, with_totals=True)
    assert only["channel"]["web"]["funnel"]["period"]["leads"] == 4 and list(only) == ["channel"]
    third = breakdowns_of(source, ["channel", "industry"], START, END, AS_OF, typical_days=typical, maturity=maturity)
    assert third["channel"]["web"]["funnel"]["period"]["leads"] == 4
    # another yardstick is another breakdown: computed
    other = breakdowns_of(source, ["channel", "industry"], START, END, AS_OF, typical_days=120,
                          maturity=(120.0, "p90_lead_to_won_days"))
    assert len(queries) > first and other["channel"]["web"]["funnel"]["cohort"]["maturity_days"] == 120.0


def test_a_breakdown_without_leads_is_kept_too(monkeypatch):
    """Without leads the lead side is never read and the yardsticks stay as given (None): the kept result is found
    again under the same key (a repeated call runs no query) and holds the opportunities' figures."""
    from helpers.metrics import engine
    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.source import FrameSource

    source = FrameSource(None, _opps())
    queries = []
    run = engine.to_arrow
    monkeypatch.setattr(engine, "to_arrow", lambda con, expr: queries.append(expr) or run(con, expr))
    rows = breakdowns_of(source, ["industry"], START, END, AS_OF)
    first = len(queries)
    again = breakdowns_of(source, ["industry"], START, END, AS_OF)
    assert first >= 1 and len(queries) == first and again == rows
    # non_target opps of test above: O4 (Retail, lost) created 07-05 in P
    assert rows["industry"]["Retail"]["opportunities_created"] == 1

