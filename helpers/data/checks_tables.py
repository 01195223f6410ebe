"""The canonical tables the row checks read, put into the engine they run on (helpers.data.checks_engine).

A data folder's typed tables (helpers.data.load) enter the in-process DuckDB with their row position (column ``_row``,
:func:`folder_tables`); a warehouse's tables are read as they are, with the loader's values made in the query
(:func:`canonical_tables`). Both come out as :class:`CheckTables`: the columns of COLUMNS, ids and text trimmed, empty =
null, outcome lower case, dates as calendar days, amounts as float64. :func:`code_point_order` orders text by code point
whatever the database's collation.
"""
from __future__ import annotations

import contextlib
import functools
import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

#: The row-position column a folder's tables carry into the engine (0 = the first data row).
ROW = "_row"
#: The prefix of the columns marking a folder's cells the loader refused as unparseable (``_unread_closed_at``: true
#: where closed_at held text that is not a date); such a cell is null among the values but was not left empty.
UNREAD = "_unread_"

#: Numbers the views a folder's tables are registered under (unique within the process, so nested uses never clash).
_VIEWS = itertools.count()
#: The canonical columns the checks read, by kind: id (text, the links), text, outcome, date (a calendar day), number.
COLUMNS = {
    "leads": {"lead_id": "id", "created_at": "date", "mql_at": "date", "sql_at": "date", "first_sales_touch_at": "date",
              "opportunity_id": "id", "disqualified_at": "date", "disqualify_reason": "text"},
    "opportunities": {"opportunity_id": "id", "created_at": "date", "closed_at": "date", "outcome": "outcome",
                      "amount": "number", "lead_id": "id"},
    "spend": {"month": "date", "channel": "text", "amount": "number"},
    "touches": {"touch_id": "id", "lead_id": "id", "touched_at": "date", "opportunity_id": "id"},
}


@dataclass
class CheckTables:
    """The canonical tables the checks read (Ibis tables on one backend `con`), with the file (or warehouse table)
    each finding names; `positions`: the tables carry ROW (a folder), so findings name rows, else ids."""

    con: object
    tables: dict
    files: dict[str, str]
    positions: bool

    def get(self, name: str):
        return self.tables.get(name)


# --------------------------------------------------------------------------- tables into the engine
@functools.lru_cache(maxsize=1)
def folder_backend():
    """The in-process DuckDB connection a data folder's checks run on (created on first use; settings:
    helpers.data.files.duckdb_config)."""
    import ibis

    from helpers.data.duckdb_compat import duckdb_compat
    from helpers.data.files import duckdb_config

    duckdb_compat()
    return ibis.duckdb.connect(**duckdb_config())


