"""Compiled SQL of query shapes kept on disk (helpers/metrics/sql_store.py, helpers/metrics/compiled.py): another process
or a fresh connection gets a shape's SQL from the store without compiling, exactly the SQL Ibis compiles for its query;
a file that is corrupt or does not fit its query is passed over and written again; ``off`` keeps nothing."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import ibis
import pytest
from test_compiled import PERIODS, _frames, _plain, _queries, _same

from helpers.metrics import compiled, engine, sql_store
from helpers.metrics.source import FrameSource
from helpers.paths import PROJ_ROOT


def _counting(con):
    """(compile, calls): Ibis' own compile of `con`, counting its calls in `calls`."""
    plain, calls = _plain(con), []

    def compile(expr, limit=None):
        calls.append(expr)
        return plain(expr, limit=limit)
    return compile, calls


def _report_queries(period: int = 0):
    start, last, as_of = PERIODS[period]
    return _queries(FrameSource(*_frames(shift=10 * period)), start, last, as_of)


def _store(folder: Path) -> sql_store.Store:
    return sql_store.Store(folder, "test")


def test_a_fresh_connection_gets_every_shape_from_the_store_without_compiling(tmp_path, monkeypatch):
    """A first connection compiles and keeps each shape; a second (as a new process has) compiles none, and each
    query's SQL is Ibis' own (but for the order of an EXCLUDE list, tests/test_compiled.py's _same)."""
    monkeypatch.setenv(sql_store.ENV, str(tmp_path / "store"))
    counts = []
    for _ in range(2):
        con = ibis.duckdb.connect()
        con.compile, calls = _counting(con)
        compiled.cache_compiles(con)
        calls.clear()   # the rendering probe of cache_compiles
        for expr in _report_queries():
            assert _same(con.compile(expr)) == _same(_plain(con)(expr))
        counts.append(len(calls))
    assert counts[0] == len(list((tmp_path / "store").iterdir())) >= 4 and counts[1] == 0


def test_another_date_and_other_tables_get_their_own_sql_from_a_kept_shape(tmp_path):
    """The store filled by the first period's queries serves the third period's (the same shapes: other dates, other
    in-memory tables) without a compile, with the third period's dates and tables in."""
    plain = _plain(engine.default_backend())
    for expr in _report_queries(0):
        compiled.compiled_sql(plain, compiled.Shapes(_store(tmp_path)), expr)
    compile, calls = _counting(engine.default_backend())
    shapes = compiled.Shapes(_store(tmp_path))
    for expr in _report_queries(2):
        sql = compiled.compiled_sql(compile, shapes, expr)
        assert _same(sql) == _same(plain(expr))
        assert "MAKE_DATE(2025, 12, 31)" in sql and "MAKE_DATE(2025, 9, 30)" not in sql   # as_of 2025-12-31, not 09-30
    assert calls == []


def test_the_digest_and_the_kept_sql_are_the_same_in_another_process(tmp_path):
    """A subprocess (another hash seed: sets and dict orders of its own) builds the same queries: their digests equal
    this process's, and it reads every shape this process kept without one compile, each query's SQL being the one
    Ibis compiles for it there (its in-memory tables have names of their own)."""
    store = tmp_path / "store"
    compile = _plain(engine.default_backend())
    shapes = compiled.Shapes(_store(store))
    ours = [compiled.shape_key(e.op(), {}, {})[5].hex() for e in _report_queries()]
    for expr in _report_queries():
        compiled.compiled_sql(compile, shapes, expr)
    script = (
        "import json, sys\n"
        "from test_compiled import _plain, _same\n"
        "from test_sql_store import _counting, _report_queries, _store\n"
        "from helpers.metrics import compiled, engine\n"
        "compile, calls = _counting(engine.default_backend())\n"
        "shapes = compiled.Shapes(_store(sys.argv[1]))\n"
        "got = [(compiled.shape_key(e.op(), {}, {})[5].hex(),\n"
        "        _same(compiled.compiled_sql(compile, shapes, e)) == _same(_plain(engine.default_backend())(e)))\n"
        "       for e in _report_queries()]\n"
        "print(json.dumps({'got': got, 'compiles': len(calls)}))\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": os.pathsep.join([str(PROJ_ROOT), str(PROJ_ROOT / "tests")])}
    done = subprocess.run([sys.executable, "-c", script, str(store)], env=env, cwd=PROJ_ROOT, capture_output=True,
                          text=True, check=True)
    theirs = json.loads(done.stdout.splitlines()[-1])
    assert theirs["compiles"] == 0
    assert [d for d, _ in theirs["got"]] == ours and len(set(ours)) == len(ours)
    assert all(same for _, same in theirs["got"])


