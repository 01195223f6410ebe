"""Compiled SQL kept per query shape: the in-process DuckDB compiles each query shape once (its SQL kept on disk too).

A report's queries differ from one notebook and period to the next only in their dates and in the in-memory tables
they read (each notebook builds its engine tables from its own frames; helpers.metrics.engine). Ibis compiles every
query afresh, which on the sample cost more than DuckDB's execution (about 127 compiles a period, ~18 ms each).
:func:`cache_compiles` makes a backend's ``compile`` keep the SQL of a query's *shape*: the expression with each
date literal replaced by a sentinel date (the i-th distinct date of the query: 1001-01-01, 1002-01-01, ...) and
each in-memory or generated temporary table by a placeholder table of the same schema (``ibis_slot_table_0000``,
...). A query of a shape compiled before gets that shape's SQL with the sentinels written back as its own dates and
table names, which is the text Ibis would have compiled for it (but for the order of a drop's ``EXCLUDE``
list, which Ibis takes from a set ordered by hashes: the same query; the compiler renders a date literal as
``MAKE_DATE(y, m, d)`` and a table as its quoted name, whatever the value; checked once per backend by
:func:`_renders_as_expected`, and the tests compare cached and fresh SQL query by query).

The first query of a shape is compiled as it is, and the shape's SQL is read off its text (:func:`_templated`): each
``MAKE_DATE(y, m, d)`` of one of its dates written as that date's sentinel, each quoted name of one of its tables as
that table's placeholder. Building the shape itself (a copy of the query's graph with the sentinels in) took about
as long as a sixth of a compile (0.24 CPU s of a period's ~1.6 on the sample, one kernel). This is the text the shape
compiles to, as its graph is the query's with each date and table swapped one for one, provided every
``MAKE_DATE(`` of the text comes from one of those date literals: so a query holding a date literal the walk does not
number (a date typed otherwise, a date inside an array or struct), a date built from parts (``DateFromYMD``, which
DuckDB also writes MAKE_DATE), or a text literal naming one of its tables has its shape built and compiled as before
(:func:`shape_key`'s ``plain``), and a text where a MAKE_DATE of plain numbers is none of its dates, or one of its
dates or tables does not appear, keeps no shape.

A query the shape cannot stand for is compiled as before: one whose text literals could be mistaken for a
sentinel, one with more than 999 distinct dates or 9,999 tables, one whose compiled text lost a sentinel (a date
the compiler folded into something else), and any call with parameters or options.

The shapes' SQL is also kept on disk, shared by every process (helpers.metrics.sql_store: a report run's kernels,
the test processes, JupyterLab's kernels; ``WORKBOOK_SQL_CACHE``, ``off`` for none): :func:`shape_key`'s walk gives
each new structure number a digest as well (written out the same in every process; about 1 ms more for a query of
~120 new structures, against ~20 ms for its compile; nothing more for known structures), and a shape missing from
memory is read from the file of its root's digest, the compile's `limit` and the library versions before it is
compiled. A read text is used only when it passes the checks of a fresh one (:func:`_fits`: its date sentinels are
exactly the 1st to the n-th of the query's n dates, its table placeholders exactly those of its tables, and every
MAKE_DATE of numbers a sentinel for a shape read off a query's text); else the shape is compiled and its file
written again. A query holding a value of no stable text (an operation type made at run time, an object of an
unknown kind) has no digest and is kept in memory only.
"""
from __future__ import annotations

import datetime as dt
import decimal
import logging
import re
import threading
from collections import OrderedDict

#: Shapes kept per backend (least recently used dropped first); a period on the sample has about 130.
MAX_SHAPES = 2048
#: Structures numbered per backend before the numbers and kept shapes start afresh (a bound on their memory).
MAX_IDS = 500_000
_DATE = re.compile(r"MAKE_DATE\(1(\d{3}), 1, 1\)")
#: A date as the compiler writes a date literal (:func:`_date_sql`), or as DuckDB writes a date built from numbers.
_ANY_DATE = re.compile(r"MAKE_DATE\(\d+, \d+, \d+\)")
_TABLE_PREFIX = "ibis_slot_table_"
_TABLE = re.compile(r'"ibis_slot_table_(\d{4})"')
#: Names Ibis generates for the tables it makes (ibis.util.gen_name: memtables, helpers.metrics.engine.materialized).
_GENERATED = "ibis_"
_log = logging.getLogger(__name__)