@contextlib.contextmanager
def _quiet():
    """Ibis 12 reads DuckDB results through fetch_arrow_table(), which DuckDB 2 deprecates (same result); after
    helpers.data.duckdb_compat (folder_backend, helpers.metrics.warehouse.connect) nothing warns, this covers a
    connection a caller made and passed in first."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"fetch_arrow_table\(\) is deprecated", category=DeprecationWarning)
        yield


def _arrow_column(series: pd.Series, kind: str) -> pa.Array:
    """One typed column of a folder's frame as Arrow: text as string, dates as timestamps, numbers as float64."""
    if kind == "date":
        return pa.array(pd.to_datetime(series).to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"), from_pandas=True)
    if kind == "number":
        return pa.array(pd.to_numeric(series, errors="coerce").astype("float64"), type=pa.float64(), from_pandas=True)
    try:
        values = pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        values = pa.array(series.astype("string"), from_pandas=True)
    return values if values.type == pa.string() else values.cast(pa.string())


@contextlib.contextmanager
def folder_tables(typed: dict[str, pd.DataFrame | None], files: dict[str, str], unread: dict | None = None,
                  skip: dict | None = None):
    """A folder's typed tables (helpers.data.load: leads, opportunities, spend, touches; None = absent) in the in-process
    engine as :class:`CheckTables`: the columns of COLUMNS (a missing one null) and ROW, each row's position in its
    file, and per column of `unread` ({table: {column: bool array}}, the cells the loader refused as unparseable) a
    boolean UNREAD + column (:func:`unread`). `skip` ({table: positions}, a file's total rows: helpers.data.total_rows)
    leaves those rows out of the tables, so no check counts or names them; the others keep their ROW. The tables are
    released on exit."""
    con = folder_backend()
    names, tables = [], {}
    try:
        for name, frame in typed.items():
            if frame is None or name not in COLUMNS:
                continue
            rows = len(frame)
            kept = _kept_rows(rows, (skip or {}).get(name))   # every position, or those of the records (no total row)
            frame = frame.iloc[kept] if len(kept) < rows else frame
            data = {c: _arrow_column(frame[c], kind) for c, kind in COLUMNS[name].items() if c in frame.columns}
            data[ROW] = pa.array(kept)
            for c, mask in ((unread or {}).get(name) or {}).items():
                if c in COLUMNS[name] and len(mask) == rows:
                    data[UNREAD + c] = pa.array(np.asarray(mask, dtype=bool)[kept] if len(kept) < rows else np.asarray(mask, dtype=bool))
            view = f"_workbook_checks_{name}_{next(_VIEWS)}"
            con.con.register(view, pa.table(data))
            names.append(view)
            with _quiet():
                tables[name] = _complete(con.table(view), name)
        yield CheckTables(con, tables, files, positions=True)
    finally:
        for view in names:
            with contextlib.suppress(Exception):
                con.con.unregister(view)


def _kept_rows(rows: int, skipped) -> np.ndarray:
    """The positions 0..`rows`-1 (int64) without the `skipped` ones (None or empty: all of them)."""
    every = np.arange(rows, dtype=np.int64)
    if skipped is None or not len(skipped):
        return every
    return np.setdiff1d(every, np.asarray(skipped, dtype=np.int64))


def _complete(t, name: str):
    """`t` with every column of COLUMNS[name] (a missing one null, of its kind's type), dates as calendar days."""
    import ibis

    types = {"id": "string", "text": "string", "outcome": "string", "date": "date", "number": "float64"}
    cols = {c: (t[c] if c in t.columns else ibis.null()).cast(types[kind]) for c, kind in COLUMNS[name].items()}
    kept = [c for c in t.columns if c == ROW or c.startswith(UNREAD)]
    return t.select(**cols, **{c: t[c] for c in kept})


def unread(t, column: str):
    """Boolean: the cells of `column` in check table `t` the loader refused as unparseable (the UNREAD column a folder's
    loader or a warehouse's cell checks made: helpers.metrics.warehouse_cells.typed_checked; false where there is none).
    A check of empty cells leaves them out: they were written, wrongly, and bad_date / bad_number already says so."""
    import ibis

    return t[UNREAD + column] if UNREAD + column in t.columns else ibis.literal(False)


def canonical_tables(con, sources: dict, files: dict[str, str]) -> CheckTables:
    """A warehouse's tables (`sources`: {canonical name: Ibis table}) as :class:`CheckTables`, with the loader's values
    made in the query: ids and text trimmed (Ibis' strip), empty = null, outcome lower case, dates cast to days,
    amounts to float64; a missing optional column is null; UNREAD columns kept. No row positions: findings name ids."""
    import ibis

    tables = {}
    for name, t in sources.items():
        if name not in COLUMNS:
            continue
        cols = {}
        for c, kind in COLUMNS[name].items():
            if c not in t.columns:
                continue
            if kind in ("id", "text", "outcome"):
                text = t[c].cast("string").strip()
                text = ibis.ifelse(text == "", ibis.null().cast("string"), text)
                cols[c] = text.lower() if kind == "outcome" else text
            else:
                cols[c] = _day_or_number(t[c], c, kind)
        marks = {c: t[c] for c in t.columns if c.startswith(UNREAD)}   # refused cells (warehouse_cells.typed_checked)
        tables[name] = _complete(t.select(**cols, **marks), name)   # the required columns are there (warehouse.check_columns)
    return CheckTables(con, tables, files, positions=False)


def _day_or_number(column, name: str, kind: str):
    """A warehouse's date or number column as the loader reads it: a month (spend) as its first day (text YYYY-MM...,
    or a date or timestamp truncated to its month); another date written as ISO text through a timestamp (so
    2025-04-01T10:30:00 reads as its day); anything else as it is (cast by :func:`_complete`)."""
    if kind != "date":
        return column
    text = column.type().is_string()
    if name == "month":
        return (column.strip().substr(0, 7) + "-01").cast("date") if text else column.cast("date").truncate("M")
    return column.strip().cast("timestamp") if text else column


def code_point_order(value, con):
    """Text column `value` as a key that orders by code point (as Python and DuckDB order text) on backend `con`:
    on PostgreSQL its UTF-8 bytes (``convert_to(value, 'UTF8')``: bytes compare as code points), whatever the
    database's collation (en_US, ICU, ... order case, punctuation and kana otherwise); elsewhere the value itself."""
    return _utf8_bytes()(value, "UTF8") if getattr(con, "name", "") == "postgres" else value


@functools.lru_cache(maxsize=1)
def _utf8_bytes():
    """PostgreSQL's convert_to(text, encoding) -> bytea as an Ibis function."""
    import ibis

    @ibis.udf.scalar.builtin(name="convert_to")
    def convert_to(value: str, encoding: str) -> bytes:
        """The bytes of `value` in `encoding`."""

    return convert_to
