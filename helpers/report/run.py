"""The quarterly report runner: `python -m helpers.report.run [--all | --period LABEL ...] [--lang ja] ...`.

For each period it executes every numbered notebook in notebooks/ with papermill
(parameters: the period and settings), exports each to self-contained HTML with
the code hidden, and publishes `OUT/<period>/` by renaming a finished staging
folder, so a failed run never replaces the last good report. Then it rewrites
`OUT/index.html`. Exit status: 0 all good, 1 some notebook failed, 2 bad input
(or an output folder that cannot be written or holds files the runner did not make).

One kernel for a run's periods: a period's notebooks run one after another in one kernel
(:func:`helpers.report.kernel.period_engine`), which starts once and imports the stack once, and the periods a
runner runs one after another (`--all`, several `--period`; not with `--jobs`, where each
period has its own) share it too (:class:`helpers.report.kernel.SharedKernel`). Before each notebook the kernel is made fresh again
(:func:`helpers.report.session.fresh_kernel_state`: empty namespace, execution count 1,
no open figure), so each notebook sees only its own parameters, and its outputs, failure
cell and executed copy are its own. What stays in the kernel is the modules and their
caches, such as the period's core figures that notebooks 00 and 02 share
(:func:`helpers.metrics.core.core_metrics`). A period that fails ends the kernel: the
next period starts a new one.

Crash and race safety: one run at a time per output folder (a file lock,
`OUT/.run.lock`, held for the whole run; a second run waits for it), every
folder the runner makes carries a marker file and a folder the runner did not
make is never replaced, `OUT/index.html` and `OUT/run.json` carry the runner's
mark and a user's file of those names is never replaced, and a run first
finishes what a killed run left (a half-done publish is rolled back to the last
good report, stale staging folders are removed) touching only marked folders.

The kernels live in :mod:`helpers.report.kernel` and the HTML export in :mod:`helpers.report.export`; this module
still names everything they define (tests and users patch and import them here).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.config import DATA_FOLDER_CONFIG, data_folder_config, lead_quality_columns, load_config, stated_language
from helpers.data.load import load_workbook
from helpers.data.periods import Period, latest_period, parse_period, period_of, periods_between
from helpers.data.schema import TABLES
from helpers.data.snapshot import SNAPSHOT_ENV, release_rows, write_snapshot
from helpers.errors import Phrase, PhraseList, ReaderGone, SaidFinding, WorkbookError, cli_language, coded_error, fill
from helpers.metrics.limits import data_end_of
from helpers.metrics.source import WAREHOUSE_ENV
from helpers.paths import KERNEL_NAME, NOTEBOOKS_DIR, REPORTS_DIR, SAMPLE_DATA_DIR
from helpers.report.export import (HIDE_TAG, LAB_TAG, LANG_TAG, NEEDS_TAG, empty_sections, export_html,  # noqa: F401
                                   html_exporter, partial_note, report_cells, static_cells)
from helpers.report.kernel import (BLAS_THREADS, FRESH_STATE, KERNEL_FIX, KERNEL_LOG, PERIOD_ENGINE,  # noqa: F401
                                   STATIC_ENV, SharedKernel, check_kernel, period_engine, quiet_kernel_manager,
                                   set_kernel_environment, stop_kernel)
from helpers.report.record import (FAILED_DIR, MARKER, check_data_replaceable, check_replaceable, check_top_files,
                                   foreign_files, make_own_dir, mark_report_dir, publish_dir, recover_publish, runner_made)
from helpers.storage import NO_SPACE_ERRNOS, NOT_WRITABLE_ERRNOS, locked


@dataclass
class PeriodResult:
    """What happened to one period: published or failed (which notebook, which cell, which error)."""

    label: str
    ok: bool
    notebooks: list[str] = field(default_factory=list)
    failed_notebook: str | None = None
    failed_cell: int | None = None
    error: str | None = None
    seconds: float = 0.0


#: --all runs at most this many periods unless --max-periods says more (10 years of quarters).
MAX_ALL_PERIODS = 40
#: How long a run waits for another run writing to the same output folder (seconds).
RUN_WAIT = 3600.0
#: errno values meaning the output disk refuses writes (full, read-only, no permission, file too large, quota).
DISK_ERRNOS = NO_SPACE_ERRNOS | NOT_WRITABLE_ERRNOS


def output_error(exc: OSError, out: Path) -> WorkbookError:
    """The workbook's error for an output folder that refuses a write (full, read-only, ...)."""
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return coded_error("out_refuses_write", None, out=str(out), reason=f"{exc.strerror or exc}{where}")


