"""Load a data folder into typed, validated canonical tables (contract section 1).

`load_workbook(data_dir)` reads every canonical table present (CSV, Excel or
Parquet), parses types, runs every check in helpers.data.validate and either returns
a `Workbook` (with warnings attached) or raises `DataValidationError` listing
every error at once. Input files are only ever read. CSV files go through the fast
typed reader (:func:`read_csv_typed`, pyarrow) where it applies, else through the
exact reader (:func:`read_raw`, pandas); both give the same tables and messages.
"""
from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from helpers.config import Config, load_config
from helpers.data.files import (FORMATTED_ROWS, check_file, check_kind, excel_engine, file_sha256,  # noqa: F401 (public here too)
                                 looks_formatted_report, skipped_text_tables)
from helpers.data.csvshape import ARROW_BLOCK, FAST_MAX_COLUMNS, arrow_csv_options, stray_byte_error  # noqa: F401 (public here too)
from helpers.data.extras import Extras
from helpers.data.schema import OUTCOMES, TABLES, Column, Table, department_key
from helpers.data.validate import finding
from helpers.errors import DataValidationError, Finding, WorkbookError, coded_error, warning
from helpers.charset import (DETECT_CANDIDATES, ENCODING_NAMES, FIX_ENCODING, MAX_CHAOS,  # noqa: F401 (public here too)
                             detect_encoding)

FORMATS = {".csv": "csv", ".xlsx": "excel", ".xls": "excel", ".parquet": "parquet"}
ANSWER_VALUES = {"yes": 1.0, "partial": 0.5, "no": 0.0, "はい": 1.0, "一部": 0.5, "いいえ": 0.0,
                 "1": 1.0, "0.5": 0.5, "0": 0.0, "1.0": 1.0, "0.0": 0.0}
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_OFFSET_TEXT = r"(?:Z|[+-]\d{2}:?\d{2})$"   # _OFFSET without a group, for pandas' str.contains


@dataclass(frozen=True)
class SourceFile:
    """Where a table came from: path, format, encoding used, row count and SHA-256 of the bytes."""

    table: str
    path: str
    format: str
    encoding: str | None
    rows: int
    sha256: str


@dataclass
class Workbook:
    """The validated canonical tables of one data folder (None = table absent)."""

    data_dir: Path
    config: Config
    as_of: pd.Timestamp
    opportunities: pd.DataFrame
    leads: pd.DataFrame | None = None
    spend: pd.DataFrame | None = None
    checklist: pd.DataFrame | None = None
    initiatives: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    touches: pd.DataFrame | None = None
    #: {table: its columns outside the contract}; from load_workbook an Extras mapping, whose columns a large CSV file's
    #: fast read left in the file are read on first access (helpers.data.extras).
    extras: Mapping[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    findings: list[Finding] = field(default_factory=list)
    files: dict[str, SourceFile] = field(default_factory=dict)
    #: The identity of the snapshot this Workbook was read from unchanged (helpers.data.snapshot.read_snapshot), else None.
    #: Not an init field: a ``dataclasses.replace`` copy (other tables) has none, so no memo mistakes it for the snapshot.
    snapshot_id: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def warnings(self) -> list[Finding]:
        """The validation warnings (the data loaded, but these deserve a look)."""
        return [f for f in self.findings if f.severity == "warning"]

    def table(self, name: str) -> pd.DataFrame | None:
        """A canonical table by name."""
        return getattr(self, name)


def find_table_file(data_dir: Path, name: str) -> Path | None:
    """The one file holding table `name` (name.csv, .xlsx, .xls or .parquet), or None."""
    found = [data_dir / f"{name}{ext}" for ext in FORMATS if (data_dir / f"{name}{ext}").is_file()]
    if len(found) > 1:
        raise WorkbookError(f"{data_dir}: table '{name}' is in more than one file: {', '.join(p.name for p in found)}",
                            fix="Keep exactly one file per table in the data folder.")
    return found[0] if found else None


def read_raw(path: Path, encoding: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Read a table file as text cells (None for empty); returns the frame and the encoding used.

    WorkbookError for an empty (0-byte) file, a file that is not the format its name says
    (an .xlsx that is not a workbook, a .parquet that is not Parquet) and duplicate column names.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if path.stat().st_size == 0:
        raise WorkbookError(f"{path.name}: the file is empty (0 bytes), not even a header row",
                            fix="Export the table again (with its header row), or remove the file if the table is optional.")
    if fmt in ("excel", "parquet"):
        check_kind(path, fmt)
        try:
            if fmt == "excel":
                frame = pd.read_excel(path, dtype=object, header=None, engine=excel_engine(path))
                if looks_formatted_report(frame.head(FORMATTED_ROWS)):
                    raise coded_error("formatted_report", path.name)
                header, frame = [_cell_text(v) or "" for v in frame.iloc[0]] if len(frame) else [], frame.iloc[1:]
                frame = frame.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) or v == "" else v)
                frame.columns = range(frame.shape[1])
            else:
                frame = pd.read_parquet(path).astype(object)
                header, frame = [str(c) for c in frame.columns], frame.where(frame.notna(), None)
        except WorkbookError:
            raise
        except Exception as exc:  # openpyxl/xlrd/pyarrow raise many types for a damaged or mislabelled file
            kind = "Excel workbook" if fmt == "excel" else "Parquet file"
            article = "an" if fmt == "excel" else "a"
            raise WorkbookError(f"{path.name}: not a readable {kind} ({type(exc).__name__}: {str(exc)[:200]})",
                                fix=f"Export the table again as {article} {kind}, or save it as CSV (UTF-8) with the same "
                                    "name and .csv.") from None
        _check_header(path, header)
        frame.columns = [(_cell_text(h) or f"Unnamed: {i}") for i, h in enumerate(header)]
        return frame.reset_index(drop=True), None
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
        enc, how = encoding, "stated"
    else:
        stray = stray_byte_error(data, path.name)   # UTF-8 but for a byte or two: the row and the byte, not "cannot be told"
        if stray is not None:
            raise stray
        enc, how = detect_encoding(data, path.name)
    try:
        text = data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        raise WorkbookError(f"{path.name}: cannot be read as {enc} text", fix=FIX_ENCODING) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = MOJIBAKE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        start = text.rfind("\n", 0, bad.start()) + 1
        snippet = text[start:text.find("\n", bad.start()) if "\n" in text[bad.start():] else len(text)].strip()[:80]
        raise WorkbookError(f"{path.name}: read as {ENCODING_NAMES.get(enc, enc)} ({how}), the text is garbled (mojibake) at line "
                            f"{line}: {bad.group(0)!r} in {snippet!r}. The file was saved with one encoding and read (or re-saved) "
                            "with another; its values would be wrong (a channel split in two, names unreadable)",
                            fix="Export the file again from the CRM as UTF-8 and do not re-save it in Excel, or state the right "
                                "encoding in the mapping (encoding: cp1252, cp932, utf-8, utf-16).")
    return text, enc, how


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _check_header(path: Path, header: list[str]) -> None:
    """WorkbookError naming the positions of column names that appear twice (after trimming spaces), or that hold a
    NUL or another control character (shown as <U+0000>, never raw: the header line is damaged)."""
    names = [_cell_text(h) for h in header]
    damaged = [(pos, name) for pos, name in enumerate(names, start=1) if name is not None and _CONTROL.search(name)]
    if damaged:
        from helpers.data.channels import shown

        listed = "; ".join(f"column {pos}: {shown(name)}" for pos, name in damaged)
        raise WorkbookError(f"{path.name}: the header holds a NUL or another control character ({listed}), so no column name "
                            "can be matched; the header line is damaged (a broken save or copy)",
                            fix=f"Export the file again; or open it in a text editor and retype the name of column "
                                f"{damaged[0][0]} (without the invisible character), then save it as UTF-8.")
    seen: dict[str, list[int]] = {}
    for pos, name in enumerate(names, start=1):
        if name is not None:  # unnamed columns are extra columns, ignored
            seen.setdefault(name, []).append(pos)
    dups = {name: pos for name, pos in seen.items() if len(pos) > 1}
    if dups:
        listed = "; ".join(f"'{name}' in columns {', '.join(map(str, pos))}" for name, pos in dups.items())
        raise WorkbookError(f"{path.name}: the header names a column more than once ({listed}); the workbook does not guess which one holds the data",
                            fix="Rename or delete the extra columns so that every column name appears once.")


