"""Notebook 04's what-if explorer: the reverse funnel for typed targets (hand-computed) and the save into targets.csv."""
import re
from dataclasses import replace as dc_replace

import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data import targets_file
from helpers.errors import WorkbookError
from helpers.metrics import goals
from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.session import open_session
from helpers.storage import own_backups
from helpers.views import goals_views, goals_whatif

#: Step rates of a made-up data set: SQL→opportunity 80%, MQL→SQL 50%, lead→MQL 25%, half the opportunities from leads.
RATES = {"opportunity_rate": 0.8, "sql_rate": 0.5, "mql_rate": 0.25, "lead_sourced_share": 0.5}


@pytest.fixture
def live(monkeypatch):
    monkeypatch.delenv("WORKBOOK_STATIC", raising=False)
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)


def test_reverse_funnel_of_typed_targets_hand_computed():
    # ¥1,000,000 ÷ ¥100,000 = 10 won; ÷ 25% = 40 opportunities; × 0.5 ÷ 0.8 = 25 SQLs; ÷ 0.5 = 50 MQLs; ÷ 0.25 = 200 leads
    f = goals_whatif.whatif_funnel(1_000_000, 0.25, 100_000, RATES)
    assert f == pytest.approx({"won_count": 10, "opportunities": 40, "sqls": 25, "mqls": 50, "leads": 200})
    assert goals_whatif.whatif_goals(1_000_000, f) == {"won_revenue": 1_000_000, "won_count": 10, "opportunities_created": 40,
                                                       "sqls": 25, "mqls": 50, "leads": 200}


def test_counts_are_rounded_up_to_reach_the_goal():
    # ¥1,050,000 ÷ ¥100,000 = 10.5 → 11 won; 10.5 ÷ 0.25 = 42 opportunities; 42 × 0.5 ÷ 0.8 = 26.25 → 27 SQLs;
    # 26.25 ÷ 0.5 = 52.5 → 53 MQLs; 52.5 ÷ 0.25 = 210 leads
    f = goals_whatif.whatif_funnel(1_050_000, 0.25, 100_000, RATES)
    assert goals_whatif.whatif_goals(1_050_000, f) == {"won_revenue": 1_050_000, "won_count": 11, "opportunities_created": 42,
                                                       "sqls": 27, "mqls": 53, "leads": 210}
    assert targets_file.count_goal(10.000000000001) == 10 and targets_file.count_goal(None) is None


def test_without_lead_rates_only_the_deal_stages_are_given():
    f = goals_whatif.whatif_funnel(900_000, 0.3, 300_000, {"opportunity_rate": None, "sql_rate": None, "mql_rate": None,
                                                           "lead_sourced_share": None})
    assert f["won_count"] == pytest.approx(3) and f["opportunities"] == pytest.approx(10)
    assert f["sqls"] is None and f["mqls"] is None and f["leads"] is None
    assert goals_whatif.whatif_goals(900_000, f)["leads"] is None


@pytest.mark.parametrize(("revenue", "win", "deal", "key"), [(-1, 0.2, 10, "whatif_bad_revenue"), (100, 0, 10, "whatif_bad_win_rate"),
                                                              (100, 1.2, 10, "whatif_bad_win_rate"), (100, 0.2, 0, "whatif_bad_deal_size"),
                                                              (float("nan"), 0.2, 10, "whatif_bad_revenue")])
def test_out_of_range_inputs_are_said_not_computed(revenue, win, deal, key):
    from helpers.labels import t

    assert goals_whatif.input_problem(revenue, win, deal, "en") == t(key, "en")


EXISTING = ("period,metric,target,department,channel\n"
            "2025Q2,won_revenue,5000000,shared,\n"        # replaced
            "2025Q2,leads,80,marketing,\n"                # replaced
            "2025Q2,leads,30,marketing,web\n"             # a channel goal: kept
            "2025Q1,won_revenue,4000000,shared,\n")       # another period: kept


def test_save_writes_the_goals_and_keeps_other_rows(tmp_path):
    path = write_folder(tmp_path / "d", {"targets.csv": EXISTING}) / "targets.csv"
    goals_ = {"won_revenue": 1_050_000, "won_count": 11, "opportunities_created": 42, "sqls": 27, "mqls": 53, "leads": 210}
    with pytest.raises(targets_file.TargetsExistError) as err:
        targets_file.save_goals(path, "2025Q2", goals_)
    assert err.value.existing == {"won_revenue": "5000000", "leads": "80"}
    assert path.read_text(encoding="utf-8") == EXISTING and own_backups(path) == []   # nothing written
    result = targets_file.save_goals(path, "2025Q2", goals_, replace=True)
    assert result["written"] == 6 and result["replaced"] == 2
    assert path.read_text(encoding="utf-8") == (
        "period,metric,target,department,channel\n"
        "2025Q2,leads,30,marketing,web\n"
        "2025Q1,won_revenue,4000000,shared,\n"
        "2025Q2,won_revenue,1050000,shared,\n"
        "2025Q2,won_count,11,shared,\n"
        "2025Q2,opportunities_created,42,sales,\n"
        "2025Q2,sqls,27,sales,\n"
        "2025Q2,mqls,53,marketing,\n"
        "2025Q2,leads,210,marketing,\n")
    (backup,) = own_backups(path)
    assert backup == path.with_name(backup.name) and backup.read_text(encoding="utf-8") == EXISTING   # nothing lost


