"""A sheet's total row read as a record: recognised and refused by name ("remove the total row (row N)"), instead of
one "fill the required value" error per empty cell of it, or a repeated 合計 id.

A total row is a row whose required date cells (created_at, ...) are all empty, whose id cell (the table's key:
lead_id, opportunity_id) is empty or a total word, and one of whose label cells (an id, a category) is a total word:
合計, 総計, 小計, 計, Total, Grand total, Subtotal, Sum (the whole cell, trimmed, any case, a count in brackets after it); or, with every label cell
empty, whose amount is the sum of the column above it (a hand-made sheet's =SUM(...) under the data: a CSV, and Excel
as read, hold its result, a number like any other). A row with a real id is a record, never a total row: an owner
named 計 or a channel Total does not make it one. Used by helpers.data.load for every table file (CSV, Excel, Parquet).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from helpers.data.schema import Table
from helpers.data.total_words import SHOWN, TOTAL_WORDS, _rows_phrase  # noqa: F401 - importable from here too
from helpers.errors import Finding, error


def total_rows(table: Table, frame: pd.DataFrame) -> tuple[list[int], str]:
    """The positions (0-based) of `frame`'s total rows and the first one's label (its cell as written, "" for an
    unlabelled sum row); ([], "") when there is none or the table has no required date column. A row with a real id
    (its key cell neither empty nor a total word) is a record, never a total row, whatever its other cells say.
    `frame`: the typed table (helpers.data.parse)."""
    dates = [c.name for c in table.columns if c.required and c.kind in ("date", "datetime") and c.name in frame.columns]
    labels = [c.name for c in table.columns if c.kind in ("text", "category") and c.name in frame.columns]
    if not dates or not labels or frame.empty:
        return [], ""
    undated = frame[dates].isna().all(axis=1).to_numpy()
    if table.key in frame.columns:   # the key cell empty or a total word
        key = frame[table.key]
        undated = undated & (key.isna() | key.astype("string").str.strip().str.fullmatch(TOTAL_WORDS).fillna(False)).to_numpy(dtype=bool)
    numbers = [c.name for c in table.columns if c.kind == "number" and c.name in frame.columns]
    hits, word = [], ""
    for pos in np.flatnonzero(undated):
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


def cells_without_total_rows(findings: list[Finding], fname: str, positions: list[int], frame: pd.DataFrame,
                             unread: dict | None) -> list[Finding]:
    """`findings` with the total rows of file `fname` (`positions`, 0-based: :func:`total_rows`) taken out of its cell
    findings (missing_value, bad_<kind>: helpers.data.parse.column_findings, made while the table is typed, before its
    total rows are known): each one's count lowered by the total rows in its mask, whether shown or not (an empty cell
    of `frame`, the typed table, not refused as unparseable; a refused cell: `unread`, {column: bool array}), its rows
    and values shown without them; a finding left with no row dropped. Other findings as they are."""
    if not positions:
        return findings
    at = np.asarray(positions, dtype=np.int64)
    out = []
    for f in findings:
        hit = _total_rows_in(f, fname, at, frame, unread or {})
        if hit is not None and hit.any():
            gone = {int(p) + 2 for p in at[hit]}
            count = f.count - int(hit.sum())
            if count <= 0:
                continue
            keep = [i for i, r in enumerate(f.rows) if r not in gone]
            values = tuple(f.values[i] for i in keep) if len(f.values) == len(f.rows) else f.values
            f = replace(f, rows=tuple(f.rows[i] for i in keep), values=values, count=count)
        out.append(f)
    return out


def _total_rows_in(f: Finding, fname: str, at: np.ndarray, frame: pd.DataFrame, unread: dict) -> np.ndarray | None:
    """For each total row at positions `at`, whether cell finding `f` counts it (bool array); None when `f` is no
    cell finding of `fname` (or one whose mask the typed table cannot tell: bad_answer)."""
    if f.file != fname or not f.rows or f.column not in frame.columns:
        return None
    refused = np.asarray(unread[f.column], dtype=bool)[at] if f.column in unread else np.zeros(len(at), dtype=bool)
    if f.code == "missing_value":
        return frame[f.column].iloc[at].isna().to_numpy(dtype=bool) & ~refused
    if f.code.startswith("bad_") and f.code != "bad_answer":
        return refused   # column_findings records every refused date or number cell in `unread`
    return None


def total_row_findings(findings: list[Finding], totals: dict[str, tuple[list[int], str]],
                       shifts: dict[str, np.ndarray]) -> list[Finding]:
    """`findings` with each file's total rows reported once, as a total row: `totals` {file name: (positions, label)}
    (:func:`total_rows`). The rows are taken out of every other finding of the file (its count lowered by as many; a
    finding left naming no row is dropped: a total row's empty created_at, its repeated 合計 id), the rows numbered as
    the spreadsheet shows them (`shifts`: helpers.data.sheetrows.renumbered), then one coded error total_row per file
    naming its rows and the label, or, unlabelled, that the amount is the sum of the rows above."""
    from helpers.data.sheetrows import renumbered

    kept = []
    for f in findings:
        if f.file in totals and f.rows and f.code != "total_row":
            out = {p + 2 for p in totals[f.file][0]} & set(f.rows)
            if out:
                if len(out) >= max(f.count, len(f.rows)):
                    continue
                f = replace(f, rows=tuple(r for r in f.rows if r not in out), count=max(f.count - len(out), 0))
        kept.append(f)
    kept = renumbered(kept, shifts)
    for fname, (positions, word) in totals.items():
        shift = shifts.get(fname)
        numbers = [p + 2 + (int(shift[p]) if shift is not None else 0) for p in positions]
        kept.append(error(fname, "total_row", None, tuple(numbers[:SHOWN]), (), len(numbers), variant="" if word else "sum",
                          word=word, total_rows=_rows_phrase(numbers)))
    return kept