class Shapes:
    """The kept shapes of one backend: ``sql`` maps a shape's key to its SQL (least recently used dropped first past
    :data:`MAX_SHAPES`); ``ids`` numbers each distinct structure a key is made of (:func:`shape_key`), ``digests``
    gives each number its digest (helpers.metrics.sql_store) when there is a `store` on disk (None: none)."""

    def __init__(self, store=None):
        self.sql: OrderedDict = OrderedDict()
        self.ids: dict = {}
        self.digests: dict = {}
        self.store = store
        self.lock = threading.Lock()   # the app's threads may compile at once (as helpers.metrics.core's memo allows)

    def __len__(self) -> int:
        return len(self.sql)

    def keep(self, key, template: str) -> None:
        """Keep `template`, the SQL of the shape `key`, the least recently used dropped past :data:`MAX_SHAPES`."""
        with self.lock:
            self.sql[key] = template
            if len(self.sql) > MAX_SHAPES:
                self.sql.popitem(last=False)

    def file_name(self, digest, limit) -> str | None:
        """The store's file name for the shape of root digest `digest` compiled with `limit`; None without a store or
        a digest (helpers.metrics.sql_store)."""
        return None if self.store is None or digest is None else self.store.file_name(digest, limit)

    def read(self, name: str | None, dates: list, tables: list[str], plain: bool) -> str | None:
        """The shape's SQL kept on disk under `name`, when it passes the checks of a fresh template (:func:`_fits`)."""
        if name is None:
            return None
        template = self.store.read(name)
        if template is None or _fits(template, dates, tables, plain):
            return template
        _log.debug("compiled SQL store: %s does not fit its query's dates and tables", name)
        return None

    def write(self, name: str | None, template: str, dates: list, tables: list[str], plain: bool) -> None:
        """Keep `template` on disk under `name` when it passes the checks it would have to pass when read."""
        if name is not None and _fits(template, dates, tables, plain):
            self.store.write(name, template)


def cache_compiles(con) -> None:
    """Make `con.compile` (an Ibis DuckDB backend) keep the SQL of each query shape (module notes); idempotent, and
    nothing changes for a backend whose rendering of dates or tables this module does not know."""
    if getattr(con, "_workbook_shapes", None) is not None or getattr(con, "name", None) != "duckdb":
        return
    original = con.compile
    if not _renders_as_expected(original):
        return
    shapes = Shapes(_store(con))
    con._workbook_shapes = shapes

    def compile(expr, /, *, limit=None, params=None, pretty=False, **kwargs):
        if params or pretty or kwargs:
            return original(expr, limit=limit, params=params, pretty=pretty, **kwargs)
        return compiled_sql(original, shapes, expr, limit)

    con.compile = compile


def compiled_sql(original, shapes: Shapes, expr, limit=None) -> str:
    """The SQL of `expr` (``original(expr, limit=limit)``, the backend's own compile), from the shape's SQL kept in
    `shapes` when a query of its shape was compiled before, in this process or (`shapes.store`) in another."""
    op = expr.op()
    with shapes.lock:
        if len(shapes.ids) > MAX_IDS:
            shapes.sql.clear()
            shapes.ids.clear()
            shapes.digests.clear()
        found = shape_key(op, shapes.ids, shapes.digests if shapes.store is not None else None)
        if found is None:
            return original(expr, limit=limit)
        key, dates, tables, mapping, plain, digest = found
        key = (key, limit)
        template = shapes.sql.get(key)
        if template is not None:
            shapes.sql.move_to_end(key)
    name = None
    if template is None:
        name = shapes.file_name(digest, limit)
        template = shapes.read(name, dates, tables, plain)
        if template is not None:
            shapes.keep(key, template)
    if template is None and not plain:
        sql = original(expr, limit=limit)
        template = _templated(sql, dates, tables)
        if template is None:
            return sql   # a date or table not where the shape needs it: no shape for this query
        shapes.keep(key, template)
        shapes.write(name, template, dates, tables, plain)
        return sql
    if template is None:
        shape = op.replace(mapping) if mapping else op
        template = original(shape.to_expr(), limit=limit)
        if {int(m) - 1 for m in _DATE.findall(template)} != set(range(len(dates))):
            return original(expr, limit=limit)   # a date did not come out as its sentinel: no shape for this query
        shapes.keep(key, template)
        shapes.write(name, template, dates, tables, plain)
    sql = _DATE.sub(lambda m: _date_sql(dates[int(m.group(1)) - 1]), template)
    return _TABLE.sub(lambda m: f'"{tables[int(m.group(1))]}"', sql)


def _fits(template: str, dates: list, tables: list[str], plain: bool) -> bool:
    """True when `template` can be a shape's SQL for a query of `dates` and `tables` (the checks a fresh template
    passes): its date sentinels are exactly the 1st to the n-th of the query's n dates, its table placeholders exactly
    those of its tables, and (a shape read off a query's text, not `plain`) every MAKE_DATE of numbers a sentinel."""
    if {int(m) - 1 for m in _DATE.findall(template)} != set(range(len(dates))):
        return False
    if {int(m) for m in _TABLE.findall(template)} != set(range(len(tables))):
        return False
    return plain or len(_ANY_DATE.findall(template)) == len(_DATE.findall(template))


