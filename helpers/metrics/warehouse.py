"""The same metrics in the user's warehouse: metrics.json's core figures computed where the CRM tables live.

`python -m helpers.metrics.warehouse --warehouse URL [--schema S] [--leads-table T] [--opportunities-table T] [--period P]`
connects with Ibis (``postgresql://user@host:5432/db``; any backend Ibis connects to by URL),
reads the canonical tables (contract section 1: the column names of docs/data_dictionary.md)
and runs the engine's expressions (helpers.metrics.engine) there: only aggregates come back,
and the rates are derived in Python by the same pure functions as for a data folder.
It prints the period's core figures (the layout of metrics.json: pipeline, funnel,
by_channel, by_segment) and the stage times (metrics.json's funnel.stage_times) as JSON.

The loader's rules that shape the figures are applied in the query, as the loader
applies them to a folder: channel cells get the loader's labels (placeholders, invisible
characters and spelling variants: :func:`channel_labels`); an opportunity's channel falls back to its lead's, then
'unknown'; owners become 'Owner 01', 'Owner 02', ... in sorted name order when
privacy.pseudonymize_owners is on; target fit follows the settings' target profile.
Row-level validation (helpers.data.validate) is not run in the warehouse: the tables are
expected to be validated exports or models (load them through a data folder first
to see every finding).

Nothing is skipped silently and nothing is said that should not be: a table named with an option
(--leads-table, the runner's --table) or the opportunities table missing from the schema, and a
required column missing from a table, stop the command naming what is there (coded errors
warehouse_table_missing / warehouse_column_missing); settings come from the defaults and --config
only; a DuckDB file must exist and is opened read-only; no output shows any part of a password
(helpers.errors.redact_url, check_url_password). Errors end in one message and exit status 2.

:func:`upload` writes a loaded Workbook's canonical tables into a warehouse schema
(the test loads the sample data this way). :func:`attribution_tables` gives the touches, leads and
opportunities as the attribution's engine tables (helpers.metrics.attribution_paths.attribution_figures
computes metrics.json's attribution block on them, fetching only aggregates).

The parts live by concern, every name still importable from here: helpers.metrics.warehouse_tables (the tables and
columns found and checked), helpers.metrics.warehouse_canonical (the tables made canonical in the query) and
helpers.metrics.warehouse_source (WarehouseSource, the core figures, stage times and attribution tables); this
module connects, uploads, copies a warehouse into a data folder and is the command.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute

from helpers.config import check_settings_path, load_config
from helpers.data.periods import parse_period
from helpers.errors import WorkbookError, check_url_password, cli_language, coded_error, redact_url, scrub, url_secrets
from helpers.metrics import engine
from helpers.metrics.warehouse_tables import (  # noqa: F401 - re-exported: every name stays importable from here
    parse_table_options, source_tables, check_columns, raw_tables, _schema_name
)
from helpers.metrics.warehouse_canonical import (  # noqa: F401
    LEADS_COLUMNS, OPPS_COLUMNS, canonical, canonical_of, channel_labels, touches_engine_table, touches_columns,
    touches_positions, _complete, _engine_table, _temporary
)
from helpers.metrics.warehouse_source import (  # noqa: F401
    WarehouseSource, as_of_of, warehouse_core_metrics, warehouse_stage_times, attribution_tables
)


def connect(url: str, writable: bool = False):
    """An Ibis connection to the warehouse at `url` (e.g. postgresql://user@127.0.0.1:5432/db, duckdb:///abs/crm.duckdb).

    A DuckDB file must exist and is opened read-only (input data is only read; `writable` allows creating it, for
    :func:`upload`). WorkbookError when the URL's password holds @ / ? # as they are, when the file is missing or the
    connection fails; the message shows the URL without its password (:func:`helpers.errors.redact_url`) and
    never a part of it.
    """
    import ibis

    shown = redact_url(url)
    check_url_password(url, shown)
    engine.duckdb_compat()
    kwargs = {}
    path = duckdb_file(url)
    if path is not None and not writable:
        if not path.is_file():
            here = (Path.cwd() / path.name).is_file() and path.parent == Path(path.anchor)
            raise coded_error("duckdb_file_missing", shown, "here" if here else "", path=str(path), cwd=str(Path.cwd()),
                              name=path.name)
        kwargs["read_only"] = True
    try:
        return ibis.connect(url, **kwargs)
    except Exception as exc:  # the driver's own error types differ by backend
        reason = scrub(str(exc).strip(), url_secrets(url))
        raise coded_error("warehouse_connect", "--warehouse", url=shown, error=f"{type(exc).__name__}: {reason}") from None


def duckdb_file(url: str) -> Path | None:
    """The DuckDB database file `url` names, as ibis.connect reads it: ``duckdb:///abs/path.duckdb`` (an absolute
    path after the third slash), ``duckdb://relative/path.duckdb`` (from the current folder), or a path ending in
    .duckdb; None for another backend or an in-memory database."""
    from urllib.parse import urlparse

    if re.match("[A-Za-z]:", url):
        return Path(url) if url.endswith(".duckdb") else None
    parts = urlparse(url)
    if parts.scheme == "duckdb":
        pieces = [p for p in (parts.netloc, parts.path[bool(parts.netloc):]) if p]
        if not pieces or pieces == [":memory:"] or pieces[0].startswith(("md:", "motherduck:")):
            return None
        return Path(*pieces).absolute()
    path = parts.netloc + parts.path
    return Path(path).absolute() if parts.scheme in ("", "file") and path.endswith(".duckdb") else None


def upload(tables: dict[str, pd.DataFrame | None], con, schema: str,
           extra_columns: dict[str, tuple[str, ...]] | None = None) -> None:
    """Write each canonical table of `tables` (leads, opportunities, spend, ...: the contract's columns the frame has,
    plus the columns `extra_columns` names for that table) into `schema` (created; tables replaced). Text and category
    columns are written as text, nulls as NULL; other columns keep their types (dates, numbers)."""
    from helpers.data.schema import TABLES

    con.create_database(schema, force=True)
    for name, frame in tables.items():
        if frame is None or name not in TABLES:
            continue
        wanted = [*TABLES[name].column_names, *(extra_columns or {}).get(name, ())]
        out = frame[[c for c in dict.fromkeys(wanted) if c in frame.columns]].copy()
        for col in out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype) or out[col].dtype == "str":
                out[col] = out[col].astype(object).where(out[col].notna(), None)
        con.create_table(name, pa.Table.from_pandas(out, preserve_index=False), database=schema, overwrite=True)


def export_folder(url: str, out, schema: str | None = None, tables: dict[str, str] | None = None,
                  extra_columns: dict[str, list[str]] | None = None, names=None):
    """Copy the canonical columns of the warehouse's tables into `out` as Parquet files (a data folder); returns `out`.

    `names`: the canonical tables to copy (default every one); the others are still looked up and checked (a table
    named in `tables` or the opportunities table missing, a required column missing: the same errors), never read.
    The report runner copies only the small tables (helpers.metrics.warehouse_load.SMALL_TABLES): the rows of leads,
    opportunities and touches stay in the warehouse.

    `tables` maps a canonical table name (leads, opportunities, spend, checklist, initiatives, targets)
    to its name in the warehouse (default: the same name). A table named in `tables` must exist, and so must the
    opportunities table (WorkbookError naming the schema and its tables, :func:`source_tables`); another table
    absent from the warehouse is skipped, as an absent file is in a data folder. Only the contract's columns are
    read (no names, e-mails or other extra columns), plus the columns `extra_columns` names for a table that it has
    (the runner names the lead columns the lead_quality settings study, as the snapshot keeps them: notebook 05);
    a missing required column is a WorkbookError.
    """
    import shutil

    import pyarrow.parquet as pq

    from helpers.data.schema import TABLES

    con = connect(url)
    stated = tables or {}
    present = source_tables(con, schema, {name: stated.get(name, name) for name in TABLES},
                            {name: f"--table {name}=" for name in stated})
    where = _schema_name(con, schema)
    with engine._quiet():
        sources = {name: con.table(source, database=schema) for name, source in present.items()}
    for name, t in sources.items():
        check_columns(t, name, present[name], where)
    out = Path(out)
    staging = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name, t in sources.items():
            if names is not None and name not in names:
                continue
            try:
                with engine._quiet():
                    wanted = dict.fromkeys([*TABLES[name].column_names, *(extra_columns or {}).get(name, ())])
                    data = _in_order(con.to_pyarrow(t.select(*[c for c in wanted if c in t.columns])), TABLES[name])
            except Exception as exc:  # noqa: BLE001 - the warehouse refused the read: the driver's own error types
                if not _backend_error(exc):
                    raise
                raise coded_error("warehouse_read", "--warehouse", url=redact_url(url), table=present[name], schema=where,
                                  error=f"{type(exc).__name__}: {scrub(str(exc).strip(), url_secrets(url))}") from None
            pq.write_table(data, staging / f"{name}.parquet")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


def _in_order(data: pa.Table, table) -> pa.Table:
    """The rows of a copied table in one order whatever the warehouse returned (SQL promises none, and PostgreSQL's
    differs from DuckDB's): by the table's id (contract `table.key`), a table without one by all its columns; sorted
    here, by code point, not by the warehouse's collation. The figures that depend on row order (the lead score's
    seeded sample, ties) are then the same on every warehouse, and the same as a folder whose rows are in that order."""
    keys = [table.key] if table.key in data.column_names else data.column_names
    return data.take(pa.compute.sort_indices(data, [(k, "ascending", "at_end") for k in keys]))


def main(argv: list[str] | None = None) -> int:
    """Command line: print the period's core figures computed in the warehouse, as JSON; 2 (and the error) when it cannot."""
    from helpers.cli_help import HelpText, help_language

    say = HelpText("warehouse", help_language(argv))   # the locale's language, as its errors
    parser = say.parser("python -m helpers.metrics.warehouse")
    parser.add_argument("--warehouse", required=True, help=say("warehouse"))
    parser.add_argument("--schema", default=None, help=say("schema"))
    parser.add_argument("--leads-table", default="leads", help=say("leads_table"))
    parser.add_argument("--opportunities-table", default="opportunities", help=say("opportunities_table"))
    parser.add_argument("--config", default=None, help=say("config"))
    parser.add_argument("--period", default=None, help=say("period"))
    parser.add_argument("--as-of", default=None, help=say("as_of"))
    args = parser.parse_args(argv)
    try:
        figures = _figures(args)
    except WorkbookError as exc:
        print(f"error: {exc.in_language(cli_language())}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a query the warehouse refused: the driver's own error types
        if not _backend_error(exc):
            raise
        reason = scrub(str(exc).strip(), url_secrets(args.warehouse))
        refused = coded_error("warehouse_query", "--warehouse", url=redact_url(args.warehouse),
                              error=f"{type(exc).__name__}: {reason}")
        print(f"error: {refused.in_language(cli_language())}", file=sys.stderr)
        return 2
    from helpers.storage import to_jsonable

    json.dump(to_jsonable(figures), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


def _figures(args) -> dict:
    """The CLI's figures: settings from the defaults and --config only (never a workbook.yaml of the current folder)."""
    check_settings_path(args.config)   # a folder given as --config: the settings path is wrong, say so first
    config = load_config(None, args.config, overrides={"as_of": args.as_of})
    if args.period:
        parse_period(args.period, config.fiscal_year_start_month)  # a wrong label is said before connecting
    con = connect(args.warehouse)
    tables = (args.period, args.schema, args.leads_table, args.opportunities_table)
    core = warehouse_core_metrics(con, config, *tables)
    return {**_explained(con, config, core, args), "stage_times": warehouse_stage_times(con, config, *tables)}


def _explained(con, config, core: dict, args) -> dict:
    """`core` with the folder's ``null_reasons`` (helpers.metrics.limits.explain_core on the opportunities' data facts,
    one aggregate row fetched), so that no null figure the command prints comes without its reason."""
    from helpers.metrics.limits import data_facts_of, explain_core
    from helpers.metrics.warehouse_source import _source

    source = _source(con, config, args.schema, args.leads_table, args.opportunities_table)
    return explain_core(core, data_facts_of(source, core["as_of"]))


def _backend_error(exc: BaseException) -> bool:
    """An error raised by Ibis or a database driver (a refused query), not by the workbook's own code."""
    return type(exc).__module__.split(".")[0].lstrip("_") in {"ibis", "duckdb", "psycopg", "psycopg2", "sqlalchemy",
                                                               "pyarrow", "sqlglot", "google", "snowflake", "pyspark"}


if __name__ == "__main__":
    from helpers.errors import run_cli

    raise SystemExit(run_cli(main))