def test_save_creates_the_file_and_keeps_a_users_extra_column(tmp_path):
    folder = write_folder(tmp_path / "d", {})
    path = targets_file.targets_path(folder)
    assert path == folder / "targets.csv"
    targets_file.save_goals(path, "2025Q3", {"won_revenue": 2_000_000.5, "won_count": 7, "leads": None})
    assert path.read_text(encoding="utf-8") == ("period,metric,target,department,channel\n"
                                                "2025Q3,won_revenue,2000000.5,shared,\n2025Q3,won_count,7,shared,\n")
    path.write_text("\ufeffperiod,metric,target,memo\n2025Q3,mqls,40,agreed in May\n", encoding="utf-8")
    targets_file.save_goals(path, "2025Q3", {"leads": 100})
    assert path.read_bytes().decode("utf-8") == ("\ufeffperiod,metric,target,memo,department,channel\n"
                                                 "2025Q3,mqls,40,agreed in May,,\n2025Q3,leads,100,,marketing,\n")


def test_save_refuses_a_file_without_the_goal_columns(tmp_path):
    path = write_folder(tmp_path / "d", {"targets.csv": "期間,指標,目標値\n2025Q2,won_revenue,100\n"}) / "targets.csv"
    with pytest.raises(WorkbookError, match="lacks the column.*period, metric, target"):
        targets_file.save_goals(path, "2025Q2", {"won_revenue": 5})
    assert path.read_text(encoding="utf-8") == "期間,指標,目標値\n2025Q2,won_revenue,100\n"


def test_save_is_refused_on_the_shipped_sample():
    path = targets_file.targets_path(SAMPLE_DATA_DIR)
    before = path.exists()
    with pytest.raises(WorkbookError) as err:
        targets_file.save_goals(path, "2025Q2", {"won_revenue": 1})
    assert err.value.code == "save_sample_refused" and path.exists() == before


@pytest.fixture
def session(tmp_path):
    targets = "period,metric,target\n2025Q2,won_revenue,3000000\n2025Q1,won_revenue,1000000\n"
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "targets.csv": targets})
    return open_session(str(data), theme=False)


def test_saved_goals_are_the_pages_goals_after_a_reload(session):
    rates = goals.funnel_rates(session.wb.leads, session.wb.opportunities, session.as_of)
    # the data: one won deal of ¥1,200,000 and one lost in the last 365 days -> win rate 50%, average deal ¥1,200,000
    assert rates["win_rate"] == pytest.approx(0.5) and rates["avg_deal_size"] == pytest.approx(1_200_000)
    outcome, messages = goals_whatif.save_whatif(session, "2025Q3", 2_400_000, 0.4, 1_200_000)
    assert outcome == "saved" and messages[0].startswith("Saved ") and "2025Q3" in messages[0]
    again = open_session(str(session.wb.data_dir), period="2025Q3", theme=False)
    saved = {r["metric"]: r["target"] for r in again.wb.targets.to_dict("records") if r["period"] == "2025Q3"}
    # 2,400,000 ÷ 1,200,000 = 2 won deals; 2 ÷ 0.4 = 5 opportunities
    assert saved["won_revenue"] == 2_400_000 and saved["won_count"] == 2 and saved["opportunities_created"] == 5
    assert goals.main_goal(goals_views.compute(again).section["targets"]) == 2_400_000
    again_outcome, again_messages = goals_whatif.save_whatif(session, "2025Q3", 2_400_000, 0.4, 1_200_000)
    assert again_outcome == "exists" and "Replace this period's goals" in again_messages[0]


def test_save_from_a_session_on_the_sample_is_refused_in_its_language():
    s = dc_replace(open_session(str(SAMPLE_DATA_DIR), theme=False), lang="ja")
    outcome, messages = goals_whatif.save_whatif(s, s.period.label, 1_000_000, 0.2, 100_000)
    assert outcome == "refused" and "同梱のサンプルデータ" in messages[0] and not (SAMPLE_DATA_DIR / "targets.csv").exists()


def test_refused_when_inputs_are_out_of_range(session):
    outcome, messages = goals_whatif.save_whatif(session, "2025Q3", 1_000_000, 0.4, 0)
    assert outcome == "refused" and "average deal size above 0" in messages[0]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_explorer_controls_are_labelled_and_the_caption_names_the_selection(session, live, lang):
    s = dc_replace(session, lang=lang)
    g = goals_views.compute(s)
    box = goals_whatif.explorer(s, g).widget
    period, revenue, win, deal = box.children[1].children
    names = [c.description for c in (period, revenue, win, deal)]
    assert names == (["Goals for", "Won-revenue goal (JPY)", "Win rate", "Average deal size (JPY)"] if lang == "en"
                      else ["目標の期間", "受注金額の目標(JPY)", "受注率", "平均受注単価(JPY)"])
    assert period.value == "2025Q2" and revenue.value == 3_000_000 and win.value == pytest.approx(0.5)
    table = box.children[2]
    caption = ("Reverse funnel for 2025Q2: won-revenue goal ¥3,000,000, win rate 50.0%, average deal size ¥1,200,000" if lang == "en"
               else "2025Q2の逆算: 受注金額の目標 ¥3,000,000、受注率 50.0%、平均受注単価 ¥1,200,000")
    assert f"<caption>{caption}</caption>" in table.value
    revenue.value = 6_000_000   # 6,000,000 ÷ 1,200,000 = 5 won; ÷ 0.5 = 10 opportunities
    assert "¥6,000,000" in table.value and re.search(r">5</td>", table.value) and re.search(r">10</td>", table.value)
    deal.value = 0
    assert "wb-warn" in table.value and "<table" not in table.value
