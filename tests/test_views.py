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
