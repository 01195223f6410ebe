"""Alignment checklist figures and the answer form's save path (helpers/metrics/checklist.py).

Every expected number is worked out by hand in the comment next to it.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.periods import make_period
from helpers.errors import WorkbookError
from helpers.metrics import checklist as ck
from helpers.storage import dumps

Q2, Q3, Q4 = make_period(2025, 2), make_period(2025, 3), make_period(2025, 4)
Q1_25, Q1_26 = make_period(2025, 1), make_period(2026, 1)
YES, PARTIAL, NO = 1.0, 0.5, 0.0


def frame(rows) -> pd.DataFrame:
    """A checklist frame in the loader's shape from (respondent, department, answered_on, item, answer) tuples."""
    out = pd.DataFrame(rows, columns=["respondent", "department", "answered_on", "item", "answer"])
    return out.assign(answered_on=pd.to_datetime(out["answered_on"]).astype("datetime64[ns]"),
                      item=out["item"].astype("int64"), answer=out["answer"].astype("float64"),
                      department=out["department"].astype("category"), note=np.nan)


# S1 sales answers 1 yes, 2 partial, 3 no; S2 sales 1 yes, 2 yes; M1 marketing 1 partial, 2 yes, 3 yes and
# leaves 4 unanswered (empty answer); C1 is in department 'cs' (an "other" department) and answers 1 no.
SCORES = frame([
    ("S1", "sales", "2025-08-01", 1, YES), ("S1", "sales", "2025-08-01", 2, PARTIAL), ("S1", "sales", "2025-08-01", 3, NO),
    ("S2", "sales", "2025-08-02", 1, YES), ("S2", "sales", "2025-08-02", 2, YES),
    ("M1", "marketing", "2025-08-03", 1, PARTIAL), ("M1", "marketing", "2025-08-03", 2, YES),
    ("M1", "marketing", "2025-08-03", 3, YES), ("M1", "marketing", "2025-08-03", 4, np.nan),
    ("C1", "cs", "2025-08-04", 1, NO),
])


# --------------------------------------------------------------------------- scores
def test_respondent_scores_partial_and_unanswered():
    scores = ck.respondent_scores(SCORES).set_index("respondent")
    # S1: 100 × (1 + 0.5 + 0) / 3 = 50.0 over 3 items
    assert scores.loc["S1", "score"] == pytest.approx(50.0)
    assert scores.loc["S1", "items_answered"] == 3
    # S2: 100 × (1 + 1) / 2 = 100.0
    assert scores.loc["S2", "score"] == pytest.approx(100.0)
    # M1: item 4 is unanswered, so 100 × (0.5 + 1 + 1) / 3 = 83.333..., 3 items (not 4)
    assert scores.loc["M1", "score"] == pytest.approx(250 / 3)
    assert scores.loc["M1", "items_answered"] == 3
    # C1: 100 × 0 / 1 = 0.0
    assert scores.loc["C1", "score"] == pytest.approx(0.0)
    # order: sales, marketing, then other departments
    assert list(scores.index) == ["S1", "S2", "M1", "C1"]


def test_department_scores_mean_of_respondents_and_other_excluded_from_overall():
    depts = ck.department_scores(SCORES)
    assert list(depts) == ["sales", "marketing", "cs"]
    # sales = mean(50, 100) = 75.0 (respondent mean; pooling items would give 100 × 3.5/5 = 70.0)
    assert depts["sales"] == pytest.approx(75.0)
    assert depts["marketing"] == pytest.approx(250 / 3)   # one respondent: 83.333...
    assert depts["cs"] == pytest.approx(0.0)
    # overall = mean(75, 83.333) = 79.1667; 'cs' (0.0) is not in it (with it: (75 + 83.33 + 0) / 3 = 52.78)
    assert ck.overall_score(depts) == pytest.approx((75 + 250 / 3) / 2)


def test_overall_with_one_department_missing_and_none():
    only_marketing = SCORES[SCORES["department"] == "marketing"]
    depts = ck.department_scores(only_marketing)
    assert list(depts) == ["marketing"]
    # only marketing present: overall = marketing score = 83.333...
    assert ck.overall_score(depts) == pytest.approx(250 / 3)
    # only an other department: neither sales nor marketing -> None
    assert ck.overall_score(ck.department_scores(SCORES[SCORES["department"] == "cs"])) is None
    assert ck.overall_score({}) is None
    assert ck.department_scores(SCORES.iloc[0:0]) == {}


def test_category_scores():
    cats = {"a": (1, 2), "b": (3, 4), "c": (5,)}
    got = ck.category_scores(SCORES, cats)
    # a, sales: S1 100 × (1 + 0.5)/2 = 75, S2 100 × (1 + 1)/2 = 100 -> mean 87.5
    assert got["a"]["sales"] == pytest.approx(87.5)
    # a, marketing: M1 100 × (0.5 + 1)/2 = 75.0;  a, cs: C1 100 × 0 = 0.0
    assert got["a"]["marketing"] == pytest.approx(75.0)
    assert got["a"]["cs"] == pytest.approx(0.0)
    # b, sales: only S1 answered (item 3 no) -> 0.0 (S2 answered nothing in b and is left out, not counted as 0)
    assert got["b"]["sales"] == pytest.approx(0.0)
    # b, marketing: M1 item 3 yes, item 4 unanswered -> 100.0;  b, cs: nothing -> None
    assert got["b"]["marketing"] == pytest.approx(100.0)
    assert got["b"]["cs"] is None
    # c: nobody answered item 5
    assert got["c"] == {"sales": None, "marketing": None, "cs": None}


