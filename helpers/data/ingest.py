"""Bring CRM/MA exports in: `python -m helpers.data.ingest --exports DIR --mapping NAME|FILE --out DIR [--force]`.

Reads each export named by a column mapping (helpers.data.mapping; CSV in UTF-8 with or
without BOM or cp932, Excel, Parquet, or a SQL source), converts it to the canonical
tables, writes them as UTF-8 CSV with ISO dates into a staging folder, validates that
folder with `helpers.data.load.load_workbook` and only then renames it to `--out`. The
exports are only ever read (SQLite/DuckDB sources are opened read-only). A non-empty
`--out` is refused unless `--force`. Prints row counts, dropped rows and why, the
mapping and encodings used, and every warning. Exit status: 0 done, 2 bad input.

The runner calls `ingest(exports, mapping, out, ...)` and then loads `out` as usual.
"""
from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.config import DATA_FOLDER_CONFIG, Config, load_config
from helpers.data.load import ENCODING_NAMES, FORMATS, decode_csv, file_sha256, load_workbook, read_csv_text, read_raw, sniff_delimiter
from helpers.data.rawread import check_header
from helpers.data.files import FORMATTED_ROWS, check_inside, check_kind, excel_engine, looks_formatted_report, skipped_text_tables
from helpers.errors import DataValidationError, Finding, WorkbookError, cli_language, coded_error, warning
from helpers.data.mapping import (Mapping, MissingColumnError, TableMapping, apply_mapping, find_column, load_mapping, missing_column_error,
                                  note, shipped_mappings)
from helpers.data.schema import TABLES
from helpers.data.sql_source import read_sql_source
from helpers.data.values import neutralize_text_columns
from helpers.storage import replace_dir

REPORT_FILE = "ingest_report.json"
TABLE_ORDER = ("opportunities", "leads", "spend", "checklist", "initiatives", "targets", "touches")
OUTPUT_FILES = {f"{t}{ext}" for t in TABLES for ext in FORMATS} | {REPORT_FILE, DATA_FOLDER_CONFIG}
MIN_ROWS_FOR_BULK_CHECK = 2


class IngestValidationError(DataValidationError):
    """The converted tables break the data contract; they are kept in `rejected` and not published."""

    def __init__(self, findings: list[Finding], rejected: Path):
        super().__init__(findings)
        self.rejected = rejected
        WorkbookError.__init__(
            self, self.message + f"\nThe converted tables were NOT written to the output folder; they are kept in {rejected} "
                                 "for inspection (row numbers above refer to those files).",
            fix="Correct the export or the mapping (docs/ingest.md) and run the ingest again.")


@dataclass
class IngestResult:
    """What one ingest did: where the data folder is, and per table the source, encoding, rows and report."""

    out: Path
    mapping_name: str
    mapping_path: Path
    tables: dict[str, dict] = field(default_factory=dict)
    warnings: list[Finding] = field(default_factory=list)             # the ingest's own checks
    validation_warnings: list[Finding] = field(default_factory=list)  # helpers.data.load's warnings
    as_of: str | None = None
    currency: dict | None = None                                      # {code, how} of the amounts, None when unknown

    @property
    def all_warnings(self) -> list[Finding]:
        return self.warnings + self.validation_warnings

    def summary(self) -> str:
        """The printed report: tables, sources and encodings, dropped rows, adjustments, warnings."""
        return format_summary(self)


# --------------------------------------------------------------------------- finding and reading the sources
def _candidates(exports: Path) -> list[Path]:
    """Readable export files at the top of the folder (no hidden files, no Excel lock files ~$x.xlsx). A link among
    them that leads out of the folder is refused (coded error link_outside), before anything of it is read."""
    found = sorted(p for p in exports.iterdir()
                   if p.suffix.lower() in FORMATS and not p.name.startswith((".", "~$")) and p.is_file())
    for p in found:
        check_inside(p, exports, "exports")
    return found