def template_safe(path: Path) -> str:
    """A path papermill will not read as a template: it formats paths with the parameters (str.format), so a
    folder named `Q1 {draft}` would fail or change; doubled braces format back to the literal path."""
    return str(path).replace("{", "{{").replace("}", "}}")


def notebook_paths(folder: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The report notebooks in reading order: `NN_name.ipynb`."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The runner's options, its --help in `lang` (helpers.cli_help: the label table's cli_run_*)."""
    from helpers.cli_help import HelpText

    say = HelpText("run", lang)
    parser = say.parser("python -m helpers.report.run")
    parser.add_argument("--data", default=str(SAMPLE_DATA_DIR), help=say("data"))
    parser.add_argument("--config", default=None, help=say("config"))
    parser.add_argument("--mapping", default=None, help=say("mapping"))
    parser.add_argument("--warehouse", default=None, metavar="URL", help=say("warehouse"))
    parser.add_argument("--schema", default=None, help=say("schema"))
    parser.add_argument("--table", action="append", default=[], metavar="NAME=TABLE", help=say("table"))
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--period", action="append", default=None, help=say("period"))
    which.add_argument("--all", action="store_true", help=say("all"))
    which.add_argument("--latest", action="store_true", help=say("latest"))
    parser.add_argument("--as-of", default=None, help=say("as_of"))
    parser.add_argument("--lang", choices=("en", "ja"), default=None, help=say("lang"))
    parser.add_argument("--out", default=str(REPORTS_DIR), help=say("out"))
    parser.add_argument("--jobs", type=int, default=1, help=say("jobs"))
    parser.add_argument("--max-periods", type=int, default=MAX_ALL_PERIODS, help=say("max_periods", default=MAX_ALL_PERIODS))
    parser.add_argument("--wait", type=float, default=RUN_WAIT, help=say("wait"))
    parser.add_argument("--notebooks", default=str(NOTEBOOKS_DIR), help=argparse.SUPPRESS)
    return parser


def select_periods(args, first_date, as_of, fy_start: int, last_date=None, lang: str | None = None) -> list[Period]:
    """The periods asked for: --period labels; --all every period from the first data date to as_of (the
    partly covered first and last ones too, so period sums add up to the totals; their reports say they
    are partial); else the latest complete one (the period holding as_of when none is complete). Neither --all nor
    the default ever gives a period --period refuses: none starts after the data's last record date `last_date`
    (None: not known), whatever as_of says. Its notes are in `lang` (None: ``--lang``, else the locale's); the runner
    passes the language of its errors (``--lang``, else the data's settings, else the locale: README, "Language").

    WorkbookError, before anything is run, for a period outside the data's extent (:func:`check_extent`)."""
    check_as_of(first_date, as_of, fy_start)
    lang = lang or cli_language(getattr(args, "lang", None))
    if args.period:
        periods = [parse_period(label, fy_start) for label in args.period]
        check_extent(periods, first_date, as_of, fy_start, last_date)
        return sorted(set(periods))
    last = _day(last_date)
    if args.all:   # up to as_of, but no period after the data's last record date: a later as_of adds no data
        periods = [p for p in periods_between(first_date, as_of, fy_start) if last is None or p.start <= last]
        if len(periods) > args.max_periods:
            raise coded_error("all_too_many", None, count=len(periods), first=periods[0].label, last=periods[-1].label,
                              max=args.max_periods)
        end = data_end_of(as_of, last)   # where the reports' coverage ends (helpers.metrics.limits)
        partial = [p.label for p in periods if p.start < first_date or p.end > end]
        if partial:
            print(fill("run_note_partial", {"periods": ", ".join(partial)}, lang), flush=True)
        return periods
    partial, complete = latest_period(first_date, as_of, fy_start, last)
    if complete:
        return [partial]
    print(fill("run_note_no_complete", {"period": partial.label}, lang), flush=True)
    return [partial]


def check_as_of(first_date, as_of, fy_start: int) -> None:
    """WorkbookError when as_of is before the data's first date (`first_date`; None: no dates, nothing to check):
    every period up to it ends before the data starts."""
    if first_date is None or pd.isna(first_date) or pd.Timestamp(as_of) >= pd.Timestamp(first_date).normalize():
        return
    first = pd.Timestamp(first_date)
    raise coded_error("as_of_before_data", None, as_of=f"{as_of:%Y-%m-%d}", first=f"{first:%Y-%m-%d}",
                      period=period_of(first, fy_start).label)


def _day(value) -> pd.Timestamp | None:
    """`value` as a day (a normalized Timestamp); None for None / NaT."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).normalize()


def check_extent(periods: list[Period], first_date, as_of, fy_start: int, last_date=None) -> None:
    """WorkbookError naming every period with no data: one that ends before the data's first date (`first_date`, the
    earliest created_at of the leads and opportunities), starts after the data's last record date (`last_date`, the
    latest date in any of their date columns; None: not known, not checked) or starts after as_of."""
    first, last = _day(first_date), _day(last_date)
    early = [p.label for p in periods if first is not None and p.end < first]
    if early:
        raise coded_error("periods_before_data", None, periods=", ".join(early), first=f"{first:%Y-%m-%d}",
                          period=period_of(first, fy_start).label)
    beyond = [p.label for p in periods if last is not None and p.start > last]
    if beyond:
        raise coded_error("periods_after_data", None, periods=", ".join(beyond), last=f"{last:%Y-%m-%d}",
                          period=period_of(last, fy_start).label)
    late = [p.label for p in periods if p.start > as_of]
    if late:
        raise coded_error("periods_after_as_of", None, periods=", ".join(late), as_of=f"{as_of:%Y-%m-%d}",
                          period=period_of(as_of, fy_start).label)


def run_period(period: Period, notebooks: list[Path], params: dict, out: Path, lang: str,
               kernel: SharedKernel | None = None, say: str | None = None) -> PeriodResult:
    """Execute and export every notebook for one period into a staging folder (the pages in `lang`), then publish it;
    its console lines in `say` (the runner's errors' language; None: `lang`).

    The notebooks run in `kernel`'s kernel (started if none runs; ended when the period fails), or, without
    `kernel`, in a kernel of the period's own, ended with it (the worker processes of ``--jobs``).
    Raises WorkbookError when the output folder refuses a write; the staging folder is removed whatever ends the period
    early (an error, an interrupt), so nothing half-made is left beside the reports.
    """
    set_kernel_environment()
    started = time.monotonic()
    label = period.label
    staging = _staging_folder(out, label)
    result = PeriodResult(label, ok=True)
    parameters = dict(params, period=label, metrics_path=str(staging / "metrics.json"))
    own_kernel = kernel is None
    if own_kernel:
        kernel = SharedKernel(staging / KERNEL_LOG)  # one kernel for the period's notebooks
    log_start = kernel.log_size()
    km = kernel.manager()
    try:
        for nb in notebooks:
            t0 = time.monotonic()
            _run_notebook(nb, staging, parameters, km, lang, out, result)
            if not result.ok:
                break
            result.notebooks.append(nb.name)
            print(fill("run_progress_ok", {"label": label, "notebook": nb.name, "seconds": f"{time.monotonic() - t0:.1f}"},
                       say or lang), flush=True)
    except BaseException:  # a full disk (WorkbookError), an interrupt: no kernel and no staging folder is left behind
        with contextlib.suppress(Exception):  # the error to report is the one raised
            kernel.close()
        shutil.rmtree(staging, ignore_errors=True)   # never published: the last good report stays
        raise
    if own_kernel or not result.ok:
        kernel.close()  # before publishing: the kernel log is complete and nothing writes into the folder any more
    if not own_kernel and not result.ok:
        (staging / KERNEL_LOG).write_bytes(kernel.log_since(log_start))
    _publish_period(result, staging, out, say or lang)
    result.seconds = time.monotonic() - started
    return result


def _staging_folder(out: Path, label: str) -> Path:
    """The period's staging folder in `out`, new and marked as the runner's (one an earlier process of the same id
    left there is removed first); WorkbookError (output_error) when `out` refuses the write."""
    staging = out / f".staging-{label}-{os.getpid()}"
    try:
        if runner_made(staging):  # an earlier process of the same id died here
            shutil.rmtree(staging)
        make_own_dir(staging)
    except OSError as exc:
        if runner_made(staging):
            shutil.rmtree(staging, ignore_errors=True)
        raise output_error(exc, out) from None
    return staging


def _run_notebook(nb: Path, staging: Path, parameters: dict, km, lang: str, out: Path, result: PeriodResult) -> None:
    """Execute one notebook with papermill in the kernel of `km` (:func:`period_engine`) into `staging` and export it
    to HTML in `lang` (:func:`export_html`). A failure (a cell's error, the kernel's death, the export) is recorded in
    `result` (ok False, the notebook, the cell, the error); a full or read-only output disk raises WorkbookError."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    executed = staging / nb.name
    try:
        done = pm.execute_notebook(static_cells(nb), template_safe(executed), parameters=parameters, kernel_name=KERNEL_NAME,
                                   cwd=str(nb.parent), progress_bar=False, log_output=False, engine_name=period_engine(),
                                   km=km, request_save_on_cell_execute=False, failure_path=str(executed), source_path=str(nb))
        export_html(executed, staging / f"{nb.stem}.html", lang, nb=done)  # the notebook papermill wrote, not read back
    except PapermillExecutionError as exc:
        if exc.ename in ("OSError", "PermissionError") and any(f"[Errno {e}]" in exc.evalue for e in DISK_ERRNOS):
            raise coded_error("out_refuses_write", None, out=str(out), reason=exc.evalue) from None
        result.ok, result.failed_notebook, result.failed_cell = False, nb.name, exc.cell_index
        result.error = f"{exc.ename}: {exc.evalue}"
    except OSError as exc:
        if exc.errno in DISK_ERRNOS:
            raise output_error(exc, out) from None
        result.ok, result.failed_notebook, result.error = False, nb.name, f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # the kernel died, export failed, ...: still isolate this period
        result.ok, result.failed_notebook, result.error = False, nb.name, f"{type(exc).__name__}: {exc}"


