"""Interactive paths of the notebooks (never run by the report runner): the widgets build, filter and save."""
import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.report.session import open_session
from helpers.metrics import checklist
from helpers.views import checklist_views, funnel_views, velocity_views


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


def test_breakdown_explorer_builds_four_labelled_dropdowns(session, live):
    live_widget = funnel_views.explore_breakdown(session)
    box = live_widget.widget
    names = [c.description for c in box.children[0].children]
    assert names == ["Period", "Breakdown", "Rate", "Channel"]
    channel = box.children[0].children[3]
    assert ("web", "web") in channel.options and channel.options[0][1] == ""
    assert live_widget._repr_mimebundle_()["text/plain"] == "Run the notebook (Run ▸ Run All Cells) to use this explorer."


def test_breakdown_explorer_says_once_when_a_selection_is_empty(tmp_path, live):
    leads = LEADS_CSV + "L4,2025-02-10,ads,,小売,1-49,,,,,,d@example.com\n"  # the only ads lead: 2025Q1
    s = open_session(str(write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": OPPS_CSV})), theme=False)
    box = funnel_views.explore_breakdown(s).widget
    period, _, _, channel = box.children[0].children
    out = box.children[1]
    assert period.value == "2025Q2" and len(out.outputs) >= 2  # (maturity note,) table, chart
    channel.value = "ads"
    assert len(out.outputs) == 1
    assert "No leads or opportunities for this selection (2025Q2, ads). Choose another." in out.outputs[0]["data"]["text/html"]
    period.value = "2025Q1"
    html = "".join(o["data"].get("text/html", "") for o in out.outputs)
    assert len(out.outputs) >= 2 and ">ads<" in html and "No leads or opportunities" not in html


def test_velocity_explorer_shows_the_conclusion_and_caveats(session):
    vc = velocity_views.comparison(session, "", 0)
    parts = velocity_views.explore_view(session, "", 0)
    html = [getattr(p, "data", "") for p in parts]
    assert velocity_views.conclusion_view(session, vc).data in html
    assert "Too early to judge" in velocity_views.conclusion_text(vc, "en")
    caveats = velocity_views.caveats_view(session, vc).data
    assert caveats in html and len(vc["caveats"]) >= 1


def test_an_initiative_given_by_its_date_is_never_named_none(session):
    vc = velocity_views.comparison(session, "2025-05-01", 0)
    assert vc["initiative"] is None
    en = velocity_views.headline(session, vc).data
    assert "A start date chosen (2025-05-01)" in en and "None" not in en
    ja = velocity_views.conclusion_text(vc, "ja")
    assert ja.count("開始日の指定(開始 2025-05-01)") == 1 and "None" not in ja
    assert "None" not in velocity_views.conclusion_text(vc, "en")


def test_velocity_explorer_starts_with_the_page_choice(session, live):
    box = velocity_views.explore(session, "2025-05-01", 120).widget
    initiative, window = box.children[0].children
    assert initiative.value == "2025-05-01" and window.value == 120
    assert [v for _, v in initiative.options] == ["2025-05-01", "", "KPI統一"]
    html = "".join(o["data"].get("text/html", "") for o in box.children[1].outputs)
    assert "A start date chosen (2025-05-01)" in html and "KPI統一 (2025-05-15)" not in html


def _fill(form, who="sales-09", dept="sales"):
    header = form.children[1].children
    header[0].value = who
    header[1].value = dept
    return form.children[3].children  # the first category: strategy (items 1, 2)


def test_checklist_form_shows_its_target_and_saves_answers(session, live):
    form = checklist_views.form(session).widget
    target = session.wb.data_dir / "checklist.csv"
    assert f"Answers are saved to {target.resolve()}" in form.children[0].value  # before the first save
    strategy = _fill(form)
    strategy[1].children[1].value = "yes"      # item 1
    strategy[2].children[1].value = "partial"  # item 2
    save, replace, remove = form.children[-2].children
    feedback = form.children[-1]
    answered_on = form.children[1].children[2]
    assert str(answered_on.value) == "2025-06-30" and form.children[2].value == ""  # the data's snapshot date, no warning
    save.click()
    saved = pd.read_csv(target)
    assert saved[["respondent", "department", "item", "answer"]].values.tolist() == [
        ["sales-09", "sales", 1, "yes"], ["sales-09", "sales", 2, "partial"]]
    assert "Saved 2 answer(s) of sales-09 (Sales, " in feedback.value
    assert "Not answered: item(s) 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 (13 of 15)." in feedback.value
    save.click()  # the same respondent and day again: refused until "replace" is ticked
    assert len(pd.read_csv(target)) == 2
    assert feedback.value.count("already has answers on") == 1 and "Nothing was saved" in feedback.value
    assert "replace_same_day" not in feedback.value and "“Replace my answers of that day”" in feedback.value
    replace.value = True
    strategy[2].children[1].value = "no"
    save.click()
    again = pd.read_csv(target)
    assert again[["item", "answer"]].values.tolist() == [[1, "yes"], [2, "no"]]
    assert "They replace the 2 answer(s) saved earlier for that day." in feedback.value
    assert replace.value is False  # a replace applies to one save only
    assert remove.description == "Remove my answers of that day"
    remove.click()  # the same locked, atomic save with a backup: the file before it is kept
    assert pd.read_csv(target).empty and list(pd.read_csv(target).columns)[:6] == [
        "respondent", "department", "answered_on", "item", "answer", "note"]
    assert "Removed 2 answer(s) of sales-09 on 2025-06-30." in feedback.value
    backups = checklist.backups(target)
    assert pd.read_csv(backups[-1])[["item", "answer"]].values.tolist() == [[1, "yes"], [2, "no"]]
    remove.click()
    assert "sales-09 has no answers on 2025-06-30: nothing was removed." in feedback.value
    assert checklist.backups(target) == backups  # nothing written, no new backup


def test_checklist_form_warns_before_saving_a_date_after_the_snapshot(session, live):
    form = checklist_views.form(session).widget
    answered_on, date_note = form.children[1].children[2], form.children[2]
    answered_on.value = __import__("datetime").date(2025, 7, 3)
    assert "wb-warn" in date_note.value and "after the data&#x27;s as_of (2025-06-30)" in date_note.value
    assert "--as-of" not in date_note.value  # no command-line flag inside JupyterLab
    answered_on.value = __import__("datetime").date(2025, 6, 1)
    assert date_note.value == ""


@pytest.mark.parametrize("who, answered, message", [
    ("  ", {1: "yes"}, "Enter the respondent (an id such as sales-01, not a name). Nothing was saved."),
    ("sales-09", {}, "Nothing to save: answer at least one item (yes, partial or no)."),
])
def test_checklist_form_refuses_with_one_plain_message(session, who, answered, message):
    answers = {i: answered.get(i) for i in range(1, 16)}
    outcome, messages = checklist_views.save_form(session, who, "sales", pd.Timestamp("2025-06-20"), answers, {})
    assert (outcome, messages) == ("refused", [message])
    assert not (session.wb.data_dir / "checklist.csv").exists()


def test_checklist_form_feedback_in_japanese(session):
    from dataclasses import replace

    ja = replace(session, lang="ja")
    answers = {i: ("yes" if i <= 5 else None) for i in range(1, 16)}
    outcome, messages = checklist_views.save_form(ja, "mktg-01", "marketing", pd.Timestamp("2025-06-20"), answers, {})
    assert outcome == "saved"
    assert messages[0] == "mktg-01(マーケティング、2025-06-20)の回答を5件保存しました。"
    assert messages[1].startswith("未回答: 項目 6, 7, 8, 9, 10, 11, 12, 13, 14, 15(15項目中10項目)。")
    assert checklist_views.save_form(ja, "", "sales", pd.Timestamp("2025-06-20"), answers, {})[1] == [
        "回答者(氏名ではなく sales-01 のようなID)を入力してください。何も保存していません。"]


def test_checklist_form_saves_through_a_link_and_says_a_broken_one_in_the_report_language(session, tmp_path):
    from dataclasses import replace

    shared = tmp_path / "share" / "revops-answers.csv"
    shared.parent.mkdir()
    shared.write_text("respondent,department,answered_on,item,answer,note\nM1,marketing,2025-06-01,1,yes,\n", encoding="utf-8")
    link = session.wb.data_dir / "checklist.csv"
    link.symlink_to(shared)
    ja = replace(session, lang="ja")
    assert checklist_views.target_note(ja).data.count(f"回答の保存先: {shared}(リンク {link} が指す共有ファイル)") == 1
    outcome, _ = checklist_views.save_form(ja, "sales-02", "sales", pd.Timestamp("2025-06-20"), {1: "no"}, {})
    assert outcome == "saved" and link.is_symlink()
    assert shared.read_text(encoding="utf-8").splitlines()[-1] == "sales-02,sales,2025-06-20,1,no,"
    # the shared folder is gone (not mounted): refused, in Japanese, with its fix, said once
    shared.rename(tmp_path / "moved.csv")
    assert "リンク先がありません" in checklist_views.target_note(ja).data
    outcome, messages = checklist_views.save_form(ja, "sales-03", "sales", pd.Timestamp("2025-06-21"), {1: "yes"}, {})
    assert outcome == "error" and len(messages) == 1
    assert messages[0] == (f"{link}: {shared} へのリンクですが、リンク先がありません(共有フォルダが接続されていない、またはファイルが"
                           "移動された)。他の人が読まない個人用のコピーに回答が入らないよう、何も書き込んでいません。 対処方法: 共有フォルダを"
                           f"接続するか、リンクを共有ファイルに向け直して(ln -sf <共有ファイル> {link})から、もう一度保存してください。"
                           "自分用に回答を保存する場合は、先にリンクを削除してください。")
    assert link.is_symlink() and not link.exists()


def test_checklist_form_never_saves_into_the_shipped_sample(live):
    from helpers.paths import SAMPLE_DATA_DIR

    s = open_session(str(SAMPLE_DATA_DIR), theme=False)
    before = (SAMPLE_DATA_DIR / "checklist.csv").read_bytes()
    outcome, messages = checklist_views.save_form(s, "sales-09", "sales", pd.Timestamp("2026-01-05"), {1: "yes"}, {})
    assert outcome == "refused" and "is the shipped sample data" in messages[0]
    assert (SAMPLE_DATA_DIR / "checklist.csv").read_bytes() == before
    assert "is the shipped sample data" in checklist_views.form(s).widget.children[0].value


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

    from helpers.data.periods import parse_period

    s = replace(session, period=parse_period("2025Q2", 1))  # 2025-04-01 .. 2025-06-30; as_of = 2025-06-30 (latest date)
    assert str(s.as_of.date()) == "2025-06-30"
    # newest lead: 0 days; a lead of mid-period (2025-05-15 12:00): 45 days; the first lead (2025-04-01): 90 days
    assert funnel_views.cohort_age_days(s) == (0, 45, 90)


def test_small_mark_follows_each_rate_own_rule(session):
    from dataclasses import replace

    from helpers.data.periods import parse_period

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


def test_no_flat_conversion_chart_and_no_empty_stage_rows(tmp_path):
    from helpers.labels import t
    from helpers.views import goals_views

    # the tiny folder without its one link (L1 -> O1): no lead ever reaches an opportunity
    leads = LEADS_CSV.replace(",O1,佐藤,", ",,佐藤,")
    opps = OPPS_CSV.replace(",1200000,L1,", ",1200000,,")
    s = open_session(str(write_folder(tmp_path / "d", {"leads.csv": leads, "opportunities.csv": opps})), theme=False)
    out = goals_views.conversion_chart(s)
    assert t("conversion_none", "en") in out.data   # a sentence, not a chart flat at 0%
    fig = funnel_views.stage_time_chart(s)
    # L1 and L2 became MQL, L1 SQL, O1 and O2 closed: three transitions have pairs; SQL -> opportunity has none
    labels = [tick.get_text() for tick in fig.fig.axes[0].get_yticklabels()]
    assert labels == [t(f"transition_{x}", "en") for x in ("lead_to_mql", "mql_to_sql", "opportunity_to_close")]


def test_owner_table_explains_the_leads_without_an_owner():
    """Issue 24: the sample's FY2026Q2 owner table has an Unknown row of 142 leads at 0.0%: said to be leads nobody
    owns yet (none became an opportunity), not an owner's result."""
    from helpers.paths import SAMPLE_DATA_DIR
    from helpers.report.session import open_session

    s = open_session(str(SAMPLE_DATA_DIR), period="FY2026Q2", lang="en", theme=False)
    html = funnel_views.rate_view(s, "owner").data
    assert "Unknown owner: 142 of the period&#x27;s leads have no owner yet" in html
    assert "and 0 of them became an opportunity" in html
    assert "Unknown owner" not in funnel_views.rate_view(s, "channel").data


def _late_answer_session(tmp_path):
    """A session whose checklist has 2 answers dated after the data's as_of (2025-06-20, the latest data date)."""
    ck = ("respondent,department,answered_on,item,answer\n"
          "s1,sales,2025-06-01,1,yes\ns1,sales,2025-07-01,1,no\ns1,sales,2025-07-01,2,no\n")
    data = write_folder(tmp_path / "late", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "checklist.csv": ck})
    return open_session(str(data), theme=False)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_left_out_answers_advise_the_command_line_in_the_runner_and_the_panel_in_the_lab(tmp_path, monkeypatch, lang):
    from dataclasses import replace

    s = replace(_late_answer_session(tmp_path), lang=lang)
    info = checklist.checklist_metrics(s.wb.checklist, s.wb.leads, s.wb.opportunities, s.period, s.as_of, s.config)
    assert info["answer_set"]["after_as_of"] == 2   # the two answers of 2025-07-01
    monkeypatch.setenv("WORKBOOK_STATIC", "1")
    runner = checklist_views.answer_set_view(s, info).data
    monkeypatch.delenv("WORKBOOK_STATIC")
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)
    lab = checklist_views.answer_set_view(s, info).data
    if lang == "en":
        assert "Run the report with a later --as-of" in runner and "2 answers dated after" in runner
        assert "--as-of" not in lab and "2 answers dated after" in lab
        assert "choose a later “Snapshot date” in the control panel at the top of this page" in lab
    else:
        assert "--as-of を後の日付にして実行" in runner and "回答2件" in runner
        assert "--as-of" not in lab and "回答2件" in lab
        assert "コントロールパネルで「データ基準日」を後の日付に" in lab


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_checklist_form_answers_are_accessible_buttons_and_every_text_box_is_labelled(session, live, lang):
    import ipywidgets as w
    from dataclasses import replace

    from helpers.views.choice_buttons import CHOSEN_MARK, ChoiceButtons

    form = checklist_views.form(replace(session, lang=lang)).widget

    def walk(widget):
        yield widget
        for child in getattr(widget, "children", ()):
            yield from walk(child)

    every = list(walk(form))
    boxes = [x for x in every if isinstance(x, (w.Text, w.Textarea, w.DatePicker, w.FloatText, w.Dropdown))]
    assert len(boxes) == 1 + 1 + 1 + 15   # respondent, department, answer date, a note per item
    assert all(b.description.strip() for b in boxes)   # ipywidgets links the description <label for=...> to the input
    notes = [b.description for b in boxes if isinstance(b, w.Text) and b.placeholder != "sales-01"]
    assert len(set(notes)) == 15 and notes[2] == ("Note, item 3" if lang == "en" else "項目3のメモ")
    groups = [x for x in every if isinstance(x, ChoiceButtons)]
    assert len(groups) == 15 and not any(isinstance(x, w.ToggleButtons) for x in every)
    first = groups[0]
    assert first.options == ([("Yes", "yes"), ("Partial", "partial"), ("No", "no")] if lang == "en"
                             else [("はい", "yes"), ("一部", "partial"), ("いいえ", "no")])
    text = session.config.checklist_items[1][lang]
    assert first.label == (f"Answer to item 1: {text}" if lang == "en" else f"項目1への回答: {text}")
    assert first.value is None
    first.value = "partial"
    with pytest.raises(Exception, match="not one of the options"):
        first.value = "maybe"
    # the browser side: the chosen button gets aria-pressed="true", the ✓ and the primary colour
    assert 'setAttribute("aria-pressed", on ? "true" : "false")' in first._esm
    assert f"(on ? {CHOSEN_MARK!r} : \"\")" in first._esm and ".wb-choice-button.wb-choice-on" in first._css