def read_header(path: Path, encoding: str | None = None, sheet=None) -> list[str]:
    """The column names of an export file without reading its rows; WorkbookError when it cannot be read."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt != "csv":
        check_kind(path, fmt)   # a CSV is sniffed by decode_csv (with the mapping's encoding)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return [str(c) for c in pq.read_schema(path).names]
        except Exception as exc:  # noqa: BLE001 - any pyarrow failure means "not a Parquet file"
            raise WorkbookError(f"{path.name}: not a readable Parquet file ({exc})", fix="Export the file again.") from None
    if fmt == "excel":
        try:
            top = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, header=None, nrows=FORMATTED_ROWS, dtype=object,
                                engine=excel_engine(path))
        except (ValueError, IndexError) as exc:
            raise _sheet_error(path, sheet, exc) from None
        except Exception as exc:  # noqa: BLE001 - a broken or password-protected workbook
            raise WorkbookError(f"{path.name}: not a readable Excel file ({exc})", fix="Open and save it again in Excel, or export CSV.") from None
        if looks_formatted_report(top):
            raise coded_error("formatted_report", path.name)
        return [str(c).strip() if c is not None and c == c else f"Unnamed: {i}" for i, c in enumerate(top.iloc[0])] if len(top) else []
    import csv

    text, _, _ = decode_csv(path, encoding)
    first = next((ln for ln in text.splitlines() if ln.strip()), None)
    if first is None:
        raise WorkbookError(f"{path.name}: the file is empty (no header line)", fix="Export the file again.")
    header = [c.strip() for c in next(csv.reader([first], delimiter=sniff_delimiter(text)))]
    check_header(path, header)   # a NUL in a header is named (shown as <U+0000>), never matched or printed raw
    return header


def _sheet_error(path: Path, sheet, exc) -> WorkbookError:
    import openpyxl

    try:
        sheets = ", ".join(repr(s) for s in openpyxl.load_workbook(path, read_only=True).sheetnames)
    except Exception:  # noqa: BLE001
        sheets = "?"
    return WorkbookError(f"{path.name}: no sheet {sheet!r} ({exc})", fix=f"Set sheet: to one of {sheets} (or a 0-based position).")


def _fits(header: list[str], tm: TableMapping) -> bool:
    return all(find_column(header, names) is not None for names in tm.needed_columns())


def refuse_lookalike(table: str, tm: TableMapping, miss: tuple, mapping: str) -> None:
    """Stop the ingest on a file that looks like `table`'s export by its name but lacks the mapping's columns, when
    the mapping marks its header names as unconfirmed (``headers_unconfirmed: true``): the names expected and the
    header found are both named, so nothing is read from a column that only resembles the one meant."""
    path, _, lacking, header = miss
    expected = "; ".join(" or ".join(repr(c) for c in names) for names in lacking)
    raise WorkbookError(f"{path.name} looks like the {table} export by its name, but its header is not the one the mapping "
                        f"{tm.where} expects: missing {expected}; found {', '.join(repr(c) for c in header) or 'no header'}. "
                        f"The mapping's names for this export are not confirmed by the vendor's documentation, so the "
                        f"file is not read with other columns in their place",
                        fix=f"If it is this export, list its column names in a mapping of your own (extends: {mapping}, then "
                            f"tables.{table}.columns with a list of names per column; docs/ingest.md) and ingest with it; "
                            f"if it is another file, move it out of the export folder.")


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
                    headers[p] = read_header(p, encoding, tm.sheet)
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
            raise WorkbookError(f"{tm.where}: several export files fit the pattern {pattern!r}: {', '.join(p.name for p in fitting)}",
                                fix="Keep one export per table in the folder, or name the file exactly in the mapping's file:.")
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
        err.path = best if 2 * len({tuple(n) for n in missing[best]}) <= len({tuple(n) for n in tm.needed_columns()}) else None
        raise err
    return None


def _read_encoding(name: str | None) -> str | None:
    """The codec to read with: utf-8 reads as utf-8-sig (a BOM, if any, is not part of the first header)."""
    return "utf-8-sig" if name == "utf-8" else name


def read_export(path: Path, tm: TableMapping) -> tuple[pd.DataFrame, str | None]:
    """An export file as text cells (helpers.data.load.read_raw), honouring the mapping's encoding and sheet.
    Returns the frame and the encoding label: utf-8, utf-8-sig (with BOM) or cp932 (None for Excel/Parquet)."""
    fmt = FORMATS[path.suffix.lower()]
    if fmt == "excel":
        try:
            raw = pd.read_excel(path, sheet_name=tm.sheet if tm.sheet is not None else 0, dtype=object, engine=excel_engine(path))
        except (ValueError, IndexError) as exc:
            raise _sheet_error(path, tm.sheet, exc) from None
        raw.columns = [str(c).strip() for c in raw.columns]
        return raw.astype(object).where(raw.notna(), None), None
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


def check_links_kept_zeros(frames: dict[str, pd.DataFrame], reports: dict[str, dict]) -> None:
    """Links that lost their leading zeros in Excel: an opportunity's lead_id (or a lead's opportunity_id) that matches
    no id of the other table as written, but does once padded with zeros to that table's id width. WorkbookError."""
    for table, col, other, key in (("opportunities", "lead_id", "leads", "lead_id"), ("leads", "opportunity_id", "opportunities", "opportunity_id")):
        if table not in frames or other not in frames or col not in frames[table].columns:
            continue
        ids = {v for v in frames[other][key].dropna()}
        padded = {v for v in ids if v.isdigit() and v.startswith("0")}
        if not padded:
            continue
        width = max(len(v) for v in padded)
        lost = [v for v in frames[table][col].dropna() if v.isdigit() and v not in ids and v.zfill(width) in ids]
        if lost:
            raise WorkbookError(
                f"{reports[table]['source']}: column '{reports[table]['columns'].get(col, col)}' -> {col}: {len(lost)} id(s) lost their "
                f"leading zeros ({', '.join(repr(v) for v in lost[:5])} are {', '.join(repr(v.zfill(width)) for v in lost[:5])} in "
                f"{reports[other]['source']}): these values were changed by Excel, so the links would silently break",
                fix="Export again from the CRM and open the CSV with Excel's data import wizard (Data > From Text/CSV, column type "
                    "Text), or use the CRM's .xlsx export; do not fix ids by hand.")


