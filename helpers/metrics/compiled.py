"""Compiled SQL kept per query shape: the in-process DuckDB compiles each shape of a period's queries once per process.

A report's queries differ from one notebook and period to the next only in their dates and in the in-memory tables
they read (each notebook builds its engine tables from its own frames; helpers.metrics.engine). Ibis compiles every
query afresh, which on the sample cost more than DuckDB's execution (about 127 compiles a period, ~18 ms each).
:func:`cache_compiles` makes a backend's ``compile`` keep the SQL of a query's *shape*: the expression with each
date literal replaced by a sentinel date (the i-th distinct date of the query: 1001-01-01, 1002-01-01, ...) and
each in-memory or generated temporary table by a placeholder table of the same schema (``ibis_slot_table_0000``,
...). A query of a shape compiled before gets that shape's SQL with the sentinels written back as its own dates and
table names, which is the text Ibis would have compiled for it (the compiler renders a date literal as
``MAKE_DATE(y, m, d)`` and a table as its quoted name, whatever the value; checked once per backend by
:func:`_renders_as_expected`, and the tests compare cached and fresh SQL query by query).

A query the shape cannot stand for is compiled as before: one whose text literals could be mistaken for a
sentinel, one with more than 999 distinct dates or 9,999 tables, one whose compiled text lost a sentinel (a date
the compiler folded into something else), and any call with parameters or options.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import OrderedDict

#: Shapes kept per backend (least recently used dropped first); a period on the sample has about 130.
MAX_SHAPES = 2048
_DATE = re.compile(r"MAKE_DATE\(1(\d{3}), 1, 1\)")
_TABLE_PREFIX = "ibis_slot_table_"
_TABLE = re.compile(r'"ibis_slot_table_(\d{4})"')
#: Names Ibis generates for the tables it makes (ibis.util.gen_name: memtables, helpers.metrics.engine.materialized).
_GENERATED = "ibis_"


def cache_compiles(con) -> None:
    """Make `con.compile` (an Ibis DuckDB backend) keep the SQL of each query shape (module notes); idempotent, and
    nothing changes for a backend whose rendering of dates or tables this module does not know."""
    if getattr(con, "_workbook_shapes", None) is not None or getattr(con, "name", None) != "duckdb":
        return
    original = con.compile
    if not _renders_as_expected(original):
        return
    shapes: OrderedDict = OrderedDict()
    con._workbook_shapes = shapes

    def compile(expr, /, *, limit=None, params=None, pretty=False, **kwargs):
        if params or pretty or kwargs:
            return original(expr, limit=limit, params=params, pretty=pretty, **kwargs)
        return compiled_sql(original, shapes, expr, limit)

    con.compile = compile


def compiled_sql(original, shapes: OrderedDict, expr, limit=None) -> str:
    """The SQL of `expr` (``original(expr, limit=limit)``, the backend's own compile), from the shape's SQL kept in
    `shapes` when a query of its shape was compiled before."""
    found = shape_of(expr.op())
    if found is None:
        return original(expr, limit=limit)
    shape, dates, tables = found
    key = (shape, limit)
    template = shapes.get(key)
    if template is None:
        template = original(shape.to_expr(), limit=limit)
        if {int(m) - 1 for m in _DATE.findall(template)} != set(range(len(dates))):
            return original(expr, limit=limit)   # a date did not come out as its sentinel: no shape for this query
        shapes[key] = template
        if len(shapes) > MAX_SHAPES:
            shapes.popitem(last=False)
    else:
        shapes.move_to_end(key)
    sql = _DATE.sub(lambda m: _date_sql(dates[int(m.group(1)) - 1]), template)
    return _TABLE.sub(lambda m: f'"{tables[int(m.group(1))]}"', sql)


def shape_of(op):
    """(shape, dates, table names) of the Ibis operation `op`: the shape is `op` with its i-th distinct date literal
    replaced by the sentinel date 1001+i-01-01 and its j-th in-memory or generated table by the placeholder table
    ``ibis_slot_table_{j:04d}`` (same schema); None when the query cannot be shaped (module notes)."""
    import ibis.expr.operations as ops

    dates: dict[dt.date, int] = {}
    tables: list[str] = []
    mapping = {}
    for node in op.find((ops.Literal, ops.InMemoryTable, ops.DatabaseTable)):
        if isinstance(node, ops.Literal):
            if node.dtype.is_date() and type(node.value) is dt.date:
                index = dates.setdefault(node.value, len(dates))
                if index > 998:
                    return None
                mapping[node] = ops.Literal(dt.date(1001 + index, 1, 1), node.dtype)
            elif isinstance(node.value, str) and ("MAKE_DATE(" in node.value or _TABLE_PREFIX in node.value):
                return None
        elif isinstance(node, ops.InMemoryTable) or node.name.startswith(_GENERATED):
            if len(tables) > 9998:
                return None
            slot = f"{_TABLE_PREFIX}{len(tables):04d}"
            tables.append(node.name)
            mapping[node] = (ops.UnboundTable(name=slot, schema=node.schema) if isinstance(node, ops.InMemoryTable)
                             else node.copy(name=slot))
    shape = op.replace(mapping) if mapping else op
    return shape, list(dates), tables


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
