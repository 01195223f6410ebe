"""Load a data folder into typed, validated canonical tables (contract section 1).

`load_workbook(data_dir)` reads every canonical table present (CSV, Excel or
Parquet), parses types, runs every check in helpers.data.validate and either returns
a `Workbook` (with warnings attached) or raises `DataValidationError` listing
every error at once. Input files are only ever read. CSV files go through the fast
typed reader (:func:`read_csv_typed`, pyarrow) where it applies, else through the
exact reader (:func:`read_raw`, pandas); both give the same tables and messages.

By concern: helpers.data.rawread (the exact reader: a file as text cells, decoding, separator, header),
helpers.data.parse (cells typed by the contract, with their findings), helpers.data.fastcsv (the fast typed CSV
reader); this module puts them together. Their public names are importable from here too, as before.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from helpers.config import Config, load_config
from helpers.data.files import (FORMATTED_ROWS, check_file, check_kind, excel_engine, file_sha256,  # noqa: F401 (public here too)
                                 looks_formatted_report, one_file_named, skipped_text_tables)
from helpers.data.csvshape import ARROW_BLOCK, FAST_MAX_COLUMNS, arrow_csv_options, stray_byte_error  # noqa: F401 (public here too)
from helpers.data.codes import factorized, remember
from helpers.data.extras import Extras
from helpers.data.memory import use_lean_pool
from helpers.data.fastcsv import SCAN_BLOCK, SNIFF_LINES, CsvCells, read_csv_cells, read_csv_typed, scan_csv  # noqa: F401 (public here too)
from helpers.data.parse import (ANSWER_VALUES, DATE_RANGE, FIX_DATE, FIX_NUMBER, JA_HEADERS_AGAIN,  # noqa: F401 (public here too)
                                JA_HEADERS_FIX, absent_closed_at, column_findings, japanese_fixes, missing_columns, parse_cells,
                                parse_table)
from helpers.data.rawread import (DELIMITERS, FORMATS, MOJIBAKE, decode_csv, read_csv_text, read_raw,  # noqa: F401 (public here too)
                                  sniff_delimiter)
from helpers.data.schema import OUTCOMES, TABLES, Table
from helpers.data.total_rows import cells_without_total_rows, total_row_findings, total_rows
from helpers.errors import DataValidationError, Finding, Phrase, WorkbookError, coded_error, error, warning
from helpers.charset import (DETECT_CANDIDATES, ENCODING_NAMES, FIX_ENCODING, MAX_CHAOS,  # noqa: F401 (public here too)
                             detect_encoding)


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

    @property
    def has_opportunities(self) -> bool:
        """False for a leads-only folder: its opportunities table is an empty stand-in for the missing one (the
        warning no_opportunities), not an export without rows."""
        return not any(f.code == "no_opportunities" for f in self.findings)


def find_table_file(data_dir: Path, name: str) -> Path | None:
    """The one file holding table `name` (name.csv, .xlsx, .xls or .parquet, names and extensions in any case:
    OPPORTUNITIES.CSV), or None; a coded WorkbookError (same_table_files) naming both when two files hold it."""
    return one_file_named(Path(data_dir), [f"{name}{ext}" for ext in FORMATS], name)


#: Read CSV files with the fast typed reader (:func:`read_csv_typed`) where it applies; False = always the exact reader.
FAST_CSV = True


def read_csv_fast(path: Path, table: Table, config: Config, findings: list[Finding], unread: dict | None = None):
    """:func:`read_csv_typed` for a .csv file when FAST_CSV is on, else None (the caller reads it exactly)."""
    if not FAST_CSV or FORMATS.get(path.suffix.lower()) != "csv":
        return None
    return read_csv_typed(path, table, config, findings, unread)


def load_workbook(data_dir: str | Path, config: Config | None = None, as_of=None) -> Workbook:
    """Read, type and validate every canonical table in `data_dir`; raise DataValidationError on any error."""
    use_lean_pool()   # Arrow buffers from jemalloc, which returns freed pages: a lower peak (helpers.data.memory)
    data_dir = Path(data_dir)
    if data_dir.is_file():
        raise coded_error("data_is_file", None, path=str(data_dir), name=data_dir.name, folder=str(data_dir.parent))
    if not data_dir.is_dir():
        raise coded_error("data_folder_missing", None, folder=str(data_dir))
    config = config or load_config(data_dir)
    findings: list[Finding] = []
    unread: dict[str, dict] = {}   # {table: {column: the cells refused as unparseable}}: written, not empty, for the checks
    totals: dict[str, tuple[list[int], str]] = {}   # {file: its total rows (positions) and their label}
    shifts: dict[str, np.ndarray] = {}   # {file: rows skipped above each record}: a sheet's blank rows (sheetrows)
    typed, extras, files = _read_tables(data_dir, config, findings, unread, totals, shifts)
    names = {"opportunities": "opportunities.csv"} | {n: Path(f.path).name for n, f in files.items()}
    skip = {n: totals[f][0] for n, f in names.items() if f in totals}   # a total row is no record: no check reads it
    try:
        resolved_as_of = _check_tables(typed, names, data_dir, config, as_of, findings, unread, skip)
        _finish_tables(typed, names, config, findings)
    except DataValidationError as exc:   # every finding on its spreadsheet row, a total row said once, as such
        raise DataValidationError(_numbered(exc.findings, totals, files, shifts)) from None
    findings[:] = _numbered(findings, totals, files, shifts)
    return Workbook(data_dir=data_dir, config=config, as_of=resolved_as_of, opportunities=typed["opportunities"],
                    leads=typed.get("leads"), spend=typed.get("spend"), checklist=typed.get("checklist"),
                    initiatives=typed.get("initiatives"), targets=typed.get("targets"), touches=typed.get("touches"),
                    extras=Extras(extras), findings=findings, files=files)


def _numbered(findings: list[Finding], totals: dict, files: dict[str, SourceFile],
              sheets: dict[str, np.ndarray] | None = None) -> list[Finding]:
    """`findings` with the rows of a CSV file with blank lines, or of a sheet with blank rows or a header below row 1
    (`sheets`: {file: rows skipped above each record}, read with it), on the rows a spreadsheet shows
    (helpers.data.sheetrows) and each total row reported once, as a total row (helpers.data.total_rows.total_row_findings)."""
    from helpers.data.sheetrows import blank_lines_before

    named = {f.file for f in findings if f.rows} | set(totals)
    shifts = dict(sheets or {})
    for source in files.values():
        fname = Path(source.path).name
        if source.format == "csv" and fname in named:
            shift = blank_lines_before(Path(source.path), source.encoding)
            if shift is not None:
                shifts[fname] = shift
    return total_row_findings(findings, totals, shifts)


def _read_tables(data_dir: Path, config: Config, findings: list[Finding], unread: dict | None = None,
                 totals: dict | None = None, shifts: dict | None = None) -> tuple[dict, dict, dict[str, SourceFile]]:
    """Every canonical table of the folder read and typed: ``(typed {table: frame}, extras {table: frame, or
    DeferredColumns read on first access (helpers.data.extras)}, files {table: SourceFile})``; a missing required
    table, an unreadable file, missing columns and unparseable cells are appended to `findings` (a leads-only folder
    gets an empty opportunities table, with a warning). `unread` (when given) gets {table: {column: bool array}}, the
    cells refused as unparseable (helpers.data.parse.column_findings). `totals` (when given) gets {file: (positions,
    label)} of each file's total rows (helpers.data.total_rows), said by :func:`_numbered` with the other findings;
    `shifts` (when given) {file: rows skipped above each record} of a sheet with blank rows or a header below row 1."""
    typed: dict[str, pd.DataFrame] = {}
    extras: dict = {}
    files: dict[str, SourceFile] = {}
    for name, table in TABLES.items():
        path = find_table_file(data_dir, name)
        text = skipped_text_tables(data_dir, {name}) if path is None else []  # leads.txt (Excel's "Unicode text"): said
        findings += [warning(p.name, "text_file_skipped", count=1, variant=kind, stem=p.stem) for p, kind in text]
        if path is None and name == "opportunities" and find_table_file(data_dir, "leads") is not None:
            # A leads-only export still gets its lead funnel: an empty opportunities table, said out loud.
            findings.append(warning("opportunities.csv", "no_opportunities"))
            typed[name] = parse_table(table, pd.DataFrame(columns=table.column_names, dtype=object), "opportunities.csv", config, findings)
            continue
        if path is None:
            if table.required:
                rename = Phrase("part_rename_text_file", text=text[0][0].name, table=name) if text else ""
                findings.append(error(f"{name}.csv", "missing_table", table=name, folder=str(data_dir), rename=rename))
            continue
        start = len(findings)   # this file's findings from here on
        try:
            check_file(path, data_dir, FORMATS[path.suffix.lower()], "data")  # a link out of the folder, not text: one block read
            fast = read_csv_fast(path, table, config, findings, _unread_of(unread, name))
            if fast is not None:  # the same typed frame, findings and extras as the exact reader below
                typed[name], extra, encoding, rows, sha256 = fast
                _note_total_rows(table, typed[name], path.name, totals, findings, start, _unread_of(unread, name))
                files[name] = SourceFile(name, str(path), "csv", encoding, rows, sha256)
                if extra is not None:
                    extras[name] = extra
                continue
            raw, encoding = read_raw(path, table=table)
        except WorkbookError as exc:  # empty, damaged or ambiguous file: listed with the other problems
            findings.append(Finding("error", path.name, "unreadable_file", exc.message.removeprefix(f"{path.name}: "), exc.fix or "",
                                    params={"error": exc.code, **exc.params} if exc.code else {}))
            continue
        files[name] = SourceFile(name, str(path), FORMATS[path.suffix.lower()], encoding, len(raw), file_sha256(path))
        if shifts is not None and raw.attrs.get("row_shift") is not None:
            shifts[path.name] = raw.attrs["row_shift"]
        missing = missing_columns(table, raw, path.name)
        findings += missing
        typed[name] = parse_table(table, raw, path.name, config, findings, _unread_of(unread, name))
        _note_total_rows(table, typed[name], path.name, totals, findings, start, _unread_of(unread, name))   # "remove the total row", not "fill created_at"
        extra_cols = [c for c in raw.columns if c not in table.column_names]
        if extra_cols:
            extras[name] = raw[extra_cols].copy()
    return typed, extras, files


def _note_total_rows(table: Table, frame: pd.DataFrame, fname: str, totals: dict | None, findings: list[Finding],
                     start: int, unread: dict | None) -> None:
    """Put `fname`'s total rows (helpers.data.total_rows.total_rows), if any, in `totals`, and take them out of the
    cell findings its typing appended to `findings` from `start` on (they count a total row's empty cells:
    helpers.data.total_rows.cells_without_total_rows; `unread`: the cells refused as unparseable, by column)."""
    rows, word = total_rows(table, frame)
    if rows and totals is not None:
        totals[fname] = (rows, word)
        findings[start:] = cells_without_total_rows(findings[start:], fname, rows, frame, unread)


def _unread_of(unread: dict | None, name: str) -> dict | None:
    """The dict of table `name`'s unparseable cells in `unread` (made on first use), None without `unread`."""
    return None if unread is None else unread.setdefault(name, {})


