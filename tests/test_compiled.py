"""Compiled SQL kept per query shape (helpers/metrics/compiled.py): a query of a shape compiled before gets the SQL Ibis
itself compiles for it, and its figures do not change."""
from __future__ import annotations

import datetime as dt
import re

import ibis
import pandas as pd
import pytest

from helpers.metrics import compiled, engine
from helpers.metrics.source import FrameSource


def _frames(shift: int = 0):
    day = pd.Timestamp("2025-04-01") + pd.Timedelta(days=shift)
    leads = pd.DataFrame({"lead_id": ["L1", "L2", " L3", "L4"], "channel": ["Web", "Event", None, "Web"],
                          "created_at": [day, day + pd.Timedelta(days=40), day + pd.Timedelta(days=95), pd.NaT],
                          "mql_at": [day + pd.Timedelta(days=3), pd.NaT, day + pd.Timedelta(days=99), pd.NaT],
                          "sql_at": [day + pd.Timedelta(days=9), pd.NaT, pd.NaT, pd.NaT], "opportunity_id": ["O1", None, "O3", None]})
    opps = pd.DataFrame({"opportunity_id": ["O1", "O2", "O3"], "lead_id": ["L1", "L2", None], "channel": ["Web", "Event", "Web"],
                         "created_at": [day + pd.Timedelta(days=20), day + pd.Timedelta(days=50), day + pd.Timedelta(days=100)],
                         "closed_at": [day + pd.Timedelta(days=60), pd.NaT, day + pd.Timedelta(days=150)],
                         "outcome": ["won", "open", "lost"], "amount": [1200.0, 300.0, None]})
    return leads, opps


def _queries(source, start: dt.date, last: dt.date, as_of: dt.date):
    """A report's kinds of query: grouped pipeline and funnel counts, the windows of a cross join, quantiles."""
    opps, leads = source.opps(["channel"]), source.leads(["channel"])
    flags = engine.lead_flags_expr(leads, opps, start, last, as_of)
    quarters = [(start, last), (start - dt.timedelta(days=91), start - dt.timedelta(days=1)), (start, start)]
    return [engine.pipeline_expr(opps, start, last, as_of, ["channel"]),
            engine.lead_funnel_expr(flags, start, last, ["channel"]),
            engine.windows_pipeline_expr(source.opps(), quarters, as_of),
            engine.day_quantiles_expr(source.leads(), source.opps(), as_of, 0.5, 0.75)]


def _same(sql: str) -> str:
    """`sql` with each EXCLUDE list sorted: Ibis lists a drop's columns in the order of its set (a frozenset of names,
    ordered by their hashes), so two compiles of one query may list them differently; the query is the same."""
    return re.sub(r"EXCLUDE \(([^)]*)\)", lambda m: "EXCLUDE (" + ", ".join(sorted(m.group(1).split(", "))) + ")", sql)


def _plain(con):
    return lambda expr, limit=None: type(con).compile(con, expr, limit=limit)


PERIODS = [(dt.date(2025, 4, 1), dt.date(2025, 6, 30), dt.date(2025, 9, 30)),
           (dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 9, 30)),   # last = as_of: one date less
           (dt.date(2025, 1, 1), dt.date(2025, 3, 31), dt.date(2025, 12, 31))]


def test_every_query_of_a_later_period_gets_the_sql_ibis_compiles_for_it_from_the_kept_shape():
    con = engine.default_backend()
    plain = _plain(con)
    shapes = compiled.Shapes()
    for i, (start, last, as_of) in enumerate(PERIODS):
        leads, opps = _frames(shift=10 * i)   # new frames: new in-memory tables, as each notebook has
        source = FrameSource(leads, opps)
        before = len(shapes)
        for expr in _queries(source, start, last, as_of):
            assert _same(compiled.compiled_sql(plain, shapes, expr)) == _same(plain(expr))
        if i == 1:
            assert len(shapes) > before   # last = as_of: one date where the first period has two, another shape
        if i == 2:
            assert len(shapes) == before   # distinct dates as in the first period: its shapes serve every query
    assert len(shapes) >= 4


