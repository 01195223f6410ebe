"""The report exporter's after-render pass and the stylesheet trim give the pages nbconvert's HTMLExporter and the
plain regex gave, from a faster path (helpers.report.export.mark_focusable, helpers.views.stylesheet): the stylesheet
the same bytes, the page the same tree (nbconvert writes its BeautifulSoup tree out again; the exporter leaves the
rendered text as it is and writes the attributes into its start tags, found by the standard library's html.parser)."""
from __future__ import annotations

import base64
import random
import re
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from helpers.report import export
from helpers.views.stylesheet import _style_blocks

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode("ascii")


def _notebook():
    """A notebook with what a report holds: a heading, a chart, a table with entities, images with and without alt text
    inside HTML, a printed line."""
    v4 = nbformat.v4
    nb = v4.new_notebook()
    nb.cells = [
        v4.new_markdown_cell("# Funnel & <velocity>\n\nSome *prose* with a [link](https://example.org)."),
        v4.new_code_cell("chart()", outputs=[v4.new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})]),
        v4.new_code_cell("table()", outputs=[v4.new_output("display_data", data={
            "text/html": '<table class="wb-table"><tr><th>A &amp; B</th><td>&lt;1&gt; &#x27;x&#x27;<br></td></tr></table>'
                         '<img src="data:image/png;base64,' + PNG + '" alt="a chart"><img src="data:image/png;base64,' + PNG + '">',
            "text/plain": "table"})]),
        v4.new_code_cell("print(1)", outputs=[v4.new_output("stream", name="stdout", text="1 < 2\n")]),
    ]
    nb.metadata["title"] = "t"
    return nb


def test_the_exporter_gives_nbconverts_page_with_alt_text_and_focusable_cells():
    nb = _notebook()
    ours, _ = export.html_exporter("en").from_notebook_node(nb, resources={"language_code": "en", "partial_note": ""})
    theirs, _ = HTMLExporter(template_name="workbook", extra_template_basedirs=[str(Path(export.__file__).parent / "templates")],
                             exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
                             language_code="en", optimistic_validation=True).from_notebook_node(
        nb, resources={"language_code": "en", "partial_note": ""})
    assert ours != theirs and str(BeautifulSoup(ours, "html.parser")) == theirs  # the same tree, not re-serialized
    assert ours.count(f'alt="{export.NO_ALT}"') == 1          # the HTML output's second image
    assert 'alt="a chart"' in ours and 'alt="chart"' in ours   # the template's chart text, the HTML's own
    assert ours.count('tabindex="0"') == 3 + 1                 # 3 outputs, the markdown cell's input wrapper


def _soup_pass(html: str) -> str:
    """nbconvert 7's after-render pass (HTMLExporter.from_notebook_node), its three selects as nbconvert writes them."""
    soup = BeautifulSoup(html, features="html.parser")
    for img in soup.select("img:not([alt])"):
        img.attrs["alt"] = export.NO_ALT
    for elem in soup.select(".jp-Notebook div.jp-Cell-inputWrapper") + soup.select(".jp-Notebook div.jp-OutputArea-output"):
        elem.attrs["tabindex"] = "0"
    return str(soup)


def test_focusable_marks_give_nbconverts_tree_on_awkward_markup():
    """Images and output divs in every form the parser accepts (upper case, unquoted, self-closed, a ">" inside a quoted
    value, a tabindex already there, a class among others), and the places it leaves alone (a comment, a script, a style,
    a div before the notebook's body): parsed, the marked page is the page nbconvert's pass writes."""
    head = '<!DOCTYPE html>\n<html><head><title>t</title><style>div.x > img {a:b}</style></head>\n'
    pieces = ['<img src="a.png">', "<IMG SRC=a.png>", '<img src="a.png" alt="">', "<img alt=x src='y'/>", '<img title="a>b">',
              '<div class="jp-OutputArea-output">o</div>', "<DIV CLASS='a jp-Cell-inputWrapper b'>i</DIV>",
              '<div class="jp-OutputArea-output" tabindex="-1">t</div>', '<div class="jp-OutputArea-output" tabindex="0">z</div>',
              '<div class=jp-OutputArea-output>u</div>', '<div class="jp-OutputArea-outputs">n</div>', '<div data-x="a>b" class="jp-Cell-inputWrapper">q</div>',
              "<!-- <img src=c> <div class='jp-OutputArea-output'> -->", '<script>var s = "<img src=d>";</script>',
              "<style>.a{b:c}</style>", "<p>text &amp; <b>bold</b></p>", "\n", "<br>", "<imgx src=e>", "<divx class='jp-OutputArea-output'>",
              "<span class>bare</span>", '<div class="x">nested <div class="jp-OutputArea-output">n</div></div>']
    rnd = random.Random(11)
    for _ in range(400):
        before = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 3))).replace("<img", "<img-no").replace("<IMG", "<IMG-no")
        body = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 10)))
        after = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 2)))   # after the body: not inside the notebook
        page = f"{head}{before}<body class=\"jp-Notebook\">{body}</body>{after}</html>"
        marked, missing = export.mark_focusable(page)
        assert str(BeautifulSoup(marked, "html.parser")) == _soup_pass(page), page
        assert missing == marked.count(f'alt="{export.NO_ALT}"') - page.count(f'alt="{export.NO_ALT}"')


def test_style_blocks_are_the_regex_matches():
    regex = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S | re.I)
    pieces = ["<style>", "<STYLE type='x'>", "</style>", "</Style>", "<style", ">", "a{b:c}", '<p class="x">', "<styles>", "\n"]
    rnd = random.Random(7)
    for _ in range(5000):
        html = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 12)))
        assert _style_blocks(html) == [(m.start(), m.start(2), m.end(2), m.end()) for m in regex.finditer(html)], html


def test_the_runner_freezes_the_heap_only_where_nothing_was_frozen_and_survives_an_exporter_failure(monkeypatch):
    """helpers.report.run._settle_heap freezes the runner's long-lived objects (gc.freeze) and says so (True, so the
    runner undoes it); in a process that froze objects itself it leaves the freeze alone (False: the runner's
    gc.unfreeze would otherwise undo the embedding process's). An exporter that cannot be built there (a missing
    template) is not the whole run's failure: the first export builds it and fails its own period, as before."""
    import gc

    from helpers.report import run

    gc.unfreeze()
    assert run._settle_heap("en") is True and gc.get_freeze_count() > 0
    frozen = gc.get_freeze_count()
    assert run._settle_heap("en") is False and gc.get_freeze_count() == frozen
    gc.unfreeze()

    def broken(lang):
        raise FileNotFoundError("workbook template")

    monkeypatch.setattr(run, "html_exporter", broken)
    assert run._settle_heap("ja") is True
    gc.unfreeze()