def _publish_period(result: PeriodResult, staging: Path, out: Path, lang: str = "en") -> None:
    """Publish the finished staging folder: a failed period's into OUT/_failed/<period> (its executed notebooks and
    kernel log, said on the console), a good one's into OUT/<period> (without the kernel log), removing the period's
    earlier failure folder unless it holds files the runner did not make."""
    label = result.label
    if not result.ok:
        failed = out / FAILED_DIR / label
        publish_dir(staging, failed)
        where = "" if result.failed_cell is None else Phrase("run_progress_at_cell", cell=result.failed_cell)
        print(fill("run_progress_failed", {"label": label, "notebook": result.failed_notebook, "where": where, "error": result.error,
                                           "kept": failed / result.failed_notebook, "log": failed / KERNEL_LOG}, lang), flush=True)
    else:
        (staging / KERNEL_LOG).unlink(missing_ok=True)  # kernel chatter; kept only with a failed run
        publish_dir(staging, out / label)
        failed = out / FAILED_DIR / label
        if failed.exists() and not (foreign := foreign_files(failed)):
            shutil.rmtree(failed, ignore_errors=True)
        elif failed.exists():
            print(fill("run_progress_foreign", {"label": label, "failed": failed, "files": ", ".join(foreign[:5])}, lang), flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the reports; returns the exit status. A reader that stops reading the console (``... | head``) ends only
    the console: the run goes on to publish and clean up (helpers.errors.ReaderGone)."""
    from helpers.cli_help import help_language

    args = build_parser(help_language(argv)).parse_args(argv)
    console = sys.stdout
    sys.stdout = ReaderGone(console)
    try:
        return _main(args)
    finally:
        sys.stdout = console


def _main(args) -> int:
    data = Path(args.data).resolve()
    out = Path(args.out).resolve()
    lang = cli_language(args.lang or stated_language(data, args.config))   # the report's rule (README, "Language")
    with contextlib.ExitStack() as stack:
        try:
            if out.is_file():   # a report page or any file given as --out: said before the data is read
                raise coded_error("ingest_out_file", None, "run", out=str(out))
            tables = _warehouse_tables(args)
            check_top_files(out)  # a user's index.html or run.json there: refused before anything is written
            if args.warehouse or args.mapping:  # the data goes into OUT/_data: take the output folder's lock first
                _lock_out(stack, out, args.wait, lang)
                check_data_replaceable(out / "_data")  # rewritten only when it is the runner's
            if args.warehouse:
                data = _copy_small_tables(args, out, tables)
            if args.mapping:
                from helpers.data.ingest import ingest

                settings = load_config(None, args.config, data_currency=False) if args.config else None  # exchange rates, timezone
                if data_folder_config(data) is not None:   # OUT/_data is the runner's: the exports' settings as they are now
                    (out / "_data" / DATA_FOLDER_CONFIG).unlink(missing_ok=True)
                result = ingest(data, args.mapping, out / "_data", force=True, config=settings, marker=MARKER)
                print(result.summary(lang), flush=True)   # as its errors
                data = result.out
            config = load_config(data, args.config, overrides={"language": args.lang, "as_of": args.as_of})
            if args.warehouse and not args.mapping:   # every check of the row tables runs in the warehouse: its tables and ids
                from helpers.metrics.warehouse_load import load_warehouse

                wb = load_warehouse(data, config, args.warehouse, args.schema, tables)
                _say_read(args, wb, data, lang)
            else:
                wb = load_workbook(data, config)
            if any(p.name == LEAD_QUALITY_NOTEBOOK for p in notebook_paths(Path(args.notebooks))):
                _check_lead_settings(args, wb, config, tables)   # notebook 05's settings: every problem, before any notebook
            from helpers.data.load import first_data_date, last_data_date

            early = [f for f in wb.findings if f.code == "far_date_before" and f.column == "created_at"]
            if args.all and early:
                raise coded_error("all_far_before", None, findings=PhraseList([SaidFinding(f) for f in early], "; "))
            periods = select_periods(args, first_data_date(wb), wb.as_of, config.fiscal_year_start_month, last_data_date(wb), lang)
            notebooks = notebook_paths(Path(args.notebooks))
            if not notebooks:
                raise coded_error("no_notebooks", None, folder=str(args.notebooks))
            check_kernel(KERNEL_NAME)  # this module's name: tests set it here
            if not (args.warehouse or args.mapping):
                _lock_out(stack, out, args.wait, lang)
            for line in recover_publish(out):
                print(fill("run_note_line", {"line": line}, lang), flush=True)
            for p in periods:
                check_replaceable(out / p.label)
                check_replaceable(out / FAILED_DIR / p.label)
            return _run(args, out, data, config, wb, periods, notebooks, lang)
        except WorkbookError as exc:
            print(f"error: {exc.in_language(lang)}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"error: {output_error(exc, out).in_language(lang)}", file=sys.stderr)
            return 2


def _warehouse_tables(args) -> dict[str, str]:
    """--table NAME=TABLE as {canonical name: warehouse table}; WorkbookError for a malformed one, or for --table /
    --schema without --warehouse (they would be ignored)."""
    if not args.warehouse:
        given = [flag for flag, value in (("--table", args.table), ("--schema", args.schema)) if value]
        if given:
            raise coded_error("warehouse_option_alone", " / ".join(given))
        return {}
    from helpers.metrics.warehouse import parse_table_options

    return parse_table_options(args.table)


def _copy_small_tables(args, out: Path, tables: dict[str, str]) -> Path:
    """--warehouse: copy the warehouse's small tables (helpers.metrics.warehouse_load.SMALL_TABLES: spend, checklist,
    initiatives, targets) into OUT/_data, the runner's marked folder; the rows of leads, opportunities and touches stay
    in the warehouse. With --mapping (a folder of CRM exports made from the warehouse's tables) every table is copied,
    the lead columns the lead_quality settings study included. WorkbookError as helpers.metrics.warehouse.export_folder."""
    from helpers.metrics.warehouse import export_folder
    from helpers.metrics.warehouse_load import SMALL_TABLES

    check_data_replaceable(out / "._data.tmp")  # the copy's staging folder, removed first by export_folder
    if args.mapping:
        studied = lead_quality_columns(load_config(None, args.config).lead_quality)  # notebook 05's lead columns
        data = export_folder(args.warehouse, out / "_data", args.schema, tables, {"leads": studied})
    else:
        data = export_folder(args.warehouse, out / "_data", args.schema, tables, names=SMALL_TABLES)
    mark_report_dir(data)
    return data


#: The notebook whose settings :func:`_check_lead_settings` checks: only a run that includes it is refused for them.
LEAD_QUALITY_NOTEBOOK = "05_lead_quality.ipynb"


def _check_lead_settings(args, wb, config, tables: dict[str, str]) -> None:
    """The ``lead_quality`` settings against the data's lead columns (helpers.metrics.lead_source.check_lead_settings:
    ConfigError listing every problem), before any notebook runs: a folder's leads with their extra columns, or the
    warehouse's leads table (its source opened once here). Nothing when the settings name no column."""
    if not lead_quality_columns(config.lead_quality):
        return
    from helpers.metrics.lead_source import check_lead_settings

    if not (args.warehouse and not args.mapping):
        from helpers.metrics.core import workbook_source

        check_lead_settings(workbook_source(wb), config.lead_quality)
        return
    from helpers.metrics.warehouse import WarehouseSource, connect

    con = connect(args.warehouse)
    try:
        check_lead_settings(WarehouseSource(con, config, args.schema, tables), config.lead_quality)
    finally:
        con.disconnect()