def test_the_engine_connection_compiles_through_the_kept_shapes_and_its_figures_do_not_change():
    con = engine.default_backend()
    assert con._workbook_shapes is not None
    leads, opps = _frames()
    source = FrameSource(leads, opps)
    start, last, as_of = PERIODS[0]
    expr = engine.pipeline_expr(source.opps(["channel"]), start, last, as_of, ["channel"])
    fresh = ibis.duckdb.connect()   # a connection of its own: Ibis' compile, no kept shape
    assert _same(con.compile(expr)) == _same(type(fresh).compile(fresh, expr))
    got = engine.run(expr)
    # O1 created 2025-04-21 and won 2025-05-31 (1200), O2 created 2025-05-21 and open; O3 created in July
    assert engine.total(got)["created"] == 2 and engine.total(got)["won_amount"] == 1200.0
    assert engine.by_dim(got, "channel")["Web"]["won"] == 1 and engine.by_dim(got, "channel")["Event"]["open_count"] == 1
    later = engine.pipeline_expr(FrameSource(*_frames(shift=1)).opps(["channel"]), start, last, as_of, ["channel"])
    count = len(con._workbook_shapes)
    assert engine.total(engine.run(later))["created"] == 2
    assert len(con._workbook_shapes) == count   # same shape: compiled from the kept SQL


@pytest.mark.parametrize("text", ["MAKE_DATE(1001, 1, 1)", "ibis_slot_table_0000"])
def test_a_query_whose_text_could_pass_for_a_sentinel_is_compiled_as_it_is(text):
    t = ibis.table({"d": "date", "s": "string"}, name="t")
    expr = t.filter((t.s == text) & (t.d <= dt.date(2025, 1, 1)))
    assert compiled.shape_of(expr.op()) is None
    shapes = compiled.Shapes()
    con = engine.default_backend()
    assert _same(compiled.compiled_sql(_plain(con), shapes, expr)) == _same(_plain(con)(expr)) and not shapes


def test_a_null_date_and_dates_in_a_table_stay_in_the_shape():
    t = ibis.memtable(pd.DataFrame({"d": pd.to_datetime(["2025-01-02"]).date}))
    expr = t.filter(t.d.isnull() | (t.d == ibis.literal(None, type="date")) | (t.d >= dt.date(2024, 5, 6)))
    shape, dates, tables = compiled.shape_of(expr.op())
    assert dates == [dt.date(2024, 5, 6)] and tables == [t.op().name]
    con = engine.default_backend()
    shapes = compiled.Shapes()
    assert _same(compiled.compiled_sql(_plain(con), shapes, expr)) == _same(_plain(con)(expr))
    assert "MAKE_DATE(1001, 1, 1)" in next(iter(shapes.sql.values())) and '"ibis_slot_table_0000"' in next(iter(shapes.sql.values()))


def test_a_frame_source_builds_each_engine_table_once_for_its_life():
    leads, opps = _frames()
    source = FrameSource(leads, opps)
    assert source.opps(["channel"]) is source.opps(["channel"])
    assert source.leads() is source.leads() and source.leads(["channel"]) is not source.leads()
    # its tables of other keys share the canonical columns built once (Arrow arrays, not copies)
    a, b = source.opps().op().data.to_pyarrow(None), source.opps(["channel"]).op().data.to_pyarrow(None)
    assert a.column("created_at").chunk(0) is b.column("created_at").chunk(0) or \
        a.column("created_at").chunk(0).buffers()[1].address == b.column("created_at").chunk(0).buffers()[1].address
    assert FrameSource(leads, opps).opps() is not source.opps()   # another source, its own tables


def test_a_temporary_table_from_a_kept_shape_is_the_table_ibis_creates():
    con = engine.default_backend()
    leads, opps = _frames()
    source = FrameSource(leads, opps)
    links = engine.linked_expr(source.leads(["channel"]), source.opps(), PERIODS[0][2])
    ours = compiled.create_temp_table(con, "ibis_workbook_test_ours", links)
    theirs = con.create_table("ibis_workbook_test_theirs", links, temp=True)
    try:
        assert ours.schema() == theirs.schema() and ours.op().namespace == theirs.op().namespace
        rows = sorted((tuple(r.values()) for r in con.to_pyarrow(ours).to_pylist()), key=repr)
        assert rows == sorted((tuple(r.values()) for r in con.to_pyarrow(theirs).to_pylist()), key=repr)
        # L1-O1 (both sides), L2-O2 (the deal's lead_id), L3-O3 (' L3' trimmed; no channel); L4 has no created_at
        assert rows == [("Event", "O2"), ("Web", "O1"), (None, "O3")]
    finally:
        con.drop_table("ibis_workbook_test_ours", force=True)
        con.drop_table("ibis_workbook_test_theirs", force=True)


