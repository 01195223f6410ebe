"""The report exporter's after-render pass and the stylesheet trim give the pages nbconvert's HTMLExporter and the
plain regex gave: the same bytes, from a faster path (helpers.report.export.mark_focusable, helpers.views.stylesheet)."""
from __future__ import annotations

import base64
import random
import re
from pathlib import Path

import nbformat
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
    assert ours == theirs
    assert ours.count(f'alt="{export.NO_ALT}"') == 1          # the HTML output's second image
    assert 'alt="a chart"' in ours and 'alt="chart"' in ours   # the template's chart text, the HTML's own
    assert ours.count('tabindex="0"') == 3 + 1                 # 3 outputs, the markdown cell's input wrapper


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
