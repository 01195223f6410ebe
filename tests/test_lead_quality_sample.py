"""What data/sample/README.md says notebook 05 finds on the sample, checked on the committed data (with plain pandas
where a figure can be recounted)."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.metrics.lead_section import lead_quality
from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.index_page import lead_quality_lines


@pytest.fixture(scope="module")
def section():
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    p = parse_period("FY2026Q1", 4)
    return lead_quality(wb.leads, wb.opportunities, wb.extras.get("leads"), config.lead_quality, p.start, p.end, wb.as_of).section


def test_the_guard_finds_the_rating_sales_fills_in_after_contact(section):
    assert [(s["attribute"], s["reason"]) for s in section["suspect"]] == [("rating", "separates_alone")]
    assert "rating" not in {c["attribute"] for c in section["conditions"]} and "rating" not in section["score"]["points"]


def test_the_built_in_signal_is_found(section):
    rows = {(c["attribute"], c["value"]): c for c in section["conditions"]}
    demo = rows[("form_type", "デモ依頼")]
    assert demo["odds_ratio"] > 2 and demo["low"] > 1 and demo["q"] < 0.05
    assert rows[("form_type", "資料請求")]["high"] < 1
    assert section["score"]["split"] == "out_of_time" and section["score"]["penalty"] is None
    assert section["score"]["auc_low"] > 0.75
    same = section["same_size"]
    assert same["score"]["converted"] > same["rule"]["converted"]    # the score's top leads catch more deals


def test_rule_audit_recounted_with_plain_pandas(section):
    leads = pd.read_csv(SAMPLE_DATA_DIR / "leads.csv", dtype=str)
    opps = pd.read_csv(SAMPLE_DATA_DIR / "opportunities.csv", dtype=str)
    h = section["horizon_days"]
    created = pd.to_datetime(leads["created_at"])
    opp_created = leads["opportunity_id"].map(dict(zip(opps["opportunity_id"], pd.to_datetime(opps["created_at"]))))
    observed = (pd.Timestamp("2026-09-30") - created).dt.days >= h
    converted = (opp_created - created).dt.days <= h
    flagged = (leads["form_type"] == "デモ依頼") | (leads["web_visits"].astype(int) >= 5)
    a = section["mql_audit"]["all_history"]
    assert a["observed"] == int(observed.sum())
    assert a["flagged"] == int((flagged & observed).sum())
    assert a["converted"] == int((converted & observed).sum())
    assert a["precision"] == pytest.approx((flagged & converted & observed).sum() / (flagged & observed).sum())


def test_feedback_counts_add_up(section):
    fb = section["feedback"]
    assert fb["columns_missing"] == []
    p = fb["period"]
    assert p["accepted"] + p["disqualified"] + p["recycled"] + p["pending"] == p["mqls"] > 0
    assert p["disqualified"] > 0 and sum(p["disqualify_reasons"].values()) == pytest.approx(1.0)


def test_index_line_per_period(section):
    lines = lead_quality_lines([("FY2026Q1", {"lead_quality": section}, [])], "en")
    a = section["mql_audit"]["period"]
    assert lines == [f"FY2026Q1: MQL rule — precision {a['precision'] * 100:.1f}%, recall {a['recall'] * 100:.1f}% "
                     f"({a['observed']} observed leads)"]
    empty = {"lead_quality": {"mql_audit": {"period": {"precision": None, "recall": None, "observed": 0,
                                                       "null_reasons": {"precision": "no_observed_leads", "recall": "no_observed_leads"}}}}}
    assert "still in play" in lead_quality_lines([("X", empty, [])], "en")[0]