@pytest.mark.parametrize("spoil", ["garbage", "truncated", "wrong date sentinel", "wrong table placeholder",
                                   "a date not a sentinel"])
def test_a_corrupt_file_or_one_that_does_not_fit_its_query_is_passed_over_and_written_again(tmp_path, spoil):
    compile, calls = _counting(engine.default_backend())
    exprs = _report_queries()
    for expr in exprs:
        compiled.compiled_sql(compile, compiled.Shapes(_store(tmp_path)), expr)
    kept = {p: p.read_bytes() for p in tmp_path.iterdir()}
    for path, data in kept.items():
        header, _, body = data.partition(b"\n")
        if spoil == "garbage":
            data = b"\x00\xffnot sql at all"
        elif spoil == "truncated":
            data = data[:len(data) // 2]
        else:
            text = body.decode()
            text = {"wrong date sentinel": text.replace("MAKE_DATE(1001, 1, 1)", "MAKE_DATE(1007, 1, 1)"),
                    "wrong table placeholder": text.replace("ibis_slot_table_0000", "ibis_slot_table_0003"),
                    "a date not a sentinel": text.replace("MAKE_DATE(1001, 1, 1)", "MAKE_DATE(1001, 1, 1) + MAKE_DATE(2024, 1, 2)")}[spoil]
            assert text != body.decode()
            data = sql_store._HEADER % (sql_store.FORMAT, sql_store._checksum(text.encode())) + text.encode()
        path.write_bytes(data)
    calls.clear()
    shapes = compiled.Shapes(_store(tmp_path))
    for expr in exprs:
        assert _same(compiled.compiled_sql(compile, shapes, expr)) == _same(_plain(engine.default_backend())(expr))
    assert len(calls) == len(kept)   # every shape compiled again
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == kept   # and written again as it was


def test_off_keeps_nothing_and_an_unwritable_store_fails_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(sql_store.ENV, "off")
    con = ibis.duckdb.connect()
    compiled.cache_compiles(con)
    assert con._workbook_shapes.store is None
    for expr in _report_queries():
        con.compile(expr)
    assert len(con._workbook_shapes) >= 4 and not con._workbook_shapes.digests
    # a store whose folder is a file: nothing read or written, the SQL still Ibis' own
    (tmp_path / "a-file").write_text("x", encoding="utf-8")
    compile = _plain(engine.default_backend())
    shapes = compiled.Shapes(_store(tmp_path / "a-file" / "store"))
    for expr in _report_queries():
        assert _same(compiled.compiled_sql(compile, shapes, expr)) == _same(compile(expr))
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]


def test_a_query_with_a_value_of_no_stable_text_is_kept_in_memory_only(tmp_path):
    """A builtin function declared inside a test: its operation's type is made at run time (``module.my_twice_0`` names
    nothing another process finds), so the query has no digest; its shape is still kept in memory."""
    @ibis.udf.scalar.builtin
    def my_twice(x: int) -> int:   # noqa: ARG001 - DuckDB's function of that name does not exist: compiled, never run
        ...

    t = ibis.memtable({"a": [1], "d": [dt.date(2025, 1, 1)]})
    expr = t.filter(t.d <= dt.date(2025, 3, 1)).select(b=my_twice(t.a))
    compile = _plain(engine.default_backend())
    shapes = compiled.Shapes(_store(tmp_path))
    assert compiled.shape_key(expr.op(), shapes.ids, shapes.digests)[5] is None
    assert _same(compiled.compiled_sql(compile, shapes, expr)) == _same(compile(expr))
    assert len(shapes) == 1 and not list(tmp_path.iterdir())
    with pytest.raises(sql_store.Unstable):
        sql_store.value_text(object())
    assert sql_store.value_text(frozenset({"b", "a", "c"})) == "frozenset{str:'a',str:'b',str:'c'}"
    assert sql_store.value_text(1) != sql_store.value_text(True) != sql_store.value_text(1.0)


