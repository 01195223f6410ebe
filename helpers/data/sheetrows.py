"""Row numbers of a CSV or a sheet as a spreadsheet shows them: the readers skip blank lines (pandas and pyarrow alike),
so a record's position + 2 is its row only in a file without them; Excel shows each blank line as an empty row.

:func:`renumbered` puts every finding of a file with blank lines (a CSV's: :func:`blank_lines_before`; a sheet's,
blank rows and a header below row 1: helpers.data.blankrows.sheet_records) on its spreadsheet row (header = row 1 unless below it, a
blank line counted as a row, a line break inside a quoted cell not), the same rule for every check. Used by
helpers.data.load once, on the findings of all its checks. A sheet's blank rows: helpers.data.blankrows.
"""
from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import numpy as np

from helpers.errors import Finding

#: A blank (or spaces-only) line in an ASCII-compatible file's bytes: the first line, or one after a line end.
BLANK_LINE = re.compile(rb"(?:^|\n)[ \t]*\r?\n|\r[ \t]*\r(?!\n)")
#: BLANK_LINE as its three cases, each searched alone (a literal first byte lets the regex engine skip to it: a 30 MB
#: file is scanned ~16x faster than with the alternation): a blank first line, one after \n, one after an old Mac \r.
BLANK_LINE_CASES = (re.compile(rb"[ \t]*\r?\n"), re.compile(rb"\n[ \t]*\r?\n"), re.compile(rb"\r[ \t]*\r(?!\n)"))
#: The bytes of a blank line's end, trimmed off the file's end before looking for a blank line above a record.
TRAILING = frozenset(b" \t\r\n")
#: Findings whose rows are already the file's own numbering (a reader's refusal names its line): left as they are.
OWN_NUMBERS = frozenset({"unreadable_file"})


def blank_lines_before(path: Path, encoding: str | None) -> np.ndarray | None:
    """For each record of the CSV file at `path` (0-based, in the readers' order), the number of blank lines above
    it (int64 array), or None when the file has no blank line between records (positions + 2 are its rows). Blank
    lines after the last record (a trailing empty line) shift no record: the file is then not read again
    (:func:`blank_line_above_a_record`); otherwise it is decoded and parsed once, whole."""
    from helpers.data.rawread import decode_csv, sniff_delimiter

    if not encoding_is_wide(encoding) and not blank_line_above_a_record(path):
        return None
    text = decode_csv(path, encoding)[0].lstrip("\ufeff")
    blanks, before = 0, []
    for row in csv.reader(_lines(text), delimiter=sniff_delimiter(text)):
        if not row or (len(row) == 1 and not row[0].strip()):   # a line of spaces is blank to the readers too
            blanks += 1
        else:
            before.append(blanks)
    if not blanks:
        return None
    before = np.asarray(before[1:], dtype=np.int64)   # counted from the top: blank lines above the header shift all
    return before if before.any() else None


def blank_line_above_a_record(path: Path) -> bool:
    """True when the bytes of the file at `path` (ASCII-compatible) hold a blank line (:data:`BLANK_LINE_CASES`) before the
    last non-blank byte, i.e. one that may stand above a record; blank lines at the end only (or none) give False.
    The file is mapped, not copied; a line break in a quoted cell may give a True the caller's parse then clears."""
    import mmap

    if path.stat().st_size == 0:
        return False
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        end = len(data)
        while end and data[end - 1] in TRAILING:
            end -= 1
        first, after_lf, after_cr = BLANK_LINE_CASES
        start = 3 if data[:3] == b"\xef\xbb\xbf" else 0   # Excel's "CSV UTF-8" starts with a BOM: the first line after it
        return bool(first.match(data, start, end) or after_lf.search(data, 0, end) or after_cr.search(data, 0, end))


def _lines(text: str):
    """The lines of `text` for csv.reader (newline='' semantics: \\r\\n, \\n or \\r ends a line)."""
    import io

    return io.StringIO(text, newline="")


def encoding_is_wide(encoding: str | None) -> bool:
    """True for a UTF-16/32 file, whose blank lines the byte test above cannot see."""
    return bool(encoding) and encoding.lower().replace("-", "").replace("_", "").startswith(("utf16", "utf32"))


def renumbered(findings: list[Finding], shifts: dict[str, np.ndarray]) -> list[Finding]:
    """`findings` with the rows of each file in `shifts` ({file name: blank lines above each record}) moved to their
    spreadsheet rows: row p + 2 becomes p + 2 + shifts[file][p]. Other findings as they are."""
    out = []
    for f in findings:
        shift = shifts.get(f.file)
        if shift is not None and f.rows and f.code not in OWN_NUMBERS:
            f = dataclasses.replace(f, rows=tuple(r + int(shift[r - 2]) if 0 <= r - 2 < len(shift) else r for r in f.rows))
        out.append(f)
    return out