def test_item_table_means_gap_sign_and_counts():
    items = ck.item_table(SCORES).set_index("item")
    assert list(items.index) == list(range(1, 16))
    # item 1: sales (1 + 1)/2 = 1.0, marketing 0.5, gap = marketing - sales = -0.5, overall (1 + 0.5)/2 = 0.75
    assert items.loc[1, ["sales", "marketing", "gap", "overall"]].tolist() == pytest.approx([1.0, 0.5, -0.5, 0.75])
    assert (items.loc[1, "n_sales"], items.loc[1, "n_marketing"]) == (2, 1)
    # item 2: sales (0.5 + 1)/2 = 0.75, marketing 1.0, gap = +0.25 (marketing sees it better than sales)
    assert items.loc[2, ["sales", "marketing", "gap"]].tolist() == pytest.approx([0.75, 1.0, 0.25])
    # item 3: sales 0.0, marketing 1.0, gap +1.0
    assert items.loc[3, "gap"] == pytest.approx(1.0)
    # item 4: M1 left it empty: no answers at all -> NaN means, NaN gap, 0 answers
    assert math.isnan(items.loc[4, "marketing"]) and math.isnan(items.loc[4, "gap"]) and math.isnan(items.loc[4, "overall"])
    assert items.loc[4, "n_marketing"] == 0


def test_largest_gaps():
    items = ck.item_table(SCORES)
    # |gap|: item 3 = 1.0, item 1 = 0.5, item 2 = 0.25; the rest unknown
    assert [g["item"] for g in ck.largest_gaps(items, n=2)] == [3, 1]
    gaps = ck.largest_gaps(items)
    assert [(g["item"], g["gap"]) for g in gaps] == [(3, 1.0), (1, -0.5), (2, 0.25)]
    # a zero gap is not a disagreement
    same = frame([("S", "sales", "2025-08-01", 1, YES), ("M", "marketing", "2025-08-01", 1, YES)])
    assert ck.largest_gaps(ck.item_table(same)) == []


def test_duplicate_item_rows_latest_wins():
    # S answered item 1 twice on the same day: the last row (partial) counts -> 100 × 0.5 = 50
    dup = frame([("S", "sales", "2025-08-01", 1, NO), ("S", "sales", "2025-08-01", 1, PARTIAL)])
    assert ck.respondent_scores(dup)["score"].tolist() == pytest.approx([50.0])


# --------------------------------------------------------------------------- answer set
# A (sales) answered in Q3 twice; B (marketing) before Q3 and on its last day; C (sales) only in Q2; D (sales) in Q4.
HISTORY = frame([
    ("A", "sales", "2025-07-10", 1, NO),
    ("A", "sales", "2025-08-20", 1, YES), ("A", "sales", "2025-08-20", 2, YES),
    ("B", "marketing", "2025-05-01", 1, YES),
    ("B", "marketing", "2025-09-30", 1, PARTIAL),
    ("C", "sales", "2025-04-01", 1, NO),
    ("D", "sales", "2025-10-01", 1, YES),
])


def test_answer_set_in_period_uses_latest_date_per_respondent():
    answers, info = ck.answer_set(HISTORY, Q3)
    # A: latest date in Q3 is 08-20 (the 07-10 "no" is dropped); B: 09-30 (last day of Q3 is inside); C, D outside Q3
    assert sorted(zip(answers["respondent"], answers["item"], answers["answer"])) == [
        ("A", 1, 1.0), ("A", 2, 1.0), ("B", 1, 0.5)]
    assert info == {"rule": "in_period", "respondents": 2, "from": pd.Timestamp("2025-08-20"),
                    "to": pd.Timestamp("2025-09-30"), "after_as_of": 0}
    # scores: A 100, B 50 -> overall (100 + 50)/2 = 75
    assert ck.overall_score(ck.department_scores(answers)) == pytest.approx(75.0)


def test_answer_set_falls_back_to_latest_before_end_and_says_so():
    answers, info = ck.answer_set(HISTORY, Q1_26)
    # nobody answered in 2026Q1: each respondent's latest answers up to 2026-03-31:
    # A 08-20 (2 rows), B 09-30, C 04-01, D 10-01 -> 5 rows, 4 respondents, from 04-01 to 10-01
    assert len(answers) == 5
    assert info["rule"] == "latest_before_end"
    assert info["respondents"] == 4
    assert (info["from"], info["to"]) == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-10-01"))


def test_answer_set_none_and_as_of_cut():
    answers, info = ck.answer_set(HISTORY, Q1_25)
    # nothing in or before 2025Q1
    assert answers.empty and info == {"rule": "none", "respondents": 0, "from": None, "to": None, "after_as_of": 0}
    # as_of 2025-09-30 inside Q4's view: D's 10-01 answer is not known yet -> nothing in Q4,
    # fall back to A (08-20), B (09-30), C (04-01): 3 respondents; 1 row ignored after as_of
    answers, info = ck.answer_set(HISTORY, Q4, as_of="2025-09-30")
    assert info["rule"] == "latest_before_end" and info["respondents"] == 3 and info["after_as_of"] == 1
    assert "D" not in set(answers["respondent"])
    assert ck.answer_set(None, Q3)[1]["rule"] == "none"