def data_currency(reports: dict[str, dict], settings: Config) -> dict | None:
    """The one currency of every table's amounts ({code, how}), or None when no amount carries one; a note
    per table says so. WorkbookError when two tables are in different currencies."""
    found = {name: rep["currency"] for name, rep in reports.items() if rep.get("currency") and rep["currency"]["code"]}
    codes = {c["code"] for c in found.values()}
    if len(codes) > 1:
        listed = ", ".join(f"{name} in {c['code']} ({c['how']})" for name, c in found.items())
        raise WorkbookError(f"the tables' amounts are in different currencies: {listed}",
                            fix="Export every table in one currency, or give exchange rates in the settings (currency.rates).")
    for name, rep in reports.items():
        if rep.get("currency") and not rep["currency"]["code"] and not found:
            note(rep, "currency_not_in_data", rep["rows_out"], "amount", currency=settings.currency_code,
                 symbol=settings.currency_symbol)
    if not found:
        return None
    name, cur = next(iter(found.items()))
    record = {"code": cur["code"], "how": f"{name}: {cur['how']}"}
    if all(c.get("assumed") == "$" for c in found.values()):
        record["assumed"] = "$"  # the settings may name another dollar (helpers.config.DOLLARS)
    return record


# --------------------------------------------------------------------------- checks the loader cannot make
def ingest_warnings(frames: dict[str, pd.DataFrame], reports: dict[str, dict]) -> list[Finding]:
    """Warnings about exports that load fine but mislead: a bulk-loaded created_at, no channel anywhere,
    no lead linked to any opportunity, dates moved by a not_after rule."""
    out: list[Finding] = []
    for table, report in reports.items():
        for n in report.get("notes", []):
            out.append(Finding("warning", report["source"], n["code"], n["message"], n.get("fix", ""), n.get("column"),
                               tuple(n.get("rows") or ()), (), n["count"], dict(n.get("params") or {})))
    for table in ("opportunities", "leads"):
        if table not in reports:
            continue
        profile = reports[table]["dates"].get("created_at")
        if profile and profile["count"] >= MIN_ROWS_FOR_BULK_CHECK and profile["distinct_days"] == 1:
            out.append(warning(reports[table]["source"], "one_created_at", "created_at", count=profile["count"],
                               variant=table, day=str(profile["min"])))
    for table, report in reports.items():
        for adj in report["adjusted"]:
            if adj["rule"].startswith("not_after") and not adj["rule"].endswith("(same day)"):
                out.append(warning(report["source"], "moved_date", adj["column"], tuple(adj["rows"]), (), adj["count"],
                                   limit=adj["rule"].split()[1]))
    opps = frames.get("opportunities")
    leads = frames.get("leads")
    if opps is not None and len(opps):
        own = "channel" in opps.columns and opps["channel"].notna().any()
        linked_opps = "lead_id" in opps.columns and opps["lead_id"].notna().any()
        linked_leads = leads is not None and "opportunity_id" in leads.columns and leads["opportunity_id"].notna().any()
        if leads is not None and not linked_opps and not linked_leads:
            out.append(warning(reports["leads"]["source"], "no_lead_links"))
        if not own and not ((linked_opps or linked_leads) and leads is not None):
            out.append(warning(reports["opportunities"]["source"], "no_channel", "channel", count=len(opps)))
    return out


