"""Escaping of every value from the data, static vs interactive rendering."""
import base64

import pandas as pd

from helpers.views import display
from helpers.views.interactive import explore

XSS = "<img src=x onerror=alert(1)>"


def test_table_escapes_values_and_headers():
    html = display.table_html(pd.DataFrame({XSS: [XSS, "a&b"]}))
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "a&amp;b" in html


def test_figure_cells_and_header_dates_are_kept_on_one_line():
    """Issue 24: the Japanese checklist table broke "0.83" into "0.8" over "3": figure cells carry wb-num (white-space:
    nowrap in workbook.css), so does a header holding a date; text cells and a 'figure' with letters are not."""
    frame = pd.DataFrame({"データの値(全期間、2026-09-30まで)": ["0.83", "32.5% [20.1%–45.3%] ●", "¥1,234,568", "+0.02 pt"],
                          "項目": ["営業", "FY2026Q2", "該当なし", "0.83 件<b>"]})
    html = display.table_html(frame)
    cells = [c.split(">", 1)[0] for c in html.split("<td")[1:]]
    assert cells == [' class="wb-num"', "", ' class="wb-num"', "", ' class="wb-num"', "", ' class="wb-num"', ""]
    assert '<th class="wb-num">データの値(全期間、2026-09-30まで)</th>' in html and "<th>項目</th>" in html
    css = display.CSS_FILE.read_text(encoding="utf-8")
    assert "table.wb-table td.wb-num, table.wb-table th.wb-num { white-space: nowrap; }" in css
    assert ":lang(ja) table.wb-table th, :lang(ja) table.wb-table td { overflow-wrap: break-word; line-break: strict; }" in css


def test_kpis_notes_and_bullets_escape(monkeypatch):
    monkeypatch.setenv("WORKBOOK_STATIC", "1")
    assert XSS not in display.kpis([(XSS, XSS)]).data
    card = display.kpis([("Win rate", "n/a", XSS), ("Deals won", "3", None)]).data   # a card's why-empty note
    assert XSS not in card and card.count('class="wb-kpi-note"') == 1
    assert display.note(XSS).data == '<p class="wb-note">&lt;img src=x onerror=alert(1)&gt;</p>'
    assert "&lt;script&gt;" in display.bullets(["<script>"]).data
    assert display.esc(None) == "" and display.esc(float("nan")) == ""


def test_cards_and_notes_carry_their_style_in_jupyterlab_only(monkeypatch):
    monkeypatch.setenv("WORKBOOK_STATIC", "1")
    assert "<style>" not in display.kpis([("a", "1")]).data  # the report template has the styles
    monkeypatch.delenv("WORKBOOK_STATIC")
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)
    for html in (display.kpis([("a", "1")]).data, display.note("x").data, display.lines(["x", "y"], warn=True).data):
        assert html.startswith("<style>") and ".wb-kpi {" in html and ".wb-warn {" in html
    assert display.lines(["a<b", "c"], warn=True).data.endswith('<div class="wb-warn"><p>a&lt;b</p><p>c</p></div>')


def test_report_template_includes_the_same_styles():
    from helpers.report.run import main  # noqa: F401  (the template is the runner's)

    template = (display.CSS_FILE.parent / "index.html.j2").read_text(encoding="utf-8")
    assert "{% include 'workbook.css' %}" in template and ".wb-kpi {" not in template


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
    live = explore(lambda a: seen.append(a), static=False, labels={"a": "Channel"}, hint="Run the notebook", a=["x", "y"])
    box = live.widget
    assert isinstance(box, w.VBox)
    dropdown = box.children[0].children[0]
    assert dropdown.options == (("x", "x"), ("y", "y")) and seen == ["x"] and dropdown.description == "Channel"
    dropdown.value = "y"
    assert seen == ["x", "y"]
    bundle = live._repr_mimebundle_()
    assert bundle["text/plain"] == "Run the notebook" and "application/vnd.jupyter.widget-view+json" in bundle


def test_explore_shows_the_view_in_its_output_and_errors_as_one_note():
    from helpers.views.theme import finish
    import matplotlib.pyplot as plt

    def view(a):
        if a == "bad":
            raise ValueError("no such thing")
        return [display.note(f"picked {a}"), None, finish(plt.subplots()[0])]

    box = explore(view, static=False, busy="Updating", a=["x", "bad"]).widget
    out = box.children[1]
    assert [sorted(o["data"]) for o in out.outputs] == [["text/html", "text/plain"], ["image/png", "text/plain"]]
    assert "picked x" in out.outputs[0]["data"]["text/html"]
    assert base64.b64decode(out.outputs[1]["data"]["image/png"]).startswith(b"\x89PNG")  # encoded as in a notebook file
    box.children[0].children[0].value = "bad"
    assert len(out.outputs) == 1 and "ValueError: no such thing" in out.outputs[0]["data"]["text/html"]
    assert not box.children[0].children[0].disabled  # controls are enabled again after the view ran