def test_score_trend_only_periods_with_answers():
    trend = ck.score_trend(HISTORY, [Q1_25, Q2, Q3, Q4, Q1_26])
    # 2025Q1 and 2026Q1 have no answers -> left out
    assert trend["period"].tolist() == ["2025Q2", "2025Q3", "2025Q4"]
    assert list(trend.columns) == ["period", "start", "end", "respondents", "overall", "sales", "marketing"]
    rows = trend.set_index("period")
    # 2025Q2: C sales 0 (no), B marketing 100 (yes on 05-01) -> overall 50
    assert rows.loc["2025Q2", ["sales", "marketing", "overall"]].tolist() == pytest.approx([0.0, 100.0, 50.0])
    # 2025Q3: A 100, B 50 -> overall 75
    assert rows.loc["2025Q3", ["sales", "marketing", "overall"]].tolist() == pytest.approx([100.0, 50.0, 75.0])
    # 2025Q4: only D (sales, yes) -> overall = sales = 100, marketing NaN
    assert rows.loc["2025Q4", "overall"] == pytest.approx(100.0) and math.isnan(rows.loc["2025Q4", "marketing"])
    assert rows["respondents"].tolist() == [2, 2, 1]


def test_score_trend_rows_computed_once_per_source(monkeypatch):
    from helpers.metrics.source import FrameSource

    calls = []
    compute = ck._compute_trend_row
    monkeypatch.setattr(ck, "_compute_trend_row", lambda *a: calls.append(a[2].label) or compute(*a))
    source = FrameSource(None, pd.DataFrame())
    periods = [Q1_25, Q2, Q3, Q4, Q1_26]
    # a --all run: each period's chart asks for every period up to it, 1 + 2 + 3 + 4 + 5 = 15 rows, 5 distinct
    for n in range(1, len(periods) + 1):
        cached = ck.score_trend(HISTORY, periods[:n], as_of="2026-03-31", source=source)
        cached.loc[:, "overall"] = -1.0   # a caller changing its frame changes no stored row
    assert calls == ["2025Q1", "2025Q2", "2025Q3", "2025Q4", "2026Q1"]
    calls.clear()
    cached = ck.score_trend(HISTORY, periods, as_of="2026-03-31", source=source)
    assert calls == []
    pd.testing.assert_frame_equal(cached, ck.score_trend(HISTORY, periods, as_of="2026-03-31"))
    assert cached["overall"].tolist() == pytest.approx([50.0, 75.0, 100.0])   # as in the test above
    # another as_of or other answers are other rows: 2025-09-30 hides D's 10-01 answer -> 2025Q4 left out
    assert ck.score_trend(HISTORY, periods, as_of="2025-09-30", source=source)["period"].tolist() == ["2025Q2", "2025Q3"]
    changed = HISTORY.assign(answer=HISTORY["answer"].where(HISTORY["respondent"] != "D", NO))
    assert ck.score_trend(changed, [Q4], as_of="2026-03-31", source=source)["overall"].tolist() == [0.0]

# --------------------------------------------------------------------------- evidence
AS_OF = pd.Timestamp("2025-06-30")
T = pd.Timestamp


