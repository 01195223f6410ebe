"""Bring CRM/MA exports in: `python -m helpers.data.ingest --exports DIR --mapping NAME|FILE --out DIR [--force]`.

Reads each export named by a column mapping (helpers.data.mapping; CSV in UTF-8 with or
without BOM or cp932, Excel, Parquet, or a SQL source), converts it to the canonical
tables, writes them as UTF-8 CSV with ISO dates into a staging folder, validates that
folder with `helpers.data.load.load_workbook` and only then renames it to `--out`. The
exports are only ever read (SQLite/DuckDB sources are opened read-only). A non-empty
`--out` is refused unless `--force`. Prints row counts, dropped rows and why, the
mapping and encodings used, and every warning. Exit status: 0 done, 2 bad input.

The runner calls `ingest(exports, mapping, out, ...)` and then loads `out` as usual.

The parts live by concern, every name still importable from here: helpers.data.ingest_files (finding and reading each
table's export file), helpers.data.ingest_checks (the checks the loader cannot make, and the warnings' record) and
helpers.data.ingest_summary (the printed report); this module reads the tables through the mapping, writes and
validates the data folder, and is the command.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.config import DATA_FOLDER_CONFIG, Config, data_folder_config, load_config
from helpers.data.load import FORMATS, file_sha256, load_workbook
from helpers.data.files import check_inside, skipped_text_tables
from helpers.errors import (HOW_TO_FIX, DataValidationError, Finding, Phrase, WorkbookError, both_languages, cli_language,
                            coded_error, run_cli, warning)
from helpers.labels import LANGUAGES, t
from helpers.data.mapping import Mapping, MissingColumnError, apply_mapping, load_mapping, shipped_mappings
from helpers.data.mapping_checks import no_data_rows_error
from helpers.data.cells import find_column
from helpers.data.schema import TABLES
from helpers.data.sql_source import read_sql_source
from helpers.data.values import neutralize_text_columns
from helpers.storage import replace_dir
from helpers.data.ingest_files import (  # noqa: F401 - re-exported: every name stays importable from here
    _candidates, read_header, refuse_lookalike, locate_file, read_export, encoding_note, read_csv_rows
)
from helpers.data.ingest_checks import (  # noqa: F401
    MIN_ROWS_FOR_BULK_CHECK, check_links_kept_zeros, check_products_report, data_currency, ingest_warnings, unused_file_warnings, warning_record
)
from helpers.data.ingest_summary import DELIMITER_NAMES, format_summary  # noqa: F401

REPORT_FILE = "ingest_report.json"
TABLE_ORDER = ("opportunities", "leads", "spend", "checklist", "initiatives", "targets", "touches")
OUTPUT_FILES = {f"{t}{ext}" for t in TABLES for ext in FORMATS} | {REPORT_FILE, DATA_FOLDER_CONFIG}


class IngestValidationError(DataValidationError):
    """The converted tables break the data contract; they are kept in `rejected` and not published."""

    def __init__(self, findings: list[Finding], rejected: Path):
        super().__init__(findings)
        self.rejected = rejected
        WorkbookError.__init__(self, self.message + "\n" + t("ingest_rejected_kept", "en").format(rejected=rejected),
                               fix=t("fix_ingest_rejected_kept", "en"))

    def in_language(self, lang: str) -> str:
        """The findings (:meth:`DataValidationError.in_language`), where the converted tables are kept, and the fix."""
        if lang == "en":
            return Exception.__str__(self)
        return (DataValidationError.in_language(self, lang) + "\n" + t("ingest_rejected_kept", lang).format(rejected=self.rejected)
                + f"\n  {HOW_TO_FIX[lang]}: {t('fix_ingest_rejected_kept', lang)}")


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
        """The ingest's warnings, then the load's but those an ingest warning already says
        (helpers.errors.said_by_ingest: a leads-only folder's no_opportunities after leads_only_export)."""
        from helpers.errors import said_by_ingest

        codes = {w.code for w in self.warnings}
        return self.warnings + [w for w in self.validation_warnings if not said_by_ingest(w.code, codes)]

    def summary(self, lang: str = "en") -> str:
        """The printed report in `lang` (en or ja): tables, sources and encodings, dropped rows, adjustments, warnings."""
        return format_summary(self, lang)


# --------------------------------------------------------------------------- the ingest
def _check_out(out: Path, exports: Path | None, force: bool, marker: str | None = None) -> None:
    out_r = out.resolve()
    if exports is not None:
        exp_r = exports.resolve()
        if out_r == exp_r or exp_r.is_relative_to(out_r) or out_r.is_relative_to(exp_r):
            raise coded_error("ingest_out_exports", None, out=str(out))
    if out.exists() and not out.is_dir():
        raise coded_error("ingest_out_file", None, out=str(out))
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise coded_error("ingest_out_not_empty", None, out=str(out))
        others = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES and p.name != marker)
        if others:
            raise coded_error("ingest_out_foreign", None, out=str(out), names=", ".join(others[:5]))


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
        raise coded_error("exports_missing", None, "" if exports is not None else "none", exports=str(exports))
    _check_out(out, exports if needs_files else None, force, marker)
    own = data_folder_config(exports) if exports is not None else None   # workbook.yaml in any case (WORKBOOK.YAML)
    kept = data_folder_config(out) if out.is_dir() else None
    if own is not None:
        check_inside(own, exports, "exports")   # copied into the data folder: never a file from outside the exports
    if kept is None and own is not None:
        settings_dir = exports   # the exports folder's own settings (fiscal year, target segment ...)
    else:
        settings_dir = out if out.is_dir() else None
    settings = config or load_config(settings_dir, data_currency=False)
    read = _read_tables(mp, exports, settings, start, end)
    frames, reports = read.frames, read.reports
    empty = no_data_rows_error(reports)
    if empty is not None:
        raise empty
    check_links_kept_zeros(frames, reports)
    check_products_report(frames, reports, read.raws, mp)
    currency = data_currency(reports, settings)
    if exports is not None and needs_files:
        read.warnings += unused_file_warnings(exports, mp, reports, read.joined, read.near_misses)
    from helpers.data.ingest_join import touch_warnings

    warnings = read.warnings + ingest_warnings(frames, reports) + touch_warnings(frames, reports, read.raws)
    record = {"mapping": mp.name, "mapping_file": str(mp.path), "mapping_sha256": file_sha256(mp.path),
              "exports": str(exports) if exports is not None else None,
              "ingested_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "period": {"start": str(start) if start is not None else None, "end": str(end) if end is not None else None},
              "currency": currency,
              "tables": reports,
              "warnings": [warning_record(w) for w in warnings]}
    wb = _publish(out, frames, record, own, config, marker)
    return IngestResult(out=out, mapping_name=mp.name, mapping_path=mp.path, tables=reports, warnings=warnings,
                        validation_warnings=wb.warnings, as_of=wb.as_of.strftime("%Y-%m-%d"), currency=currency)


