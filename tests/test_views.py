"""Interactive paths of the notebooks (never run by the report runner): the widgets build, filter and save."""
import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers import checklist_views, funnel_views, velocity_views
from helpers.session import open_session


@pytest.fixture
def live(monkeypatch):
    monkeypatch.delenv("WORKBOOK_STATIC", raising=False)
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)


@pytest.fixture
def session(tmp_path):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                            "initiatives.csv": "name,started_on\nKPI統一,2025-05-15\n"})
    return open_session(str(data), theme=False)


def test_static_mode_builds_no_widgets(session, monkeypatch):
    monkeypatch.setenv("WORKBOOK_STATIC", "1")
    assert checklist_views.form(session) is None
    assert funnel_views.explore_breakdown(session) is None
    assert velocity_views.explore(session) is None


def test_channel_filter_keeps_only_that_channel(session):
    web = funnel_views.filtered(session, "web")
    assert set(web.wb.opportunities["channel"].astype(str)) == {"web"}   # O1 (channel from lead L1)
    assert list(web.wb.leads["lead_id"]) == ["L1", "L3"]
    assert funnel_views.filtered(session, "") is session


def test_breakdown_explorer_builds_four_dropdowns(session, live):
    box = funnel_views.explore_breakdown(session)
    names = [c.description for c in box.children[0].children]
    assert names == ["period", "dimension", "rate", "channel"]
    channel = box.children[0].children[3]
    assert ("web", "web") in channel.options and channel.options[0][1] == ""


def test_checklist_form_saves_answers(session, live):
    form = checklist_views.form(session)
    header = form.children[0].children
    header[0].value = "sales-09"
    header[1].value = "sales"
    strategy = form.children[1].children
    strategy[1].children[1].value = "yes"      # item 1
    strategy[2].children[1].value = "partial"  # item 2
    save = form.children[-2].children[0]
    save.click()
    saved = pd.read_csv(session.wb.data_dir / "checklist.csv")
    assert saved[["respondent", "department", "item", "answer"]].values.tolist() == [
        ["sales-09", "sales", 1, "yes"], ["sales-09", "sales", 2, "partial"]]
    save.click()  # the same respondent and day again: refused until "replace" is ticked
    assert len(pd.read_csv(session.wb.data_dir / "checklist.csv")) == 2
    form.children[-2].children[1].value = True
    strategy[2].children[1].value = "no"
    save.click()
    again = pd.read_csv(session.wb.data_dir / "checklist.csv")
    assert again[["item", "answer"]].values.tolist() == [[1, "yes"], [2, "no"]]


def test_caveats_and_conclusion_in_japanese_come_from_the_values():
    vc = {"initiative": "KPI統一", "start": pd.Timestamp("2026-01-05"),
          "conclusion": {"code": "no_clear_change", "text": "No clear change ...",
                         "values": {"change": 1.654, "seasonally_adjusted_change": 1.0746, "interval_low": -0.399, "interval_high": 6.2}}}
    assert velocity_views.conclusion_text(vc, "en") == "No clear change ..."
    ja = velocity_views.conclusion_text(vc, "ja")
    assert ja.startswith("明確な変化なし — KPI統一(開始 2026-01-05): 単純比較の変化率 +165.4%、季節調整後 +107.5%、95%区間 [-39.9%, +620.0%]。")
    mix = {"code": "mix_shift", "text": "...", "values": {"biggest": {"column": "industry", "value": "小売", "before_share": 0.1077,
                                                                     "after_share": 0.2316, "shift": 0.1239}}}
    assert velocity_views.caveat_text(mix, "ja").startswith("商談の構成が変わりました: 業種「小売」の割合が11%から23%へ(+12ポイント)")
    censored = {"code": "right_censoring", "text": "...", "values": {"created_in_after": 95, "open_at_window_end": 37,
                "window_end": pd.Timestamp("2026-04-04"), "open_at_as_of": 0, "median_age_days": 19.0}}
    assert "95件の商談のうち37件は期間末(2026-04-04)時点で進行中" in velocity_views.caveat_text(censored, "ja")