def leads_frame(rows) -> pd.DataFrame:
    cols = ["lead_id", "created_at", "channel", "mql_at", "sql_at", "first_sales_touch_at", "opportunity_id"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("created_at", "mql_at", "sql_at", "first_sales_touch_at"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    return out


def opps_frame(rows, columns=("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id", "channel", "loss_reason")):
    out = pd.DataFrame(rows, columns=list(columns))
    for c in ("created_at", "closed_at"):
        out[c] = pd.to_datetime(out[c]).astype("datetime64[ns]")
    return out


# SLA 48 h. L1 MQL 04-02 touched 04-03 10:00 (34 h after 04-02 00:00: hit); L3 MQL 04-03 touched 04-06 09:00
# (81 h: miss); L4 MQL 06-29, never touched, deadline 07-01 00:00 = end of as_of -> counts, miss;
# L5 MQL 06-30, deadline 07-02 00:00 is after the end of as_of -> too young, excluded.
# L2 reached SQL and L6 an opportunity (O2, linked from the lead side) without an MQL date. L7 is after as_of.
MIXED_LEADS = leads_frame([
    ("L1", "2025-04-01", "web", "2025-04-02", "2025-04-05", "2025-04-03 10:00", "O1"),
    ("L2", "2025-04-01", "web", None, "2025-04-10", None, None),
    ("L3", "2025-04-01", "web", "2025-04-03", None, "2025-04-06 09:00", None),
    ("L4", "2025-06-28", "web", "2025-06-29", None, None, None),
    ("L5", "2025-06-30", "web", "2025-06-30", None, None, None),
    ("L6", "2025-05-01", "seminar", None, None, None, "O2"),
    ("L7", "2025-07-05", "web", "2025-07-05", "2025-07-05", None, None),
])
MIXED_OPPS = opps_frame([
    ("O1", "2025-04-10", "2025-05-20", "won", 1000.0, "L1", "web", None),
    ("O2", "2025-05-05", "2025-06-01", "lost", 500.0, None, "unknown", "price"),
    ("O3", "2025-05-10", "2025-06-10", "lost", 300.0, None, "outbound", "  "),
    ("O4", "2025-05-15", "2025-06-20", "won", 3000.0, None, "unknown", None),
    ("O5", "2025-06-01", None, "open", 800.0, "L99", "web", None),      # L99 does not exist: no link
    ("O6", "2025-07-02", "2025-07-03", "won", 9999.0, None, "web", None),  # after as_of: does not exist yet
])


def test_evidence_values_supports_false():
    ev = ck.evidence(MIXED_LEADS, MIXED_OPPS, AS_OF, 48)
    assert list(ev) == [3, 5, 6, 7, 8, 9, 10]
    # 3: reached SQL or opportunity = L1, L2, L6 (3); with an MQL date = L1 -> 1/3
    assert ev[3]["value"] == pytest.approx(1 / 3) and ev[3]["supports"] is False and ev[3]["n"] == 3
    assert ev[3]["measure"] == "sql_with_mql_date_share" and ev[3]["threshold"] == 0.8
    # 5: eligible MQLs L1 (hit), L3 (miss), L4 (untouched = miss); L5 too young -> 1/3
    assert ev[5]["value"] == pytest.approx(1 / 3) and ev[5]["n"] == 3 and ev[5]["supports"] is False
    # 6: lost by as_of O2 (price), O3 (blank reason) -> 1/2
    assert ev[6]["value"] == pytest.approx(0.5) and ev[6]["supports"] is False
    # 7: opportunities by as_of O1..O5 (5); linked O1 (both sides), O2 (from L6); O5's L99 dangles -> 2/5
    assert ev[7]["value"] == pytest.approx(0.4) and ev[7]["n"] == 5 and ev[7]["supports"] is False
    # 8: leads exist and link to opportunities -> computable 1.0
    assert ev[8]["value"] == 1.0 and ev[8]["supports"] is True
    # 9: closed by as_of O1, O2, O3, O4 -> computable 1.0 (n 4); O6 closed after as_of is not counted
    assert (ev[9]["value"], ev[9]["n"], ev[9]["supports"]) == (1.0, 4, True)
    # 10: won revenue 1000 (O1, web) + 3000 (O4, unknown) = 4000; known channel 1000 -> 0.25 (O6 excluded)
    assert ev[10]["value"] == pytest.approx(0.25) and ev[10]["supports"] is False


def test_evidence_supports_true():
    leads = leads_frame([("L1", "2025-04-01", "web", "2025-04-01", "2025-04-02", "2025-04-02 09:00", "O1")])
    opps = opps_frame([("O1", "2025-04-05", "2025-05-01", "won", 100.0, "L1", "web", None),
                       ("O2", "2025-04-06", "2025-05-02", "lost", 50.0, "L1", "web", "price")])
    ev = ck.evidence(leads, opps, AS_OF, 48)
    # 3: L1 SQL with MQL 1/1; 5: touched 33 h after MQL day start, 1/1; 6: 1/1 lost with reason;
    # 7: O1, O2 both link to L1 2/2; 8, 9 computable; 10: won 100 all from web 100/100
    assert {k: v["value"] for k, v in ev.items()} == {3: 1.0, 5: 1.0, 6: 1.0, 7: 1.0, 8: 1.0, 9: 1.0, 10: 1.0}
    assert all(v["supports"] is True for v in ev.values())


def test_evidence_supports_none_without_data():
    opps = opps_frame([("O1", "2025-04-01", None, "open", 10.0, "web")],
                      columns=("opportunity_id", "created_at", "closed_at", "outcome", "amount", "channel"))
    ev = ck.evidence(None, opps, AS_OF, 48)
    # no leads table: 3, 5, 8 unknown; no loss_reason column: 6 unknown; no link column anywhere: 7 unknown;
    # nothing won: 10 unknown (0 revenue is no denominator)
    for item in (3, 5, 6, 7, 8, 10):
        assert ev[item]["value"] is None and ev[item]["supports"] is None, item
    # 9: no deal closed -> the win rate cannot be computed: 0.0, not supported
    assert ev[9]["value"] == 0.0 and ev[9]["supports"] is False
    # leads without any link: the lead-to-opportunity rate cannot be computed -> 8 = 0.0, False
    leads = leads_frame([("L1", "2025-04-01", "web", None, None, None, None)])
    ev = ck.evidence(leads, opps, AS_OF, 48)
    assert ev[8]["value"] == 0.0 and ev[8]["supports"] is False
    # 7 with leads present: O1 has no lead -> 0/1 = 0.0; 3: no lead reached SQL/opportunity -> None
    assert ev[7]["value"] == 0.0 and ev[3]["value"] is None and ev[3]["supports"] is None


# --------------------------------------------------------------------------- contradictions and recommendations
CLAIMS = frame([
    ("S", "sales", "2025-06-01", 3, YES), ("S2", "sales", "2025-06-01", 3, PARTIAL), ("M", "marketing", "2025-06-01", 3, PARTIAL),
    ("S", "sales", "2025-06-01", 6, YES), ("M", "marketing", "2025-06-01", 6, PARTIAL),
    ("S", "sales", "2025-06-01", 7, YES), ("M", "marketing", "2025-06-01", 7, YES),
    ("S", "sales", "2025-06-01", 9, YES), ("M", "marketing", "2025-06-01", 9, YES),
    ("S", "sales", "2025-06-01", 10, NO), ("M", "marketing", "2025-06-01", 10, YES),
])


def test_contradictions_flagged():
    ev = ck.evidence(MIXED_LEADS, MIXED_OPPS, AS_OF, 48)
    flags = ck.contradictions(ck.item_table(CLAIMS), ev)
    got = [(f["item"], f["department"], f["claimed"], f["seen"]) for f in flags]
    # 3: sales mean (1 + 0.5)/2 = 0.75 >= 0.75 (yes on average) vs 1/3; marketing 0.5 is not a claim
    # 6: sales 1.0 vs 0.5; marketing 0.5 no claim.  7: both 1.0 vs 0.4.  9: supported (True), no flag.
    # 10: marketing 1.0 vs 0.25; sales said no.
    assert got == [(3, "sales", 0.75, pytest.approx(1 / 3)), (6, "sales", 1.0, 0.5), (7, "sales", 1.0, 0.4),
                   (7, "marketing", 1.0, 0.4), (10, "marketing", 1.0, 0.25)]
    assert all(f["code"] == ck.CONTRADICTION_CODE for f in flags)
    # raw answers work as well as an item table
    assert ck.contradictions(CLAIMS, ev) == flags
    # nothing flagged when the evidence is unknown (None) rather than False
    assert ck.contradictions(CLAIMS, {3: {"measure": "m", "value": None, "threshold": 0.8, "supports": None}}) == []


CATALOG = {
    "target_definition": {"ja": "ターゲット定義の統一", "en": "Unify the target definition", "items": [1, 2],
                          "opportunities": 1, "win_rate": 2, "cycle": 1, "difficulty": 1},
    "lead_criteria": {"ja": "リード基準の明文化", "en": "Write down lead criteria", "items": [3, 4, 5, 14],
                      "opportunities": 2, "win_rate": 1, "cycle": 1, "difficulty": 1},
    "ssot": {"ja": "SSOT", "en": "SSOT", "items": [7, 10], "opportunities": 1, "win_rate": 1, "cycle": 2, "difficulty": 3},
    "shared_kpis": {"ja": "共通KPIの設定", "en": "Set shared KPIs", "items": [8, 9],
                    "opportunities": 1, "win_rate": 1, "cycle": 1, "difficulty": 1},
    "feedback_meetings": {"ja": "定期フィードバック会議", "en": "Feedback meetings", "items": [6, 11, 15],
                          "opportunities": 1, "win_rate": 1, "cycle": 0, "difficulty": 2},
    "case_content": {"ja": "事例", "en": "Case content", "items": [12, 13], "opportunities": 0, "win_rate": 2, "cycle": 1, "difficulty": 2},
    "ma_sfa_integration": {"ja": "MA/SFA", "en": "MA/SFA", "items": [5, 7, 10], "opportunities": 1, "win_rate": 0, "cycle": 2, "difficulty": 3},
}


def all_items(sales: dict, marketing: dict) -> pd.DataFrame:
    """One sales and one marketing respondent answering every item 1-15 (yes unless given)."""
    rows = [("S", "sales", "2025-06-01", i, sales.get(i, YES)) for i in range(1, 16)]
    rows += [("M", "marketing", "2025-06-01", i, marketing.get(i, YES)) for i in range(1, 16)]
    return frame(rows)


def test_recommendations_order():
    # overall item mean = (sales + marketing)/2: item 1 (0 + 0.5)/2 = 0.25, item 7 (0.5 + 0.5)/2 = 0.5,
    # item 8 (0 + 0)/2 = 0, item 12 (0.5 + 0.5)/2 = 0.5 -> unmet; item 2 (0.5 + 1)/2 = 0.75 -> met (not < 0.75)
    items = ck.item_table(all_items({1: NO, 2: PARTIAL, 7: PARTIAL, 8: NO, 12: PARTIAL},
                                    {1: PARTIAL, 7: PARTIAL, 8: NO, 12: PARTIAL}))
    assert ck.unmet_items(items) == [1, 7, 8, 12]
    recs = ck.recommendations(items, CATALOG)
    # (difficulty, impact): target_definition (1, 1+2+1=4), shared_kpis (1, 3), case_content (2, 0+2+1=3),
    # ssot (3, 1+1+2=4), ma_sfa_integration (3, 1+0+2=3); lead_criteria and feedback_meetings address no unmet item
    assert [r["key"] for r in recs] == ["target_definition", "shared_kpis", "case_content", "ssot", "ma_sfa_integration"]
    first = recs[0]
    assert first == {"key": "target_definition", "ja": "ターゲット定義の統一", "en": "Unify the target definition",
                     "items_addressed": [1], "impacts": {"opportunities": 1, "win_rate": 2, "cycle": 1},
                     "impact": 4, "difficulty": 1}
    # a contradiction on item 6 makes it unmet too: feedback_meetings (2, 1+1+0=2) comes after case_content (2, 3)
    recs = ck.recommendations(items, CATALOG, [{"item": 6}])
    assert [r["key"] for r in recs] == ["target_definition", "shared_kpis", "case_content", "feedback_meetings",
                                        "ssot", "ma_sfa_integration"]
    # tie on (difficulty 1, impact 4): catalog order keeps target_definition before lead_criteria
    items = ck.item_table(all_items({1: NO, 3: NO}, {1: NO, 3: NO}))
    assert [r["key"] for r in ck.recommendations(items, CATALOG)] == ["target_definition", "lead_criteria"]
    # everything met -> nothing to recommend
    assert ck.recommendations(ck.item_table(all_items({}, {})), CATALOG) == []


# --------------------------------------------------------------------------- metrics.json section
def test_checklist_metrics_layout():
    config = load_config()
    assert ck.checklist_metrics(None, MIXED_LEADS, MIXED_OPPS, Q2, AS_OF, config) is None
    m = ck.checklist_metrics(CLAIMS, MIXED_LEADS, MIXED_OPPS, Q2, AS_OF, config)
    assert list(m) == ["overall_score", "by_department", "respondent_count", "respondents_by_department", "answer_set",
                       "by_category", "by_item", "largest_gaps", "evidence", "contradictions", "unmet_items",
                       "recommendations"]
    # sales: S 100 × (1 + 1 + 1 + 1 + 0)/5 = 80, S2 100 × 0.5 = 50 -> 65; marketing: M (0.5+0.5+1+1+1)/5 = 80
    assert m["by_department"] == {"sales": pytest.approx(65.0), "marketing": pytest.approx(80.0)}
    assert m["overall_score"] == pytest.approx(72.5)          # (65 + 80)/2
    assert m["respondent_count"] == 3 and m["respondents_by_department"] == {"sales": 2, "marketing": 1}
    assert m["answer_set"]["rule"] == "in_period"
    assert m["by_item"][10] == {"sales": 0.0, "marketing": 1.0, "gap": 1.0}
    assert m["by_item"][1] == {"sales": None, "marketing": None, "gap": None}
    assert set(m["by_category"]) == set(config.checklist_categories)
    assert len(m["contradictions"]) == 5
    data = json.loads(dumps(m))                              # JSON-able, dates as ISO text
    assert data["answer_set"]["from"] == "2025-06-01"
    assert data["by_item"]["10"]["gap"] == 1.0
    # Q1 2025 has no answers up to its end: everything empty, nothing invented
    empty = ck.checklist_metrics(CLAIMS, MIXED_LEADS, MIXED_OPPS, Q1_25, AS_OF, config)
    assert empty["overall_score"] is None and empty["by_department"] == {} and empty["answer_set"]["rule"] == "none"
    assert empty["respondent_count"] == 0


def test_functions_do_not_change_inputs():
    before = (HISTORY.copy(), MIXED_LEADS.copy(), MIXED_OPPS.copy())
    ck.answer_set(HISTORY, Q3)
    ck.score_trend(HISTORY, [Q3])
    ck.evidence(MIXED_LEADS, MIXED_OPPS, AS_OF, 48)
    pd.testing.assert_frame_equal(HISTORY, before[0])
    pd.testing.assert_frame_equal(MIXED_LEADS, before[1])
    pd.testing.assert_frame_equal(MIXED_OPPS, before[2])



def test_cleaned_answers_kept_by_content_not_by_object():
    # the clean rows are kept by the answers' content (a period cleans the same answers ~20 times): a frame changed in
    # place after a first call is cleaned again, and a change to a returned clean frame does not reach the kept one
    answers = SCORES.copy()
    assert ck.respondent_scores(answers).set_index("respondent").loc["S2", "score"] == pytest.approx(100.0)
    answers.loc[answers["respondent"].eq("S2") & answers["item"].eq(2), "answer"] = NO
    # S2 now: 100 × (1 + 0) / 2 = 50.0
    assert ck.respondent_scores(answers).set_index("respondent").loc["S2", "score"] == pytest.approx(50.0)
    first = ck._clean(SCORES)
    first.loc[first.index[0], "answer"] = 0.25
    # S1 still 100 × (1 + 0.5 + 0) / 3 = 50.0
    assert ck.respondent_scores(SCORES).set_index("respondent").loc["S1", "score"] == pytest.approx(50.0)
    assert ck._clean(SCORES)["answer"].tolist() == [YES, PARTIAL, NO, YES, YES, PARTIAL, YES, YES, NO]


# --------------------------------------------------------------------------- save path
def new(rows, note=False) -> pd.DataFrame:
    cols = ["respondent", "department", "answered_on", "item", "answer"] + (["note"] if note else [])
    return pd.DataFrame(rows, columns=cols)


HEADER = "respondent,department,answered_on,item,answer,note\n"


def test_append_creates_file_with_header(tmp_path):
    path = tmp_path / "checklist.csv"
    result = ck.append_answers(path, new([("S1", "Sales", "2025-08-01", 1, "はい"), ("S1", "Sales", "2025-08-01", "2", 0.5)]))
    assert result == {"written": 2, "replaced": 0, "backup": None}
    # canonical text: department lower-case, ISO date, yes/partial/no, empty note
    assert path.read_text(encoding="utf-8") == HEADER + "S1,sales,2025-08-01,1,yes,\nS1,sales,2025-08-01,2,partial,\n"
    assert ck.backups(path) == []


def test_append_keeps_earlier_answers_and_backs_up(tmp_path):
    path = tmp_path / "checklist.csv"
    first = "respondent,department,answered_on,item,answer\nM1,marketing,2025-07-01,1,はい\n"
    path.write_text(first, encoding="utf-8")
    result = ck.append_answers(path, new([("S1", "sales", pd.Timestamp("2025-08-01"), 3, "no", "遅い, たまに")], note=True))
    assert result["written"] == 1 and result["replaced"] == 0
    # the earlier row is kept as it was (はい is not rewritten); the note with a comma is quoted
    assert path.read_text(encoding="utf-8") == HEADER + 'M1,marketing,2025-07-01,1,はい,\nS1,sales,2025-08-01,3,no,"遅い, たまに"\n'
    # the backup holds the previous file byte for byte
    assert [str(p) for p in ck.backups(path)] == [result["backup"]]
    assert ck.backups(path)[0].read_text(encoding="utf-8") == first


def test_bad_rows_rejected_with_the_row_named(tmp_path):
    path = tmp_path / "checklist.csv"
    path.write_text(HEADER + "M1,marketing,2025-07-01,1,yes,\n", encoding="utf-8")
    rows = new([("S1", "sales", "2025-08-01", 1, "yes"), ("S1", "sales", "2025-08-01", 16, "yes"),
                ("", "sales", "2025-08-01", 2, "maybe")])
    with pytest.raises(WorkbookError) as err:
        ck.append_answers(path, rows)
    text = str(err.value)
    assert "new row 2 (respondent 'S1', item '16'): item '16' is not a whole number 1-15" in text
    assert "new row 3" in text and "respondent is empty" in text and "answer 'maybe'" in text
    assert "new row 1" not in text
    # nothing written, no backup
    assert path.read_text(encoding="utf-8") == HEADER + "M1,marketing,2025-07-01,1,yes,\n"
    assert ck.backups(path) == []
    for bad in [("S1", "sales", "01/08/2025", 1, "yes"), ("S1", "sales", "2025-08-01", 2.5, "yes"),
                ("S1", "", "2025-08-01", 1, "yes")]:
        with pytest.raises(WorkbookError, match="new row 1"):
            ck.append_answers(path, new([bad]))
    # the same item twice in one submission
    with pytest.raises(WorkbookError, match="answered twice"):
        ck.append_answers(path, new([("S1", "sales", "2025-08-01", 1, "yes"), ("S1", "sales", "2025-08-01", 1, "no")]))


def test_same_day_duplicate_refused_then_replaced(tmp_path):
    path = tmp_path / "checklist.csv"
    path.write_text(HEADER + "S1,sales,2025-08-01,1,yes,\nS1,sales,2025-08-01,2,yes,\n"
                    "S1,sales,2025-07-01,1,no,\nM1,marketing,2025-08-01,1,no,\n", encoding="utf-8")
    before = path.read_text(encoding="utf-8")
    again = new([("S1", "sales", "2025-08-01", 1, "partial")])
    with pytest.raises(ck.DuplicateAnswersError) as err:
        ck.append_answers(path, again)
    assert "'S1' on 2025-08-01" in str(err.value) and err.value.duplicates == [("S1", "2025-08-01")]
    assert path.read_text(encoding="utf-8") == before and ck.backups(path) == []
    result = ck.append_answers(path, again, replace_same_day=True)
    # S1's two rows of 08-01 go; S1's 07-01 row and M1's 08-01 row stay
    assert result["written"] == 1 and result["replaced"] == 2
    assert path.read_text(encoding="utf-8") == HEADER + ("S1,sales,2025-07-01,1,no,\nM1,marketing,2025-08-01,1,no,\n"
                                                         "S1,sales,2025-08-01,1,partial,\n")


def test_only_five_backups_kept(tmp_path):
    path = tmp_path / "checklist.csv"
    path.write_text(HEADER, encoding="utf-8")
    old = [tmp_path / f"checklist.csv.bak-20200101-00000{i}" for i in range(6)]
    for p in old:
        p.write_text("old", encoding="utf-8")
    result = ck.append_answers(path, new([("S1", "sales", "2025-08-01", 1, "yes")]))
    kept = ck.backups(path)
    # 6 old + 1 new = 7; the 2 oldest are deleted, the new one (today's stamp) is the latest
    assert len(kept) == 5
    assert [p.name for p in kept[:4]] == [p.name for p in old[2:]]
    assert str(kept[-1]) == result["backup"]


def test_saved_file_loads(tiny_folder):
    from helpers.data.load import load_workbook

    ck.append_answers(tiny_folder / "checklist.csv",
                      new([("S1", "sales", "2025-05-01", 1, "yes"), ("M1", "marketing", "2025-05-01", 1, "一部")]))
    wb = load_workbook(tiny_folder)
    got = wb.checklist.sort_values("respondent")
    assert got["answer"].tolist() == [0.5, 1.0] and got["item"].tolist() == [1, 1]


# --------------------------------------------------------------------------- links, backups and full disks
def rows_of(path) -> list[tuple[str, str]]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()[1:]
    return [(line.split(",")[0], line.split(",")[4]) for line in lines]


def test_a_linked_shared_file_is_saved_through_the_link(tmp_path):
    import os

    # a team's answers file in another folder, under another name, reached through a chain of relative links
    team = tmp_path / "team"
    team.mkdir()
    shared = team / "answers-2025.csv"
    shared.write_text(HEADER + "M1,marketing,2025-07-01,1,yes,\n", encoding="utf-8")
    shared.chmod(0o664)  # the team may write it
    (tmp_path / "links").mkdir()
    (tmp_path / "links" / "current.csv").symlink_to(Path("..") / "team" / "answers-2025.csv")
    data = tmp_path / "data"
    data.mkdir()
    link = data / "checklist.csv"
    link.symlink_to(Path("..") / "links" / "current.csv")
    old_umask = os.umask(0o022)
    try:
        first = ck.append_answers(link, new([("S1", "sales", "2025-08-01", 1, "no")]))
        ck.append_answers(shared, new([("S2", "sales", "2025-08-02", 1, "partial")]))     # a teammate, directly
        ck.append_answers(link, new([("S3", "sales", "2025-08-03", 1, "yes")]))
    finally:
        os.umask(old_umask)
    # every answer reached the shared file; the links are links still; nothing private appeared beside the link
    assert rows_of(shared) == [("M1", "yes"), ("S1", "no"), ("S2", "partial"), ("S3", "yes")]
    assert link.is_symlink() and (tmp_path / "links" / "current.csv").is_symlink() and link.resolve() == shared
    assert [p.name for p in data.iterdir()] == ["checklist.csv"]
    # the lock and the backups sit beside the shared file; the file keeps the team's permission bits
    assert first["backup"] == str(team / Path(first["backup"]).name) and Path(first["backup"]).read_text(encoding="utf-8") == (
        HEADER + "M1,marketing,2025-07-01,1,yes,\n")
    assert sorted(p.name for p in team.iterdir() if not p.name.startswith("answers-2025.csv.bak-")) == [
        ".answers-2025.csv.lock", "answers-2025.csv"]
    assert len(ck.backups(link)) == 3 and ck.backups(link) == ck.backups(shared)
    assert shared.stat().st_mode & 0o777 == 0o664


def test_a_link_to_nothing_is_refused_and_left_as_it_is(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    link = data / "checklist.csv"
    link.symlink_to(tmp_path / "nas" / "revops" / "checklist.csv")  # the shared folder is not mounted
    with pytest.raises(WorkbookError) as err:
        ck.append_answers(link, new([("S1", "sales", "2025-08-01", 1, "yes")]))
    assert err.value.code == "save_link_dangling"
    assert str(err.value).startswith(f"{link}: a link to {tmp_path / 'nas' / 'revops' / 'checklist.csv'}, which does not exist")
    assert "How to fix: Connect the shared folder" in str(err.value)
    assert link.is_symlink() and not link.exists() and [p.name for p in data.iterdir()] == ["checklist.csv"]


def test_a_hard_linked_file_is_refused_with_the_reason(tmp_path):
    import os

    path = tmp_path / "checklist.csv"
    path.write_text(HEADER + "M1,marketing,2025-07-01,1,yes,\n", encoding="utf-8")
    os.link(path, tmp_path / "team-answers.csv")
    with pytest.raises(WorkbookError) as err:
        ck.append_answers(path, new([("S1", "sales", "2025-08-01", 1, "yes")]))
    assert err.value.code == "save_hard_link" and f"{path}: this file has 2 names (hard links)" in str(err.value)
    assert "ln -sf" in err.value.fix
    assert (tmp_path / "team-answers.csv").read_text(encoding="utf-8") == HEADER + "M1,marketing,2025-07-01,1,yes,\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checklist.csv", "team-answers.csv"]


def test_only_the_saves_own_backups_are_pruned_and_no_user_file_is_taken_for_a_temporary_copy(tmp_path):
    path = tmp_path / "checklist.csv"
    path.write_text(HEADER, encoding="utf-8")
    users = ["checklist.csv.bak-before-migration", "checklist.csv.bak-2024-final", "checklist.csv.bak-20240101-000000.orig",
             "checklist.csv.bak-keep.bak-20200101-000000", "checklist.csv.bak-20241301-000000",
             ".checklist.csv.original", ".checklist.csv.20240101"]
    for name in users:
        (tmp_path / name).write_text("mine", encoding="utf-8")
    made = [ck.append_answers(path, new([(f"S{i}", "sales", "2025-08-01", 1, "yes")]))["backup"] for i in range(7)]
    assert all((tmp_path / name).read_text(encoding="utf-8") == "mine" for name in users)
    assert [str(p) for p in ck.backups(path)] == made[2:]  # the save's own: the 5 latest
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        users + [".checklist.csv.lock", "checklist.csv"] + [Path(m).name for m in made[2:]])


def test_a_lock_file_name_holding_a_users_text_is_not_emptied(tmp_path):
    path = tmp_path / "checklist.csv"
    (tmp_path / ".checklist.csv.lock").write_text("who holds the answers this week: Sato", encoding="utf-8")
    with pytest.raises(WorkbookError) as err:
        ck.append_answers(path, new([("S1", "sales", "2025-08-01", 1, "yes")]))
    assert err.value.code == "lock_not_a_lock"
    assert (tmp_path / ".checklist.csv.lock").read_text(encoding="utf-8") == "who holds the answers this week: Sato"
    assert not path.exists()


def full_disk_at(monkeypatch, where: str):
    """Make the disk fill up half way through the backup copy (`backup`) or the new file's write (`write`)."""
    import errno
    import os
    import shutil

    from helpers import storage

    def enospc(name):
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)

    if where == "backup":
        def copy_half(src, dst, **kw):
            data = Path(src).read_bytes()
            Path(dst).write_bytes(data[: len(data) // 2])
            raise enospc(str(dst))
        monkeypatch.setattr(storage.shutil, "copy2", copy_half)
    else:
        real_fsync = os.fsync

        def fsync_full(fd):
            real_fsync(fd)
            raise enospc(None)
        monkeypatch.setattr(storage.os, "fsync", fsync_full)
    return shutil


@pytest.mark.parametrize("where", ["backup", "write"])
def test_a_full_disk_leaves_the_file_no_partial_copy_and_says_what_to_free(tmp_path, monkeypatch, where):
    path = tmp_path / "checklist.csv"
    earlier = HEADER + "".join(f"M{i},marketing,2025-07-01,1,yes,\n" for i in range(200))
    path.write_text(earlier, encoding="utf-8")
    (tmp_path / "checklist.csv.bak-20250101-000000").write_text("an older backup", encoding="utf-8")
    full_disk_at(monkeypatch, where)
    with pytest.raises(WorkbookError) as err:
        ck.append_answers(path, new([("S1", "sales", "2025-08-01", 1, "yes")]))
    assert path.read_text(encoding="utf-8") == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == [".checklist.csv.lock", "checklist.csv", "checklist.csv.bak-20250101-000000"]
    assert err.value.code == "save_no_space"
    needed = len(earlier.encode()) * 2 + len("S1,sales,2025-08-01,1,yes,\n")  # the new file and the backup of the old
    assert err.value.params["needed"] == f"{needed / 1024:.1f} KiB"
    assert str(err.value).startswith(f"{path}: not enough disk space to save it (No space left on device: ")
    assert err.value.fix == (f"Free at least {needed / 1024:.1f} KiB on the disk that holds {tmp_path} (delete files you no longer "
                             "need, for example old checklist.csv.bak-* backups there), then save again.")


def test_a_read_only_folder_says_so(tmp_path, monkeypatch):
    import errno

    from helpers import storage

    path = tmp_path / "checklist.csv"
    path.write_text(HEADER, encoding="utf-8")

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")
    monkeypatch.setattr(storage.tempfile, "mkstemp", read_only)
    with pytest.raises(WorkbookError) as err:
        ck.append_answers(path, new([("S1", "sales", "2025-08-01", 1, "yes")]))
    assert err.value.code == "save_not_writable"
    assert str(err.value).startswith(f"{path}: the folder refuses the save (Read-only file system); nothing was written.")
    assert path.read_text(encoding="utf-8") == HEADER


def test_size_text():
    from helpers.storage import size_text

    assert [size_text(n) for n in (0, 1023, 1024, 1536, 5 * 1024 ** 2, 3 * 1024 ** 3, 2 * 1024 ** 5)] == [
        "0 B", "1023 B", "1.0 KiB", "1.5 KiB", "5.0 MiB", "3.0 GiB", "2048.0 TiB"]
