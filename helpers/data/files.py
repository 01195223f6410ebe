"""What a file in a data or exports folder really is: its first block, and where a link in the folder leads.

Every reader of a table file (helpers.data.load, helpers.data.ingest) calls :func:`check_file` before it reads
anything else of the file (and before any checksum pass), so a file that is not what its name says is refused
after reading one block of SNIFF_BYTES bytes, whatever its size: a 2 GiB file of NUL bytes named leads.csv, an
Excel workbook renamed .csv, UTF-16 text without its byte order mark, a web page saved as .xls. A link (symlink,
junction) that leads out of the folder is refused before it is opened, so nothing of the file it points to is
read or shown. The messages are coded errors (helpers.errors.ERROR_CODES ``file_kind``, ``link_outside``) with
their sentence and fix in English and Japanese in helpers/labels.yaml.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from helpers.errors import Phrase, coded_error
from helpers.storage import files_named, one_file_named  # noqa: F401 (public here too)

#: Bytes read to tell what a file is (one block; nothing more of a refused file is read).
SNIFF_BYTES = 64 << 10
#: Share of NUL bytes in the first block above which a "text" file is refused as not text. A CSV holds none (a
#: stray NUL in a cell is the reader's business); UTF-16 with its BOM is recognised before this test.
NUL_SHARE = 0.05
#: In UTF-16 without a BOM, the high bytes of ASCII characters (digits, separators, Latin letters) are NUL: at
#: least this share of the even or of the odd bytes is NUL while the other half has almost none.
UTF16_HALF_SHARE = 0.2

#: Share of control bytes (C0 controls other than NUL, tab, line feed, carriage return; and DEL) above which a first
#: block is binary data (compressed, a PDF, an image, ...): text in UTF-8, cp932, cp1252 or EUC-JP holds none,
#: random bytes about 12%.
CONTROL_SHARE = 0.01
_CONTROL = bytes(b for b in range(1, 32) if b not in (9, 10, 13)) + b"\x7f"
#: Fewest NUL or control bytes that make a block "not text": a short file with a stray NUL or two in a cell is
#: the reader's business (it names the cell), not a refusal of the whole file.
MIN_BAD_BYTES = 16
ZIP_MAGIC = b"PK\x03\x04"                            # .xlsx (a zip of XML parts)
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"     # .xls (Excel 97-2003), also a password-protected .xlsx
PARQUET_MAGIC = b"PAR1"
#: Which file kinds a readable file of each format starts with.
EXPECTED = {"excel": (ZIP_MAGIC, OLE2_MAGIC), "parquet": (PARQUET_MAGIC,)}
#: Links that may leave a data folder: the checklist answers file a team shares on purpose (the checklist form
#: writes its answers through the link). Every other table file must be in the folder (docs/data_dictionary.md).
SHARED_FILES = frozenset({"checklist.csv"})


def first_block(path: Path) -> bytes:
    """The first SNIFF_BYTES bytes of a file (fewer for a shorter file)."""
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


def _utf16_without_bom(head: bytes) -> bool:
    """NUL bytes in one half (even or odd positions) of the block and almost none in the other: UTF-16 text."""
    even, odd = head[0::2], head[1::2]
    if len(even) < 8 or len(odd) < 8:
        return False
    share_even, share_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    return (share_odd >= UTF16_HALF_SHARE and share_even < 0.02) or (share_even >= UTF16_HALF_SHARE and share_odd < 0.02)


def control_share(head: bytes) -> float:
    """The share of control bytes (C0 controls but NUL, tab, LF, CR; and DEL) in a block; 0.0 for an empty one."""
    return (len(head) - len(head.translate(None, _CONTROL))) / len(head) if head else 0.0


def _looks_html(head: bytes) -> bool:
    """A first block that starts as a web page (an HTML document or table, possibly after an XML declaration)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in start


def _looks_text(head: bytes) -> bool:
    """A first block that is plain text with separators (a CSV): no NUL, decodes as UTF-8 or cp932, has a line end or a comma."""
    if not head or b"\x00" in head:
        return False
    cut = head[: head.rfind(b"\n") + 1] or head
    for enc in ("utf-8-sig", "cp932"):
        try:
            cut.decode(enc)
        except UnicodeDecodeError:
            continue
        return any(sep in head for sep in (b",", b"\t", b";"))
    return False


def excel_engine(path: Path) -> str:
    """The pandas reader for an Excel file: ``calamine`` (python-calamine) for an Excel 97-2003 workbook (an OLE2
    compound file, .xls: pandas 3's reader for them, its xlrd engine being deprecated), ``openpyxl`` for everything
    else (.xlsx, whose errors then say what the file is). Chosen by the file's first bytes, not its name; naming
    openpyxl also keeps pandas' announced switch of the .xlsx default from changing how cells are read."""
    with open(path, "rb") as fh:
        return "calamine" if fh.read(len(OLE2_MAGIC)) == OLE2_MAGIC else "openpyxl"


