"""Checklist inputs a new user tried (round 3; tests/fixtures/newuser3/checklist-twice): one item answered twice on one
day (refused when the answers differ, counted once when they agree), a period before any answer (sentences, no empty
chart, no matplotlib warning on the page, no "every item is met"), and one department only (said beside the score)."""
import shutil
import warnings
from pathlib import Path

import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.errors import DataValidationError

CASE = Path(__file__).parent / "fixtures" / "newuser3" / "checklist-twice"


def _folder(tmp_path, keep=lambda line: True, edit=lambda line: line) -> Path:
    """The case's folder with checklist.csv's data lines filtered by `keep` and rewritten by `edit`."""
    folder = tmp_path / "d"
    shutil.copytree(CASE, folder)
    lines = (CASE / "checklist.csv").read_text(encoding="utf-8").splitlines()
    (folder / "checklist.csv").write_text("\n".join([lines[0], *(edit(x) for x in lines[1:] if keep(x))]) + "\n",
                                          encoding="utf-8")
    return folder


def test_two_different_answers_to_one_item_on_one_day_are_refused_naming_both_rows():
    with pytest.raises(DataValidationError) as err:
        load_workbook(CASE, load_config(CASE))
    (f,) = err.value.findings
    assert (f.code, f.rows, f.values, f.column) == ("checklist_answer_twice", (7, 32), ("3", "3"), "answer")
    assert "checklist.csv、7, 32行目、列 'answer': 同じ回答者が同じ日に同じ項目へ違う回答をしています" in err.value.in_language("ja")


def test_the_same_answer_twice_is_counted_once_with_a_warning(tmp_path):
    """Row 32 made the same answer as row 7 (はい): m1's item 3 counted once; marketing answers はい to all 15 items."""
    from helpers.metrics.checklist import checklist_metrics
    from helpers.data.periods import parse_period

    folder = _folder(tmp_path, edit=lambda x: x.replace("3,いいえ,二重入力", "3,はい,二重入力"))
    wb = load_workbook(folder, load_config(folder))
    (w,) = [f for f in wb.findings if f.code == "checklist_answer_repeated"]
    assert (w.rows, w.count) == ((7, 32), 2)
    ck = checklist_metrics(wb.checklist, wb.leads, wb.opportunities, parse_period("FY2024Q1", 4), wb.as_of, wb.config)
    assert ck["by_item"][3]["marketing"] == 1.0 and ck["respondents_by_department"]["marketing"] == 1


def test_a_period_before_any_answer_shows_sentences_not_empty_charts(tmp_path):
    """Every answer dated 2024-09-30 (after FY2024Q1, before as_of 2024-10-01): FY2024Q1 has no answer set."""
    from helpers.report.session import open_session
    from helpers.views import checklist_views as cv

    folder = _folder(tmp_path, keep=lambda x: "二重入力" not in x, edit=lambda x: x.replace("2024-06-20", "2024-09-30"))
    s = open_session(str(folder), period="FY2024Q1", lang="en")
    ck = cv_metrics(s)
    assert ck["respondent_count"] == 0 and ck["overall_score"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # matplotlib's "No artists with labels" reached the page as text
        assert cv.category_chart(s, ck) is None and cv.item_heatmap(s) is None and cv.gap_table(s) is None
        assert cv.gap_sentences(s, ck) == ["No checklist answers up to the end of this period."]
        assert "No period up to this one has checklist answers" in cv.trend_chart(s).data
        assert "none is recommended (not because every item is met)" in cv.recommendations_table(s, ck).data


def cv_metrics(s):
    from helpers.metrics.checklist import checklist_metrics

    return checklist_metrics(s.wb.checklist, s.wb.leads, s.wb.opportunities, s.period, s.as_of, s.config)


def test_one_department_only_is_said_beside_the_overall_score(tmp_path):
    """Sales' rows removed: the overall score (100.0, marketing's 15 はい) is marketing's alone, and the cards say so."""
    from helpers.report.session import open_session
    from helpers.views import checklist_views as cv

    folder = _folder(tmp_path, keep=lambda x: "二重入力" not in x and not x.startswith("s1,"))
    s = open_session(str(folder), period="FY2024Q1", lang="ja")
    ck = cv_metrics(s)
    assert ck["overall_score"] == 100.0 and list(ck["by_department"]) == ["marketing"]
    assert ("この回答セットではマーケティングだけが回答しています。総合スコアはマーケティングだけの値で、営業の見方が欠けているため"
            in cv.score_cards(s, ck).data)