def _store(con):
    """The on-disk store of `con`'s shapes (helpers.metrics.sql_store.store_dir), None when it is off."""
    from helpers.metrics.sql_store import Store, store_dir, type_text

    folder = store_dir()
    if folder is None:
        return None
    try:
        context = type_text(type(con.compiler))
    except Exception:   # noqa: BLE001 - a compiler this module cannot name: no store
        return None
    return Store(folder, context)


def shape_of(op):
    """(shape, dates, table names) of the Ibis operation `op`: the shape is `op` with its i-th distinct date literal
    replaced by the sentinel date 1001+i-01-01 and its j-th in-memory or generated table by the placeholder table
    ``ibis_slot_table_{j:04d}`` (same schema), i and j counted in :func:`shape_key`'s order; None when the query
    cannot be shaped (module notes)."""
    found = shape_key(op, {})
    if found is None:
        return None
    _, dates, tables, mapping, _, _ = found
    return (op.replace(mapping) if mapping else op), dates, tables


def shape_key(op, ids: dict, digests: dict | None = None):
    """(key, dates, table names, replacements, plain, digest) of the Ibis operation `op`, or None when it cannot be
    shaped.

    One depth-first walk over the operation's graph: each date literal becomes the sentinel of its value's position
    among the distinct dates met, each in-memory or generated table the placeholder of its position (`replacements`:
    node -> sentinel or placeholder node, for :func:`shape_of`), and every node a number in `ids` for its structure
    (its type and arguments, children by their numbers, sentinels and placeholders by position), so that two
    operations of the same shape get the same `key` (the root's number) without building the shape. `plain` is True
    when the shape's SQL cannot be read off the query's own text (module notes: a date the walk does not number, a
    date built from parts, a text literal naming one of the tables). With `digests` (number -> digest), each new
    number gets the digest of its structure (helpers.metrics.sql_store.structure_digest) in the same walk, and
    `digest` is the root's (None when it has none, or without `digests`)."""
    import ibis.expr.operations as ops

    from helpers.metrics.sql_store import structure_digest
    from ibis.common.graph import Node

    dates: dict[dt.date, int] = {}
    tables: list[str] = []
    mapping = {}
    numbers: dict = {}
    references: dict[tuple, int] = {}
    texts: list[str] = []
    plain = False

    def arg(value):
        if isinstance(value, Node):
            return numbers[value] if value in numbers else visit(value)
        if isinstance(value, tuple):
            return (tuple, *map(arg, value))
        if isinstance(value, dict):
            return (type(value), *((k, arg(v)) for k, v in value.items()))
        if type(value) is float or type(value) is decimal.Decimal:
            # equal values of other texts (0.0 and -0.0, Decimal 1.0 and 1.00) compile to other SQL: kept apart
            return type(value), value, repr(value)
        return type(value), value

    def visit(node):
        nonlocal plain
        if isinstance(node, ops.Literal) and node.dtype.is_date() and type(node.value) is dt.date:
            index = dates.setdefault(node.value, len(dates))
            if index > 998:
                raise _Unshaped
            mapping[node] = ops.Literal(dt.date(1001 + index, 1, 1), node.dtype)
            structure = ("date", index, node.dtype)
        elif isinstance(node, ops.InMemoryTable) or (isinstance(node, ops.DatabaseTable) and node.name.startswith(_GENERATED)):
            if len(tables) > 9998:
                raise _Unshaped
            slot = f"{_TABLE_PREFIX}{len(tables):04d}"
            tables.append(node.name)
            if isinstance(node, ops.InMemoryTable):
                mapping[node] = ops.UnboundTable(name=slot, schema=node.schema)
                structure = ("table", len(tables), node.schema)
            else:
                mapping[node] = node.copy(name=slot)
                structure = ("generated", len(tables), node.schema, node.source, node.namespace)
        elif isinstance(node, ops.Reference):
            # a self or join reference's identifier comes from a process-wide counter (a new one each time an
            # expression is built) and names nothing in the SQL: numbered by its position, as a date or table
            ref = references.setdefault((type(node), node.identifier), len(references))
            structure = (type(node), arg(node.parent), ("reference", ref))
        else:
            plain = _unreadable(node, texts) or plain
            structure = (type(node), *map(arg, node.__args__))
        number = numbers[node] = ids.setdefault(structure, len(ids))
        if digests is not None and number not in digests:
            digests[number] = structure_digest(structure, digests)
        return number

    try:
        key = visit(op)
    except (_Unshaped, RecursionError):
        return None
    plain = plain or any(name in text for name in tables for text in texts)
    return key, list(dates), tables, mapping, plain, (digests.get(key) if digests is not None else None)