#: Excel's two date systems: serial day 0 of the 1900 system (Windows; 1 = 1900-01-01 with the 1900 leap-year bug)
#: and of the 1904 system (a workbook made on a Mac by Excel 2008 or earlier, or set so: File > Options > Advanced).
EXCEL_EPOCH_1900 = dt.datetime(1899, 12, 30)
EXCEL_EPOCH_1904 = dt.datetime(1904, 1, 1)


def excel_epoch(path: Path) -> dt.datetime:
    """The day an .xlsx or .xls workbook's serial numbers count from: 1904-01-01 when its workbook part says
    ``date1904`` (the same serial is then 1,462 days later than in the 1900 system), else 1899-12-30.

    Real date cells are converted by the reader with the right system; this is for serial numbers in cells
    formatted as numbers or text (read with the ``excel`` date format). An Excel 97-2003 file (.xls, an OLE2
    compound file) says its system in its DATEMODE record (helpers.data.xls_datemode: xlrd's ``datemode``); a
    part that cannot be read gives the 1900 system (the reader then names the file's own problem)."""
    import zipfile

    with open(path, "rb") as fh:
        if fh.read(len(OLE2_MAGIC)) == OLE2_MAGIC:
            from helpers.data.xls_datemode import xls_date1904

            return EXCEL_EPOCH_1904 if xls_date1904(path) else EXCEL_EPOCH_1900
    try:
        with zipfile.ZipFile(path) as z:
            part = z.read("xl/workbook.xml").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return EXCEL_EPOCH_1900
    flag = re.search(r"<(?:\w+:)?workbookPr\b[^>]*\bdate1904=\"(1|true)\"", part)
    return EXCEL_EPOCH_1904 if flag else EXCEL_EPOCH_1900


def file_kind(head: bytes, fmt: str) -> str | None:
    """The ``file_kind`` variant a file's first block shows, or None when it may be what its format says.

    `fmt` is the format its name says (helpers.data.load.FORMATS: csv, excel, parquet). A csv: ``xlsx`` (a zip),
    ``xls`` (an OLE2 compound file), ``html`` (a web page), ``utf16`` (UTF-16 without a byte order mark), ``nul``
    (over NUL_SHARE of the block is NUL bytes), ``binary`` (over CONTROL_SHARE is other control bytes: compressed
    data, a PDF, an image). An excel or parquet file that does not start as one: ``text_as_excel``
    (a CSV with that name), ``html``, ``nul``; anything else is left to the format's reader and its own error."""
    if not head:
        return None
    if fmt == "csv":
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None  # UTF-16 with its byte order mark (Excel's "Unicode text"): the reader decodes it
        head = head.removeprefix(b"\xef\xbb\xbf")
        if not head:
            return None
        if head.startswith(ZIP_MAGIC):
            return "xlsx"
        if head.startswith(OLE2_MAGIC):
            return "xls"
        if _looks_html(head):
            return "html"
        if _utf16_without_bom(head):
            return "utf16"
        if head.count(0) > max(NUL_SHARE * len(head), MIN_BAD_BYTES - 1):
            return "nul"
        if control_share(head) > CONTROL_SHARE and control_share(head) * len(head) >= MIN_BAD_BYTES:
            return "binary"
        return None
    if head.startswith(EXPECTED.get(fmt, (b"",))):
        return None
    if fmt == "excel" and _looks_html(head):
        return "html"
    if _looks_text(head):
        return "text_as_excel"
    if head.count(0) > max(NUL_SHARE * len(head), MIN_BAD_BYTES - 1):
        return "nul"
    return None


#: What each format is called in the messages: the labels part_kind_<format> (en, ja).
KIND_FORMATS = ("csv", "excel", "parquet")


def check_kind(path: Path, fmt: str, encoding: str | None = None) -> None:
    """Refuse a file whose first block shows it is not what its name says (:func:`file_kind`): a coded WorkbookError
    ``file_kind`` naming the file, the likely cause and the fix. Reads one block of SNIFF_BYTES bytes. A stated
    UTF-16 `encoding` (a mapping's encoding: utf-16-le) lets UTF-16 text without a byte order mark through."""
    head = first_block(path)
    variant = file_kind(head, fmt)
    if variant is None:
        return
    if variant == "utf16" and encoding and encoding.lower().replace("_", "-").startswith("utf-16"):
        return
    share = round(100 * (control_share(head) if variant == "binary" else head.count(0) / len(head)))
    kind = Phrase(f"part_kind_{fmt}") if fmt in KIND_FORMATS else fmt
    raise coded_error("file_kind", path.name, variant, stem=path.stem, kind=kind, share=share,
                      block=f"{SNIFF_BYTES // 1024} KiB")


