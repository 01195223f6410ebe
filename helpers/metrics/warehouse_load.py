"""A --warehouse run's Workbook without rows (helpers.data.rowless.RowlessWorkbook), read by aggregates and a copy of the small tables.

The runner (helpers.report.run) copies only the small tables a person writes or a month per channel fills (spend,
checklist, initiatives, targets: :data:`SMALL_TABLES`, helpers.metrics.warehouse.export_folder) into OUT/_data;
the leads, opportunities and touches stay in the warehouse. :func:`load_warehouse` gives the Workbook the kernels
open (helpers.data.snapshot.write_snapshot writes it, helpers.data.rowless.read_rowless reads it back):

- the small tables typed and checked as a data folder's (:func:`small_tables`: their cells, required values, label
  cells, the checklist's and targets' rules);
- every row check of leads, opportunities, spend and touches run in the warehouse
  (helpers.data.checks_engine.warehouse_findings), which also resolves as_of; they run beside the cell checks'
  errors, the refused cells null and marked (helpers.metrics.warehouse_cells.typed_checked), so every problem is
  listed at once, as a folder's (a duplicate id with a bad date);
- the checks a folder's loader makes of the row tables' cells, from counts and distinct values computed there
  (helpers.metrics.warehouse_cells): required values, text that is not a date or number, several values in one
  label cell, segment values Excel turned into dates, invisible characters, channel placeholders and spellings, the
  touches' multi-valued cells, target channels no row has;
- the first data date (the earliest created_at of leads and opportunities) and each row table's size: one row each.

Every finding of a row table names it ``schema.table`` and its first offending ids, never a row (a table has none).
What comes back does not grow with the row tables: counts, distinct label values and the first few ids.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.config import Config
from helpers.data.load import SourceFile, find_table_file
from helpers.data.rawread import read_raw
from helpers.data.rowless import ROW_TABLES, Refused, RowlessWorkbook
from helpers.data.schema import TABLES
from helpers.data.validate import checked_as_of
from helpers.errors import DataValidationError, Finding, WorkbookError
from helpers.metrics import engine

#: The tables the runner copies and reads in full: everything but the row tables.
SMALL_TABLES = tuple(name for name in TABLES if name not in ROW_TABLES)
#: The codes of a small table whose shape is wrong (helpers.data.load._check_tables' own): no row check runs then.
SHAPE_ERRORS = ("missing_column", "missing_table", "unreadable_file")


def warehouse_names(present: dict[str, str], schema: str | None) -> dict[str, str]:
    """{canonical name: how a finding names it}: ``schema.table`` (the table alone without a schema)."""
    return {name: f"{schema}.{table}" if schema else table for name, table in present.items()}


def small_tables(data: Path, config: Config, names: dict[str, str]) -> tuple[dict[str, pd.DataFrame], dict[str, SourceFile],
                                                                               list[Finding]]:
    """The small tables of the runner's copy `data` typed as a folder's loader types them: ``(typed, files, findings)``.

    Each file's cells parsed by the contract (bad values and empty required ones are errors), its label cells checked
    (helpers.data.categories.label_findings), the checklist's and targets' rules (helpers.data.validate); findings name
    the warehouse's table (`names`). The row checks of spend run in the warehouse instead."""
    from helpers.data.categories import label_findings
    from helpers.data.parse import missing_columns, parse_table
    from helpers.data.validate import _written_tables

    typed, files, findings = {}, {}, []
    for name in SMALL_TABLES:
        path = find_table_file(data, name)
        if path is None:
            continue
        fname = names.get(name, name)
        try:
            raw, encoding = read_raw(path)
        except WorkbookError as exc:
            findings.append(Finding("error", fname, "unreadable_file", exc.message.removeprefix(f"{path.name}: "), exc.fix or "",
                                    params={"error": exc.code, **exc.params} if exc.code else {}))
            continue
        files[name] = SourceFile(name, fname, "warehouse", encoding, len(raw), "")
        findings += missing_columns(TABLES[name], raw, fname, warehouse=True)
        typed[name] = parse_table(TABLES[name], raw, fname, config, findings)
        findings += label_findings(name, typed[name], fname)
    if not any(f.code == "missing_column" for f in findings):   # the tables' rules read their required columns
        findings += _written_tables(typed, names, config.fiscal_year_start_month)
    return typed, files, findings


