"""The runner's HTML pages: which cells a static report keeps (by tag: language, lab-only, hide-in-report,
needs-<key>), and the export of an executed notebook to one self-contained HTML file with the code hidden and the
banner of a partly covered period. Used by :mod:`helpers.report.run`, which still names all of them.
"""
from __future__ import annotations

import functools
import html
import html.parser
import re
from pathlib import Path

HIDE_TAG = "hide-in-report"
LAB_TAG = "lab-only"  # cells for JupyterLab only (explorers, the answer form)
LANG_TAG = "lang-"  # markdown prose per language: lang-en, lang-ja
NEEDS_TAG = "needs-"  # needs-<key>: a section shown only when metrics.json's <key> holds figures (needs-checklist)


def report_cells(nb, lang: str, empty: frozenset[str] = frozenset()) -> None:
    """Keep the cells a static report in `lang` shows: drop prose tagged for the other language (lang-en / lang-ja),
    cells tagged lab-only (JupyterLab sections) or hide-in-report (plain-text figure dumps that nbval checks), and
    the cells tagged needs-<key> for each metrics.json key in `empty` (a section with no data: no empty headings)."""
    drop = ({f"{LANG_TAG}{other}" for other in ("en", "ja") if other != lang} | {LAB_TAG, HIDE_TAG}
            | {f"{NEEDS_TAG}{key}" for key in empty})
    nb.cells = [c for c in nb.cells if not drop & set(c.metadata.get("tags", []))]


