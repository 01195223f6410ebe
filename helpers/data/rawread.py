"""The exact reader: a table file (CSV, Excel, Parquet) as text cells, every cell None when empty (contract section 1).

:func:`read_raw` reads any table file with pandas; a CSV file's text comes from :func:`decode_csv` (its encoding
stated, from a byte order mark, valid UTF-8, else detected; mojibake refused), its separator from
:func:`sniff_delimiter`, and its header is checked by :func:`check_header` (duplicate names, control characters).
The fast CSV reader (helpers.data.fastcsv) hands every file it cannot take to this one, whose result or error is the
rule. Input files are only read. Moved out of helpers.data.load, which still exports every public name.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.charset import ENCODING_NAMES, FIX_ENCODING, detect_encoding
from helpers.data.csvshape import stray_byte_error
from helpers.data.files import (FORMATTED_ROWS, check_kind, excel_engine, looks_formatted_report, other_sheet_error,  # noqa: F401
                                 title_rows_error)
from helpers.data.parse import _cell_text
from helpers.data.blankrows import sheet_records, with_rows_above
from helpers.errors import Phrase, PhraseList, WorkbookError, coded_error

FORMATS = {".csv": "csv", ".xlsx": "excel", ".xls": "excel", ".parquet": "parquet"}


def read_raw(path: Path, encoding: str | None = None, table=None) -> tuple[pd.DataFrame, str | None]:
    """Read a table file as text cells (None for empty); returns the frame and the encoding used.

    WorkbookError for an empty (0-byte) file, a file that is not the format its name says
    (an .xlsx that is not a workbook, a .parquet that is not Parquet) and duplicate column names. With the
    canonical `table` (helpers.data.schema.Table) a workbook whose header is below row 1 under a title or notes
    (rows_above_header: the row holding the table's column names) or whose first sheet lacks the required columns
    another sheet holds (data_on_other_sheet, variant data) is refused with the fix. A sheet's blank rows (above its
    header, between records) are no records, as a CSV reader skips blank lines: left out, and the rows skipped above
    each record are in ``attrs['row_shift']`` (helpers.data.sheetrows.sheet_records) when there are any.
    """
    expected = [(c,) for c in table.column_names] if table is not None else None
    fmt = FORMATS.get(path.suffix.lower())
    if path.stat().st_size == 0:
        raise coded_error("empty_file", path.name)
    if fmt in ("excel", "parquet"):
        check_kind(path, fmt)
        try:
            if fmt == "excel":
                frame = pd.read_excel(path, dtype=object, header=None, engine=excel_engine(path))
                title = title_rows_error(frame.head(FORMATTED_ROWS), path.name, expected)
                if title is not None:
                    raise title
                frame, shift = sheet_records(frame)   # blank rows above the header and between records: no records
                first = {str(v).strip() for v in frame.iloc[0] if v == v and v is not None} if len(frame) else set()
                if table is not None and any(c.required and c.name not in first for c in table.columns):
                    other = other_sheet_error(path, expected, "data", table=table.name)
                    if other is not None:
                        raise other
                header, frame = [_cell_text(v) or "" for v in frame.iloc[0]] if len(frame) else [], frame.iloc[1:]
                frame = frame.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else v)
                frame.columns = range(frame.shape[1])
            else:
                frame = pd.read_parquet(path).astype(object)
                header, frame = [str(c) for c in frame.columns], frame.where(frame.notna(), None)
        except WorkbookError:
            raise
        except Exception as exc:  # openpyxl/xlrd/pyarrow raise many types for a damaged or mislabelled file
            raise coded_error("unreadable_table_file", path.name, fmt, error=f"{type(exc).__name__}: {str(exc)[:200]}") from None
        check_header(path, header)
        frame.columns = [(_cell_text(h) or f"Unnamed: {i}") for i, h in enumerate(header)]
        frame = frame.reset_index(drop=True)
        if fmt == "excel" and shift is not None:   # each record's spreadsheet row: position + 2 + shift (sheetrows)
            frame.attrs["row_shift"] = shift
        return frame, None
    return read_csv_text(path, encoding)


# Text decoded twice or with the wrong code page: UTF-8 read as cp1252 (Ã©, â€™, ï»¿, ã‚) or as cp932 (縺, 繧), lost characters (�)
MOJIBAKE = re.compile(r"Ã[\u0080-\u00bf]|Â[\u00a0-\u00bf]|â€[\u0080-\u2122]|ï»¿|ã[\u201a\u0080-\u00bf]|[縺繧繝譁蜿][\uff61-\uff9f]|[縺繧繝]{2}|\ufffd")


def decode_csv(path: Path, encoding: str | None = None) -> tuple[str, str, str]:
    """A CSV file's text, its codec and how the codec was chosen ("stated" or detect_encoding's reason).
    Raises WorkbookError when the stated codec cannot decode it, or the text is mojibake (garbled by an earlier
    wrong decoding, or decoded with the wrong code page): shown with the line and the garbled characters; and, from
    the first block alone, a file that is not text (helpers.data.files.check_kind)."""
    check_kind(path, "csv", encoding)
    data = path.read_bytes()
    if encoding:
        enc, how = encoding, Phrase("part_encoding_stated")
    else:
        stray = stray_byte_error(data, path.name)   # UTF-8 but for a byte or two: the row and the byte, not "cannot be told"
        if stray is not None:
            raise stray
        enc, how = detect_encoding(data, path.name)
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        raise coded_error("cannot_decode", path.name, encoding=enc) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = MOJIBAKE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        start = text.rfind("\n", 0, bad.start()) + 1
        snippet = text[start:text.find("\n", bad.start()) if "\n" in text[bad.start():] else len(text)].strip()[:80]
        raise coded_error("mojibake", path.name, encoding=ENCODING_NAMES.get(enc, enc), how=how, line=line,
                          garbled=repr(bad.group(0)), snippet=repr(snippet))
    return text, enc, how


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def check_header(path: Path, header: list[str]) -> None:
    """WorkbookError naming the positions of column names that appear twice (after trimming spaces), or that hold a
    NUL or another control character (shown as <U+0000>, never raw: the header line is damaged)."""
    names = [_cell_text(h) for h in header]
    damaged = [(pos, name) for pos, name in enumerate(names, start=1) if name is not None and _CONTROL.search(name)]
    if damaged:
        from helpers.data.channels import shown

        listed = PhraseList([Phrase("part_header_position", position=pos, name=shown(name)) for pos, name in damaged], "; ")
        raise coded_error("header_control", path.name, listed=listed, position=damaged[0][0])
    seen: dict[str, list[int]] = {}
    for pos, name in enumerate(names, start=1):
        if name is not None:  # unnamed columns are extra columns, ignored
            seen.setdefault(name, []).append(pos)
    dups = {name: pos for name, pos in seen.items() if len(pos) > 1}
    if dups:
        listed = PhraseList([Phrase("part_header_twice", name=name, positions=", ".join(map(str, pos))) for name, pos in dups.items()], "; ")
        raise coded_error("header_duplicate", path.name, listed=listed)


def read_csv_text(path: Path, encoding: str | None = None, keep_blank_lines: bool = False,
                  fix_encoding: str = FIX_ENCODING) -> tuple[pd.DataFrame, str]:
    """A CSV as text cells (None for empty); returns the frame and the encoding used (decode_csv: stated, or a BOM,
    valid UTF-8, else detected with charset-normalizer; mojibake refused).

    With `keep_blank_lines`, blank lines stay as rows, so a row's position + 2 is its line in the file; blank lines
    above the header stand as empty rows first (helpers.data.sheetrows.with_rows_above).
    """
    import io

    from helpers.data.csvshape import find_broken_quote, find_stray_quote

    text, enc, _ = decode_csv(path, encoding)
    sep = sniff_delimiter(text)
    lead = _blank_lines_above(text) if keep_blank_lines else 0   # the header is the first line with a cell
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                            skip_blank_lines=not keep_blank_lines, sep=sep, skiprows=lead or None)
    except pd.errors.EmptyDataError:
        raise coded_error("no_header_line", path.name) from None
    except pd.errors.ParserError as exc:
        stray = find_stray_quote(text, sep)
        if stray is not None:
            raise stray.error(path.name) from None
        raise coded_error("unreadable_csv", path.name, error=str(exc)) from None
    if _multiline_cells(frame):  # a quote left open reads the rows after it into one cell (csvshape)
        stray = find_stray_quote(text, sep)
        if stray is not None:
            raise stray.error(path.name)
    if _cells_with(frame, '"'):   # a quoted cell closed early ("Retail,"1200"): merged cells, shifted row (csvshape)
        broken = find_broken_quote(text, sep, path.name)
        if broken is not None:
            raise broken
    check_header(path, pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None, nrows=1, sep=sep).iloc[0].tolist())
    frame.columns = [str(c).strip() for c in frame.columns]
    out = frame.astype(object).where(frame.notna(), None)
    if keep_blank_lines:   # a header below blank lines: its records still on their spreadsheet rows (position + 2)
        out = with_rows_above(out, lead)
    out.attrs["delimiter"] = sep
    return out, enc


def _blank_lines_above(text: str) -> int:
    """How many blank (or spaces-only) lines stand above the first line of `text` holding anything (a BOM aside)."""
    count = 0
    for line in text.lstrip("\ufeff").splitlines():
        if line.strip():
            break
        count += 1
    return count


def _multiline_cells(frame: pd.DataFrame) -> bool:
    """True when a text cell of the frame holds a line break."""
    return _cells_with(frame, "[\r\n]")


def _cells_with(frame: pd.DataFrame, pattern: str) -> bool:
    """True when a text cell of the frame matches the regular expression `pattern`."""
    for col in frame.columns:
        cells = frame[col]
        if (cells.dtype == object or pd.api.types.is_string_dtype(cells.dtype)) and \
                cells.astype("string").str.contains(pattern, regex=True).fillna(False).any():
            return True
    return False


DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(text: str) -> str:
    """The field separator of a CSV text: among , ; tab |, the one that splits the header into the most fields with
    the same count in the following lines (quotes respected); ',' when none splits anything."""
    import csv

    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for sep in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines[:20], delimiter=sep)]
        except csv.Error:  # a cell over csv's field size limit (a 1 MiB name): pandas reads it, csv cannot sniff it
            continue
        if not counts or counts[0] < 2:
            continue
        agree = sum(1 for c in counts[1:] if c == counts[0])
        score = (agree + 1, counts[0]) if len(counts) == 1 or agree else (0, counts[0])
        if score > best_score:
            best, best_score = sep, score
    return best