def _finish_small(typed: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The small tables as load_workbook hands them on: category columns categorical, checklist items whole numbers."""
    from helpers.data.load import _categorize

    out = dict(typed)
    for name in ("spend", "checklist"):
        if name in out:
            out[name] = _categorize(out[name], TABLES[name])
    if "checklist" in out:
        out["checklist"] = out["checklist"].assign(item=out["checklist"]["item"].astype("int64"))
    return out


def load_warehouse(data: Path, config: Config, url: str, schema: str | None, tables: dict[str, str]) -> RowlessWorkbook:
    """The RowlessWorkbook of a --warehouse run: the small tables from the runner's copy `data`, every other figure the
    load gives from the warehouse at `url` (see the module). DataValidationError with every finding when one is an
    error (as load_workbook); WorkbookError as helpers.metrics.warehouse (a missing table or column), or coded
    ``warehouse_query`` when the warehouse refuses a query (e.g. PostgreSQL casting a text date that is no date), the
    URL redacted."""
    from helpers.errors import coded_error, redact_url, scrub, url_secrets
    from helpers.metrics.warehouse import _backend_error

    try:
        return _load(data, config, url, schema, tables)
    except Exception as exc:  # noqa: BLE001 - a query the warehouse refused: the driver's own error types
        if not _backend_error(exc):
            raise
        reason = scrub(str(exc).strip(), url_secrets(url))
        raise coded_error("warehouse_query", "--warehouse", url=redact_url(url), error=f"{type(exc).__name__}: {reason}") from None


def _load(data: Path, config: Config, url: str, schema: str | None, tables: dict[str, str]) -> RowlessWorkbook:
    """:func:`load_warehouse` (the warehouse's own errors raised as they are)."""
    from helpers.data.checks_engine import COLUMNS, canonical_tables, warehouse_findings
    from helpers.metrics.warehouse import check_columns, connect, source_tables
    from helpers.metrics.warehouse_cells import (cell_findings, channel_findings, fold_small_channels, target_findings,
                                                 touches_split_findings, typed_checked)
    from helpers.metrics.warehouse_values import typed_tables

    con = connect(url)
    present = source_tables(con, schema, {name: tables.get(name, name) for name in TABLES},
                            {name: f"--table {name}=" for name in tables})
    where = schema or str(con.current_database)
    with engine._quiet():
        sources = {name: con.table(table, database=schema) for name, table in present.items() if name in ROW_TABLES}
    for name, t in sources.items():
        check_columns(t, name, present[name], where)
    names = warehouse_names(present, schema)
    typed, files, findings = small_tables(data, config, names)
    findings += cell_findings(con, sources, names)
    if any(f.code in SHAPE_ERRORS for f in findings):   # a table's shape is wrong: its rows are not checked (as a folder's)
        raise DataValidationError(findings)
    # the row checks run beside the cells' errors (every problem at once, as a folder's): refused cells null and marked
    refused = {(f.file, f.column) for f in findings if f.severity == "error"}
    spend = "spend" in present and (names["spend"], "month") not in refused   # a month that is none would stop the query
    checked = {**sources, **({"spend": con.table(present["spend"], database=schema)} if spend else {})}
    checked = typed_checked(checked, config.timezone)   # dates with an offset converted, 1,200万円 read: as a folder's
    with engine._quiet():
        found, as_of = warehouse_findings(con, {n: t for n, t in checked.items() if n in COLUMNS}, names, config.as_of)
    findings += found
    as_of = checked_as_of(findings, as_of, names["opportunities"])
    becomes, notes = channel_findings(con, sources, typed.get("spend"), names, config.normalize_channels)
    findings += notes
    typed = fold_small_channels(typed, becomes)
    if "targets" in typed:
        typed["targets"], notes = target_findings(con, sources, typed, names, becomes, config.normalize_channels)
        findings += notes
        if any(f.severity == "error" for f in notes):
            raise DataValidationError(findings)
    if "touches" in sources:
        findings += touches_split_findings(con, sources["touches"], names["touches"])
    src = canonical_tables(con, typed_tables(sources, config.timezone), names)
    sizes, first, last = _sizes_and_dates(con, src)
    files.update({name: SourceFile(name, names[name], "warehouse", None, sizes[name], "") for name in sources})
    small = _finish_small(typed)
    return RowlessWorkbook(data_dir=Path(data), config=config, as_of=pd.Timestamp(as_of).normalize(),
                           opportunities=Refused("opportunities"),
                           leads=Refused("leads") if "leads" in sources else None,
                           touches=Refused("touches") if "touches" in sources else None,
                           **{name: small.get(name) for name in SMALL_TABLES}, findings=findings, files=files,
                           first_date=first, last_date=last)


def _sizes_and_dates(con, src) -> tuple[dict[str, int], pd.Timestamp | None, pd.Timestamp | None]:
    """({row table: rows}, the earliest created_at of leads and opportunities or None, the data's last record date:
    the latest date in any of their date columns, not an open deal's closed_at (helpers.data.load.last_data_date,
    helpers.data.checks_engine.record_dates) or None): one aggregate row per table."""
    from helpers.data.checks_engine import record_dates

    sizes, firsts, lasts = {}, [], []
    for name in ROW_TABLES:
        t = src.get(name)
        if t is None:
            continue
        exprs = {"n": t.count()}
        if "created_at" in t.columns:
            exprs["first"] = t.created_at.min()
        if name != "touches":
            exprs.update({f"last_{c}": e.cast("date").max() for c, e in record_dates(t, name).items()})
        with engine._quiet():
            row = con.to_pyarrow(t.aggregate(**exprs)).to_pylist()[0]
        sizes[name] = int(row["n"])
        if name != "touches" and row.get("first") is not None:
            firsts.append(pd.Timestamp(row["first"]))
        lasts += [pd.Timestamp(v) for k, v in row.items() if k.startswith("last_") and v is not None]
    return sizes, min(firsts) if firsts else None, max(lasts) if lasts else None