def warning_record(w: Finding) -> dict:
    """A finding as ingest_report.json's `warnings` entry: {code, message, count, file, column, rows, fix, params}
    (count: the rows or values concerned; 1 for a finding about the whole export; params: what fills the
    sentence of its code in the label table, so a report says it in its own language)."""
    return {"code": w.code, "message": w.message, "count": w.count or 1, "file": w.file, "column": w.column,
            "rows": list(w.rows), "fix": w.fix, "params": dict(w.params)}


# --------------------------------------------------------------------------- writing the data folder
def _check_out(out: Path, exports: Path | None, force: bool, marker: str | None = None) -> None:
    out_r = out.resolve()
    if exports is not None:
        exp_r = exports.resolve()
        if out_r == exp_r or exp_r.is_relative_to(out_r) or out_r.is_relative_to(exp_r):
            raise WorkbookError(f"--out {out} is the exports folder, inside it or around it",
                                fix="Write the data folder elsewhere, e.g. --out data/crm (the exports are never modified).")
    if out.exists() and not out.is_dir():
        raise WorkbookError(f"--out {out} is a file", fix="Give a folder path.")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise WorkbookError(f"the output folder {out} is not empty; nothing was written",
                                fix="Choose an empty or new folder, or add --force to replace the data folder there.")
        others = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES and p.name != marker)
        if others:
            raise WorkbookError(f"the output folder {out} holds files an ingest did not write ({', '.join(others[:5])}); "
                                "--force only replaces a data folder",
                                fix="Choose another --out, or move those files away first.")


def _written_by_ingest(folder: Path, marker: str | None = None) -> bool:
    """True when `folder` is a folder (not a link) holding only the names an ingest writes."""
    return (folder.is_dir() and not folder.is_symlink()
            and all(p.name in OUTPUT_FILES or p.name == marker for p in folder.iterdir()))