def outside_link(path: Path, folder: Path) -> bool:
    """True when `path` (a name in `folder`) is a link, or sits under one, whose target is not inside `folder`
    (both resolved, so a folder that is itself reached through a link is fine)."""
    try:
        target = path.resolve(strict=False)
        root = folder.resolve(strict=False)
    except (OSError, RuntimeError):  # a link loop
        return True
    return not target.is_relative_to(root)


def check_inside(path: Path, folder: Path, what: str) -> None:
    """Refuse (coded WorkbookError ``link_outside``, naming the link, never the target's content) a file of `folder`
    that is a link leading out of it. `what` says which folder (the data folder, the exports folder)."""
    if path.name.casefold() in SHARED_FILES and what == "data":
        return
    if outside_link(path, folder):
        raise coded_error("link_outside", path.name, folder=folder.name or str(folder))


def check_file(path: Path, folder: Path, fmt: str, what: str = "data") -> None:
    """:func:`check_inside` then :func:`check_kind`: the checks every reader makes before it reads a table file."""
    check_inside(path, folder, what)
    check_kind(path, fmt)



# --------------------------------------------------------------------------- tables saved as text under another name
#: Extensions of text tables that are not read (Excel's "Unicode text" is .txt; some tools write .tsv).
TEXT_TABLE_SUFFIXES = (".txt", ".tsv", ".tab")


#: Lines of a text file looked at to tell a table saved as text from notes (a README, a memo).
TEXT_TABLE_LINES = 10


def text_table_kind(path: Path) -> str | None:
    """What a .txt/.tsv file looks like from its first block: ``unicode_text`` (UTF-16 with a byte order mark: Excel's
    "Unicode text"), ``tab_text`` (text in UTF-8 or cp932 that parses as a table: :func:`parses_as_table`), else None
    (not a table: notes with a comma in a sentence are not one)."""
    try:
        head = first_block(path)
    except OSError:
        return None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "unicode_text"
    if b"\x00" in head:
        return None
    cut = head[: head.rfind(b"\n") + 1] if len(head) == SNIFF_BYTES and b"\n" in head else head
    for enc in ("utf-8-sig", "cp932"):
        try:
            text = cut.decode(enc)
        except UnicodeDecodeError:
            continue
        return "tab_text" if parses_as_table(text) else None
    return None


def parses_as_table(text: str) -> bool:
    """True when the first TEXT_TABLE_LINES non-blank lines of `text` are a table: a header naming two or more columns
    of a canonical table (helpers.data.schema), or two or more lines split by one delimiter (tab, comma, semicolon)
    into the same number of fields, at least two (three lines or more when it is two: a sentence with one comma is
    not a table's row)."""
    import csv

    from helpers.data.schema import TABLES

    lines = [ln for ln in text.splitlines() if ln.strip()][:TEXT_TABLE_LINES]
    if not lines:
        return False
    names = {c.casefold() for t in TABLES.values() for c in t.column_names}
    for sep in ("\t", ",", ";"):
        counts = [len(row) for row in csv.reader(lines, delimiter=sep)]
        header = next(csv.reader(lines[:1], delimiter=sep))
        if sum(1 for c in header if c.strip().casefold() in names) >= 2:
            return True
        if counts[0] >= 2 and len(lines) >= (3 if counts[0] == 2 else 2) and len(set(counts)) == 1:
            return True
    return False


def skipped_text_tables(folder: Path, stems=None) -> list[tuple[Path, str]]:
    """The .txt/.tsv files at the top of `folder` that look like tables (:func:`text_table_kind`), with their kind;
    only those named ``<stem>.txt`` for a stem in `stems` when given (a data folder's table names). Links leading
    out of the folder are left out (never opened)."""
    found = []
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        if p.suffix.lower() not in TEXT_TABLE_SUFFIXES or p.name.startswith((".", "~$")) or not p.is_file():
            continue
        if (stems is not None and p.stem.casefold() not in {s.casefold() for s in stems}) or outside_link(p, folder):
            continue
        kind = text_table_kind(p)
        if kind is not None:
            found.append((p, kind))
    return found


# --------------------------------------------------------------------------- Salesforce formatted reports
#: Rows of a sheet looked at for a formatted report's title block.
FORMATTED_ROWS = 30


#: Rows of a sheet (or lines of a CSV) searched for the row holding the expected column names.
HEADER_SEARCH_ROWS = 20


def _filled(top) -> list[int]:
    """The number of filled cells of each row of a frame read without a header."""
    return [sum(1 for v in row if v is not None and v == v and str(v).strip()) for row in top.itertuples(index=False)]