def test_the_store_folder_from_the_environment():
    home = Path.home()
    assert sql_store.store_dir({}) == home / ".cache" / "alignment-workbook" / "sql"
    assert sql_store.store_dir({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/alignment-workbook/sql")
    assert sql_store.store_dir({"XDG_CACHE_HOME": "relative"}) == home / ".cache" / "alignment-workbook" / "sql"
    assert sql_store.store_dir({sql_store.ENV: "/srv/sql", "XDG_CACHE_HOME": "/x"}) == Path("/srv/sql")
    assert sql_store.store_dir({sql_store.ENV: "build/sql"}) == PROJ_ROOT / "build" / "sql"
    assert sql_store.store_dir({sql_store.ENV: " OFF "}) is None


def test_the_test_session_keeps_its_compiled_sql_in_a_store_of_its_own(tmp_path_factory):
    """tests/conftest.py: every process of the session (workers and the kernels they start) shares one store in the
    session's folder, never the user's (~/.cache)."""
    from conftest import SQL_STORE, session_folder

    value = os.environ[sql_store.ENV]
    assert value == "off" or Path(value) == session_folder(tmp_path_factory) / SQL_STORE
    store = engine.default_backend()._workbook_shapes.store
    assert (store is None) == (value == "off") and (store is None or store.folder == Path(value))


def test_the_oldest_files_go_past_the_bound_and_only_the_stores_own(tmp_path):
    store = _store(tmp_path)
    names = [f"{i:040x}.sql" for i in range(10)]
    for i, name in enumerate(names):
        store.write(name, f"SELECT {i}")
        os.utime(tmp_path / name, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "notes.txt").write_text("the user's", encoding="utf-8")
    (tmp_path / ".tmp-left-over").write_text("", encoding="utf-8")
    os.utime(tmp_path / ".tmp-left-over", (1_000_000, 1_000_000))
    assert store.prune(max_files=8, keep=6) == 5   # 4 oldest files and the stale temporary file
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[4:] + ["notes.txt"])
    assert store.read(names[9]) == "SELECT 9" and store.read(names[0]) is None


def test_writers_at_once_leave_a_whole_file(tmp_path):
    """Threads writing one name while another reads it: a read gives one writer's whole text or nothing, never a mix."""
    store, name = _store(tmp_path), f"{0:040x}.sql"
    texts = [f"SELECT {i} -- " + "x" * 50_000 for i in range(4)]
    seen, stop = set(), threading.Event()

    def read():
        while not stop.is_set():
            seen.add(store.read(name))

    reader = threading.Thread(target=read)
    reader.start()
    writers = [threading.Thread(target=lambda t=t: [store.write(name, t) for _ in range(30)]) for t in texts]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()
    assert seen <= {None, *texts} and store.read(name) in texts
    assert [p.name for p in tmp_path.iterdir()] == [name]   # no temporary file left


def test_a_shape_compiled_with_its_sentinels_in_is_kept_and_read_as_well(tmp_path):
    """A date built from parts (DuckDB writes MAKE_DATE for it too): the shape is compiled with the sentinels in
    (compiled.shape_key's `plain`), kept on disk, and read by a fresh connection for a query of other dates and tables."""
    def build(day: dt.date):
        t = ibis.memtable({"d": [dt.date(2024, 5, 6)], "y": [2024]})
        return t.filter((t.d == day) | (t.d <= ibis.date(t.y, 5, 6)))

    compile, calls = _counting(engine.default_backend())
    compiled.compiled_sql(compile, compiled.Shapes(_store(tmp_path)), build(dt.date(2024, 5, 6)))
    assert compiled.shape_key(build(dt.date(2024, 5, 6)).op(), {})[4] is True and len(list(tmp_path.iterdir())) == 1
    calls.clear()
    later = build(dt.date(2025, 7, 8))
    sql = compiled.compiled_sql(compile, compiled.Shapes(_store(tmp_path)), later)
    assert calls == [] and _same(sql) == _same(_plain(engine.default_backend())(later)) and "MAKE_DATE(2025, 7, 8)" in sql


@pytest.mark.parametrize("first, second", [(-0.0, 0.0), (0.0, -0.0)])
def test_equal_numbers_of_other_texts_get_their_own_sql_in_memory_and_from_the_store(tmp_path, first, second):
    """0.0 and -0.0 are equal in Python but compile to other SQL: a query with one never gets the SQL kept for the
    other, neither from the process's shapes nor from a store another process filled (the reviewer's counter-example)."""
    t = ibis.table({"a": "float64"}, name="t")

    def query(zero):
        return t.filter(t.a > zero).select(x=t.a * zero)

    plain = _plain(engine.default_backend())
    shapes = compiled.Shapes(_store(tmp_path))
    assert compiled.compiled_sql(plain, shapes, query(first)) == plain(query(first))
    assert compiled.compiled_sql(plain, shapes, query(second)) == plain(query(second))   # same process
    fresh = compiled.Shapes(_store(tmp_path))   # a new process's shapes over the same store
    assert compiled.compiled_sql(plain, fresh, query(second)) == plain(query(second))
    assert plain(query(-0.0)) != plain(query(0.0)) and "-0.0" in plain(query(-0.0))