def test_a_self_join_built_again_gets_its_kept_shape():
    """A table's view (Ibis' SelfReference) takes a new number from a process-wide counter each time a query is built;
    the shape numbers it by position, so the query built again for another date reuses the kept SQL, which is Ibis' own."""
    con = engine.default_backend()
    plain, shapes = _plain(con), compiled.Shapes()
    leads, opps = _frames()
    source = FrameSource(leads, opps)

    def query(day: dt.date):
        o = source.opps()
        v = o.view()
        j = o.join(v, o.lead_id == v.lead_id)
        f = j.filter(j.created_at <= day)
        return f.aggregate(n=f.count())

    first, second = query(dt.date(2025, 5, 1)), query(dt.date(2025, 9, 1))
    assert compiled.shape_key(first.op(), shapes.ids)[0] == compiled.shape_key(second.op(), shapes.ids)[0]
    for expr in (first, second):
        assert _same(compiled.compiled_sql(plain, shapes, expr)) == _same(plain(expr))
    assert len(shapes) == 1
    # O1 (created 04-21) and O2 (05-21) each pair with themselves (lead L1, L2); O3 has no lead
    assert [engine.to_arrow(con, q).to_pylist()[0]["n"] for q in (first, second)] == [1, 2]


def test_the_shape_read_off_a_first_query_is_the_sql_its_shape_compiles_to():
    """The first query of a shape is compiled as it is and the shape's SQL read off its text: the same text as the shape
    built with the sentinels in and compiled (the module's older way), for each of a report's kinds of query."""
    con = engine.default_backend()
    plain = _plain(con)
    start, last, as_of = PERIODS[0]
    for expr in _queries(FrameSource(*_frames()), start, last, as_of):
        shapes = compiled.Shapes()
        assert compiled.compiled_sql(plain, shapes, expr) == plain(expr)
        (template,) = shapes.sql.values()
        shape, dates, tables = compiled.shape_of(expr.op())
        assert _same(template) == _same(plain(shape.to_expr()))
        assert dates and f"MAKE_DATE({1000 + len(dates)}, 1, 1)" in template and '"ibis_slot_table_0000"' in template
        assert not any(f"MAKE_DATE({d.year}, {d.month}, {d.day})" in template for d in dates)


@pytest.mark.parametrize("build", [
    lambda t, day: t.filter(t.d.isin([day]) | (t.d <= ibis.date(t.y, 5, 6))),
    lambda t, day: t.filter((t.d == day) & ibis.literal([dt.date(2024, 5, 6)]).contains(t.d)),
    lambda t, day: t.filter((t.d == day) & (t.s != t.op().name)),
])
def test_a_query_whose_text_could_hold_another_date_or_name_gets_its_shape_compiled_with_the_sentinels_in(build):
    """A date built from parts (which DuckDB writes MAKE_DATE too), a date inside an array, a text naming the table: the
    shape's SQL is not read off the query's text but compiled from the shape, and a later query of the shape (another
    date, another table) gets Ibis' own SQL for it."""
    con = engine.default_backend()
    plain, shapes = _plain(con), compiled.Shapes()
    frame = pd.DataFrame({"d": [dt.date(2024, 5, 6)], "y": [2024], "s": ["x"]})
    first = build(ibis.memtable(frame), dt.date(2024, 5, 6))
    assert compiled.shape_key(first.op(), {})[4] is True
    assert _same(compiled.compiled_sql(plain, shapes, first)) == _same(plain(first))
    table = ibis.memtable(frame)
    later = build(table, dt.date(2025, 7, 8))
    sql = compiled.compiled_sql(plain, shapes, later)
    assert _same(sql) == _same(plain(later)) and "MAKE_DATE(2025, 7, 8)" in sql and table.op().name in sql


def test_the_shape_of_a_plain_query_is_read_off_its_text():
    t = ibis.memtable(pd.DataFrame({"d": [dt.date(2024, 5, 6)]}))
    expr = t.filter(t.d.between(dt.date(2024, 5, 6), dt.date(2024, 9, 30)))
    assert compiled.shape_key(expr.op(), {})[4] is False
    assert compiled._templated('SELECT MAKE_DATE(2024, 5, 6), MAKE_DATE(2024, 9, 30) FROM "x"',
                               [dt.date(2024, 9, 30), dt.date(2024, 5, 6)], ["x"]) == \
        'SELECT MAKE_DATE(1002, 1, 1), MAKE_DATE(1001, 1, 1) FROM "ibis_slot_table_0000"'
    # a MAKE_DATE of numbers that is none of the query's dates, a date or a table missing: no shape
    assert compiled._templated("SELECT MAKE_DATE(2024, 5, 7) FROM \"x\"", [dt.date(2024, 5, 6)], ["x"]) is None
    assert compiled._templated('SELECT 1 FROM "x"', [dt.date(2024, 5, 6)], ["x"]) is None
    assert compiled._templated("SELECT MAKE_DATE(2024, 5, 6)", [dt.date(2024, 5, 6)], ["x"]) is None