def _match_counts(top, expected) -> list[int]:
    """How many of the `expected` column names (alternative-name tuples, matched as helpers.data.cells.find_column
    matches: ignoring case, width and spaces) each of the first HEADER_SEARCH_ROWS rows of `top` holds."""
    from helpers.data.cells import find_column

    if not expected or top is None:
        return []
    counts = []
    for row in top.head(HEADER_SEARCH_ROWS).itertuples(index=False):
        cells = [str(v).strip() for v in row if v is not None and v == v and str(v).strip()]
        counts.append(sum(1 for names in expected if find_column(cells, tuple(names)) is not None))
    return counts


def expected_header_row(top, expected) -> int | None:
    """The 0-based row, among the first HEADER_SEARCH_ROWS of `top` (a frame read without a header), holding the
    most of the `expected` column names (:func:`_match_counts`), when it holds at least two of them (one when one is
    expected) and more than the first row does; None when the first row is the header or no row is. A group row
    above the header (商談情報 | 金額情報, merged across the columns) or a note holds none of them."""
    counts = _match_counts(top, expected)
    if not counts:
        return None
    best = max(range(len(counts)), key=lambda i: (counts[i], -i))
    return best if best and counts[best] >= min(2, len(expected)) and counts[best] > counts[0] else None


def title_rows_error(top, file: str, expected=None):
    """The refusal (coded error rows_above_header) of a sheet whose header is not its first row: a title, a date, a
    group row or notes above it (a hand-made sheet, or a Salesforce "Formatted Report" export), naming the header's
    row and the rows above it; None when the first row is the header. The header is the row holding the `expected`
    column names (:func:`expected_header_row`), else a Formatted Report's (:func:`looks_formatted_report`). Nothing
    is read from a guessed row: the refusal says which rows to delete."""
    at = expected_header_row(top, expected)
    if at is not None and any(_filled(top.head(at))):
        header = at + 1                                                    # spreadsheet row number (1-based)
    elif looks_formatted_report(top):
        header = next(i for i, n in enumerate(_filled(top)) if i and n >= 3) + 1
    else:
        return None
    above = "1" if header == 2 else f"1-{header - 1}"
    return coded_error("rows_above_header", file, header_row=header, above=above, count=header - 1)


def looks_formatted_report(top) -> bool:
    """True when the first rows of a sheet (a frame read without a header) are a Salesforce "Formatted Report": a
    first row with a single filled cell (the report's title) and, within the rows read, a row with three or more
    filled cells (the table's header, further down). An export of records has its header in the first row."""
    filled = _filled(top)
    return bool(filled) and filled[0] == 1 and any(n >= 3 for n in filled[1:])


def other_sheet_error(path: Path, expected, variant: str = "", **params):
    """The refusal (coded error data_on_other_sheet) of a workbook whose first sheet does not hold the `expected`
    columns while another sheet does (a notes sheet first, the data on sheet 2): names the sheets and the one to read
    (variant "" for a mapping: ``sheet: NAME``, `params` where and mapping; "data" for a data folder, which reads the
    first sheet only, `params` table); None when no other sheet holds more of them. Reads the first HEADER_SEARCH_ROWS
    rows of each sheet."""
    import pandas as pd

    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, nrows=HEADER_SEARCH_ROWS, dtype=object,
                               engine=excel_engine(path))
    except Exception:  # noqa: BLE001 - the first sheet's reader names the file's own problem
        return None
    names = list(sheets)
    if len(names) < 2:
        return None
    scores = {n: max(_match_counts(sheets[n], expected), default=0) for n in names}
    best = max(names[1:], key=lambda n: scores[n])
    if scores[best] < min(2, len(expected)) or scores[best] <= scores[names[0]]:
        return None
    return coded_error("data_on_other_sheet", path.name, variant, sheet=best, first=repr(names[0]),
                       sheets=", ".join(repr(n) for n in names), **params)


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def duckdb_config() -> dict:
    """DuckDB settings for an in-process connection: none, unless the process runs under an address-space limit
    (``ulimit -v``, RLIMIT_AS). Then one thread (each worker thread's malloc arena reserves tens of MiB of address
    space; with the libraries' own reservations a 1 GiB limit made DuckDB's allocations fail now and then) and a
    memory limit of a quarter of the address space, so DuckDB spills or refuses inside the limit
    (https://duckdb.org/docs/stable/configuration/overview: ``threads``, ``memory_limit``)."""
    import resource

    from helpers.data.memory import address_space_limited

    if not address_space_limited():
        return {}
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return {"threads": 1, "memory_limit": f"{max(soft // 4 >> 20, 64)}MB"}
