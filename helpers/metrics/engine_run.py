"""Running the metric engine's expressions on a connection: the embedded DuckDB, its reads and what a query registers.

Moved out of helpers.metrics.engine (which re-exports every name here): :func:`default_backend` (the in-process
DuckDB connection through Ibis), :func:`to_arrow` (an expression's result as Arrow, the in-memory tables it
registered released afterwards: :func:`_executing`, but those an owner keeps: :func:`keep_registered`), the
temporary tables of :func:`helpers.metrics.engine.materialized` and :class:`helpers.metrics.engine.KeptTable`
(:func:`_temp_table`, ordered by code point: :func:`code_point_text`) and :func:`_quiet` (DuckDB's deprecation of
the name Ibis reads results with, not the user's concern). No expression is built here.
"""
from __future__ import annotations

import contextlib
import functools
import warnings
import weakref

from helpers.data.duckdb_compat import duckdb_compat


@functools.lru_cache(maxsize=1)
def default_backend():
    """The embedded engine: one in-process DuckDB connection through Ibis (created on first use), with
    helpers.data.files.duckdb_config, compiling each query shape once (helpers.metrics.compiled.cache_compiles)."""
    import ibis

    from helpers.data.files import duckdb_config

    from helpers.metrics.compiled import cache_compiles

    duckdb_compat()
    con = ibis.duckdb.connect(**duckdb_config())
    cache_compiles(con)   # each query shape compiled once per process (helpers.metrics.compiled)
    return con