def _check_tables(typed: dict, names: dict[str, str], data_dir: Path, config: Config, as_of,
                  findings: list[Finding], unread: dict | None = None, skip: dict | None = None) -> pd.Timestamp:
    """The checks of the typed tables (shape, label cells, then every row check as engine queries:
    helpers.data.checks_engine), appended to `findings`; the as_of they resolve (given, the settings', else the latest
    date of the data). Raises DataValidationError on any error (every problem at once) and WorkbookError without
    an as_of. `unread`: the cells refused as unparseable ({table: {column: bool array}}), which no check reads as empty;
    `skip`: the rows no row check reads ({table: positions}: its total rows, helpers.data.total_rows)."""
    from helpers.data import validate
    from helpers.data.categories import label_findings

    if "opportunities" in typed:
        findings += absent_closed_at(typed["opportunities"], names["opportunities"])
    for name, frame in typed.items():  # several values in one label cell, segments Excel turned into dates
        findings += label_findings(name, frame, names.get(name, f"{name}.csv"))
    if any(f.code in ("missing_column", "missing_table", "unreadable_file") for f in findings):
        # the table's shape is wrong; the row checks that do not need the missing columns still speak, in one go
        findings += _row_errors_despite_missing(typed, names, findings, config, unread, skip)
        raise DataValidationError(japanese_fixes(findings, Path(data_dir)))

    resolved_as_of = pd.Timestamp(as_of).normalize() if as_of is not None else config.as_of
    # every row check as engine queries (helpers.data.checks_engine); as_of None = the latest date of the data
    found, resolved_as_of = validate.check_rows(typed, names, resolved_as_of, config.fiscal_year_start_month, unread, skip)
    findings += found
    if skip:   # a total row is an error (total_row, said by load_workbook), before any as_of is needed
        raise DataValidationError(findings)
    return validate.checked_as_of(findings, resolved_as_of, str(data_dir))


