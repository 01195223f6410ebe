"""helpers.metrics.limits: data-wide facts, null reasons, warnings, coverage, negative intervals, channel folding (hand-computed)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import as_dates
from helpers.data import channels
from helpers.errors import Finding
from helpers.labels import has_label
from helpers.metrics import limits
from helpers.metrics.pipeline import PIPELINE_KEYS, pipeline_metrics

T = pd.Timestamp
AS_OF = T("2025-06-30")


def _opps(rows):
    frame = pd.DataFrame(rows, columns=["opportunity_id", "created_at", "closed_at", "outcome", "amount"])
    return as_dates(frame, "created_at", "closed_at")


MIXED = [("O1", "2025-04-01", "2025-05-01", "won", 300.0), ("O2", "2025-04-02", "2025-05-11", "lost", 100.0),
         ("O3", "2025-04-03", None, "open", 50.0)]


def test_every_reason_code_has_a_sentence_in_both_languages():
    for code in limits.REASON_CODES:
        assert has_label(f"reason_{code}"), code


def test_data_facts_hand_computed():
    assert limits.data_facts(_opps(MIXED), AS_OF) == limits.DataFacts()
    won_only = _opps([MIXED[0], MIXED[2]])
    assert limits.data_facts(won_only, AS_OF).no_lost_deals is True
    # a loss after as_of is not known yet: still no lost deal
    late_loss = _opps([MIXED[0], ("O2", "2025-04-02", "2025-07-11", "lost", 100.0)])
    assert limits.data_facts(late_loss, AS_OF).no_lost_deals is True
    zero = _opps([MIXED[0], ("O2", "2025-04-02", "2025-05-11", "lost", 0.0), ("O4", "2025-04-02", "2025-05-12", "lost", None)])
    assert limits.data_facts(zero, AS_OF).lost_amounts_zero is True
    no_amount = _opps([(o, c, d, r, None) for o, c, d, r, _ in MIXED])
    facts = limits.data_facts(no_amount, AS_OF)
    assert facts.no_amounts is True and facts.lost_amounts_zero is False   # nothing to say about lost amounts
    assert limits.data_facts(no_amount.drop(columns="amount"), AS_OF).no_amounts is True
    bulk = _opps([(o, "2025-01-06", d, r, a) for o, _, d, r, a in MIXED])
    assert limits.data_facts(bulk, AS_OF).one_created_at is True
    assert limits.data_facts(_opps(MIXED), AS_OF, ["one_created_at"]).one_created_at is True  # the ingest said so
    assert limits.data_facts(_opps(MIXED[:1]), AS_OF).one_created_at is False                 # one row proves nothing


def test_explain_pipeline_no_lost_deals():
    opps = _opps([MIXED[0], MIXED[2]])
    pipe = pipeline_metrics(opps, T("2025-04-01"), AS_OF, AS_OF)
    assert pipe["win_rate"] == 1.0   # what the raw ratio says: 1 / (1 + 0)
    got = limits.explain_pipeline(pipe, limits.data_facts(opps, AS_OF))
    assert got["null_reasons"] == {"win_rate": "no_lost_deals", "win_rate_by_amount": "no_lost_deals",
                                   "sales_velocity": "no_lost_deals"}
    assert (got["win_rate"], got["win_rate_by_amount"], got["sales_velocity"]) == (None, None, None)
    # O1: 300 won, 30 days
    assert (got["won_revenue"], got["avg_deal_size"], got["sales_cycle_days"]) == (300.0, 300.0, 30.0)
    assert pipe["win_rate"] == 1.0 and "null_reasons" not in pipe   # the input is not changed


def test_explain_pipeline_no_amounts_and_bulk_load():
    opps = _opps([(o, "2025-04-01", d, r, None) for o, _, d, r, _ in MIXED])
    pipe = pipeline_metrics(opps, T("2025-04-01"), AS_OF, AS_OF)
    facts = limits.data_facts(opps, AS_OF)   # no amounts, and one created_at for all three
    got = limits.explain_pipeline(pipe, facts)
    assert got["win_rate"] == 0.5 and got["won_count"] == 1
    assert got["null_reasons"] == {"win_rate_by_amount": "no_amounts", "won_revenue": "no_amounts",
                                   "avg_deal_size": "no_amounts", "sales_cycle_days": "one_created_at",
                                   "sales_velocity": "no_amounts", "open_pipeline_amount": "no_amounts"}
    assert got["open_pipeline"] == {"count": 1, "amount": None, "amount_unknown_count": 1}
    assert all(got[k] is None for k in got["null_reasons"] if k in PIPELINE_KEYS)


def test_explain_pipeline_period_reasons():
    opps = _opps(MIXED)
    empty = pipeline_metrics(opps, T("2024-01-01"), T("2024-03-31"), AS_OF)
    got = limits.explain_pipeline(empty, limits.data_facts(opps, AS_OF))
    assert got["null_reasons"] == {"win_rate": "no_closed_deals", "win_rate_by_amount": "no_closed_deals",
                                   "avg_deal_size": "no_won_deals", "sales_cycle_days": "no_won_deals",
                                   "sales_velocity": "no_won_deals"}
    assert got["won_revenue"] == 0.0   # nothing won: a true 0
    # lost amounts 0 elsewhere in the data
    zero = _opps([MIXED[0], ("O2", "2025-04-02", "2025-05-11", "lost", 0.0)])
    got = limits.explain_pipeline(pipeline_metrics(zero, T("2025-04-01"), AS_OF, AS_OF), limits.data_facts(zero, AS_OF))
    assert got["win_rate"] == 0.5 and got["null_reasons"] == {"win_rate_by_amount": "lost_amounts_zero"}
    # a row of a column the opportunities lack is all None and stays as it is
    assert limits.explain_pipeline(dict.fromkeys(PIPELINE_KEYS), limits.DataFacts(no_lost_deals=True)) == dict.fromkeys(PIPELINE_KEYS)


def test_won_deals_without_amount_count_the_known_ones():
    opps = _opps([MIXED[0], ("O5", "2025-04-05", "2025-05-05", "won", None), MIXED[1]])
    pipe = pipeline_metrics(opps, T("2025-04-01"), AS_OF, AS_OF)
    # won O1 (300) and O5 (no amount): revenue 300 over the one won deal with an amount
    assert (pipe["won_count"], pipe["won_revenue"], pipe["avg_deal_size"]) == (2, 300.0, 300.0)
    only_unknown = _opps([("O5", "2025-04-05", "2025-05-05", "won", None), MIXED[1]])
    pipe = pipeline_metrics(only_unknown, T("2025-04-01"), AS_OF, AS_OF)
    got = limits.explain_pipeline(pipe, limits.data_facts(only_unknown, AS_OF))
    assert got["won_revenue"] is None and got["null_reasons"]["won_revenue"] == "won_amounts_missing"


def test_explain_cohort_reasons():
    cohort = {"leads": 0, "mql_rate": None, "sql_rate": None, "opportunity_rate": None, "won_rate": None,
              "lead_to_opportunity_rate": None, "lead_to_won_rate": None, "immature": None}
    assert limits.explain_cohort(cohort)["null_reasons"] == {
        "mql_rate": "no_cohort_leads", "sql_rate": "no_cohort_mqls", "opportunity_rate": "no_cohort_sqls",
        "won_rate": "no_cohort_opportunities", "lead_to_opportunity_rate": "no_cohort_leads",
        "lead_to_won_rate": "no_cohort_leads", "immature": "no_cohort_leads"}   # no lead: nothing to mature
    assert limits.explain_cohort({"leads": 3, "immature": None})["null_reasons"] == {"immature": "no_maturity_data"}
    assert "null_reasons" not in limits.explain_cohort({"mql_rate": 0.5, "immature": False})
    assert limits.explain_cohort(None) is None


def test_coverage_hand_computed():
    got = limits.coverage(T("2025-02-10"), AS_OF, T("2025-01-01"), T("2025-03-31"), leads_end=T("2025-02-28"))
    # the last lead is 31 days before the period's last day (> 30): the leads export ended early
    assert got == {"data_start": T("2025-02-10"), "data_end": T("2025-03-31"), "partial": True,
                   "leads_end": T("2025-02-28"), "leads_partial": True}
    # 30 days without a lead is a quiet month, not an ended export
    assert limits.coverage(T("2025-02-10"), AS_OF, T("2025-01-01"), T("2025-03-31"), leads_end=T("2025-03-01"))["leads_partial"] is False
    got = limits.coverage(T("2025-02-10"), AS_OF, T("2025-04-01"), T("2025-06-30"))
    assert got == {"data_start": T("2025-04-01"), "data_end": AS_OF, "partial": False, "leads_end": None, "leads_partial": False}
    assert limits.coverage(T("2025-02-10"), T("2025-06-15"), T("2025-04-01"), T("2025-06-30"))["partial"] is True


def test_period_coverage_ends_at_the_data_last_date(tmp_path):
    """An as_of a month or more past the data adds no data: the period is partial from the data's last record date
    (here O2's closed_at, 2025-06-15), the opportunities' end as much as the leads'. A shorter quiet spell before
    as_of (15 days to 2025-06-30) is a quiet spell: the period is covered to as_of."""
    from conftest import LEADS_CSV, OPPS_CSV, write_folder
    from helpers.config import load_config
    from helpers.data.load import last_data_date, load_workbook
    from helpers.data.periods import make_period
    from helpers.metrics.core import period_coverage
    from helpers.metrics.source import FrameSource

    folder = write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV,
                                           "opportunities.csv": OPPS_CSV.replace("2025-06-30,lost", "2025-06-15,lost")})
    q2 = make_period(2025, 2)
    for as_of, want, partial, leads_partial in (
            # 15 days without a record before as_of: covered to as_of; the last lead (05-20) 41 days before it
            (T("2025-06-30"), T("2025-06-30"), False, True),
            # 107 days: the data ends 06-15; the last lead is 26 days before that
            (T("2025-09-30"), T("2025-06-15"), True, False),
            # as_of before the last record: the data ends at as_of
            (T("2025-06-10"), T("2025-06-10"), True, False)):
        wb = load_workbook(folder, load_config(folder), as_of=as_of)
        assert last_data_date(wb) == T("2025-06-15")   # the latest of every lead and opportunity date column
        expected = {"data_start": T("2025-04-01"), "data_end": want, "partial": partial,
                    "leads_end": T("2025-05-20"), "leads_partial": leads_partial}
        assert period_coverage(wb, q2) == expected
        assert period_coverage(wb, q2, FrameSource(wb.leads, wb.opportunities)) == expected
    # the data's end in the period's last day: covered whole
    folder = write_folder(tmp_path / "e", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    wb = load_workbook(folder, load_config(folder), as_of=T("2025-09-30"))
    assert period_coverage(wb, q2)["partial"] is False
    assert period_coverage(wb, q2, FrameSource(wb.leads, wb.opportunities))["data_end"] == T("2025-06-30")


def test_the_data_ends_at_its_last_record_only_a_month_before_as_of():
    assert limits.data_end_of(T("2025-06-30"), T("2025-05-31")) == T("2025-06-30")   # 30 days: a quiet spell
    assert limits.data_end_of(T("2025-06-30"), T("2025-05-30")) == T("2025-05-30")   # 31 days: the export ended
    assert limits.data_end_of(T("2025-06-30"), None) == T("2025-06-30")
    assert limits.data_end_of(T("2025-06-10"), T("2025-06-15")) == T("2025-06-10")


def test_negative_intervals_hand_computed():
    leads = as_dates(pd.DataFrame({"lead_id": ["A", "B", "C"], "created_at": ["2025-03-01", "2025-03-01", "2025-03-01"],
                                   "opportunity_id": ["X", "Y", "Z"]}), "created_at")
    opps = _opps([("X", "2025-02-20", "2025-02-25", "won", 1.0),   # created and won before its lead
                  ("Y", "2025-02-20", "2025-04-01", "won", 1.0),   # created before its lead, won after
                  ("Z", "2025-03-05", "2025-03-10", "lost", 1.0)])
    assert limits.negative_intervals(leads, opps, AS_OF) == {"opportunity_before_lead": 2, "won_before_lead": 1}
    assert limits.negative_intervals(None, opps, AS_OF) == {"opportunity_before_lead": 0, "won_before_lead": 0}


def test_ingest_warnings_and_merge_order(tmp_path):
    assert limits.ingest_warnings(tmp_path) == []
    report = {"warnings": [{"code": "one_created_at", "file": "Opp.csv", "message": "all share one created_at", "count": 26},
                           {"code": "no_channel", "file": "Opp.csv", "message": "no channel"}]}
    (tmp_path / "ingest_report.json").write_text(json.dumps(report), encoding="utf-8")
    ingest = limits.ingest_warnings(tmp_path)
    assert [(w["code"], w["count"], w["source"]) for w in ingest] == [("one_created_at", 26, "ingest"), ("no_channel", 0, "ingest")]
    load = [Finding("warning", "opportunities.csv", "unknown_lead_id", "lead_id not found", count=3, rows=(2, 3, 4)),
            Finding("warning", "opportunities.csv", "one_created_at", "loader's own", count=26),
            Finding("error", "opportunities.csv", "bad_date", "never listed", count=1),
            Finding("warning", "opportunities.csv", "no_lost_deals", "no lost deals", count=5)]
    merged = limits.warnings_list(load, ingest)
    # the data-wide fact first, then the ingest (its one_created_at replaces the loader's), then the rest
    assert [(w["code"], w["source"], w["count"]) for w in merged] == [
        ("no_lost_deals", "load", 5), ("one_created_at", "ingest", 26), ("no_channel", "ingest", 0),
        ("unknown_lead_id", "load", 3)]
    assert merged[-1]["rows"] == "2, 3, 4"
    (tmp_path / "ingest_report.json").write_text("{not json", encoding="utf-8")
    assert [w["code"] for w in limits.ingest_warnings(tmp_path)] == ["ingest_report_unreadable"]


def _values(frame):
    return [None if pd.isna(v) else v for v in frame["channel"]]


def test_normalize_channels_folds_case_and_width_and_drops_placeholders():
    leads = pd.DataFrame({"lead_id": ["a", "b", "c", "d", "e"], "channel": ["Google", "google", "Ｗｅｂ", "Select", " web "]})
    opps = pd.DataFrame({"opportunity_id": ["x", "y"], "channel": ["GOOGLE", "(none)"]})
    spend = pd.DataFrame({"channel": ["google"]})
    tables, found = channels.normalize_channels({"leads": leads, "opportunities": opps, "spend": spend}, True,
                                              {"leads": "leads.csv", "opportunities": "opps.csv", "spend": "spend.csv"})
    # Google: Google 1, google 2 (lead b, spend), GOOGLE 1 -> 'google' is the most frequent spelling
    # Web: Ｗｅｂ 1, web 1 (stripped) -> a tie: 'web' sorts first
    assert _values(tables["leads"]) == ["google", "google", "web", None, "web"]
    assert _values(tables["opportunities"]) == ["google", None]
    assert tables["spend"]["channel"].tolist() == ["google"]
    assert leads["channel"].tolist()[0] == "Google"   # the input is not changed
    by_code = [(f.code, f.file, f.count) for f in found]
    assert by_code == [("channel_placeholder", "leads.csv", 1), ("channel_placeholder", "opps.csv", 1),
                       ("channel_variants", "leads / opportunities / spend", 2),
                       ("channel_variants", "leads / opportunities / spend", 1)]
    assert "'google' (2), 'GOOGLE' (1), 'Google' (1)" in found[2].message
    kept, found = channels.normalize_channels({"leads": leads}, False, {})
    assert _values(kept["leads"]) == ["Google", "google", "Ｗｅｂ", None, "web"]
    assert [f.code for f in found] == ["channel_placeholder", "channel_variants", "channel_variants"]
    assert "counted as separate channels" in found[1].message


def test_channels_normalize_setting_reaches_the_loaded_data(tmp_path):
    from conftest import write_folder
    from helpers.config import load_config
    from helpers.data.load import load_workbook

    opps = ("opportunity_id,created_at,closed_at,outcome,amount,channel\n"
            "O1,2025-04-01,2025-05-01,won,1,Web\nO2,2025-04-02,2025-05-02,lost,1,ｗｅｂ\nO3,2025-04-03,,open,1,-\n")
    folder = write_folder(tmp_path / "d", {"opportunities.csv": opps})
    assert load_workbook(folder).opportunities["channel"].tolist() == ["Web", "Web", "unknown"]
    off = write_folder(tmp_path / "off", {"opportunities.csv": opps, "workbook.yaml": "channels:\n  normalize: false\n"})
    assert load_workbook(off, load_config(off)).opportunities["channel"].tolist() == ["Web", "ｗｅｂ", "unknown"]
    from helpers.errors import ConfigError

    bad = write_folder(tmp_path / "bad", {"opportunities.csv": opps, "workbook.yaml": "channels:\n  normalize: maybe\n"})
    with pytest.raises(ConfigError, match="channels.normalize"):
        load_config(bad)


def test_answer_date_problem():
    from helpers.views.checklist_views import answer_date_problem

    today = T("2025-08-01")
    assert answer_date_problem(T("2030-01-01"), AS_OF, today=today)[0] == "error"
    kind, text = answer_date_problem(T("2025-07-15"), AS_OF, today=today)
    assert kind == "warning" and "2025-07-15" in text and "2025-06-30" in text
    assert answer_date_problem(T("2025-06-30"), AS_OF, today=today) is None


def test_checklist_evidence_win_rate_not_computable_without_losses():
    from helpers.metrics.checklist import evidence

    won_only = _opps([MIXED[0], MIXED[2]])
    # one deal closed (O1 won) but no loss anywhere: the win rate is null, so the data does not support item 9
    assert (evidence(None, won_only, AS_OF, 48)[9]["value"], evidence(None, won_only, AS_OF, 48)[9]["n"]) == (0.0, 1)
    assert evidence(None, _opps(MIXED), AS_OF, 48)[9]["value"] == 1.0


def test_nothing_closed_makes_the_forecast_and_backtest_null_with_the_reason():
    opps = pd.DataFrame({"opportunity_id": ["A", "B"], "created_at": pd.to_datetime(["2025-04-01", "2025-05-01"]),
                         "closed_at": pd.to_datetime([None, None]), "outcome": ["open", "open"], "amount": [100.0, 200.0]})
    facts = limits.data_facts(opps, "2025-06-30")
    # two open deals and nothing won or lost: a forecast has no closed deal to learn from
    assert facts.nothing_closed and not facts.no_lost_deals and facts.codes() == ["nothing_closed"]
    assert not limits.data_facts(opps.iloc[:0], "2025-06-30").nothing_closed   # no opportunities at all: not this fact
    section = {"forecast": {"won_count": {"expected": 0.0}, "won_revenue": {"expected": 0.0}},
               "backtest": {"interval_coverage_95": 1.0, "mean_absolute_error": 0.0, "periods": [{}]},
               "coverage": {"null_reasons": {}}, "reverse_funnel": {},
               "progress": [{"metric": "won_count", "actual": 0, "attainment": None}, {"metric": "leads", "actual": 7, "attainment": 0.7}],
               "targets": [{"metric": "won_revenue", "source": "last_year", "target": 0.0, "null_reason": None},
                           {"metric": "won_count", "source": "targets.csv", "target": 5.0, "null_reason": None}]}
    out, f = limits.explain_goals(section, {"won_revenue": {}, "won_count": {}, "parts": {}}, facts)
    assert f is None and out["forecast"]["won_revenue"] is None
    assert out["forecast"]["null_reasons"] == {"won_count": "nothing_closed", "won_revenue": "nothing_closed"}
    assert out["backtest"]["periods"] == [] and out["backtest"]["null_reasons"] == {"backtest": "nothing_closed"}
    # what was won is unknown, not 0: the won goals' actual and a last-year target are null; an agreed goal stays
    assert out["progress"][0] | {} == {"metric": "won_count", "actual": None, "attainment": None,
                                       "null_reasons": {"actual": "nothing_closed"}}
    assert out["progress"][1]["actual"] == 7
    assert (out["targets"][0]["target"], out["targets"][0]["null_reason"]) == (None, "nothing_closed")
    assert out["targets"][1]["target"] == 5.0
