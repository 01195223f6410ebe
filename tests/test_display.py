"""Escaping of every value from the data, static vs interactive rendering."""
import pandas as pd

from helpers import display
from helpers.interactive import explore

XSS = "<img src=x onerror=alert(1)>"


def test_table_escapes_values_and_headers():
    html = display.table_html(pd.DataFrame({XSS: [XSS, "a&b"]}))
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "a&amp;b" in html


def test_kpis_notes_and_bullets_escape():
    assert XSS not in display.kpis([(XSS, XSS)]).data
    assert display.note(XSS).data == '<p class="wb-note">&lt;img src=x onerror=alert(1)&gt;</p>'
    assert "&lt;script&gt;" in display.bullets(["<script>"]).data
    assert display.esc(None) == "" and display.esc(float("nan")) == ""


def test_static_mode_follows_the_environment(monkeypatch):
    monkeypatch.delenv("WORKBOOK_STATIC", raising=False)
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)
    assert not display.is_static()
    monkeypatch.setenv("WORKBOOK_STATIC", "1")
    assert display.is_static()


def test_explore_static_renders_the_first_choices():
    assert explore(lambda a, b: (a, b), static=True, a=["x", "y"], b=[("label", 3)]) == ("x", 3)


def test_explore_interactive_builds_dropdowns_that_rerender():
    import ipywidgets as w

    seen = []
    box = explore(lambda a: seen.append(a), static=False, a=["x", "y"])
    assert isinstance(box, w.VBox)
    dropdown = box.children[0].children[0]
    assert dropdown.options == (("x", "x"), ("y", "y")) and seen == ["x"]
    dropdown.value = "y"
    assert seen == ["x", "y"]