def static_cells(path: Path):
    """The notebook at `path` as the runner executes it: without the cells tagged lab-only, which the static report
    drops (:func:`report_cells`), so their explorers and forms are not computed for nothing (notebook 05's rule
    explorer alone took ~0.4 CPU s a period). The executed copy kept beside the report lacks them too."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if LAB_TAG not in c.metadata.get("tags", [])]
    return nb


def empty_sections(folder: Path) -> frozenset[str]:
    """The top-level keys of `folder`/metrics.json without a figure: null (``checklist`` without checklist.csv,
    ``velocity_comparison`` without an initiative) or only null figures beside their ``null_reasons`` (a comparison
    the data cannot give). Empty when the file is missing or unreadable (every cell is kept)."""
    import json

    try:
        data = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    if not isinstance(data, dict):
        return frozenset()
    return frozenset(k for k, v in data.items()
                     if v is None or (isinstance(v, dict) and all(x is None for name, x in v.items() if name != "null_reasons")))


@functools.lru_cache(maxsize=2)
def html_exporter(lang: str):
    """The nbconvert HTML exporter of the reports in `lang` (the workbook template, code hidden, images embedded), made
    once per process and language: a new one compiles its ~80 Jinja templates again (~0.1 CPU s a notebook). It checks
    the notebook against the schema once, after its preprocessors (``optimistic_validation``), not after each of its 12
    (the executed notebooks are papermill's, read and checked by nbformat already; about a seventh of an export)."""
    return _report_exporter_class()(template_name="workbook", extra_template_basedirs=[str(Path(__file__).parent / "templates")],
                        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True, embed_images=True,
                        language_code=lang, optimistic_validation=True)


#: nbconvert's text for an image without one (HTMLExporter.from_notebook_node).
NO_ALT = "No description has been provided for this image"


#: The divs nbconvert makes focusable inside the notebook (class names).
_FOCUSABLE = frozenset({"jp-Cell-inputWrapper", "jp-OutputArea-output"})


class _StartTags(html.parser.HTMLParser):
    """The start tags of a page as the standard library's HTML parser reads them (comments, scripts and styles are
    not markup to it, as to the parser nbconvert's pass uses): ``tags`` holds (line, column, raw text, name,
    attributes) of each img and div, and ``notebook`` the (line, column) where the first element of class
    jp-Notebook starts and where its end tag is (the page's end when it has none)."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.tags: list[tuple] = []
        self.notebook: list[tuple[int, int]] = []
        self._open: tuple[str, int] | None = None   # the notebook element's tag and how many of that tag are open

    def handle_starttag(self, tag, attrs):
        if not self.notebook and "jp-Notebook" in (dict(attrs).get("class") or "").split():
            self.notebook.append(self.getpos())
            self._open = (tag, 0)
        if self._open is not None and tag == self._open[0]:
            self._open = (tag, self._open[1] + 1)
        if tag in ("img", "div"):
            self.tags.append((*self.getpos(), self.get_starttag_text(), tag, attrs))

    def handle_endtag(self, tag):
        if self._open is not None and tag == self._open[0]:
            self._open = (tag, self._open[1] - 1)
            if self._open[1] == 0:
                self.notebook.append(self.getpos())
                self._open = None


def mark_focusable(page: str) -> tuple[str, int]:
    """The rendered page `page` with what nbconvert's HTMLExporter adds after rendering: an image without alternative
    text gets :data:`NO_ALT` (``img:not([alt])``), and each cell's input wrapper and each output inside the notebook
    gets ``tabindex="0"`` (``.jp-Notebook div.jp-Cell-inputWrapper``, ``.jp-Notebook div.jp-OutputArea-output``: each
    such div between the start and the end tag of the page's ``jp-Notebook`` element, its body). The start tags are
    found by the standard library's HTML parser (html.parser, :class:`_StartTags`) and the attribute written into each
    as it is, where nbconvert parses the page with BeautifulSoup and writes all of it out again (attributes sorted, void
    tags closed with "/>", blank text collapsed: ~0.27 CPU s a period on the sample, against ~0.05 here); parsed,
    the two pages are the same tree (tests/test_export_pass.py). Returns the page and the number of images given
    NO_ALT."""
    parser = _StartTags()
    parser.feed(page)
    parser.close()
    line_starts = [0, 0] + [m.end() for m in re.finditer("\n", page)]   # of each line, counted from 1 as getpos does
    past_the_end = (len(line_starts), 0)
    inside = (parser.notebook + [past_the_end, past_the_end])[:2]   # the notebook's start and end tags (or none)
    pieces, missing, last = [], 0, 0
    for line, column, raw, name, attrs in parser.tags:
        start = line_starts[line] + column
        named = {key: value for key, value in attrs}
        if name == "img":
            if "alt" in named:
                continue
            insert, missing = f' alt="{NO_ALT}"', missing + 1
        elif not inside[0] < (line, column) < inside[1] or not _FOCUSABLE.intersection((named.get("class") or "").split()):
            continue
        elif "tabindex" not in named:
            insert = ' tabindex="0"'
        elif named["tabindex"] == "0":
            continue
        else:   # another tabindex: the tag written again from its attributes, the tabindex 0
            attrs = [(key, "0" if key == "tabindex" else value) for key, value in attrs]
            tag = "".join(f" {key}" if value is None else f' {key}="{html.escape(value)}"' for key, value in attrs)
            pieces += [page[last:start], f"<{name}{tag}>"]
            last = start + len(raw)
            continue
        at = start + 1 + len(name)   # right after the tag's name
        pieces += [page[last:at], insert]
        last = at
    pieces.append(page[last:])
    return "".join(pieces), missing


@functools.lru_cache(maxsize=1)
def _report_exporter_class():
    """nbconvert's HTMLExporter with its after-render pass done by :func:`mark_focusable` (its from_notebook_node of
    nbconvert 7 otherwise, line for line; tests/test_export_pass.py compares the two pages)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportExporter(HTMLExporter):
        def from_notebook_node(self, nb, resources=None, **kw):
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            page, missing = mark_focusable(page)
            if missing:
                self.log.warning("Alternative text is missing on %s image(s).", missing)
            return page, resources

    return ReportExporter


def export_html(executed: Path, target: Path, lang: str, nb=None) -> None:
    """Export an executed notebook to one self-contained HTML file in `lang` (<html lang>), code hidden, no external scripts.

    `nb` is the notebook written to `executed` when the caller holds it (papermill returns it), and is changed here (its
    cells and title); without it the notebook is read from `executed` (reading the copy back cost ~0.04 CPU s a period)."""
    import nbformat

    if nb is None:
        nb = nbformat.read(executed, as_version=4)
    nb.metadata.pop("widgets", None)
    report_cells(nb, lang, empty_sections(executed.parent))
    nb.metadata["title"] = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells
                                 if c.cell_type == "markdown" and c.source.startswith("#")), executed.stem)
    body, _ = html_exporter(lang).from_notebook_node(nb, resources={"language_code": lang, "partial_note": partial_note(executed.parent, lang)})
    from helpers.views.display import html_safe
    from helpers.views.stylesheet import trim_styles

    target.write_text(html_safe(trim_styles(body)), encoding="utf-8")  # never a raw NUL or bidi control (data text)  # JupyterLab's stylesheet, trimmed to what the report uses


def partial_note(folder: Path, lang: str) -> str:
    """The banner of a period the data covers only in part ("Partial: data from D1 to D2"), from the
    ``coverage`` of `folder`/metrics.json; "" for a complete period or when there is no such figure."""
    import json

    from helpers.labels import t

    path = folder / "metrics.json"
    try:
        cov = json.loads(path.read_text(encoding="utf-8")).get("coverage") or {}
    except (OSError, ValueError):
        return ""
    return coverage_text(cov, lang)


def coverage_text(cov: dict, lang: str) -> str:
    """"Partial: data from D1 to D2" for a period's ``coverage`` (metrics.json) that says the data covers it only in
    part; "No data in this period" when the range would run backwards (the data starts after the period ends or
    ends before it starts: never a backwards range); "" for a complete period."""
    from helpers.labels import t

    if not cov.get("partial"):
        return ""
    start, end = str(cov.get("data_start")), str(cov.get("data_end"))
    if start[:10] > end[:10]:   # ISO dates compare as text
        return t("coverage_none", lang)
    return t("coverage_partial", lang).format(start=start, end=end)