def read_csv_text(path: Path, encoding: str | None = None, keep_blank_lines: bool = False,
                  fix_encoding: str = FIX_ENCODING) -> tuple[pd.DataFrame, str]:
    """A CSV as text cells (None for empty); returns the frame and the encoding used (decode_csv: stated, or a BOM,
    valid UTF-8, else detected with charset-normalizer; mojibake refused).

    With `keep_blank_lines`, blank lines stay as rows, so a row's position + 2 is its line in the file.
    """
    import io

    from helpers.data.csvshape import find_broken_quote, find_stray_quote

    text, enc, _ = decode_csv(path, encoding)
    sep = sniff_delimiter(text)
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""],
                            skip_blank_lines=not keep_blank_lines, sep=sep)
    except pd.errors.EmptyDataError:
        raise WorkbookError(f"{path.name}: the file is empty (no header line)", fix="Export the file again.") from None
    except pd.errors.ParserError as exc:
        stray = find_stray_quote(text, sep)
        if stray is not None:
            raise stray.error(path.name) from None
        raise WorkbookError(f"{path.name}: not a readable CSV file: {exc}",
                            fix="Check that every row has as many separators as the header and quotes are closed.") from None
    if _multiline_cells(frame):  # a quote left open reads the rows after it into one cell (csvshape)
        stray = find_stray_quote(text, sep)
        if stray is not None:
            raise stray.error(path.name)
    if _cells_with(frame, '"'):   # a quoted cell closed early ("Retail,"1200"): merged cells, shifted row (csvshape)
        broken = find_broken_quote(text, sep, path.name)
        if broken is not None:
            raise broken
    _check_header(path, pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None, nrows=1, sep=sep).iloc[0].tolist())
    frame.columns = [str(c).strip() for c in frame.columns]
    out = frame.astype(object).where(frame.notna(), None)
    out.attrs["delimiter"] = sep
    return out, enc


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