def _unreadable(node, texts: list[str]) -> bool:
    """True when `node`, an operation :func:`shape_key` does not number, keeps its query's shape from being read off
    the compiled text (module notes: a date literal the walk does not number, a date built from parts). A text
    literal is added to `texts` (compared with the table names after the walk); _Unshaped when it could be mistaken
    for a sentinel or a placeholder."""
    import ibis.expr.operations as ops

    if isinstance(node, ops.Literal):
        if isinstance(node.value, str):
            if "MAKE_DATE(" in node.value or _TABLE_PREFIX in node.value:
                raise _Unshaped
            texts.append(node.value)
            return False
        return _holds_date(node.dtype)
    return isinstance(node, ops.DateFromYMD)


def _holds_date(dtype) -> bool:
    """True when values of Ibis type `dtype` are or hold dates (a date, or an array, map or struct with one)."""
    if dtype.is_date():
        return True
    if dtype.is_array():
        return _holds_date(dtype.value_type)
    if dtype.is_map():
        return _holds_date(dtype.key_type) or _holds_date(dtype.value_type)
    if dtype.is_struct():
        return any(_holds_date(t) for t in dtype.types)
    return False


def _templated(sql: str, dates: list, tables: list[str]) -> str | None:
    """The shape's SQL read off `sql`, the compiled text of a query with `dates` and `tables` (:func:`shape_key`'s, the
    query's literals numbered by the walk; module notes): each ``MAKE_DATE(y, m, d)`` of a date in `dates` written as its
    sentinel, each quoted table name as its placeholder. None when a MAKE_DATE of numbers is none of `dates`, or a date
    or a table does not appear."""
    sentinels = {_date_sql(value): f"MAKE_DATE({1001 + i}, 1, 1)" for i, value in enumerate(dates)}
    found = set()

    def sentinel(match):
        text = sentinels.get(match.group(0))
        if text is None:
            raise _Unshaped
        found.add(text)
        return text

    try:
        template = _ANY_DATE.sub(sentinel, sql)
    except _Unshaped:
        return None
    if len(found) != len(sentinels):
        return None
    for i, name in enumerate(tables):
        quoted = f'"{name}"'
        if quoted not in template:
            return None
        template = template.replace(quoted, f'"{_TABLE_PREFIX}{i:04d}"')
    return template


class _Unshaped(Exception):
    """A query :func:`shape_key` cannot shape (module notes)."""


def create_temp_table(con, name: str, expr):
    """``con.create_table(name, expr, temp=True)`` of a backend with kept shapes (:func:`cache_compiles`): the same
    temporary table (declared with `expr`'s schema, then filled by its query) and the same table expression back, the
    query's SQL from its kept shape instead of compiled again; plain ``create_table`` for any other backend."""
    if getattr(con, "_workbook_shapes", None) is None:
        return con.create_table(name, expr, temp=True)
    import sqlglot as sg
    import sqlglot.expressions as sge

    con._run_pre_execute_hooks(expr)
    sql = con.compile(expr)
    schema = expr.schema()
    quoted, dialect = con.compiler.quoted, con.dialect
    target = sg.table(name, catalog="temp", db="main", quoted=quoted)
    create = sge.Create(kind="TABLE", this=sge.Schema(this=target, expressions=schema.to_sqlglot_column_defs(dialect)),
                        properties=sge.Properties(expressions=[sge.TemporaryProperty()]))
    columns = ", ".join(sge.to_identifier(c, quoted=quoted).sql(dialect) for c in schema.names)
    with con._safe_raw_sql(create) as cur:
        cur.execute(f"INSERT INTO {target.sql(dialect)} ({columns}) {sql}").fetchall()
    return con.table(name, database=("temp", "main"))


def _date_sql(value: dt.date) -> str:
    return f"MAKE_DATE({value.year}, {value.month}, {value.day})"


def _renders_as_expected(compile) -> bool:
    """True when `compile` renders a date literal as ``MAKE_DATE(y, m, d)`` and a table as its quoted name (the forms
    :func:`compiled_sql` writes back)."""
    import ibis

    t = ibis.table({"d": "date"}, name=f"{_TABLE_PREFIX}0000")
    probe = t.filter(t.d.between(dt.date(1001, 1, 1), dt.date(2024, 2, 9)))
    try:
        sql = compile(probe)
    except Exception:   # noqa: BLE001 - any failure means: leave the backend's compile alone
        return False
    return (_date_sql(dt.date(2024, 2, 9)) in sql and _DATE.search(sql) is not None
            and f'"{_TABLE_PREFIX}0000"' in sql)
