"""Finding and reading an ingest's sources: the export file of each table of a mapping (by its file patterns and the
columns it needs), its header and its rows as text cells, in the mapping's encoding and sheet.

Used by :func:`helpers.data.ingest.ingest` (every name here stays importable from helpers.data.ingest). A file that
cannot be read, or that looks like a table's export but lacks its columns, is a WorkbookError naming the file and a fix.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

import pandas as pd

from helpers.data.files import (FORMATTED_ROWS, HEADER_SEARCH_ROWS, check_inside, check_kind, excel_engine, excel_epoch,
                                 other_sheet_error, title_rows_error)
from helpers.data.load import ENCODING_NAMES, FORMATS, decode_csv, read_csv_text, read_raw, sniff_delimiter
from helpers.data.mapping import TableMapping, find_column, missing_column_error, note
from helpers.data.rawread import check_header
from helpers.data.blankrows import rows_above_header, with_rows_above
from helpers.errors import Phrase, PhraseList, WorkbookError, coded_error


def _candidates(exports: Path) -> list[Path]:
    """Readable export files at the top of the folder (no hidden files, no Excel lock files ~$x.xlsx). A link among
    them that leads out of the folder is refused (coded error link_outside), before anything of it is read."""
    found = sorted(p for p in exports.iterdir()
                   if p.suffix.lower() in FORMATS and not p.name.startswith((".", "~$")) and p.is_file())
    for p in found:
        check_inside(p, exports, "exports")
    return found


def read_header(path: Path, encoding: str | None = None, sheet=None, tm: TableMapping | None = None) -> list[str]:
    """The column names of an export file without reading its rows; WorkbookError when it cannot be read. With the
    table's mapping `tm`, a header below row 1 (a title, a group row or notes above it: rows_above_header) and, in a
    workbook read from its first sheet, the table on another sheet (data_on_other_sheet) are refused with the fix."""
    expected = tm.needed_columns() if tm is not None else None
    fmt = FORMATS.get(path.suffix.lower())
    if fmt != "csv":
        check_kind(path, fmt)   # a CSV is sniffed by decode_csv (with the mapping's encoding)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return [str(c) for c in pq.read_schema(path).names]
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure means "not a Parquet file"
            raise coded_error("unreadable_parquet", path.name, error=str(exc)) from None
    if fmt == "excel":
        try:
            top = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, header=None, nrows=FORMATTED_ROWS, dtype=object,
                                engine=excel_engine(path))
        except (ValueError, IndexError) as exc:
            raise _sheet_error(path, sheet, exc) from None
        except Exception as exc:  # noqa: BLE001 - a broken or password-protected workbook
            raise coded_error("unreadable_excel", path.name, error=str(exc)) from None
        title = title_rows_error(top, path.name, expected)
        if title is not None:
            raise title
        top = top.iloc[rows_above_header(top):]   # blank rows above the header: the header is the first filled row
        if sheet is None and expected and len(top) and not _fits([str(c).strip() for c in top.iloc[0] if c == c and c is not None], tm):
            other = other_sheet_error(path, expected, where=tm.where.split(": ", 1)[-1], mapping=tm.where.split(".yaml")[0].split(":")[0])
            if other is not None:
                raise other
        return [str(c).strip() if c is not None and c == c else f"Unnamed: {i}" for i, c in enumerate(top.iloc[0])] if len(top) else []
    import csv

    text, _, _ = decode_csv(path, encoding)
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    if not any(ln.strip() for ln in lines):
        raise coded_error("no_header_line", path.name)
    delimiter = sniff_delimiter(text)
    if expected:   # title lines above a CSV's header (a report saved with its title): the header's line named
        rows = list(csv.reader(lines, delimiter=delimiter))
        width = max(map(len, rows), default=0)
        title = title_rows_error(pd.DataFrame([r + [None] * (width - len(r)) for r in rows]), path.name, expected)
        if title is not None:
            raise title
    first = next(ln for ln in lines if ln.strip())
    header = [c.strip() for c in next(csv.reader([first], delimiter=delimiter))]
    check_header(path, header)   # a NUL in a header is named (shown as <U+0000>), never matched or printed raw
    return header


def _sheet_error(path: Path, sheet, exc) -> WorkbookError:
    import openpyxl

    try:
        sheets = ", ".join(repr(s) for s in openpyxl.load_workbook(path, read_only=True).sheetnames)
    except Exception:  # noqa: BLE001
        sheets = "?"
    return coded_error("no_sheet", path.name, sheet=repr(sheet), error=str(exc), sheets=sheets)


def _fits(header: list[str], tm: TableMapping) -> bool:
    return all(find_column(header, names) is not None for names in tm.needed_columns())


def refuse_lookalike(table: str, tm: TableMapping, miss: tuple, mapping: str) -> None:
    """Stop the ingest on a file that looks like `table`'s export by its name but lacks the mapping's columns, when
    the mapping marks its header names as unconfirmed (``headers_unconfirmed: true``): the names expected and the
    header found are both named, so nothing is read from a column that only resembles the one meant."""
    path, _, lacking, header = miss
    expected = PhraseList([PhraseList([repr(c) for c in names], Phrase("part_or")) for names in lacking], "; ")
    raise coded_error("lookalike_export", None, name=path.name, table=table, where=tm.where, expected=expected,
                      found=", ".join(repr(c) for c in header) or Phrase("part_no_header"), mapping=mapping)


def locate_file(exports: Path, tm: TableMapping, claimed: set[Path], misses: list | None = None) -> Path | None:
    """The export file for one table: the first `file` pattern (case-insensitive) with exactly one matching file
    whose header has every column the mapping needs; files claimed by another table are skipped.
    None when nothing matches (an error unless the table is optional). A file that cannot be read raises
    its reading error when the table is required or the file matched a pattern more specific than "*".
    A pattern without wildcards (an exact file name) may name a file another table uses (one export feeding two
    tables). Files that match a specific pattern by name but lack needed columns are added to `misses` as
    (file, the first missing column's names, every missing column's names, the file's header)."""
    every = _candidates(exports)
    encoding = _read_encoding(tm.encoding)
    seen: list[Path] = []
    headers: dict[Path, list[str]] = {}
    errors: dict[Path, tuple[WorkbookError, bool]] = {}
    for pattern in tm.files:
        exact = not any(ch in pattern for ch in "*?[")
        files = [p for p in every if exact or p not in claimed]
        matches = [p for p in files if fnmatch.fnmatch(p.name.lower(), pattern.lower())]
        fitting = []
        for p in matches:
            if p not in seen:
                seen.append(p)
                try:
                    headers[p] = read_header(p, encoding, tm.sheet, tm)
                except WorkbookError as exc:
                    headers[p] = []
                    errors[p] = (exc, bool(pattern.strip("*")))
            if _fits(headers[p], tm):
                fitting.append(p)
        if misses is not None and pattern.strip("*"):
            for p in matches:
                if p not in fitting and p not in errors and p not in [m[0] for m in misses]:
                    lacking = [n for n in tm.needed_columns() if find_column(headers[p], n) is None]
                    misses.append((p, lacking[0] if lacking else (), lacking, headers[p]))
        if len(fitting) == 1:
            return fitting[0]
        if len(fitting) > 1:
            raise coded_error("several_exports", tm.where, pattern=repr(pattern), names=", ".join(p.name for p in fitting))
    for exc, specific in errors.values():
        if specific or not tm.optional:
            raise exc
    readable = [p for p in seen if p not in errors]
    if readable and not tm.optional:
        # files matched by name but not by columns: explain with the one missing the fewest columns
        missing = {p: [n for n in tm.needed_columns() if find_column(headers[p], n) is None] for p in readable}
        best = min(readable, key=lambda p: len(missing[p]))
        names = missing[best][0]
        rule = next((r.target for r in tm.columns if r.columns == names), None)
        err = missing_column_error(names, headers[best], best.name, f"{tm.where}.columns.{rule}" if rule else tm.where)
        # a file lacking a few of the columns is the export with columns renamed or left out: the ingest reads it to
        # list them all with its other problems; one lacking most of them is another table's export (said as it is)
        err.best = best   # the file that came closest (a leads export, when the folder holds leads only)
        err.path = best if 2 * len({tuple(n) for n in missing[best]}) <= len({tuple(n) for n in tm.needed_columns()}) else None
        raise err
    return None


def _read_encoding(name: str | None) -> str | None:
    """The codec to read with: utf-8 reads as utf-8-sig (a BOM, if any, is not part of the first header)."""
    return "utf-8-sig" if name == "utf-8" else name


def read_export(path: Path, tm: TableMapping) -> tuple[pd.DataFrame, str | None]:
    """An export file as text cells (helpers.data.load.read_raw), honouring the mapping's encoding and sheet.
    Returns the frame and the encoding label: utf-8, utf-8-sig (with BOM) or cp932 (None for Excel/Parquet). Blank
    rows stay as rows and blank rows above the header stand first as empty rows (helpers.data.sheetrows.with_rows_above),
    so a row's position + 2 is the row a spreadsheet shows, in a CSV and a sheet alike."""
    fmt = FORMATS[path.suffix.lower()]
    if fmt == "excel":
        sheet = tm.sheet if tm.sheet is not None else 0
        try:
            above = rows_above_header(pd.read_excel(path, sheet_name=sheet, header=None, nrows=HEADER_SEARCH_ROWS, dtype=object,
                                                    engine=excel_engine(path)))
            raw = pd.read_excel(path, sheet_name=sheet, header=above, dtype=object, engine=excel_engine(path))
        except (ValueError, IndexError) as exc:
            raise _sheet_error(path, tm.sheet, exc) from None
        raw.columns = [str(c).strip() for c in raw.columns]
        raw = with_rows_above(raw.astype(object).where(raw.notna(), None), above)   # rows keep their sheet numbers
        raw.attrs["excel_epoch"] = excel_epoch(path)   # serial numbers count from the workbook's own date system
        return raw, None
    if fmt == "parquet":
        return read_raw(path)
    raw, used = read_csv_rows(path, _read_encoding(tm.encoding))
    if used == "utf-8-sig":
        with open(path, "rb") as fh:
            used = "utf-8-sig" if fh.read(3) == b"\xef\xbb\xbf" else "utf-8"
    return raw, used


def encoding_note(report: dict, encoding: str | None, stated: bool) -> None:
    """A detected single-byte Western encoding is a statistical guess: said in the summary and the warnings."""
    if encoding and not stated and encoding not in ("utf-8", "utf-8-sig", "utf-16", "cp932"):
        note(report, "encoding_detected", report["rows_in"], encoding=encoding, encoding_name=ENCODING_NAMES.get(encoding, encoding))


def read_csv_rows(path: Path, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Like helpers.data.load.read_raw for a CSV, but blank lines stay as rows, so a row's position + 2 is its
    line in the file (a report export's footer follows a blank line); apply_mapping drops the blank rows and says so."""
    return read_csv_text(path, encoding, keep_blank_lines=True)
