"""The runner's HTML pages: which cells a static report keeps (by tag: language, lab-only, hide-in-report,
needs-<key>), and the export of an executed notebook to one self-contained HTML file with the code hidden and the
banner of a partly covered period. Used by :mod:`helpers.report.run`, which still names all of them.
"""
from __future__ import annotations

import functools
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


def mark_focusable(soup) -> int:
    """Do to the parsed page `soup` (BeautifulSoup) what nbconvert's HTMLExporter does after rendering: an image without
    alternative text gets :data:`NO_ALT` (``img:not([alt])``), and each cell's input wrapper and each output inside the
    notebook gets ``tabindex="0"`` (``.jp-Notebook div.jp-Cell-inputWrapper``, ``.jp-Notebook div.jp-OutputArea-output``).
    One walk over the tree instead of nbconvert's three soupsieve selects (about a third of the pass on a report page);
    the same attributes on the same elements. Returns the number of images given NO_ALT."""
    missing = 0
    for tag in soup.find_all(("img", "div")):
        if tag.name == "img":
            if "alt" not in tag.attrs:
                tag.attrs["alt"] = NO_ALT
                missing += 1
            continue
        classes = tag.get("class") or ()
        if (("jp-Cell-inputWrapper" in classes or "jp-OutputArea-output" in classes)
                and any("jp-Notebook" in (parent.get("class") or ()) for parent in tag.parents)):
            tag.attrs["tabindex"] = "0"
    return missing


@functools.lru_cache(maxsize=1)
def _report_exporter_class():
    """nbconvert's HTMLExporter with its after-render pass done by :func:`mark_focusable` (its from_notebook_node of
    nbconvert 7 otherwise, line for line; tests/test_export_pass.py compares the two pages)."""
    from bs4 import BeautifulSoup
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
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            soup = BeautifulSoup(html, features="html.parser")
            missing = mark_focusable(soup)
            if missing:
                self.log.warning("Alternative text is missing on %s image(s).", missing)
            return str(soup), resources

    return ReportExporter


def export_html(executed: Path, target: Path, lang: str) -> None:
    """Export an executed notebook to one self-contained HTML file in `lang` (<html lang>), code hidden, no external scripts."""
    import nbformat

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
    if not cov.get("partial"):
        return ""
    return t("coverage_partial", lang).format(start=cov["data_start"], end=cov["data_end"])
