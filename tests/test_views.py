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


# ---- issue 13: true messages -----------------------------------------------------------------------

def test_conclusion_names_the_caveats_by_their_titles_not_their_codes():
    vc = {"initiative": "KPI統一", "start": pd.Timestamp("2026-01-05"),
          "caveats": [{"code": "different_seasons"}, {"code": "mix_shift"}],
          "conclusion": {"code": "no_clear_change", "text": "No clear change.", "values": {"change": 0.1}}}
    assert velocity_views.conclusion_text(vc, "en") == ("No clear change. Read it with the caveats below: "
                                                       "Windows in different seasons; Channel or segment mix changed.")
    assert velocity_views.conclusion_text(vc, "ja").endswith("下の注意点も併せて確認してください: 比較期間の季節が異なる、チャネル・セグメント構成の変化。")


def test_an_initiative_after_the_period_is_named_with_the_report_that_compares_it(tmp_path):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                            "initiatives.csv": "name,started_on\nKPI統一,2025-09-01\n"})
    s = open_session(str(data), period="2025Q2", theme=False)  # April-June 2025; the initiative starts in 2025Q3
    assert velocity_views.comparison(s) is None
    text = velocity_views.no_initiative_view(s).data
    assert "KPI統一" in text and "2025-09-01" in text and "2025-06-30" in text and "2025Q3" in text
    assert "No alignment initiative is declared" not in text
    bare = open_session(str(write_folder(tmp_path / "bare", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})),
                        period="2025Q2", theme=False)
    assert "No alignment initiative is declared" in velocity_views.no_initiative_view(bare).data


def test_cohort_age_is_how_long_the_leads_have_had(session):
    from dataclasses import replace

    from helpers.periods import parse_period

    s = replace(session, period=parse_period("2025Q2", 1))  # 2025-04-01 .. 2025-06-30; as_of = 2025-06-30 (latest date)
    assert str(s.as_of.date()) == "2025-06-30"
    # newest lead: 0 days; a lead of mid-period (2025-05-15 12:00): 45 days; the first lead (2025-04-01): 90 days
    assert funnel_views.cohort_age_days(s) == (0, 45, 90)


def test_small_mark_follows_each_rate_own_rule(session):
    from dataclasses import replace

    from helpers.periods import parse_period

    s = replace(session, period=parse_period("2025Q2", 1))
    import bs4

    soup = bs4.BeautifulSoup(funnel_views.rate_view(s, "channel").data, "html.parser")
    headers = [th.get_text() for th in soup.find_all("th")]
    rows = [[td.get_text() for td in tr.find_all("td")] for tr in soup.find_all("tr")[1:]]
    rates = [i for i, h in enumerate(headers) if h.startswith(("Win rate", "Lead-to-opportunity"))]
    assert len(rates) == 2 and "Small group" not in headers
    # every group here is below 20 leads and 20 closed deals: each rate that exists carries ●, a missing one does not
    values = [row[i] for row in rows for i in rates]
    assert any(v.endswith("●") for v in values) and any(v == "n/a" for v in values)
    for value in values:
        assert value.endswith("●") != (value == "n/a"), value


def test_empty_contradiction_column_is_left_out_and_explained(session):
    ck = {"contradictions": [], "evidence": {"5": {"value": 0.5, "supports": True, "measure": "follow_up_sla_hit_rate",
                                                   "threshold": 0.8}},
          "by_item": {5: {"marketing": 1.0, "sales": 0.5}}}
    html = checklist_views.evidence_table(session, ck).data
    assert "Contradicted answers" not in html and "no answer is contradicted" in html
    assert "Seen in the data (all history to 2025-06-30)" in html
