"""Checks on a CSV text's shape that a parser cannot make: a stray quote that swallows the rows after it.

A CSV cell that opens with a quote runs until the next quote. One unclosed quote (`…,鈴木,"競合`) makes every
parser (pyarrow and pandas alike) read the rest of the file, or up to the next quote, into that one cell: the
table loads with a handful of rows and the figures are silently wrong. Such a cell holds line breaks, and lines
inside it that split into a whole row of the file. :func:`row_in_cell` tells that of one cell;
:func:`find_stray_quote` finds the cell in the file's text (the line where its quote opened) for the message.

Used by helpers.data.load (both CSV readers; the ingest reads through them too). No I/O.
"""
from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.csv as pacsv

from helpers.errors import Phrase, WorkbookError, coded_error


def row_in_cell(cell: str, delimiter: str, columns: int) -> bool:
    """True when a cell holds a line break and a later line of it splits (as CSV) into at least `columns` fields
    (the header's count, at least 2): a row of the file swallowed by a quote left open."""
    if "\n" not in cell and "\r" not in cell or columns < 2:
        return False
    lines = cell.splitlines()[1:]
    return any(line.count(delimiter) >= columns - 1 and len(_fields(line, delimiter)) >= columns for line in lines)


def _fields(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return []


@dataclass(frozen=True)
class StrayQuote:
    """Where a quote opened and swallowed rows: the spreadsheet row (header = 1, blank lines not counted), the
    line of the file, the column's header, the cell's first line, and how many lines and whole rows it swallowed."""

    row: int
    line: int
    column: str
    start: str
    lines: int
    rows: int

    def error(self, name: str) -> WorkbookError:
        """The refusal naming the file, the row and line where the quote opened, the column, and the fix."""
        return coded_error("stray_quote", name, where=_row_line(self.row, self.line), column=self.column, start=self.start[:40],
                           lines=f"{self.lines:,}", rows=f"{self.rows:,}", line=self.line)


def _row_line(row: int, line: int) -> Phrase:
    """"row 5" or "row 5 (line 7 of the file)" (a cell holding line breaks): where a message says a row is."""
    return Phrase("part_row", rows=row) if line == row else Phrase("part_row_line", row=row, line=line)


def find_stray_quote(text: str, delimiter: str) -> StrayQuote | None:
    """The first cell of a CSV text (header first) whose quote swallowed whole rows (:func:`row_in_cell`), or None.

    Reads with Python's csv module, which treats quotes as pyarrow and pandas do (special at the start of a
    field; a quote left open runs to the end of the file)."""
    limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2 ** 31 - 1))
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header: list[str] | None = None
        last_line, row = 0, 1
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            if not record or not any(c.strip() for c in record):
                continue
            if header is None:
                header = [c.strip() for c in record]
                continue
            row += 1
            for pos, cell in enumerate(record):
                if row_in_cell(cell, delimiter, len(header)):
                    lines = cell.splitlines()
                    rows = sum(1 for ln in lines[1:] if len(_fields(ln, delimiter)) >= len(header))
                    column = header[pos] if pos < len(header) else f"column {pos + 1}"
                    line = start + sum(c.count("\n") for c in record[:pos])  # earlier cells of the record may span lines
                    return StrayQuote(row, line, column, lines[0], len(lines) - 1, rows)
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    return None


def find_broken_quote(text: str, delimiter: str, name: str) -> WorkbookError | None:
    """The refusal of a CSV text where a quoted cell is closed and followed by more text before the next separator
    (``"Retail,"1200",...``: a closing quote lost, so two cells merge and the row's later cells shift), or None.

    Python's csv module in strict mode finds the place; the error names the row (header = 1, blank lines not
    counted) and the line of the file."""
    limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2 ** 31 - 1))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    row, last_line = 0, 0
    try:
        for record in reader:
            last_line = reader.line_num
            if record and any(c.strip() for c in record):
                row += 1
        return None
    except csv.Error:
        line = reader.line_num
        lines = text.splitlines()
        where = _row_line(row + 1, line)
        shown, field = lines[line - 1][:80] if line - 1 < len(lines) else "", None
        spot = _closed_early(shown if line - 1 >= len(lines) else lines[line - 1], delimiter)
        if spot is not None:
            at, field = spot
            shown = lines[line - 1][max(0, at - 30):at + 20]
        header = _fields(next((ln for ln in lines if ln.strip()), ""), delimiter)
        if field is not None and field < len(header) and last_line + 1 == line:
            where = Phrase("part_where_column", where=where, column=header[field].strip())
        return coded_error("broken_quote", name, where=where, shown=repr(shown), line=line)
    finally:
        csv.field_size_limit(limit)


