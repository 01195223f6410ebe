"""A sheet's total row read as a record: recognised and refused by name ("remove the total row (row N)"), instead of
one "fill the required value" error per empty cell of it.

A total row is a row whose required date cells (created_at, ...) are all empty and one of whose label cells (an id,
a category) says total: 合計, 総計, 小計, 計, Total, Grand total, Subtotal, Sum; or, with every label cell empty,
whose amount is the sum of the column above it. A hand-made sheet puts one under its
data with =SUM(...) in the amount column; the formula's result is a number like any other, so the label and the empty
dates are what tell it apart from a record. Used by helpers.data.load for every table file (CSV, Excel, Parquet).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from helpers.data.schema import Table
from helpers.errors import Finding, error

#: The label of a total row (the whole cell, any case, an optional colon).
TOTAL_WORDS = re.compile(r"(?:総?合計|総計|小計|計|(?:grand |sub ?)?totals?|sum)\s*[:：]?", re.IGNORECASE)
#: Row numbers a message lists.
SHOWN = 5


def total_rows(table: Table, frame: pd.DataFrame) -> tuple[list[int], str]:
    """The positions (0-based) of `frame`'s total rows and the first one's label (its cell as written); ([], "") when
    there is none or the table has no required date column. `frame`: the typed table (helpers.data.parse)."""
    dates = [c.name for c in table.columns if c.required and c.kind in ("date", "datetime") and c.name in frame.columns]
    labels = [c.name for c in table.columns if c.kind in ("text", "category") and c.name in frame.columns]
    if not dates or not labels or frame.empty:
        return [], ""
    undated = np.flatnonzero(frame[dates].isna().all(axis=1).to_numpy())
    numbers = [c.name for c in table.columns if c.kind == "number" and c.name in frame.columns]
    hits, word = [], ""
    for pos in undated:
        cells = frame[labels].iloc[pos]
        said = [str(v).strip() for v in cells if v is not None and v == v and TOTAL_WORDS.fullmatch(str(v).strip())]
        if said or (cells.isna().all() and _sums_the_column(frame, numbers, int(pos))):
            hits.append(int(pos))
            word = word or (said[0] if said else "")
    return hits, word


def _sums_the_column(frame: pd.DataFrame, numbers: list[str], pos: int) -> bool:
    """True when a number cell of row `pos` is the sum of its column's cells above it (an unlabelled =SUM row)."""
    for col in numbers:
        value = frame[col].iloc[pos]
        above = pd.to_numeric(frame[col].iloc[:pos], errors="coerce").dropna()
        if value == value and value is not None and len(above) > 1 and abs(float(value) - float(above.sum())) <= 1e-9 * max(1.0, abs(float(value))):
            return True
    return False


def total_row_findings(table: Table, frame: pd.DataFrame, fname: str, findings: list[Finding]) -> None:
    """Replace, in `findings`, the errors of `fname` that only name its total rows (empty required cells, an unknown
    outcome) by one coded error total_row naming the rows (spreadsheet row numbers: header = row 1) and the label."""
    rows, word = total_rows(table, frame)
    if not rows:
        return
    numbers = [p + 2 for p in rows]
    only_totals = set(numbers)
    findings[:] = [f for f in findings if not (f.severity == "error" and f.file == fname and f.rows
                                               and f.count == len(f.rows) and set(f.rows) <= only_totals)]
    shown = ", ".join(map(str, numbers[:SHOWN])) + (f" (+{len(numbers) - SHOWN})" if len(numbers) > SHOWN else "")
    findings.append(error(fname, "total_row", None, tuple(numbers[:SHOWN]), (), len(numbers), word=word or "=SUM", total_rows=shown))
