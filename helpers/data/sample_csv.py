"""The sample generator's CSV writer: pandas' ``to_csv`` bytes, written by Arrow's string kernels when they are the same.

``frame.to_csv(path, index=False, lineterminator="\\n", encoding="utf-8", na_rep="")`` formats each cell in Python
(at 10M leads, minutes). For a frame whose columns are text (str, missing) or integers (int64, pandas Int64) and
whose header and cells hold no separator, double quote or line break, pandas' csv writer (QUOTE_MINIMAL) quotes
nothing and writes an integer as its decimal digits and a missing value as nothing: then :func:`write_csv` joins
the cells with Arrow (``binary_join_element_wise``) and writes the joined lines, byte for byte the same text. Any
other frame (a float column, a cell needing quotes) is written by pandas itself. tests/test_sample.py checks the
sample's files (data/sample) byte for byte and both paths on cells that need quoting.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Rows joined per block (keeps each block's text far below Arrow's 2 GiB string limit).
BLOCK_ROWS = 1 << 20
#: What makes pandas' csv writer quote a cell (the separator, the quote, a line break).
_NEEDS_QUOTES = '[,"\\r\\n]'


def _cells(column: pd.Series) -> pa.Array | None:
    """A column's cells as the text pandas writes (missing -> ''), or None when pandas may write them otherwise."""
    if pd.api.types.is_integer_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        values = pa.array(column, from_pandas=True)
        return values.cast(pa.string()).fill_null("")
    if column.dtype != object and not isinstance(column.dtype, pd.StringDtype):
        return None
    try:
        values = pa.array(column, type=pa.string(), from_pandas=True)  # None, NaN, NA -> null; a non-str cell raises
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if pc.any(pc.match_substring_regex(values, _NEEDS_QUOTES)).as_py():
        return None
    return values.fill_null("")


def csv_lines(frame: pd.DataFrame) -> list[pa.Buffer] | None:
    """The frame's CSV text (header, then one line per row, each ending in '\\n') as buffers, as pandas writes it;
    None when Arrow's text would not be pandas' (:func:`_cells`)."""
    names = [str(c) for c in frame.columns]
    if len(names) < 2 or any(any(ch in name for ch in ',"\r\n') or name == "" for name in names):
        return None
    columns = []
    for name in frame.columns:
        cells = _cells(frame[name])
        if cells is None:
            return None
        columns.append(cells)
    out = [pa.py_buffer((",".join(names) + "\n").encode("utf-8"))]
    for start in range(0, len(frame), BLOCK_ROWS):
        block = [c.slice(start, BLOCK_ROWS) for c in columns]
        lines = pc.binary_join_element_wise(*block, ",")
        out.append(_text_of(pc.binary_join_element_wise(lines, "", "\n")))   # [line, ''] joined by '\n': line + '\n'
    return out


def _text_of(lines: pa.Array) -> pa.Buffer:
    """The bytes of a string array's values, one after another (its data buffer between the first and last offset)."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32, count=len(lines) + 1, offset=lines.offset * 4)
    return lines.buffers()[2][int(offsets[0]):int(offsets[-1])]


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write `frame` as pandas' ``to_csv(index=False, lineterminator="\\n", encoding="utf-8", na_rep="")`` would."""
    text = csv_lines(frame)
    if text is None:
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8", na_rep="")
        return
    with open(path, "wb") as fh:
        for buffer in text:
            fh.write(buffer)