def _closed_early(line: str, delimiter: str) -> tuple[int, int] | None:
    """``(position, field)`` in one line where a quoted cell's closing quote is followed by text other than the
    separator (the cell's field counted from 0), or None."""
    quoted, at_start, field, i = False, True, 0, 0
    while i < len(line):
        c = line[i]
        if quoted:
            if c == '"' and line[i + 1:i + 2] == '"':
                i += 2
                continue
            if c == '"':
                quoted = False
                if i + 1 < len(line) and line[i + 1] not in (delimiter, "\r", "\n"):
                    return i, field
        elif c == '"' and at_start:
            quoted = True
        elif c == delimiter:
            field += 1
        at_start = c == delimiter and not quoted
        i += 1
    return None


#: Most byte sequences that are not UTF-8 in a file otherwise UTF-8 for them to be stray bytes (typed or pasted in
#: from another encoding); more is a file in another encoding, which detection reads.
MAX_STRAY_BYTES = 3


def stray_byte_error(data: bytes, name: str) -> WorkbookError | None:
    """The refusal of a UTF-8 file holding a few bytes that are not UTF-8, or None.

    A file with valid multi-byte UTF-8 characters (Japanese text, accents) and at most MAX_STRAY_BYTES invalid
    sequences is UTF-8 with a character from another encoding typed or pasted in (Latin-1 'é' = 0xE9): no single
    encoding reads it right, and encoding detection would only say it "cannot be told". The error names the row
    (line), the column, the byte and its cell. None for valid UTF-8 and for files in another encoding."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        first = exc.start
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    if bad > MAX_STRAY_BYTES or not any(ord(c) > 127 and c != "\ufffd" for c in text):
        return None
    line = data.count(b"\n", 0, first) + 1
    start, end = data.rfind(b"\n", 0, first) + 1, data.find(b"\n", first)
    shown = data[start:end if end >= 0 else len(data)].decode("utf-8", errors="backslashreplace").rstrip("\r")
    header_line = data[:data.find(b"\n") if b"\n" in data else len(data)].decode("utf-8", errors="replace").lstrip("\ufeff")
    sep = max((",", ";", "\t", "|"), key=header_line.count)
    header, cells = _fields(header_line, sep), _fields(shown, sep)
    pos = next((i for i, c in enumerate(cells) if "\\x" in c), None)
    where = Phrase("part_row", rows=line)
    if pos is not None and pos < len(header) and line > 1:
        where = Phrase("part_where_column", where=where, column=header[pos].strip())
    cell = cells[pos] if pos is not None else shown
    byte = data[first]
    return coded_error("stray_byte", name, where=where, byte=f"0x{byte:02X}", cell=repr(cell[:60]), count=bad,
                       latin=repr(bytes([byte]).decode("cp1252", errors="replace")), line=line)


#: pyarrow.csv's block size (a row longer than this goes to the exact reader).
ARROW_BLOCK = 16 << 20
#: Most columns a file may have for this reader (wider files go to the exact reader).
FAST_MAX_COLUMNS = 2000


def arrow_csv_options(encoding: str, delimiter: str, include: list[str] | None = None):
    """pyarrow.csv's (read, parse, convert) options of the fast reader: every cell text (null when empty), columns named
    f0, f1, ... by position (the header is row 0); with `include`, only those columns are converted (every line is
    still split into all its fields: a ragged row is refused as without it)."""
    # One thread: on a shared 2-core machine pyarrow's threaded parse takes twice the CPU for about the same wall time.
    read = pacsv.ReadOptions(autogenerate_column_names=True, block_size=ARROW_BLOCK, use_threads=False,
                             encoding="utf8" if encoding.startswith("utf-8") else encoding)
    parse = pacsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                               newlines_in_values=True, ignore_empty_lines=True)
    convert = pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(FAST_MAX_COLUMNS)},
                                   strings_can_be_null=True, quoted_strings_can_be_null=True, null_values=[""],
                                   check_utf8=False,  # checked in the scan (or transcoded from a checked decoding)
                                   include_columns=include or [])
    return read, parse, convert