def _say_read(args, wb, data: Path, lang: str = "en") -> None:
    """The run's first line, in `lang`: the small tables copied into `data`, the row tables read in the warehouse, the
    tables it does not have."""
    where = fill("run_read_schema", {"schema": args.schema}, lang) if args.schema else fill("run_read_default_schema", {}, lang)
    named = {name: Path(f.path).name for name, f in wb.files.items()}
    copied = [f"{name} ({named[name]})" for name in TABLES if name in named and (data / f"{name}.parquet").is_file()]
    read = [fill("run_read_rows", {"name": name, "file": named[name], "rows": f"{wb.files[name].rows:,}"}, lang) for name in TABLES
            if name in named and not (data / f"{name}.parquet").is_file()]
    absent = [name for name in TABLES if name not in named]
    print(fill("run_read_warehouse", {"read": ", ".join(read), "where": where}, lang)
          + (fill("run_read_copied", {"copied": ", ".join(copied), "data": data}, lang) if copied else "")
          + (fill("run_read_absent", {"absent": ", ".join(absent)}, lang) if absent else ""), flush=True)


def _lock_out(stack: contextlib.ExitStack, out: Path, wait: float, lang: str = "en") -> None:
    """Create the output folder and hold its run lock until the run ends (WorkbookError if it cannot be had)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(exc, out) from None
    if not out.is_dir():
        raise coded_error("out_not_folder", None, out=str(out))
    stack.enter_context(locked(out / "run", Phrase("lock_what_write_reports", out=str(out)), timeout=wait,
                               wait_note=Phrase("lock_wait_reports", out=str(out)).in_language(lang)))


def _settle_heap(lang: str) -> bool:
    """Import what every notebook's run and export use (papermill, the HTML exporter in `lang`, its compiled templates),
    then move every live object out of the garbage collector's reach until the periods are done (``gc.freeze``; the
    caller undoes it with ``gc.unfreeze`` when this returns True). The runner's process holds a few hundred thousand
    long-lived objects (the stack's modules, the exporter's templates), and each full collection, triggered by the many
    short-lived objects of the kernel messages and the parsed pages, walked them all again: about 0.2 CPU s a period
    on the sample. A process that froze objects itself (a caller embedding :func:`main`) is left as it is (False). An
    exporter that cannot be built here is built by the first export, whose failure is that period's, as before."""
    import papermill  # noqa: F401  (its engines and nbclient: imported by the first notebook otherwise)

    with contextlib.suppress(Exception):
        html_exporter(lang)
    if gc.get_freeze_count():
        return False
    gc.collect()
    gc.freeze()
    return True


