"""Label cells read silently wrong: several values in one cell, and segment values Excel turned into dates.

- A CRM multiple-choice field (HubSpot "multiple checkboxes", a Salesforce multi-select picklist) exports its
  values joined by ';' (``Paid Search;Webinar``): read as one label, it becomes a channel or segment of its own
  and the figures by that label are wrong (:func:`multi_valued`).
- Excel turns company-size ranges into dates when a CSV is opened by double-click (``1-10`` -> ``10-Jan`` or
  ``2025-01-10 00:00:00``; ``11-50`` -> ``Nov-50``; a serial day number such as ``45667`` once saved):
  every deal then lands outside the target group (:func:`excel_dated`).

Pure functions over a column's text cells, used by the folder loader (:func:`label_findings`, errors with the
file, column and rows) and by helpers.data.mapping (the ingest's refusals, with the ``split:`` fix). No I/O.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from helpers.data.codes import factorized
from helpers.data.values import looks_like_excel_date
from helpers.errors import Finding, error, warning

#: The separator CRMs write between the values of a multiple-choice field.
MULTI_SEPARATOR = ";"
#: Label columns where any ';' between two values means several values (channel, segment labels).
LABEL_COLUMNS = ("channel", "industry", "company_size")
#: Text columns of labels where ';' with no space around it means several values ("Sato;Suzuki"); prose writes "; ".
NAME_COLUMNS = ("campaign", "owner", "loss_reason")
#: Segment columns whose values Excel may have turned into dates.
SEGMENT_COLUMNS = ("industry", "company_size")
_JOINED = re.compile(r"[^;\s]\s*;\s*[^;\s]")
_JOINED_TIGHT = re.compile(r"[^;\s];[^;\s]")
_RANGE = re.compile(r"^\d[\d,]*\s*[-~～〜–]\s*\d[\d,]*$|^\d[\d,]*\s*\+$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
#: Excel day numbers of 2000-01-01 .. 2049-12-31: a column of nothing but these is a column of dates.
SERIAL_RANGE = (36526, 54789)


def multi_valued(column: str, texts) -> list[int]:
    """Positions of the cells holding several values joined by ';': any ';' between two values in a label column
    (LABEL_COLUMNS), a ';' with no space around it in a name column (NAME_COLUMNS: prose writes "; ")."""
    pattern = _JOINED if column in LABEL_COLUMNS else _JOINED_TIGHT
    return [i for i, t in enumerate(texts) if isinstance(t, str) and MULTI_SEPARATOR in t and pattern.search(t)]


def excel_dated(column: str, texts) -> tuple[list[int], bool]:
    """``(positions, sure)`` of a segment column's values that look like dates Excel made of categories.

    Dates (``10-Jan``, ``2025-01-10 00:00:00``, ``1/10/2025``, ``1月10日``) are listed when the column also holds
    ranges or other labels, or is company_size (sizes are never dates), unless they are all serial day numbers
    (``45667``) with no range beside them: then `sure`. A company_size column of nothing but day numbers of 2000-2049 is listed
    with `sure` False (a warning: they could be head counts)."""
    cells = [(i, t.strip()) for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
    distinct = {t for _, t in cells}
    dated = {t for t in distinct if looks_like_excel_date(t) and not _RANGE.match(t)}
    if not dated:
        return [], False
    has_ranges = any(_RANGE.match(t) for t in distinct)
    serial_only = all(_SERIAL.match(t) for t in dated)
    if (has_ranges or distinct - dated or column == "company_size") and (not serial_only or has_ranges):
        return [i for i, t in cells if t in dated], True
    if column == "company_size" and serial_only and distinct == dated and len(cells) > 1 \
            and all(SERIAL_RANGE[0] <= float(t) <= SERIAL_RANGE[1] for t in dated):
        return [i for i, _ in cells], False
    return [], False


def _rows(positions) -> tuple[int, ...]:
    return tuple(int(p) + 2 for p in positions[:5])


def label_findings(table: str, frame: pd.DataFrame, fname: str) -> list[Finding]:
    """The findings of a data folder table's label cells: several values in one cell (error ``multi_value``,
    channel, industry, company_size, campaign, owner) and segment values Excel turned into dates (error
    ``excel_date_category``; a company_size of nothing but day numbers: warning ``excel_serial_category``).
    Rows are spreadsheet rows (header = row 1). The touches table splits its multi-valued cells instead."""
    found: list[Finding] = []
    if table == "touches":
        return found
    for column in LABEL_COLUMNS + NAME_COLUMNS[:2]:
        if column not in frame.columns:
            continue
        codes, distinct = factorized(frame[column])
        texts = [str(v) for v in distinct]
        hit = np.zeros(len(texts) + 1, dtype=bool)
        hit[multi_valued(column, texts)] = True
        rows = np.flatnonzero(hit[codes])
        if len(rows):
            shown = [texts[codes[r]] for r in rows[:3]]
            found.append(error(fname, "multi_value", column, _rows(rows), tuple(dict.fromkeys(shown)), len(rows),
                               examples=", ".join(repr(v) for v in dict.fromkeys(shown))))
        if column in SEGMENT_COLUMNS:
            positions, sure = excel_dated(column, texts)
            hit = np.zeros(len(texts) + 1, dtype=bool)
            hit[positions] = True
            rows = np.flatnonzero(hit[codes])
            if len(rows):
                shown = tuple(dict.fromkeys(texts[codes[r]] for r in rows[:3]))
                examples = ", ".join(repr(v) for v in shown)
                found.append(error(fname, "excel_date_category", column, _rows(rows), shown, len(rows), examples=examples)
                             if sure else warning(fname, "excel_serial_category", column, _rows(rows), shown, len(rows),
                                                  examples=examples))
    return found
