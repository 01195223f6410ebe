"""A sheet's blank rows and a header below blank rows, as Excel shows them: a blank row is no record (as a CSV
reader skips a blank line), yet it counts in the row numbers a finding names.

:func:`sheet_records` (a data folder's sheet, helpers.data.rawread) leaves the blank rows out and says how many rows
stand above each record (helpers.data.sheetrows.renumbered's shift); :func:`with_rows_above` (an ingest's export,
helpers.data.ingest_files and rawread) puts empty rows first for those above a header below row 1, so that a row's
position + 2 is its spreadsheet row as in any export (helpers.data.mapping drops them unsaid). No I/O; imports no
helpers module.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def _blank_rows(frame) -> np.ndarray:
    """True for each row of `frame` whose every cell is empty (None, NaN, or text of spaces only)."""
    if not len(frame.columns):
        return np.ones(len(frame), dtype=bool)
    empty = frame.map(lambda v: v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip()))
    return empty.all(axis=1).to_numpy(dtype=bool)


def rows_above_header(top) -> int:
    """How many blank rows stand above a sheet's header (`top`: its first rows read without a header): the header is
    the first row with a filled cell. 0 when the first row is filled or the sheet is empty."""
    blank = _blank_rows(top)
    return int(blank.argmin()) if len(blank) and not blank.all() else 0


def sheet_records(frame) -> tuple[object, np.ndarray | None]:
    """A sheet read without a header (`frame`, pandas, every row kept: Excel shows a blank row as an empty row) as
    (its header row and records: the blank rows above the header and between records left out, the header first,
    index renumbered; for each record, the rows skipped above it (int64 array, helpers.data.sheetrows.renumbered's shift), or None
    when there are none). A record's spreadsheet row is then its position + 2 + shift."""
    lead = rows_above_header(frame)
    body = frame.iloc[lead + 1:]
    blank = _blank_rows(body)
    if not lead and not blank.any():
        return frame, None
    kept = frame.iloc[[lead] + [lead + 1 + i for i in np.flatnonzero(~blank)]].reset_index(drop=True)
    shift = (lead + np.cumsum(blank))[~blank].astype(np.int64)
    return kept, shift if shift.any() else None


def with_rows_above(frame, count: int):
    """`frame` (an export's records read below its header) with `count` empty rows put first, standing for the rows
    above a header below row 1, so that a record's position + 2 is its spreadsheet row as for any other export; the
    count is kept in ``attrs['rows_above_header']`` (helpers.data.mapping drops those rows without saying them)."""
    if count:
        pad = pd.DataFrame([[None] * len(frame.columns)] * count, columns=frame.columns, dtype=object)
        attrs = dict(frame.attrs)
        frame = pd.concat([pad, frame], ignore_index=True)
        frame.attrs.update(attrs)
    frame.attrs["rows_above_header"] = count
    return frame