def _run(args, out: Path, data: Path, config, wb, periods: list[Period], notebooks: list[Path], say: str = "en") -> int:
    """Execute the periods and write the index page, holding the output folder's lock; the console's lines in `say`
    (the language of the runner's errors and notes)."""
    params = {"data_dir": str(data), "config_path": str(Path(args.config).resolve()) if args.config else "",
              "as_of": wb.as_of.strftime("%Y-%m-%d"), "lang": config.language}
    print(fill("run_progress_start", {"periods": ", ".join(p.label for p in periods), "data": data, "as_of": params["as_of"],
                                      "lang": config.language, "out": out}, say), flush=True)
    # One load per run: every notebook of every period opens this snapshot of the validated tables.
    own = out / f".snapshot-{os.getpid()}"  # the runner's (marked) folder: recovery removes it after a kill
    try:
        if runner_made(own):
            shutil.rmtree(own)
        snapshot = write_snapshot(wb, make_own_dir(own) / "tables")
        release_rows(wb)   # the kernels read the snapshot; the index page reads only as_of and the files
    except OSError:  # a full or read-only disk: leave no half-written snapshot behind
        if runner_made(own):
            shutil.rmtree(own, ignore_errors=True)
        raise
    previous = {name: os.environ.get(name) for name in (SNAPSHOT_ENV, WAREHOUSE_ENV)}
    os.environ[SNAPSHOT_ENV] = str(snapshot)
    if args.warehouse:   # notebooks 01-03 compute in the warehouse (helpers.report.session.Session.source)
        os.environ[WAREHOUSE_ENV] = json.dumps({"url": args.warehouse, "schema": args.schema,
                                                "tables": _warehouse_tables(args)})
    else:
        os.environ.pop(WAREHOUSE_ENV, None)
    froze = False
    kernel = None if args.jobs > 1 and len(periods) > 1 else SharedKernel(own / KERNEL_LOG)
    try:
        froze = _settle_heap(config.language)
        if kernel is None:
            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                results = list(pool.map(run_period, periods, [notebooks] * len(periods), [params] * len(periods),
                                        [out] * len(periods), [config.language] * len(periods), [None] * len(periods),
                                        [say] * len(periods)))
        else:
            results = [run_period(p, notebooks, params, out, config.language, kernel, say) for p in periods]
        from helpers.report.index_page import write_index

        write_index(out, wb, config, [r.label for r in results if r.ok], draw_png=_trend_in_kernel(kernel, own))
    finally:
        if kernel is not None:
            kernel.close()
        if froze:
            gc.unfreeze()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(own, ignore_errors=True)
    ok = [r for r in results if r.ok]
    lang = say
    print(fill("run_progress_done", {"ok": len(ok), "total": len(results), "out": out, "index": out / "index.html"}, lang), flush=True)
    for r in results:
        if not r.ok:
            print(fill("run_progress_kept", {"label": r.label, "notebook": r.failed_notebook, "error": r.error}, lang), flush=True)
    return 0 if len(ok) == len(results) else 1


def _trend_in_kernel(kernel: SharedKernel | None, folder: Path):
    """The index's trend chart drawer (``write_index``'s `draw_png`) that draws it in the run's kernel while one runs
    (:func:`helpers.report.index_page.trend_chart_file`, the frame and settings handed over in `folder`): the kernel
    has matplotlib imported, which this process would import for the one chart (about 0.5 CPU s a run). The same PNG
    bytes; without a kernel (``--jobs``, a period that failed last) or when it fails, drawn here as before."""
    from helpers.report.index_page import trend_chart_png

    def draw(frame: pd.DataFrame, config) -> str:
        import base64
        import pickle

        with contextlib.suppress(OSError):
            with open(folder / "trend.pickle", "wb") as fh:
                pickle.dump((frame, config), fh)
            code = f"__import__('helpers.report.index_page', fromlist=['_']).trend_chart_file({str(folder)!r})"
            if kernel is not None and kernel.run_silently(code):
                return base64.b64encode((folder / "trend.png").read_bytes()).decode("ascii")
        return trend_chart_png(frame, config)

    return draw


if __name__ == "__main__":
    from helpers.errors import run_cli

    sys.exit(run_cli(main))