def ingest(exports: str | Path | None, mapping: str | Path | Mapping, out: str | Path, *, force: bool = False,
           config: Config | None = None, start=None, end=None, marker: str | None = None) -> IngestResult:
    """Convert a folder of exports (and/or SQL sources) into a validated canonical data folder `out`.

    `mapping` is a Mapping, a mapping file or a shipped mapping name (salesforce_en, salesforce_ja,
    salesforce_api, hubspot, canonical_ja). `start`/`end` (dates) are pushed into SQL sources that have a
    `period_filter` column; export files are always read whole. `config` is used to validate
    (default: `out`'s workbook.yaml if it has one, else the exports folder's, which is then copied into `out`,
    else the defaults). `marker`: the name of a file to write into the data folder (and its staging folder) saying
    who made it (the report runner's marker, for OUT/_data); --force accepts it there. Raises WorkbookError (bad
    mapping, missing file or column, unconvertible values, refused output folder) or
    IngestValidationError (the converted tables break the contract; nothing is published).
    """
    mp = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    exports = Path(exports) if exports is not None else None
    out = Path(out).resolve()  # `--out .` has a name to stage next to
    needs_files = any(tm.sql is None for tm in mp.tables.values())
    if needs_files and (exports is None or not exports.is_dir()):
        raise WorkbookError(f"the exports folder {exports} does not exist" if exports is not None else "no exports folder was given",
                            fix="Give the folder holding the exported files with --exports.")
    _check_out(out, exports if needs_files else None, force, marker)
    own = exports / DATA_FOLDER_CONFIG if exports is not None else None
    if own is not None and own.is_file():
        check_inside(own, exports, "exports")   # copied into the data folder: never a file from outside the exports
    if not (out / DATA_FOLDER_CONFIG).is_file() and own is not None and own.is_file():
        settings_dir = exports   # the exports folder's own settings (fiscal year, target segment ...)
    else:
        settings_dir = out if out.is_dir() else None
    settings = config or load_config(settings_dir, data_currency=False)
    rates = settings.currency_rates

    frames: dict[str, pd.DataFrame] = {}
    reports: dict[str, dict] = {}
    claimed: set[Path] = set()
    raws: dict[str, pd.DataFrame] = {}
    joined: set[str] = set()
    folder_warnings: list[Finding] = []
    near_misses: list = []
    for name in sorted(mp.tables, key=TABLE_ORDER.index):
        tm = mp.tables[name]
        if tm.sql is not None:
            raw, source = read_sql_source(tm, start, end)
            info = {"source": source, "format": "sql", "encoding": None, "sha256": None}
        else:
            misses: list = []
            try:
                path = locate_file(exports, tm, claimed, misses)
            except MissingColumnError as exc:
                if getattr(exc, "path", None) is None:
                    raise
                # every missing column and every value problem of that file, in one go (apply_mapping raises them all)
                apply_mapping(read_export(exc.path, tm)[0], tm, exc.path.name, rates=rates,
                              target_currency=settings.currency_code if rates else None)
                raise
            near_misses += [(name, miss, lacking, tm.where, path) for miss, lacking, _, _ in misses if miss != path]
            if path is None and tm.headers_unconfirmed and misses:
                refuse_lookalike(name, tm, misses[0], mp.name)
            if path is None:
                if tm.optional:
                    folder_warnings.append(warning(exports.name, "table_not_found", count=1, table=name, patterns=", ".join(tm.files)))
                    continue
                present = ", ".join(p.name for p in _candidates(exports)) or "no CSV, Excel or Parquet files"
                text = [p.name for p, _ in skipped_text_tables(exports)]
                raise WorkbookError(f"{tm.where}: no export in {exports} matches {', '.join(repr(f) for f in tm.files)} "
                                    f"with the columns the mapping needs (the folder has: {present}"
                                    + (f"; not read, as text files: {', '.join(text)}" if text else "") + ")",
                                    fix="Put the export in the folder, or change file: in the mapping to its name."
                                    + (f" A table saved as text (Excel's \"Unicode text\") is read once renamed to .csv: "
                                       f"{text[0]} -> {Path(text[0]).stem}.csv." if text else ""))
            claimed.add(path)
            raw, encoding = read_export(path, tm)
            source = path.name
            info = {"source": source, "path": str(path), "format": FORMATS[path.suffix.lower()], "encoding": encoding,
                    "delimiter": raw.attrs.get("delimiter"), "sha256": file_sha256(path)}
        joins = []
        if tm.joins:   # columns looked up in other exports (helpers.data.ingest_join)
            from helpers.data.ingest_join import apply_joins

            raw, joins = apply_joins(raw, tm, exports)
            joined.update(j["file"] for j in joins if j.get("file"))
        raws[name] = raw
        frame, report = apply_mapping(raw, tm, source, rates=rates, target_currency=settings.currency_code if rates else None)
        report.update(info)
        if joins:
            report["joins"] = joins
        encoding_note(report, info["encoding"], tm.encoding is not None)
        frames[name], reports[name] = frame, report
    check_links_kept_zeros(frames, reports)
    currency = data_currency(reports, settings)
    if exports is not None and needs_files:
        used = {Path(r["path"]).name for r in reports.values() if r.get("path")} | joined
        for p in _candidates(exports):
            if p.name in used:
                continue
            # a file that is not what its name says (an .xlsx named .csv, NUL bytes) is refused with its real cause,
            # never reported as "matches no table"
            check_kind(p, FORMATS[p.suffix.lower()], next(iter(sorted({tm.encoding for tm in mp.tables.values() if tm.encoding})), None))
            miss = next((m for m in near_misses if m[1] == p), None)
            if miss is not None:
                name, _, lacking, where, path = miss
                folder_warnings.append(warning(p.name, "file_lacks_columns", count=1, table=name, where=where,
                                               columns=" or ".join(repr(c) for c in lacking),
                                               column_list=", ".join(repr(c) for c in lacking),
                                               **({"variant": "read_other", "other": path.name} if path else {})))
            else:
                folder_warnings.append(warning(p.name, "file_not_used", count=1, mapping=mp.name))
        folder_warnings += [warning(p.name, "text_file_skipped", count=1, variant=kind, stem=p.stem)
                            for p, kind in skipped_text_tables(exports)]
    from helpers.data.ingest_join import touch_warnings

    warnings = folder_warnings + ingest_warnings(frames, reports) + touch_warnings(frames, reports, raws)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.ingest-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        if marker:
            (staging / marker).write_text("This data folder was made by the alignment workbook's report runner "
                                          "(python -m helpers.report.run); a later run replaces it whole.\n", encoding="utf-8")
        for name, frame in frames.items():
            neutralize_text_columns(frame, name).to_csv(staging / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
        if (out / DATA_FOLDER_CONFIG).is_file():  # a replaced data folder keeps its settings
            shutil.copy2(out / DATA_FOLDER_CONFIG, staging / DATA_FOLDER_CONFIG)
        elif own is not None and own.is_file():   # else the exports folder's settings come along with its tables
            shutil.copy2(own, staging / DATA_FOLDER_CONFIG)
        record = {"mapping": mp.name, "mapping_file": str(mp.path), "mapping_sha256": file_sha256(mp.path),
                  "exports": str(exports) if exports is not None else None,
                  "ingested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  "period": {"start": str(start) if start is not None else None, "end": str(end) if end is not None else None},
                  "currency": currency,
                  "tables": reports,
                  "warnings": [warning_record(w) for w in warnings]}
        (staging / REPORT_FILE).write_text(json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")
        try:
            wb = load_workbook(staging, config or load_config(staging))
        except DataValidationError as exc:
            rejected = out.with_name(f"{out.name}.rejected")
            if _written_by_ingest(rejected, marker):  # the last rejected ingest: replaced
                shutil.rmtree(rejected)
            elif rejected.exists() or rejected.is_symlink():  # a folder or file of that name of the user's: kept
                rejected = out.with_name(f"{out.name}.rejected-{os.getpid()}")
            staging.rename(rejected)
            raise IngestValidationError(exc.findings, rejected) from None
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return IngestResult(out=out, mapping_name=mp.name, mapping_path=mp.path, tables=reports, warnings=warnings,
                        validation_warnings=wb.warnings, as_of=wb.as_of.strftime("%Y-%m-%d"), currency=currency)


# --------------------------------------------------------------------------- printing
DELIMITER_NAMES = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _encoding_label(enc: str | None, fmt: str) -> str:
    if fmt != "csv":
        return fmt
    return f"csv, {ENCODING_NAMES.get(enc, enc)}"


def _rows(entry: dict) -> str:
    """'3 rows (8, 9, 10)' / '1 row (7)' / '12 rows (2, 3, 4, 5, 6, ...)': export row numbers, header = row 1."""
    more = ", ..." if entry["count"] > len(entry["rows"]) else ""
    return f"{entry['count']} row{'s' if entry['count'] != 1 else ''} ({', '.join(map(str, entry['rows']))}{more})"


def format_summary(result: IngestResult) -> str:
    """The ingest report as text (what the CLI prints)."""
    lines = [f"Ingested with mapping {result.mapping_name} ({result.mapping_path}) -> {result.out}"]
    for name, rep in result.tables.items():
        how = "" if rep["format"] == "sql" else f" ({_encoding_label(rep['encoding'], rep['format'])})"
        if rep.get("delimiter") not in (None, ","):
            how = how[:-1] + f", {DELIMITER_NAMES.get(rep['delimiter'], repr(rep['delimiter']))}-separated)"
        dropped = sum(d["count"] for d in rep["dropped"])
        lines.append(f"  {name}: {rep['rows_out']} rows from {rep['source']}{how}"
                     + (f"; {dropped} of {rep['rows_in']} export rows dropped" if dropped else ""))
        for target, d in rep.get("date_order", {}).items():
            lines.append(f"    {target}: numeric dates read {'day-first' if d['order'] == 'dmy' else 'month-first'} ({d['order']}; {d['how']})")
        for target, counts in rep["value_counts"].items():
            lines.append(f"    {target}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for d in rep["dropped"]:
            lines.append(f"    dropped {_rows(d)}: {d['reason']}")
        for a in rep["adjusted"]:
            lines.append(f"    adjusted {_rows(a)}: {a['what']}")
        for d in rep["defaulted"]:
            lines.append(f"    {d['column']} = {d['value']!r} in {d['count']} row(s) ({d['why']})")
        for s in rep["split"]:
            lines.append(f"    {s['column']}: {s['count']} cell(s) held several values; the first was kept")
        if rep["skipped"]:
            lines.append("    not in the export (left out): " + ", ".join(f"{s['column']} ({' | '.join(s['export'])})" for s in rep["skipped"]))
        for col, p in rep["dates"].items():
            if p["count"]:
                lines.append(f"    {col} as exported: {p['min']} .. {p['max']} ({p['count']} dates, {p['distinct_days']} distinct day{'s' if p['distinct_days'] != 1 else ''})")
    if result.currency:
        lines.append(f"Amounts are in {result.currency['code']} ({result.currency['how']}); the reports show {result.currency['code']}.")
    lines.append(f"Validated with helpers.data.load.load_workbook: OK (as_of {result.as_of}).")
    warnings = result.all_warnings
    if warnings:
        lines.append(f"Warnings ({len(warnings)}):")
        lines += [f"  - {w.render()}" for w in warnings]
    else:
        lines.append("No warnings.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    names = ", ".join(shipped_mappings())
    parser = argparse.ArgumentParser(prog="python -m helpers.data.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--exports", help="folder holding the exported files (only read, never changed)")
    parser.add_argument("--mapping", help=f"mapping YAML file, or a shipped mapping: {names}")
    parser.add_argument("--out", help="the canonical data folder to write (must be empty or new, unless --force)")
    parser.add_argument("--force", action="store_true", help="replace an existing data folder at --out")
    parser.add_argument("--config", default=None, help="settings file (YAML) used to validate, e.g. for the timezone")
    parser.add_argument("--start", default=None, help="YYYY-MM-DD: SQL sources with period_filter read from this date")
    parser.add_argument("--end", default=None, help="YYYY-MM-DD: SQL sources with period_filter read up to this date (inclusive)")
    parser.add_argument("--list-mappings", action="store_true", help="list the shipped mappings and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ingest; returns the exit status (0 done, 2 bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_mappings:
        for name, path in shipped_mappings().items():
            print(f"{name}: {load_mapping(path).description or path}")
        return 0
    if not args.mapping or not args.out:
        parser.print_usage(sys.stderr)
        print("error: --mapping and --out are required (and --exports for file exports)", file=sys.stderr)
        return 2
    try:
        for label, value in (("--start", args.start), ("--end", args.end)):
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise WorkbookError(f"{label} must be a date YYYY-MM-DD, got {value!r}", fix=f"For example {label} 2025-04-01.")
        config = load_config(args.out if Path(args.out).is_dir() else None, args.config) if args.config else None
        result = ingest(args.exports, args.mapping, args.out, force=args.force, config=config, start=args.start, end=args.end)
    except WorkbookError as exc:
        print(f"error: {exc.in_language(cli_language())}", file=sys.stderr)
        return 2
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