# --------------------------------------------------------------------------- reading the tables
@dataclass
class _TablesRead:
    """What reading a mapping's tables gave: per table the canonical frame, its mapping report and the export's rows
    (joined columns included); the export files joins read; warnings about the folder (an optional table not found);
    near misses: (table, a file matching its pattern but lacking columns, the columns' names, where, the file used)."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    reports: dict[str, dict] = field(default_factory=dict)
    raws: dict[str, pd.DataFrame] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)
    warnings: list[Finding] = field(default_factory=list)
    near_misses: list = field(default_factory=list)


def _read_tables(mp: Mapping, exports: Path | None, settings: Config, start, end) -> _TablesRead:
    """Each table of mapping `mp`, in TABLE_ORDER, read from its SQL source or export file, joined with the files its
    joins name and converted by the mapping (helpers.data.mapping.apply_mapping). Errors as :func:`ingest`."""
    rates = settings.currency_rates
    read = _TablesRead()
    claimed: set[Path] = set()
    for name in sorted(mp.tables, key=TABLE_ORDER.index):
        tm = mp.tables[name]
        if tm.sql is not None:
            raw, source = read_sql_source(tm, start, end)
            info = {"source": source, "format": "sql", "encoding": None, "sha256": None}
        else:
            path = _export_file(name, tm, mp, exports, claimed, settings, read)
            if path is None:
                continue
            claimed.add(path)
            raw, encoding = read_export(path, tm)
            source = path.name
            info = {"source": source, "path": str(path), "format": FORMATS[path.suffix.lower()], "encoding": encoding,
                    "delimiter": raw.attrs.get("delimiter"), "sha256": file_sha256(path)}
        joins = []
        if tm.joins:   # columns looked up in other exports (helpers.data.ingest_join)
            from helpers.data.ingest_join import apply_joins

            raw, joins = apply_joins(raw, tm, exports)
            read.joined.update(j["file"] for j in joins if j.get("file"))
        read.raws[name] = raw
        frame, report = apply_mapping(raw, tm, source, rates=rates, target_currency=settings.currency_code if rates else None)
        report.update(info)
        if joins:
            report["joins"] = joins
        encoding_note(report, info["encoding"], tm.encoding is not None)
        read.frames[name], read.reports[name] = frame, report
    return read


def _export_file(name: str, tm, mp: Mapping, exports: Path, claimed: set[Path], settings: Config,
                 read: _TablesRead) -> Path | None:
    """The export file of table `name` (:func:`helpers.data.ingest_files.locate_file`), its near misses added to
    `read`; None for an optional table not found (a warning in `read`). WorkbookError when a required table has no
    file, naming the files the folder has; a file lacking a few of the columns is read first, so that the error lists
    every missing column and value problem of it."""
    rates = settings.currency_rates
    misses: list = []
    try:
        path = locate_file(exports, tm, claimed, misses)
    except MissingColumnError as exc:
        if getattr(exc, "path", None) is None and _leads_only(name, mp, getattr(exc, "best", None), read):
            return None
        if getattr(exc, "path", None) is None:
            raise
        # every missing column and every value problem of that file, in one go (apply_mapping raises them all)
        apply_mapping(read_export(exc.path, tm)[0], tm, exc.path.name, rates=rates,
                      target_currency=settings.currency_code if rates else None)
        raise
    read.near_misses += [(name, miss, lacking, tm.where, path) for miss, lacking, _, _ in misses if miss != path]
    if path is None and tm.headers_unconfirmed and misses:
        refuse_lookalike(name, tm, misses[0], mp.name)
    if path is None:
        if tm.optional:
            read.warnings.append(warning(exports.name, "table_not_found", count=1, table=name, patterns=", ".join(tm.files)))
            return None
        present = ", ".join(p.name for p in _candidates(exports)) or Phrase("part_no_table_files")
        text = [p.name for p, _ in skipped_text_tables(exports)]
        raise coded_error("no_export_file", tm.where, "text" if text else "", exports=str(exports),
                          patterns=", ".join(repr(f) for f in tm.files), present=present, text=", ".join(text),
                          first=text[0] if text else "", stem=Path(text[0]).stem if text else "")
    return path


def _leads_only(name: str, mp: Mapping, best: Path | None, read: _TablesRead) -> bool:
    """Whether a folder without an opportunities export holds a leads export instead: the file that came closest to
    the opportunities' columns (`best`), lacking more than half of them (else it is the opportunities export with
    columns renamed or left out, refused naming them), has every column the mapping's leads table needs. Then the data folder is
    leads-only (docs/data_dictionary.md accepts it): a warning in `read` names the file, and True."""
    leads = mp.tables.get("leads")
    if name != "opportunities" or best is None or leads is None or leads.sql is not None:
        return False
    try:
        header = read_header(best, leads.encoding, leads.sheet)
    except WorkbookError:
        return False
    if not all(find_column(header, names) is not None for names in leads.needed_columns()):
        return False
    read.warnings.append(warning(best.name, "leads_only_export", count=1, mapping=mp.name,
                                 where=mp.tables["opportunities"].where))
    return True


# --------------------------------------------------------------------------- writing the data folder
def _publish(out: Path, frames: dict[str, pd.DataFrame], record: dict, own: Path | None, config: Config | None,
             marker: str | None):
    """Write the canonical tables, the settings (`out`'s own, else the exports folder's `own`) and the ingest report
    `record` into a staging folder next to `out`, validate it (helpers.data.load.load_workbook) and only then put it
    in `out`'s place; the loaded Workbook. IngestValidationError when the tables break the contract: the staging
    folder is kept as OUT.rejected (a last rejected ingest replaced, a user's folder of that name kept)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    kept = data_folder_config(out) if out.is_dir() else None
    staging = out.with_name(f".{out.name}.ingest-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        if marker:
            (staging / marker).write_text("This data folder was made by the alignment workbook's report runner "
                                          "(python -m helpers.report.run); a later run replaces it whole.\n", encoding="utf-8")
        for name, frame in frames.items():
            neutralize_text_columns(frame, name).to_csv(staging / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
        if kept is not None:  # a replaced data folder keeps its settings
            shutil.copy2(kept, staging / DATA_FOLDER_CONFIG)
        elif own is not None:   # else the exports folder's settings come along with its tables
            shutil.copy2(own, staging / DATA_FOLDER_CONFIG)
        (staging / REPORT_FILE).write_text(json.dumps(both_languages(record), ensure_ascii=False, indent=2, default=str) + "\n",
                                           encoding="utf-8")
        try:
            wb = load_workbook(staging, config or load_config(staging))
        except DataValidationError as exc:
            rejected = out.with_name(f"{out.name}.rejected")
            if _written_by_ingest(rejected, marker):  # the last rejected ingest: replaced
                shutil.rmtree(rejected)
            elif rejected.exists() or rejected.is_symlink():  # a folder or file of that name of the user's: kept
                rejected = out.with_name(f"{out.name}.rejected-{os.getpid()}")
            staging.rename(rejected)
            raise IngestValidationError(in_exports(exc.findings, frames, record["tables"], rejected), rejected) from None
        replace_dir(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return wb


def in_exports(findings: list[Finding], frames: dict[str, pd.DataFrame], reports: dict[str, dict], rejected: Path) -> list[Finding]:
    """The contract's findings about the converted tables, each naming the export's file and rows (where its
    converted rows came from: the frame's ``export_rows``) and, in its message, the export's column and the rows of
    the converted file kept in `rejected`; a finding without rows, or of a table read from SQL, as it is."""
    import dataclasses

    out = []
    for f in findings:
        name = f.file.rsplit(".", 1)[0]
        frame, report = frames.get(name), reports.get(name, {})
        rows = frame.attrs.get("export_rows") if frame is not None else None
        if not f.rows or not rows or f.file != f"{name}.csv" or not report.get("source"):
            out.append(f)
            continue
        export_rows = tuple(rows[r - 2] if 2 <= r < len(rows) + 2 else r for r in f.rows)
        column = (report.get("columns") or {}).get(f.column) if f.column else None
        converted = Phrase("part_row" if len(f.rows) == 1 else "part_rows", rows=", ".join(str(r) for r in f.rows))
        place = Phrase("part_in_rejected_column" if column else "part_in_rejected", column=column or "", rows=converted,
                       file=f"{rejected.name}/{f.file}")
        out.append(dataclasses.replace(f, file=report["source"], rows=export_rows, message=f"{f.message} {place}",
                                       params={**f.params, "in_rejected": place}))
    return out


# --------------------------------------------------------------------------- the command
def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The command's options, its --help in `lang` (helpers.cli_help: the label table's cli_ingest_*)."""
    from helpers.cli_help import HelpText

    say = HelpText("ingest", lang)
    parser = say.parser("python -m helpers.data.ingest")
    parser.add_argument("--exports", help=say("exports"))
    parser.add_argument("--mapping", help=say("mapping", names=", ".join(shipped_mappings())))
    parser.add_argument("--out", help=say("out"))
    parser.add_argument("--force", action="store_true", help=say("force"))
    parser.add_argument("--config", default=None, help=say("config"))
    parser.add_argument("--start", default=None, help=say("start"))
    parser.add_argument("--end", default=None, help=say("end"))
    parser.add_argument("--list-mappings", action="store_true", help=say("list_mappings"))
    parser.add_argument("--lang", choices=LANGUAGES, default=None, help=say("lang"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ingest; returns the exit status (0 done, 2 bad input)."""
    from helpers.cli_help import help_language

    parser = build_parser(help_language(argv))
    args = parser.parse_args(argv)
    lang = cli_language(args.lang)
    if args.list_mappings:
        for name, path in shipped_mappings().items():
            print(f"{name}: {load_mapping(path).description or path}")
        return 0
    if not args.mapping or not args.out:
        parser.print_usage(sys.stderr)
        print(f"error: {t('ingest_required_options', lang)}", file=sys.stderr)
        return 2
    try:
        for label, value in (("--start", args.start), ("--end", args.end)):
            if value is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise coded_error("date_option", None, option=label, value=repr(value))
        config = load_config(args.out if Path(args.out).is_dir() else None, args.config) if args.config else None
        result = ingest(args.exports, args.mapping, args.out, force=args.force, config=config, start=args.start, end=args.end)
    except WorkbookError as exc:
        print(f"error: {exc.in_language(lang)}", file=sys.stderr)
        return 2
    print(result.summary(lang))
    return 0


if __name__ == "__main__":
    sys.exit(run_cli(main))
