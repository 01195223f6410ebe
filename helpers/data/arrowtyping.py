"""The fast CSV reader's typing of its Arrow text columns (helpers.data.fastcsv.read_csv_typed), each column as the
exact reader types it (helpers.data.parse.parse_cells).

Text and category columns by the Arrow string kernels pandas itself runs for str.strip / str.lower
(:func:`arrow_text_column`); date and datetime columns whose every cell is a plain ISO date or datetime by Arrow's
cast (:func:`plain_iso_dates`); every other column (and a date column with another cell) by parsing each distinct
cell once with parse_cells (:func:`distinct_parse`). tests/test_fastcsv.py compares the result with the exact
reader's, tests/test_fastcsv_dates.py the dates cell by cell. Moved out of helpers.data.fastcsv.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.data.parse import parse_cells
from helpers.data.schema import Column


def _arrow_texts(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """Every cell as trimmed text, null when empty (_texts: pandas' str.strip is utf8_trim_whitespace)."""
    trimmed = pc.utf8_trim_whitespace(raw)
    blank = pc.equal(trimmed, "")
    if not pc.any(blank).as_py():   # the usual column (empty cells are already null): no second copy of its text
        return trimmed
    return pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)


def arrow_text_column(cells: pa.ChunkedArray, lower: bool = False) -> pd.Series:
    """A text or category column as the exact reader types it: trimmed, empty -> null, the workbook's CSV-injection
    apostrophe removed (helpers.data.values.unneutralize_cell), lower case for outcome (a target metric: parse_cells); pandas ``str`` dtype."""
    from helpers.data.values import FORMULA_START

    text = _arrow_texts(cells)
    # only a cell that starts with the apostrophe can be marked: the regular expression runs when one does
    if pc.any(pc.starts_with(text, "'")).as_py():
        marked = pc.match_substring_regex(text, "^'[" + "".join(f"\\x{{{ord(c):x}}}" for c in FORMULA_START) + "]")
        if pc.any(marked).as_py():
            text = pc.if_else(marked, pc.utf8_slice_codeunits(text, 1), text)
    if lower:
        text = pc.utf8_lower(text)
    return text.to_pandas()


def distinct_parse(col: Column, cells: pa.ChunkedArray, timezone: str) -> tuple[pd.Series, np.ndarray]:
    """``(parsed, present)`` of a column by parsing each distinct raw cell once with parse_cells
    (exact by construction: that function works cell by cell) and spreading the results to the rows."""
    encoded = pc.dictionary_encode(cells.combine_chunks() if isinstance(cells, pa.ChunkedArray) else cells)
    distinct = pd.Series(encoded.dictionary.to_pylist(), dtype=object)
    parsed, present = parse_cells(col, distinct, timezone)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    values = parsed.array if isinstance(parsed.dtype, pd.api.extensions.ExtensionDtype) else parsed.to_numpy()
    spread = pd.api.extensions.take(values, codes, allow_fill=True)
    present_rows = np.append(present.to_numpy(dtype=bool), False)[codes]
    return pd.Series(spread, name=None), present_rows


def plain_iso_dates(col: Column, cells: pa.ChunkedArray) -> tuple[pd.Series, np.ndarray] | None:
    """``(parsed, present)`` of a date or datetime column whose every cell is a plain ISO date or every cell a plain ISO
    datetime (YYYY-MM-DD; YYYY-MM-DDThh:mm:ss or with a space: no offset, no fraction, no spaces around), parsed by
    Arrow's cast to a timestamp, with the values parse_cells gives them (naive datetime64[ns]; a date column's
    datetimes cut to their day); None when a cell has another shape or is not a real day and time, or a value is
    outside DATE_RANGE: the exact parse (:func:`distinct_parse`) then reads the column and names its bad cells.

    One test tells the shape: Arrow's cast to a naive timestamp in seconds reads only YYYY-MM-DD optionally followed
    by T or a space and hh, hh:mm or hh:mm:ss (10, 13, 16 or 19 bytes; ASCII digits where the shape has them; an
    offset, a fraction, spaces around and 2023-02-29, hour 24 or second 60 refused), so cells of 10 bytes on average
    are all dates and of 19 all datetimes in seconds (ISO_DATE_PATTERN's shapes: tests/test_fastcsv_dates.py)."""
    from helpers.data.parse import DATE_RANGE

    present_count = len(cells) - cells.null_count
    size = sum(_text_bytes(chunk) for chunk in cells.chunks)
    if not present_count or size not in (10 * present_count, 19 * present_count):
        return None
    try:
        stamps = pc.cast(cells, pa.timestamp("s"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    low, high = (pd.Timestamp(v) for v in pc.min_max(stamps).as_py().values())
    if low < DATE_RANGE[0] or high >= DATE_RANGE[1] + pd.Timedelta(days=1):
        return None
    seconds = pc.fill_null(stamps.cast(pa.int64()), 0).to_numpy()
    if col.kind == "date" and size != 10 * present_count:
        seconds = seconds - seconds % 86400   # the day (floor: also before 1970)
    present = cells.is_valid().to_numpy(zero_copy_only=False)
    values = seconds * 1_000_000_000
    values[~present] = np.iinfo(np.int64).min   # NaT
    return pd.Series(values.view("datetime64[ns]")), present


def _text_bytes(chunk: pa.Array) -> int:
    """The bytes of a string array's cells in all, from its offsets (no pass over the cells)."""
    if not len(chunk):
        return 0
    offsets = np.frombuffer(chunk.buffers()[1], np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
    return int(offsets[chunk.offset + len(chunk)] - offsets[chunk.offset])