def _cell_text(v) -> str | None:
    """A cell as stripped text (dates from Excel/Parquet as ISO text); None when empty."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    text = v.isoformat() if hasattr(v, "isoformat") else str(v).strip()
    return text or None


def _texts(raw: pd.Series) -> pd.Series:
    """Every cell as stripped text, None when empty (:func:`_cell_text`), vectorized when the cells are text (CSV)."""
    if pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        text = raw.astype("string").str.strip()
        text = text.mask(text.eq(""))
        return text.astype(object).where(text.notna(), None)
    return pd.Series([_cell_text(v) for v in raw], index=raw.index, dtype=object)


def _parse_datetime(raw: pd.Series, timezone: str) -> pd.Series:
    """ISO dates/datetimes to naive local datetime64; values with an offset are converted to `timezone`."""
    text = _texts(raw)
    present = text.notna().to_numpy()
    offset = present & text.astype("string").str.contains(_OFFSET_TEXT).fillna(False).to_numpy(dtype=bool)
    plain = present & ~offset
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    if plain.any():
        out[plain] = _in_range(pd.to_datetime(text[plain], format="ISO8601", errors="coerce"))
    if offset.any():
        aware = pd.to_datetime(text[offset], format="ISO8601", errors="coerce", utc=True)
        out[offset] = _in_range(aware.dt.tz_convert(timezone).dt.tz_localize(None))
    return out


#: The dates the workbook can compute with (pandas' nanosecond range, whole days); others are refused.
DATE_RANGE = (pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31"))


def _in_range(parsed: pd.Series) -> pd.Series:
    """Naive datetimes as datetime64[ns]; values outside DATE_RANGE become NaT (reported as invalid dates)."""
    inside = parsed.notna() & (parsed >= DATE_RANGE[0]) & (parsed < DATE_RANGE[1] + pd.Timedelta(days=1))
    return parsed.where(inside).astype("datetime64[ns]")


def _parse_number(raw: pd.Series) -> pd.Series:
    """Plain numbers, and amounts with a Japanese unit (1,200万円, 1.5億円: :func:`_ja_amount`); others -> NaN."""
    texts = _texts(raw)
    parsed = pd.to_numeric(texts, errors="coerce").astype("float64")
    unit = (parsed.isna() & texts.astype("string").str.contains("[万億兆千]", regex=True).fillna(False)).to_numpy(dtype=bool)
    if unit.any():
        parsed[unit] = [_ja_amount(t) for t in texts[unit]]
    return parsed.where(np.isfinite(parsed))  # inf, -inf, 1e309: refused by the caller like any bad number


def _ja_amount(text: str) -> float:
    """'1,200万円' -> 12000000.0, '1.5億' -> 150000000.0 (helpers.data.values.parse_ja_units; an optional 円 after
    the number, nothing else); NaN when the text is not such an amount."""
    import unicodedata

    from helpers.data.values import parse_ja_units

    try:
        return float(parse_ja_units(unicodedata.normalize("NFKC", text).strip().removesuffix("円").strip()))
    except ValueError:
        return float("nan")


def _parse_column(raw: pd.Series, kind: str, timezone: str) -> pd.Series:
    """Parse one column of text cells into its contract type (unparseable -> null, caught by the caller)."""
    if kind in ("date", "datetime"):
        parsed = _parse_datetime(raw, timezone)
        return parsed.dt.normalize() if kind == "date" else parsed
    if kind in ("number", "int"):
        return _parse_number(raw)
    if kind == "month":
        text = _texts(raw).astype("string")
        ok = (text.str.len().isin((7, 10, 19)) & text.str[:7].str.fullmatch(r"\d{4}-\d{2}")).fillna(False).astype(bool)
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
        if ok.any():  # 2025-13 and years outside DATE_RANGE become NaT (refused by the caller)
            out[ok] = _in_range(pd.to_datetime(text[ok].str[:7] + "-01", format="%Y-%m-%d", errors="coerce"))
        return out
    from helpers.data.values import unneutralize_cell  # the apostrophe the workbook puts before =, +, -, @ (CSV injection)

    return _texts(raw).map(unneutralize_cell).astype("str")


FIX_DATE = "Write dates as YYYY-MM-DD (e.g. 2025-04-01) or ISO datetimes (2025-04-01T10:30:00); other formats come in through a column mapping."
FIX_NUMBER = ("Write plain numbers such as 1200000, or with a Japanese unit such as 1,200万円 or 1.5億円 (no other currency signs or "
              "thousands separators; a column mapping can convert those).")


def parse_cells(col: Column, cells: pd.Series, timezone: str) -> tuple[pd.Series, pd.Series]:
    """One column's cells (text, or Excel/Parquet values) typed by its contract kind: ``(parsed, present)``.

    `parsed` is the typed column (unparseable -> null); `present` (bool) marks the cells that are not empty
    after trimming. Element-wise: the same cell gives the same result wherever it is (the fast CSV reader,
    read_csv_typed, parses each distinct cell once with this function)."""
    texts = _texts(cells)
    present = texts.notna().astype(bool)
    if col.name == "answer":
        return texts.astype("string").str.lower().map(ANSWER_VALUES).astype("float64"), present
    parsed = _parse_column(texts, col.kind, timezone)
    if col.name in ("outcome", "metric"):
        parsed = parsed.str.lower()
    elif col.name == "department":  # 営業, Sales, マーケ ... -> sales / marketing (schema.DEPARTMENT_SYNONYMS)
        parsed = pd.Series([department_key(v) for v in parsed], index=parsed.index, dtype=object).astype("str")
    return parsed, present


def column_findings(col: Column, parsed: pd.Series, present, cells, fname: str, findings: list[Finding]) -> None:
    """Append the findings of one typed column: unparseable values (with the raw `cells` shown) and empty required cells.

    `present` is a bool array; `cells` the raw cells (a pandas Series, or a pyarrow array of the file's text)."""
    if col.name == "answer":
        bad = present & parsed.isna().to_numpy()
        if bad.any():
            findings.append(finding("error", fname, "bad_answer", "answers must be yes/partial/no (はい/一部/いいえ, 1/0.5/0)",
                                     "Replace each listed answer with yes, partial or no.", col.name, bad, cells))
    elif col.kind not in ("text", "category"):
        bad = present & parsed.isna().to_numpy()
        if bad.any():
            what = {"date": "dates (YYYY-MM-DD, years 1678-2261)", "datetime": "dates (YYYY-MM-DD, years 1678-2261)",
                    "number": "finite numbers", "int": "whole numbers", "month": "months (YYYY-MM, month 01-12)"}[col.kind]
            fix = {"number": FIX_NUMBER, "int": "Write a whole number.", "month": "Write months as YYYY-MM, e.g. 2025-04."}.get(col.kind, FIX_DATE)
            findings.append(finding("error", fname, f"bad_{col.kind}", f"values that are not valid {what}", fix, col.name, bad, cells))
    if col.required and col.name != "amount":
        missing = ~present
        if missing.any():
            findings.append(finding("error", fname, "missing_value", "a required value is empty",
                                     f"Fill '{col.name}' in every row (it is required by the data contract).", col.name, missing))


def _parse_table(table: Table, raw: pd.DataFrame, fname: str, config: Config, findings: list[Finding]) -> pd.DataFrame:
    """Typed canonical columns of one table; every unparseable or missing required value becomes a finding."""
    out = pd.DataFrame(index=raw.index)
    for col in table.columns:
        if col.name not in raw.columns:
            continue
        cells = raw[col.name]
        parsed, present = parse_cells(col, cells, config.timezone)
        column_findings(col, parsed, present.to_numpy(), cells, fname, findings)
        out[col.name] = parsed
    return out


def _missing_columns(table: Table, raw: pd.DataFrame, fname: str) -> list[Finding]:
    """A finding per required column absent from the file, with the closest header as a hint."""
    import difflib

    found = []
    missing = [col for col in table.columns if col.required and col.name not in raw.columns]
    japanese = _japanese_headers(table.name, raw.columns) if missing else {}
    if japanese:   # one finding for the file: its headers are the data dictionary's Japanese names
        named = ", ".join(f"{header} = {canonical}" for canonical, header in japanese.items())
        return [Finding("error", fname, "missing_column",
                        f"the required columns {', '.join(repr(c.name) for c in missing)} are missing: the headers are the "
                        f"Japanese column names of docs/data_dictionary.md ({named})",
                        JA_HEADERS_FIX, missing[0].name)]
    for col in missing:
        close = difflib.get_close_matches(col.name, [str(c) for c in raw.columns], n=1, cutoff=0.6)
        hint = f" The file has a column '{close[0]}': rename it to '{col.name}'." if close else ""
        found.append(Finding("error", fname, "missing_column", f"the required column '{col.name}' ({col.meaning}) is missing",
                             f"Add or rename the column to '{col.name}', or load the export through a column mapping "
                             f"(docs/ingest.md).{hint}", col.name))
    return found


#: The fix of a file with Japanese headers: {folder} is the data folder (filled in by :func:`load_workbook`, which also
#: gives the full command once and JA_HEADERS_AGAIN for the other files).
JA_HEADERS_FIX = ("Read the folder through the shipped mapping canonical_ja, from the project folder: "
                  "make report ARGS=\"--data {folder} --mapping canonical_ja\" (or convert it once: "
                  "make ingest ARGS=\"--exports {folder} --mapping canonical_ja --out data/mine\").")
JA_HEADERS_AGAIN = "Read the folder through the shipped mapping canonical_ja (the command is given for the first file above)."


def _japanese_fixes(findings: list[Finding], data_dir: Path) -> list[Finding]:
    """The canonical_ja fix with the real folder in its command on the first file that needs it, a short pointer on the others."""
    import dataclasses

    out, first = [], True
    for f in findings:
        if f.fix == JA_HEADERS_FIX:
            f = dataclasses.replace(f, fix=JA_HEADERS_FIX.format(folder=data_dir) if first else JA_HEADERS_AGAIN)
            first = False
        out.append(f)
    return out


def _japanese_headers(table: str, headers) -> dict[str, str]:
    """{canonical column: header} for the headers that are a required column's Japanese name (the shipped mapping
    canonical_ja, which holds the names of docs/data_dictionary.md); empty when there is none."""
    from helpers.data.mapping import find_column, load_mapping

    tm = load_mapping("canonical_ja").tables.get(table)
    if tm is None:
        return {}
    out = {}
    for rule in tm.columns:
        if rule.optional or not rule.columns:
            continue
        header = find_column(headers, tuple(name for name in rule.columns if name != rule.target))
        if header is not None:
            out[rule.target] = header
    return out


def _absent_closed_at(opps: pd.DataFrame, fname: str) -> list[Finding]:
    """closed_at is required only for won and lost deals (contract): without the column, a table of open deals gets
    it empty (added in place), while won or lost deals make it a missing column (their rows named)."""
    if "closed_at" in opps.columns or "outcome" not in opps.columns:
        return []
    decided = opps["outcome"].isin(("won", "lost")).to_numpy()
    if not decided.any():
        opps["closed_at"] = pd.Series(pd.NaT, index=opps.index, dtype="datetime64[ns]")
        return []
    closed = TABLES["opportunities"].column("closed_at")
    return [finding("error", fname, "missing_column",
                    f"the column 'closed_at' ({closed.meaning}) is missing, and {int(decided.sum()):,} won or lost deals need it",
                    "Add a column closed_at with the date each won or lost deal was decided (YYYY-MM-DD; empty while open), "
                    "or load the export through a column mapping (docs/ingest.md).", "closed_at", decided)]


#: Read CSV files with the fast typed reader (:func:`read_csv_typed`) where it applies; False = always the exact reader.
FAST_CSV = True


def read_csv_fast(path: Path, table: Table, config: Config, findings: list[Finding]):
    """:func:`read_csv_typed` for a .csv file when FAST_CSV is on, else None (the caller reads it exactly)."""
    if not FAST_CSV or FORMATS.get(path.suffix.lower()) != "csv":
        return None
    return read_csv_typed(path, table, config, findings)


def load_workbook(data_dir: str | Path, config: Config | None = None, as_of=None) -> Workbook:
    """Read, type and validate every canonical table in `data_dir`; raise DataValidationError on any error."""
    from helpers.data import validate

    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise WorkbookError(f"The data folder {data_dir} does not exist", fix="Give the folder holding leads.csv and opportunities.csv with --data.")
    config = config or load_config(data_dir)
    findings: list[Finding] = []
    typed: dict[str, pd.DataFrame] = {}
    extras: dict = {}  # {table: frame, or DeferredColumns: read on first access (helpers.data.extras)}
    files: dict[str, SourceFile] = {}
    for name, table in TABLES.items():
        path = find_table_file(data_dir, name)
        text = skipped_text_tables(data_dir, {name}) if path is None else []  # leads.txt (Excel's "Unicode text"): said
        findings += [warning(p.name, "text_file_skipped", count=1, variant=kind, stem=p.stem) for p, kind in text]
        if path is None and name == "opportunities" and find_table_file(data_dir, "leads") is not None:
            # A leads-only export still gets its lead funnel: an empty opportunities table, said out loud.
            findings.append(warning("opportunities.csv", "no_opportunities"))
            typed[name] = _parse_table(table, pd.DataFrame(columns=table.column_names, dtype=object), "opportunities.csv", config, findings)
            continue
        if path is None:
            if table.required:
                findings.append(Finding("error", f"{name}.csv", "missing_table", f"the required table '{name}' is not in {data_dir}",
                                        f"Put {name}.csv (or .xlsx/.parquet) in the data folder"
                                        + (f" (rename {text[0][0].name} to {name}.csv)." if text else ".")))
            continue
        try:
            check_file(path, data_dir, FORMATS[path.suffix.lower()], "data")  # a link out of the folder, not text: one block read
            fast = read_csv_fast(path, table, config, findings)
            if fast is not None:  # the same typed frame, findings and extras as the exact reader below
                typed[name], extra, encoding, rows, sha256 = fast
                files[name] = SourceFile(name, str(path), "csv", encoding, rows, sha256)
                if extra is not None:
                    extras[name] = extra
                continue
            raw, encoding = read_raw(path)
        except WorkbookError as exc:  # empty, damaged or ambiguous file: listed with the other problems
            findings.append(Finding("error", path.name, "unreadable_file", exc.message.removeprefix(f"{path.name}: "), exc.fix or "",
                                    params={"error": exc.code, **exc.params} if exc.code else {}))
            continue
        files[name] = SourceFile(name, str(path), FORMATS[path.suffix.lower()], encoding, len(raw), file_sha256(path))
        missing = _missing_columns(table, raw, path.name)
        findings += missing
        typed[name] = _parse_table(table, raw, path.name, config, findings)
        extra_cols = [c for c in raw.columns if c not in table.column_names]
        if extra_cols:
            extras[name] = raw[extra_cols].copy()
    names = {"opportunities": "opportunities.csv"} | {n: Path(f.path).name for n, f in files.items()}
    if "opportunities" in typed:
        findings += _absent_closed_at(typed["opportunities"], names["opportunities"])
    from helpers.data.categories import label_findings

    for name, frame in typed.items():  # several values in one label cell, segments Excel turned into dates
        findings += label_findings(name, frame, names.get(name, f"{name}.csv"))
    if any(f.code in ("missing_column", "missing_table", "unreadable_file") for f in findings):
        # the table's shape is wrong; the row checks that do not need the missing columns still speak, in one go
        findings += _row_errors_despite_missing(typed, names, findings, config)
        raise DataValidationError(_japanese_fixes(findings, Path(data_dir)))

    resolved_as_of = pd.Timestamp(as_of).normalize() if as_of is not None else config.as_of
    # every row check as engine queries (helpers.data.checks_engine); as_of None = the latest date of the data
    found, resolved_as_of = validate.check_rows(typed, names, resolved_as_of, config.fiscal_year_start_month)
    findings += found
    if any(f.severity == "error" for f in findings):
        raise DataValidationError(findings)
    if resolved_as_of is None:
        raise WorkbookError(f"{data_dir}: the opportunities have no dates, so there is no as_of",
                            fix="Check the created_at column, or give the snapshot date with --as-of.")

    from helpers.data.channels import normalize_channels

    channels, notes = normalize_channels({n: typed.get(n) for n in ("leads", "opportunities", "spend", "touches")},
                                         config.normalize_channels, names)
    findings += notes
    typed.update({n: f for n, f in channels.items() if f is not None})
    leads, opps = typed.get("leads"), typed["opportunities"]
    # An open deal's closed_at (often an expected close date in exports) is not a close: drop it.
    opps = opps.assign(closed_at=opps["closed_at"].where(opps["outcome"] != "open"))
    opps = fill_channel(opps, leads)
    if "targets" in typed:   # a goal for a channel no row has would read as missed (actual 0): warned, spellings folded
        typed["targets"], notes = validate.check_target_channels(typed["targets"], names["targets"],
                                                                 (leads, opps, typed.get("spend")), config.normalize_channels)
        findings += notes
        if any(f.severity == "error" for f in notes):
            raise DataValidationError(findings)
    if config.pseudonymize_owners:
        leads, opps = pseudonymize_owners(leads, opps)
    opps = opps.assign(outcome=pd.Categorical(opps["outcome"], categories=list(OUTCOMES)))
    typed["opportunities"] = _categorize(opps, TABLES["opportunities"])
    if leads is not None:
        typed["leads"] = _categorize(leads, TABLES["leads"])
    if "touches" in typed:   # a multi-valued channel/campaign cell becomes one touch per value (helpers.data.touches)
        from helpers.data.touches import split_multi_valued

        typed["touches"], split = split_multi_valued(typed["touches"], names["touches"])
        findings += split
        typed["touches"] = typed["touches"].assign(channel=typed["touches"]["channel"].fillna("unknown").astype("str"))
    for name in ("spend", "checklist", "touches"):
        if name in typed:
            typed[name] = _categorize(typed[name], TABLES[name])
    if "checklist" in typed:
        typed["checklist"] = typed["checklist"].assign(item=typed["checklist"]["item"].astype("int64"))
    return Workbook(data_dir=data_dir, config=config, as_of=resolved_as_of, opportunities=typed["opportunities"],
                    leads=typed.get("leads"), spend=typed.get("spend"), checklist=typed.get("checklist"),
                    initiatives=typed.get("initiatives"), targets=typed.get("targets"), touches=typed.get("touches"),
                    extras=Extras(extras), findings=findings, files=files)


def _row_errors_despite_missing(typed: dict[str, pd.DataFrame], names: dict[str, str], findings: list[Finding],
                                config: Config) -> list[Finding]:
    """The row checks' errors (helpers.data.validate.check_tables: duplicate ids, negative amounts, ...) of a folder
    with a missing column, so the user sees every problem of the file at once: each missing column is added
    empty for the checks, and errors about a missing column (or one the findings already name) are left out.
    Nothing when the opportunities table itself is unreadable or absent."""
    from helpers.data import validate

    if "opportunities" not in typed:
        return []
    missing = {(f.file, f.column) for f in findings if f.code == "missing_column"}
    said = {(f.file, f.column) for f in findings}
    padded = {}
    for name, frame in typed.items():
        empty = {c.name: pd.Series(pd.NaT if c.kind in ("date", "datetime", "month") else None, index=frame.index,
                                   dtype="datetime64[ns]" if c.kind in ("date", "datetime", "month") else
                                   "float64" if c.kind in ("number", "int") else object)
                 for c in TABLES[name].columns if c.name not in frame.columns}
        padded[name] = frame.assign(**empty)
    as_of = config.as_of or validate.latest_date(padded.get("leads"), padded["opportunities"]) or pd.Timestamp.max.normalize()
    found = validate.check_tables(padded, names, as_of, config.fiscal_year_start_month)
    return [f for f in found if f.severity == "error" and (f.file, f.column) not in missing | said]


def _categorize(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Cast the contract's category columns to pandas categoricals (sorted categories, for stable output)."""
    out = frame.copy(deep=False)  # copy-on-write (pandas 3): the columns set below leave `frame` as it was
    for col in table.columns:
        if col.kind == "category" and col.name in out.columns and col.name != "outcome":
            codes, distinct = pd.factorize(out[col.name], use_na_sentinel=True)  # each distinct value sorted once
            values = sorted(distinct)
            position = {v: i for i, v in enumerate(values)}
            recode = np.array([position[v] for v in distinct] + [-1], dtype=np.int64)
            out[col.name] = pd.Categorical.from_codes(recode[codes], categories=values)
    return out


def fill_channel(opps: pd.DataFrame, leads: pd.DataFrame | None) -> pd.DataFrame:
    """Opportunity channel: its own, else the linked lead's channel, else 'unknown' (contract section 1)."""
    own = opps["channel"] if "channel" in opps.columns else pd.Series(None, index=opps.index, dtype="str")
    from_lead = pd.Series(None, index=opps.index, dtype="str")
    if leads is not None and "lead_id" in opps.columns:
        rows = first_rows(_arrow_text(opps["lead_id"]), _arrow_text(leads["lead_id"]))
        from_lead = pd.Series(_arrow_text(leads["channel"]).take(rows).to_pandas(), index=opps.index, dtype="str")
    return opps.assign(channel=own.fillna(from_lead).fillna("unknown").astype("str"))


def _arrow_text(series: pd.Series) -> pa.Array:
    """A text column as an Arrow string array (null = missing; zero copy for pandas' Arrow-backed str)."""
    return pa.array(series.astype("string"), type=pa.string(), from_pandas=True)


def first_rows(values: pa.Array, keys: pa.Array) -> pa.Array:
    """For each of `values`, the position of the first of `keys` equal to it (int64; null when none, or the value is null).

    pyarrow's ``index_in`` over the keys some value names (found by ``is_in``, which hashes the values, not the keys):
    1M leads and 200k deals hash 200k ids twice rather than 1M once (their order kept, so the first is the first)."""
    named = np.flatnonzero(pc.is_in(keys, value_set=values, skip_nulls=True).to_numpy(zero_copy_only=False))
    at = pc.index_in(values, value_set=keys.take(pa.array(named)), skip_nulls=True)
    return pa.array(named, type=pa.int64()).take(at)


def pseudonymize_owners(leads: pd.DataFrame | None, opps: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Replace owner names with stable pseudonyms 'Owner 01', 'Owner 02', ... numbered in sorted name order.

    Each table's owner column is factorized once: the distinct names are numbered and each row takes its name's
    pseudonym by its code (a million rows hold a few dozen owners; Arrow's take, no Python string per row); a missing
    owner stays missing."""
    coded = {}
    for key, frame in (("leads", leads), ("opps", opps)):
        if frame is not None and "owner" in frame.columns:
            coded[key] = pd.factorize(frame["owner"], use_na_sentinel=True)
    names = sorted({name for _, distinct in coded.values() for name in distinct})
    mapping = {name: f"Owner {i:02d}" for i, name in enumerate(names, start=1)}

    def apply(key, frame):
        if key not in coded:
            return frame
        codes, distinct = coded[key]
        alias = pa.array([mapping[name] for name in distinct], type=pa.string()).take(pa.array(codes, mask=codes < 0))
        return frame.assign(owner=pd.Series(alias.to_pandas(), index=frame.index, dtype="str"))  # code -1 (missing) -> null

    return apply("leads", leads), apply("opps", opps)


def first_data_date(wb: Workbook):
    """The earliest created_at of opportunities and leads (a warehouse run's Workbook, which holds no rows, knows it:
    helpers.data.rowless.RowlessWorkbook.first_date)."""
    known = getattr(wb, "first_date", None)
    if known is not None:
        return known
    dates = [wb.opportunities["created_at"].min()]
    if wb.leads is not None:
        dates.append(wb.leads["created_at"].min())
    return min(d for d in dates if d == d)

# --------------------------------------------------------------------------- the fast typed CSV reader
# load_workbook reads each CSV file through read_csv_typed, which gives the same typed columns, findings and
# extra columns as the exact reader (read_raw + _parse_table: pandas' CSV parser on the decoded text) at a
# fraction of the time and memory on large files:
#
# 1. One streaming pass over the bytes (scan_csv; blocks cut at a line end): the SHA-256 of the file, the
#    encoding (a byte order mark; valid UTF-8; else charset-normalizer over the whole file, as detect_encoding
#    decides), the mojibake check (MOJIBAKE, run by RE2 on each block), NUL characters, whether a double quote occurs
#    (a file without one has no cell holding a quote or a line break, so step 2 searches no cell for them), and the
#    first lines the separator is sniffed on (sniff_delimiter).
# 2. pyarrow.csv parses the file (other encodings transcoded while reading) with every cell as text and the
#    header as row 0 (duplicate and empty names checked by _check_header). In a UTF-8 file without a double quote
#    only the contract's columns are converted (the header read from the first lines); the other columns stay in
#    the file until Workbook.extras is asked for them (helpers.data.extras: read then from the same bytes).
# 3. Each column is typed: text and category columns by the Arrow string kernels pandas itself runs for
#    str.strip / str.lower; every other column (dates, numbers, months, answers, departments) by dictionary
#    encoding the raw cells and parsing each distinct cell once with parse_cells, the exact reader's function.
#
# Whenever a file is anything but a plain, rectangular CSV this reader can take (empty, not decodable, mojibake,
# NUL characters, ragged rows that pandas pads, an implicit index column, unclosed quotes, a line of spaces,
# fewer than two columns), read_csv_typed returns None and load_workbook uses the exact reader, which gives its
# own result or its own error message: every rule and message of the exact reader holds, only the speed differs.
# tests/test_fastcsv.py compares the two readers (sample data, tiny blocks, encodings, hand-overs, fuzzed text).

#: Bytes read per block in the streaming pass (a block is cut at its last line end).
SCAN_BLOCK = 8 << 20
#: Lines the separator is sniffed on (sniff_delimiter reads the first 50).
SNIFF_LINES = 50


@dataclass
class CsvCells:
    """A CSV file as pyarrow text columns: `cells` (row 0 is the first data row; the column at position i named f<i>;
    every column, or those :func:`read_csv_cells` was asked for), the `header` cells as read (every column), the
    encoding used, the separator and the SHA-256 of the file's bytes."""

    cells: pa.Table
    header: list[str | None]
    encoding: str
    delimiter: str
    sha256: str


def _re2(pattern: str) -> str:
    """A Python regular expression in RE2 syntax (a \\u escape of four hex digits becomes \\x{...}); the rest of MOJIBAKE is common syntax."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)


def _scan_blocks(path: Path):
    """The file's bytes in blocks of about SCAN_BLOCK bytes, each ending at a line end (b'\\n') but the last, as
    ``(buffer, start, end)``: one bytearray read into and reused (no fresh memory per block: on a large file the
    page faults of a new block each time cost more than the hashing), so a block is valid until the next is asked for."""
    buf, filled = bytearray(SCAN_BLOCK), 0
    with open(path, "rb", buffering=0) as fh:
        while True:
            if filled == len(buf):  # a line longer than the buffer: a larger one (the old one may still be viewed)
                buf = buf + bytearray(len(buf))
            with memoryview(buf) as view:
                got = fh.readinto(view[filled:])
            if not got:
                if filled:
                    yield buf, 0, filled
                return
            filled += got
            cut = buf.rfind(b"\n", 0, filled) + 1
            if cut == 0:
                continue
            yield buf, 0, cut
            buf[: filled - cut] = buf[cut:filled]  # the unfinished line to the front (same length: no resize)
            filled -= cut


def scan_csv(path: Path) -> tuple[str, str, str, bool] | None:
    """One streaming pass over a CSV file: ``(encoding, first lines, sha256, quoted)``, or None when the exact reader must
    read it (empty, not decodable, mojibake, NUL characters, a second byte order mark, a first line too long to sniff).
    `quoted`: the text holds a double quote somewhere (without one no cell can hold a quote or a line break, so the
    parsed cells need no search for either: the one read serves the checksum, the checks and the parse's checks).

    The encoding is decided as :func:`detect_encoding` decides it (a BOM, valid UTF-8, else
    charset-normalizer over the whole file); the first lines are the decoded text the separator is sniffed on
    (:func:`sniff_delimiter` reads the first SNIFF_LINES lines): the whole text of a short file."""
    if path.stat().st_size == 0:
        return None
    with open(path, "rb") as fh:
        start = fh.read(4)
    if start.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif start.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    digest, seen = hashlib.sha256(), {"quoted": False}
    if encoding != "utf-16":
        head = _scan_utf8(path, digest, seen, skip=3 if encoding == "utf-8-sig" else 0)
        if head is None:
            return None
        if head is not False:
            return encoding, head, digest.hexdigest(), seen["quoted"]
        # not UTF-8: charset-normalizer over the whole file, as detect_encoding does (the bytes are freed after)
        try:
            encoding = detect_encoding(path.read_bytes(), path.name)[0]
        except Exception:  # noqa: BLE001 - the exact reader raises its own error
            return None
        digest = hashlib.sha256()
    head = _scan_decoded(path, encoding, digest, seen)
    return None if head is None else (encoding, head, digest.hexdigest(), seen["quoted"])


def _first_lines(head: str, complete: bool) -> str | None:
    """The text to sniff: the first SNIFF_LINES lines of `head` (all of it when `complete`, the file's whole text);
    None when `head` does not hold that many whole lines."""
    if complete:
        return head
    lines = head[: head.rfind("\n") + 1].splitlines(keepends=True)  # whole lines only
    return "".join(lines[:SNIFF_LINES]) if len(lines) >= SNIFF_LINES else None


def _scan_utf8(path: Path, digest, seen: dict, skip: int):
    """Hash, validate as UTF-8 (Arrow's check) and look for mojibake (RE2), NUL and double quotes (``seen["quoted"]``:
    byte 0x22 is never part of another character in UTF-8), block by block.

    The first lines (str) of a clean UTF-8 file; False when the file is not UTF-8; None when the exact reader
    must read it. A block ends at a line end, and no mojibake pattern spans one, so the check is the whole text's."""
    mojibake = _re2(MOJIBAKE.pattern)
    head, first, whole, enough = "", True, True, False
    for buf, start, end in _scan_blocks(path):
        with memoryview(buf) as view:
            digest.update(view[start:end])
        start += skip if first else 0
        text = _utf8(buf, start, end)
        if text is None:
            return False
        if buf.find(b"\x00", start, end) >= 0 or (_may_hold_mojibake(buf, start, end)
                                                  and pc.any(pc.match_substring_regex(text, mojibake)).as_py()):
            return None
        seen["quoted"] = seen["quoted"] or buf.find(b'"', start, end) >= 0
        if not enough:
            head += buf[start:end].decode("utf-8")
            if first and head.startswith("\ufeff"):
                return None  # a second byte order mark: the exact reader strips it
            enough = head.count("\n") > SNIFF_LINES
        else:
            whole = False
        first = False
    return _first_lines(head, whole)


def _may_hold_mojibake(buf: bytearray, start: int, end: int) -> bool:
    """False when the UTF-8 bytes ``buf[start:end]`` cannot hold a MOJIBAKE match, so the regular expression need not
    run (on a clean file it was a third of the scan's CPU); True when they may.

    Every alternative of MOJIBAKE holds one of: Ã Â â ï ã (UTF-8 lead byte 0xC3), a half-width katakana or U+FFFD
    (lead byte 0xEF), or one of 縺 繧 繝 (E7 B8 BA, E7 B9 A7, E7 B9 9D; ``[縺繧繝]{2}``). Single bytes are found by
    memchr; the three characters by the positions of byte 0xE7 (numpy)."""
    if buf.find(b"\xc3", start, end) >= 0 or buf.find(b"\xef", start, end) >= 0:
        return True
    data = np.frombuffer(buf, np.uint8, end - start, start)
    at = np.flatnonzero(data[:-2] == 0xE7)
    second, third = data[at + 1], data[at + 2]
    return bool((((second == 0xB8) & (third == 0xBA)) | ((second == 0xB9) & ((third == 0xA7) | (third == 0x9D)))).any())


def _utf8(data: bytes | bytearray, start: int = 0, end: int | None = None) -> pa.Array | None:
    """``data[start:end]`` as a one-element Arrow string array (no copy), or None when it is not valid UTF-8 (Arrow's
    full check)."""
    end = len(data) if end is None else end
    text = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(np.array([start, end], dtype=np.int32)),
                                                  pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return text


def _scan_decoded(path: Path, encoding: str, digest, seen: dict) -> str | None:
    """Hash and decode a file in another encoding block by block (Python's incremental decoder), looking for
    mojibake, NUL and double quotes in the decoded text (``seen["quoted"]``); its first lines, or None when the exact
    reader must read it."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        return None
    head, tail, first, complete, whole = "", "", True, False, True
    with open(path, "rb") as fh:
        while not complete:
            data = fh.read(SCAN_BLOCK)
            complete = not data
            digest.update(data)
            try:
                text = decoder.decode(data, final=complete)
            except UnicodeDecodeError:
                return None
            if first:
                text = text.removeprefix("\ufeff")  # what the exact reader strips after decoding
                if text.startswith("\ufeff"):
                    return None
            # a mojibake pattern is at most 3 characters: the last 2 of the previous text join the next
            if "\x00" in text or MOJIBAKE.search(tail + text):
                return None
            seen["quoted"] = seen["quoted"] or '"' in text
            tail = (tail + text)[-2:]
            if first or head.count("\n") <= SNIFF_LINES:
                head += text
            else:
                whole = False
            first = False
    return _first_lines(head, whole)


def _head_header(head: str, encoding: str, delimiter: str) -> list[str | None] | None:
    """The header cells of a UTF-8 file read from its first lines `head` (as pyarrow reads them from the whole file), or
    None when they cannot be told from them (another encoding, a parse error)."""
    if not encoding.startswith("utf-8"):
        return None
    read, parse, convert = arrow_csv_options(encoding, delimiter)
    try:
        first = pacsv.read_csv(pa.py_buffer(head.encode("utf-8")), read_options=read, parse_options=parse,
                               convert_options=convert).slice(0, 1).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return list(first[0].values()) if first else None


def read_csv_cells(path: Path, wanted: frozenset[str] | None = None) -> CsvCells | None:
    """A CSV file as pyarrow text columns (:class:`CsvCells`), or None when the exact reader must read it (see :func:`scan_csv`;
    also when pyarrow cannot parse it or it has fewer than two columns: a line of spaces, which pandas skips as
    blank, is then a one-cell row pyarrow refuses).

    With `wanted` (column names), a UTF-8 file without a double quote gets only the columns whose trimmed header is in
    `wanted` converted (``cells`` holds those, each named f<position>; ``header`` is still every column's): the others
    are split from their lines but neither converted nor kept (:class:`helpers.data.extras.Extras` reads them when
    asked). A file with a quote is converted whole: every cell is searched for quotes and line breaks."""
    scanned = scan_csv(path)
    if scanned is None:
        return None
    encoding, head, sha256, quoted = scanned
    delimiter = sniff_delimiter(head)
    header = None if wanted is None or quoted else _head_header(head, encoding, delimiter)
    include = None if header is None else [f"f{i}" for i, h in enumerate(header) if h is not None and h.strip() in wanted]
    if not include or len(include) == len(header):
        header = include = None
    read, parse, convert = arrow_csv_options(encoding, delimiter, include)
    try:
        table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, LookupError):
        return None  # ragged rows, unclosed quotes, ...: pandas' reading (and its error) is the rule
    width = table.num_columns if header is None else len(header)
    if table.num_rows == 0 or width < 2 or width >= FAST_MAX_COLUMNS:
        return None
    if any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    # Without a double quote in the file no cell holds a quote or a line break (only a quoted cell can): nothing to search.
    if quoted and (_row_in_a_cell(table, delimiter) or any(pc.any(pc.match_substring(c, '"')).as_py() for c in table.columns)):
        return None  # a quote left open swallowed rows, or a cell holds a quote: the exact reader checks it (csvshape)
    first = table.slice(0, 1).to_pylist()[0]
    if header is None:
        header = [first[f"f{i}"] for i in range(table.num_columns)]
    elif any(first[name] != header[int(name[1:])] for name in include):
        return None  # the first lines told another header than the file's first row (not seen; the exact reader decides)
    return CsvCells(table.slice(1), header, encoding, delimiter, sha256)


def _row_in_a_cell(table: pa.Table, delimiter: str) -> bool:
    """True when a cell holds a line break and a later line of it is a whole row of the file (csvshape.row_in_cell)."""
    from helpers.data.csvshape import row_in_cell

    for column in table.columns:
        broken = pc.match_substring_regex(column, "[\\r\\n]")
        if pc.any(broken).as_py():
            cells = pc.filter(column, broken).to_pylist()
            if any(row_in_cell(c, delimiter, table.num_columns) for c in cells):
                return True
    return False


# --------------------------------------------------------------------------- typing the Arrow text columns
def _arrow_texts(raw: pa.ChunkedArray) -> pa.ChunkedArray:
    """Every cell as trimmed text, null when empty (_texts: pandas' str.strip is utf8_trim_whitespace)."""
    trimmed = pc.utf8_trim_whitespace(raw)
    blank = pc.equal(trimmed, "")
    if not pc.any(blank).as_py():   # the usual column (empty cells are already null): no second copy of its text
        return trimmed
    return pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)


def _arrow_text_column(cells: pa.ChunkedArray, lower: bool = False) -> pd.Series:
    """A text or category column as the exact reader types it: trimmed, empty -> null, the workbook's CSV-injection
    apostrophe removed (helpers.data.values.unneutralize_cell), lower case for outcome/metric; pandas ``str`` dtype."""
    from helpers.data.values import FORMULA_START

    text = _arrow_texts(cells)
    marked = pc.match_substring_regex(text, "^'[" + "".join(f"\\x{{{ord(c):x}}}" for c in FORMULA_START) + "]")
    if pc.any(marked).as_py():
        text = pc.if_else(marked, pc.utf8_slice_codeunits(text, 1), text)
    if lower:
        text = pc.utf8_lower(text)
    return text.to_pandas()


def _distinct_parse(col: Column, cells: pa.ChunkedArray, timezone: str) -> tuple[pd.Series, np.ndarray]:
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


def read_csv_typed(path: Path, table: Table, config: Config, findings: list[Finding]):
    """A canonical table's CSV file read fast: ``(typed frame, extra columns or None, encoding, rows, sha256)``, or None
    when the exact reader must read it (:func:`read_csv_cells`). The typed frame, the findings appended to `findings`
    (missing columns, unparseable and missing values) and the extra columns are the exact reader's
    (read_raw, _missing_columns and _parse_table); raises its WorkbookError for duplicate column names. The extra
    columns are a frame, or (a file without a double quote) :class:`helpers.data.extras.DeferredColumns`: left in the
    file, read when first asked for (Workbook.extras)."""
    read = read_csv_cells(path, frozenset(table.column_names))
    if read is None:
        return None
    _check_header(path, read.header)
    names = [f"Unnamed: {i}" if h is None else h.strip() for i, h in enumerate(read.header)]
    rows = read.cells.num_rows
    # each column's cells are freed once it is typed (a lower peak on large files)
    columns = dict(zip(read.cells.column_names, read.cells.columns))
    read.cells = None
    findings += _missing_columns(table, pd.DataFrame(columns=names), path.name)
    position = {name: i for i, name in enumerate(names)}
    out, raw = {}, None
    for col in table.columns:
        if col.name not in position:
            continue
        raw = columns.pop(f"f{position[col.name]}")
        if col.kind in ("text", "category") and col.name != "department":
            parsed = _arrow_text_column(raw, lower=col.name in ("outcome", "metric"))
            present = parsed.notna().to_numpy()
        else:
            parsed, present = _distinct_parse(col, raw, config.timezone)
        column_findings(col, parsed, present, raw, path.name, findings)
        out[col.name] = parsed
    raw = None
    typed = pd.DataFrame(out, index=pd.RangeIndex(rows))
    return typed, _extra_columns(path, read, names, table, columns, rows), read.encoding, rows, read.sha256


def _extra_columns(path: Path, read: CsvCells, names: list[str], table: Table, columns: dict, rows: int):
    """The file's columns outside the contract: a frame of the converted cells `columns` ({f<position>: cells}), or
    :class:`helpers.data.extras.DeferredColumns` when read_csv_cells left them in the file; None when there are none."""
    from helpers.data.extras import DeferredColumns

    at = {name: f"f{i}" for i, name in enumerate(names) if name not in table.column_names}
    if not at:
        return None
    if all(key in columns for key in at.values()):
        return pd.DataFrame({name: columns[key].to_pandas() for name, key in at.items()})
    return DeferredColumns(path, read.encoding, read.delimiter, read.sha256, rows, at)