@contextlib.contextmanager
def _quiet():
    """Ibis 12 reads DuckDB results through fetch_arrow_table(), which DuckDB 2 deprecates (same result): not the user's
    concern. After :func:`duckdb_compat` (the embedded engine, helpers.metrics.warehouse.connect) the old name is the
    current method and nothing warns; this covers a DuckDB connection a caller made and passed as `backend` first."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"fetch_arrow_table\(\) is deprecated", category=DeprecationWarning)
        yield


@contextlib.contextmanager
def _executing(con, expr):
    """Run `expr` on `con` quietly, then release the in-memory tables it registered.

    Ibis 12 keeps every memtable a backend registered until the process exits (``Backend._memtables`` and an atexit
    hook), so each table built from a frame (10M leads: about 1 GiB of Arrow) would stay for the kernel's life.
    Releasing it after the query (DuckDB: unregister the view; other backends: ibis' own finalizer) frees it once
    the expression is dropped; a later query on the same table registers it again (zero copy)."""
    import ibis.expr.operations as ops

    try:
        with _quiet():
            yield con
    finally:
        _release(con, expr.op().find(ops.InMemoryTable))


#: In-memory tables whose owner keeps them for its life (a FrameSource's engine tables: :func:`keep_registered`): once
#: registered in the embedded engine they stay registered until the table is collected, not only for one query.
_KEPT = weakref.WeakSet()


def keep_registered(table):
    """`table` (an engine table built from a frame and kept by its owner, e.g. helpers.metrics.source.FrameSource's)
    stays registered in the backend between queries (:func:`to_arrow`): registering it again for each query cost
    about a millisecond and changed DuckDB's catalog. Its registration is released when the table is collected."""
    import ibis.expr.operations as ops

    op = table.op()
    if isinstance(op, ops.InMemoryTable):
        _KEPT.add(op)
    return table


def to_arrow(con, expr):
    """``con.to_pyarrow(expr)`` (an Ibis table expression), releasing the in-memory tables it registered afterwards
    (:func:`_executing`) but those kept (:func:`keep_registered`). On the embedded engine (each query shape compiled
    once: helpers.metrics.compiled) the in-memory tables are found in one walk of the expression and the kept SQL runs
    directly on DuckDB (:func:`_arrow_of`), read as Ibis reads it (its pre-execute hooks walk the expression four
    times, for record-batch readers, spatial functions and UDFs, which the engine's tables never hold)."""
    import ibis.expr.operations as ops
    import ibis.expr.types as ir

    if vars(con).get("_workbook_shapes") is None or not isinstance(expr, ir.Table):   # the engine itself, not a wrapper
        with _executing(con, expr):
            return con.to_pyarrow(expr)
    from ibis.backends.duckdb.converter import DuckDBPyArrowData

    memtables = expr.op().find(ops.InMemoryTable)
    for op in memtables:
        if op not in con._memtables:
            con._register_in_memory_table(op)
            con._memtables.add(op)
            if op in _KEPT:
                _watch(con, op)
    try:
        table = _arrow_of(con.con, con.compile(expr))
        return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)
    finally:
        _release(con, memtables)


def _arrow_of(db, sql: str):
    """The rows of SELECT `sql` on DuckDB connection `db` as an Arrow table, planned once.

    ``db.sql(sql).to_arrow_table()`` (DuckDB 2's relation API) binds the statement when the relation is made, to know
    its columns, and parses and plans it again when the rows are read: about a third of each query's DuckDB time on
    the sample (a period's ~60 queries: 1.2 → 0.9 CPU s). ``execute`` plans it once; its DB-API result makes one more
    copy of the rows into Arrow, small for the engine's aggregates and bounded samples (the same columns, types and
    rows; helpers.data.duckdb_compat reads it as ``to_arrow_table``). A read cut short (an interrupt in JupyterLab,
    a failed fetch) aborts the pending result: while one is pending DuckDB refuses to register a table ("unfinished
    result"), the first thing the next query does. A connection serves one thread at a time, as DuckDB's own
    connections do (a thread of its own takes ``db.cursor()``); nothing in the workbook queries from two threads."""
    duckdb_compat()   # fetch_arrow_table on a DuckDB 2 connection (once per process)
    with _quiet():
        db.execute(sql)
        try:
            return db.fetch_arrow_table()
        except BaseException:
            with contextlib.suppress(Exception):
                db.abort()
            raise


def _unregister(con, name: str) -> None:
    with contextlib.suppress(Exception):
        con.con.unregister(name)


#: The kept tables' registrations that are released when the table is collected: {table: ids of the connections}.
_WATCHED = weakref.WeakKeyDictionary()


def _watch(con, op) -> None:
    """Unregister kept table `op` from DuckDB connection `con` when `op` is collected (once per connection)."""
    cons = _WATCHED.setdefault(op, set())
    if id(con) not in cons:
        cons.add(id(con))
        weakref.finalize(op, _unregister, con, op.name)


def _release(con, memtables) -> None:
    """Release the registrations of `memtables` on `con` (:func:`_executing`); a kept table's on DuckDB stays until the
    table is collected (:func:`_watch`), whichever path registered it (Ibis' own for an expression that is not a table)."""
    held = getattr(con, "_memtables", None)
    for op in memtables:
        if held is None or op not in held:
            continue
        if op in _KEPT and con.name == "duckdb":
            _watch(con, op)
            continue
        held.discard(op)
        with contextlib.suppress(Exception):
            if con.name == "duckdb":
                con.con.unregister(op.name)
            else:
                con._make_memtable_finalizer(op.name)()


def _temp_table(con, expr):
    """(name, table): `expr` computed into a new temporary table of `con`, its text ordered by code point."""
    import ibis

    from helpers.metrics.compiled import create_temp_table

    name = ibis.util.gen_name("workbook")
    with _executing(con, expr):
        table = create_temp_table(con, name, expr)
    code_point_text(con, table)
    return name, table


def _drop_table(con, name: str) -> None:
    with contextlib.suppress(Exception), _quiet():
        con.drop_table(name, force=True)


def code_point_text(con, table) -> None:
    """Temporary table `table` of backend `con` made to order its text by code point, as Python and DuckDB do: on
    PostgreSQL its text columns get the collation "C" (else they follow the database's, e.g. ICU or en_US: 'alice'
    before 'Bob', kana interleaved), so every sort, window order, min / max and comparison on them, and on the casts,
    trims and joins of them, is a data folder's. Other backends order text by code point already (DuckDB, BigQuery,
    Snowflake's default): nothing is done there."""
    text = [name for name, kind in table.schema().items() if kind.is_string()]
    if getattr(con, "name", "") == "postgres" and text:
        columns = ", ".join(f'ALTER COLUMN "{name}" TYPE text COLLATE "C"' for name in text)
        con.raw_sql(f'ALTER TABLE "{table.get_name()}" {columns}').close()
