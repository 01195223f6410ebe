"""Escaped HTML building blocks for notebook output (every value from the data is escaped).

Notebooks show results only through these functions (or charts), so a channel
named `<img src=x onerror=alert(1)>` is shown as text in every report.
"""
from __future__ import annotations

import html
import os
import re
from functools import lru_cache

import pandas as pd
from IPython.display import HTML

from helpers.paths import STYLESHEET_FILE

STATIC_ENV = "WORKBOOK_STATIC"


def is_static() -> bool:
    """True under the report runner (papermill, no live frontend): widgets must not be created."""
    return os.environ.get(STATIC_ENV, "") == "1" or "PAPERMILL_EXECUTION" in os.environ


CSS_FILE = STYLESHEET_FILE


@lru_cache(maxsize=1)
def _css() -> str:
    """The rules of workbook.css for the output blocks (.wb-*, table.wb-table), without the page-level ones (body, h1)."""
    lines = CSS_FILE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if line.startswith((".wb-", "table.wb-")))


def lab_style() -> str:
    """In JupyterLab, a <style> block with the workbook's output block styles (the report template has them already)."""
    return "" if is_static() else f"<style>{_css()}</style>"


#: Characters never written raw into a report: control characters but tab and line ends (NUL is not allowed in
#: HTML), and the bidirectional controls (U+202E and the others can make text read backwards). Shown as U+FFFD.
UNSAFE_IN_HTML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def html_safe(text: str) -> str:
    """`text` with the characters of :data:`UNSAFE_IN_HTML` replaced by U+FFFD (a page is written through this)."""
    return UNSAFE_IN_HTML.sub("\ufffd", text)


def esc(value) -> str:
    """HTML-escaped text of any value (None/NaN -> empty; NUL and bidirectional controls -> U+FFFD, :func:`html_safe`)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return html_safe(html.escape(str(value), quote=True))


#: One figure as the views format it: a count, money (¥1,234), a rate (17.7%), a ratio (6.80×), points (+2.1 pt).
_FIGURE = r"[-+]?[¥$€£]?-?\d[\d,]*(?:\.\d+)?(?:%|×| ?pt)?"
#: A cell made only of figures, dates, intervals and marks (32.5% [20.1%–45.3%] ●, 2026-09-30): kept on one line.
NUMERIC_CELL = re.compile(rf"(?=.*\d)(?:{_FIGURE}|[\s\[\]()–—~●⚠+/-])+")
_CELL = re.compile(r"<td>([^<]*)</td>")
_HEADER = re.compile(r"<th>([^<]*)</th>")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def numeric_cells(table: str) -> str:
    """`table` (HTML) with every cell that is a figure (:data:`NUMERIC_CELL`) and every header holding a date marked
    ``class="wb-num"``: the stylesheet keeps them on one line, so a narrow column never breaks "0.83" into "0.8"
    over "3", nor a header's 2026-09-30 after "2026-09-"."""
    def mark(m: re.Match) -> str:
        return f'<td class="wb-num">{m.group(1)}</td>' if NUMERIC_CELL.fullmatch(html.unescape(m.group(1)).strip()) else m.group(0)

    def dated(m: re.Match) -> str:
        return f'<th class="wb-num">{m.group(1)}</th>' if _DATE.search(m.group(1)) else m.group(0)

    return _HEADER.sub(dated, _CELL.sub(mark, table))


def table_html(frame: pd.DataFrame, index: bool = False, caption: str | None = None) -> str:
    """An escaped HTML table (class wb-table) of a small, already formatted frame, its figure cells marked wb-num
    (:func:`numeric_cells`); `caption` (escaped) becomes its <caption>, the table's accessible name (an explorer
    names its selection there)."""
    text = numeric_cells(html_safe(frame.to_html(index=index, escape=True, classes="wb-table", border=0, na_rep="")))
    if caption:
        head_end = text.index(">", text.index("<table")) + 1
        text = f"{text[:head_end]}\n  <caption>{esc(caption)}</caption>{text[head_end:]}"
    return text


def table(frame: pd.DataFrame, index: bool = False, caption: str | None = None) -> HTML:
    """Display a small, already formatted frame as an escaped HTML table (with `caption`, see :func:`table_html`)."""
    return HTML(table_html(frame, index=index, caption=caption))


def kpis(items: list[tuple]) -> HTML:
    """Headline figures as cards: [(label, formatted value), ...] or (label, value, note) where a
    note (e.g. why the figure is empty) is shown under the value."""
    cards = []
    for label, value, *rest in items:
        note_text = rest[0] if rest else None
        extra = f'<div class="wb-kpi-note">{esc(note_text)}</div>' if note_text else ""
        cards.append(f'<div class="wb-kpi"><div class="wb-kpi-label">{esc(label)}</div>'
                     f'<div class="wb-kpi-value">{esc(value)}</div>{extra}</div>')
    return HTML(f'{lab_style()}<div class="wb-kpis">{"".join(cards)}</div>')


def note(text: str, warn: bool = False) -> HTML:
    """A short escaped paragraph; `warn` highlights it."""
    return HTML(f'{lab_style()}<p class="{"wb-warn" if warn else "wb-note"}">{esc(text)}</p>')


def lines(texts: list[str], warn: bool = False) -> HTML:
    """Short escaped paragraphs in one block (`warn` highlights it): a message of several sentences."""
    body = "".join(f"<p>{esc(text)}</p>" for text in texts)
    return HTML(f'{lab_style()}<div class="{"wb-warn" if warn else "wb-note"}">{body}</div>')


def bullets(lines: list[str]) -> HTML:
    """An escaped bullet list."""
    return HTML("<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>")


def stack(*parts: HTML) -> HTML:
    """Several escaped HTML blocks (tables, notes) shown as one output, in order."""
    return HTML("".join(part.data for part in parts))