def _finish_tables(typed: dict, names: dict[str, str], config: Config, findings: list[Finding]) -> None:
    """The checked tables made ready, in place in `typed`: channel names normalized, an open deal's closed_at
    dropped, each deal's channel filled from its lead, goals' channels checked, owners pseudonymized (when the
    settings say so), multi-valued touches split, category columns as categoricals. Notes are appended to
    `findings`; a goal channel error raises DataValidationError."""
    from helpers.data import validate
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


def _row_errors_despite_missing(typed: dict[str, pd.DataFrame], names: dict[str, str], findings: list[Finding],
                                config: Config, unread: dict | None = None, skip: dict | None = None) -> list[Finding]:
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
    found = validate.check_tables(padded, names, as_of, config.fiscal_year_start_month, unread, skip)
    return [f for f in found if f.severity == "error" and (f.file, f.column) not in missing | said]


def _categorize(frame: pd.DataFrame, table: Table) -> pd.DataFrame:
    """Cast the contract's category columns to pandas categoricals (sorted categories, for stable output)."""
    out = frame.copy(deep=False)  # copy-on-write (pandas 3): the columns set below leave `frame` as it was
    for col in table.columns:
        if col.kind == "category" and col.name in out.columns and col.name != "outcome":
            codes, distinct = factorized(out[col.name])  # each distinct value sorted once (hashed once: codes)
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


