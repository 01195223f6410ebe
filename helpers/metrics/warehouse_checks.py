"""A --warehouse run's row checks, run where the tables live: findings that name the warehouse's tables and ids.

The report runner no longer copies rows (helpers.metrics.warehouse_load reads the row tables by aggregates, these
checks included); :func:`load_copy` serves a full copy made by helpers.metrics.warehouse.export_folder (every table),
whose row numbers mean nothing to the user (its rows are sorted by id, and its files are Parquet files the runner wrote). :func:`load_copy` loads
the copy and puts, in place of the copy's row-check findings, the same checks run in the warehouse
(helpers.data.checks_engine.warehouse_findings): each names the warehouse table (``schema.table``) and the
first offending ids. The findings about the copy's files themselves (none for a warehouse's typed columns,
but a column of another type can still fail to read) stay as the loader made them.
"""
from __future__ import annotations

from pathlib import Path

from helpers.config import Config
from helpers.data.checks_engine import CODES, COLUMNS, warehouse_findings
from helpers.data.load import Workbook, load_workbook
from helpers.errors import DataValidationError, Finding
from helpers.metrics import engine
from helpers.metrics.warehouse import check_columns, connect, source_tables


def warehouse_check_findings(url: str, schema: str | None, tables: dict[str, str], as_of=None,
                             timezone: str | None = None) -> list[Finding]:
    """The row checks of the warehouse's leads, opportunities, spend and touches, run there: every finding names its
    table as ``schema.table`` (the table itself without a schema) and its first offending ids. `tables` maps
    canonical names to the warehouse's (--table NAME=TABLE; default the same name); a table absent from the schema is
    skipped, as an absent file is; `as_of` None = the latest date of leads and opportunities; dates and amounts read
    as a folder's (helpers.metrics.warehouse_values; `timezone` None = the shipped settings'). WorkbookError as
    :func:`helpers.metrics.warehouse.source_tables` / check_columns."""
    con = connect(url)
    present = source_tables(con, schema, {name: tables.get(name, name) for name in COLUMNS},
                            {name: f"--table {name}=" for name in tables if name in COLUMNS})
    where = schema or str(con.current_database)
    with engine._quiet():
        sources = {name: con.table(table, database=schema) for name, table in present.items()}
    for name, t in sources.items():
        check_columns(t, name, present[name], where)
    files = {name: f"{schema}.{table}" if schema else table for name, table in present.items()}
    from helpers.config import load_config
    from helpers.metrics.warehouse_values import typed_tables

    sources = typed_tables(sources, timezone or load_config().timezone)
    with engine._quiet():
        return warehouse_findings(con, sources, files, as_of)[0]


def _copy_files(data: Path) -> set[str]:
    """The file names of the copy's tables the row checks read (leads.parquet, ...)."""
    return {p.name for p in data.glob("*.parquet") if p.stem in COLUMNS}


def _in_warehouse(found: list[Finding], data: Path, checked: list[Finding]) -> list[Finding]:
    """`found` (the copy's findings) with its row-check findings replaced by `checked` (the warehouse's)."""
    copy = _copy_files(data)
    return [f for f in found if not (f.file in copy and f.code in CODES)] + checked


def load_copy(data: Path, config: Config, url: str, schema: str | None, tables: dict[str, str]) -> Workbook:
    """load_workbook of the runner's copy `data` of the warehouse at `url`, its row checks those of the warehouse
    (:func:`warehouse_check_findings`, at the copy's as_of). DataValidationError as load_workbook, its errors the
    warehouse's."""
    try:
        wb = load_workbook(data, config)
    except DataValidationError as exc:
        raise DataValidationError(_in_warehouse(exc.findings, data, warehouse_check_findings(url, schema, tables,
                                                                                             config.as_of, config.timezone))) from None
    wb.findings = _in_warehouse(wb.findings, data, warehouse_check_findings(url, schema, tables, wb.as_of, config.timezone))
    return wb