def owner_pseudonyms(names) -> dict[str, str]:
    """{name: pseudonym} of the distinct `names`: 'Owner 01', 'Owner 02', ... numbered in sorted order (by code point,
    Python's, whatever a database's collation: helpers.metrics.warehouse uses this rule too)."""
    return {name: f"Owner {i:02d}" for i, name in enumerate(sorted(set(names)), start=1)}


def pseudonymize_owners(leads: pd.DataFrame | None, opps: pd.DataFrame) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """Replace owner names with stable pseudonyms 'Owner 01', 'Owner 02', ... numbered in sorted name order.

    Each table's owner column is factorized once: the distinct names are numbered and each row takes its name's
    pseudonym by its code (a million rows hold a few dozen owners; Arrow's take, no Python string per row); a missing
    owner stays missing."""
    coded = {}
    for key, frame in (("leads", leads), ("opps", opps)):
        if frame is not None and "owner" in frame.columns:
            coded[key] = factorized(frame["owner"])
    mapping = owner_pseudonyms(name for _, distinct in coded.values() for name in distinct)

    def apply(key, frame):
        if key not in coded:
            return frame
        codes, distinct = coded[key]
        aliases = [mapping[name] for name in distinct]
        alias = pa.array(aliases, type=pa.string()).take(pa.array(codes, mask=codes < 0))
        owner = pd.Series(alias.to_pandas(), index=frame.index, dtype="str")  # code -1 (missing) -> null
        remember(owner, codes, pd.array(aliases, dtype=owner.dtype))   # the names' codes are the pseudonyms' (one per name)
        return frame.assign(owner=owner)

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


def last_data_date(wb: Workbook):
    """The data's last record date: the latest date in any date column of leads and opportunities (the default
    as_of, helpers.data.validate.latest_date), a Timestamp (a warehouse load's rowless Workbook knows it:
    helpers.data.rowless.RowlessWorkbook.last_date); None when no row has a date, or the rows are not held."""
    from helpers.data import validate

    known = getattr(wb, "last_date", None)
    if known is not None:
        return known
    if not isinstance(wb.opportunities, pd.DataFrame):
        return None
    return validate.latest_date(wb.leads if isinstance(wb.leads, pd.DataFrame) else None, wb.opportunities)
