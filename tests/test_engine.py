"""The metric engine's plumbing (helpers/metrics/engine.py): what a query leaves behind in the embedded DuckDB."""
from __future__ import annotations

import datetime as dt
import gc

import ibis
import pandas as pd
import pyarrow as pa

from helpers.metrics import engine
from helpers.metrics.source import FrameSource


def _views() -> set[str]:
    rows = engine.default_backend().con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    return {name for (name,) in rows}


def _opps() -> pd.DataFrame:
    return pd.DataFrame({"opportunity_id": ["A", "B", "C"], "created_at": pd.to_datetime(["2025-07-01", "2025-07-02", "2025-08-01"]),
                         "closed_at": pd.to_datetime(["2025-07-20", None, "2025-08-11"]), "outcome": ["won", "open", "lost"],
                         "amount": [100.0, 50.0, None], "lead_id": [None, None, None]})


def test_a_query_releases_the_tables_it_registered():
    """No view and no in-memory table the query registered is left (views of other tests' sources, kept until those
    are collected, may come and go meanwhile: only new names count)."""
    before, held_before = _views(), set(engine.default_backend()._memtables)
    result = engine.pipeline_aggregates(_opps(), "2025-07-01", "2025-09-30", "2025-09-30")
    # created A, B, C; won A (100.0); lost C (no amount)
    assert engine.total(result)["created"] == 3 and engine.total(result)["won_amount"] == 100.0
    assert engine.total(result)["lost"] == 1 and engine.total(result)["lost_known"] == 0
    assert _views() - before == set()   # Ibis alone would keep the frame's Arrow copy registered until the process exits
    held = set(engine.default_backend()._memtables) - held_before
    assert not any(op.name.startswith("ibis_pyarrow_memtable") for op in held)


def test_a_table_reused_across_queries_registers_again():
    opps = _opps()
    with engine.reusing_tables():
        first = engine.pipeline_aggregates(opps, "2025-07-01", "2025-07-31", "2025-09-30")
        second = engine.pipeline_aggregates(opps, "2025-07-01", "2025-09-30", "2025-09-30")
    # July: A and B created, A won; July to September: C too, and C lost
    assert (engine.total(first)["created"], engine.total(first)["won"]) == (2, 1)
    assert (engine.total(second)["created"], engine.total(second)["lost"]) == (3, 1)
    from helpers.metrics.stages import stage_time_aggregates

    stats = stage_time_aggregates(None, opps, "2025-09-30")
    # opportunity_to_close: A 19 days, C 10 days -> median 14.5, p90 10 + 0.9*9 = 18.1
    assert stats["opportunity_to_close"]["n"] == 2
    assert stats["opportunity_to_close"]["median"] == 14.5
    assert abs(stats["opportunity_to_close"]["p90"] - 18.1) < 1e-9


def test_engine_tables_share_trimmed_text_and_keep_keys_a_byte_wide():
    """Ids the loader trimmed are shared with the frame, not copied; padded ids are trimmed; a key of a few values takes
    a byte per row; tables of other dims share the frame's canonical columns within reusing_tables."""
    import pyarrow as pa

    clean = pa.array(["A", "B", None])
    assert engine._canonical(clean) is clean
    assert engine._canonical(pa.array([" A", "B\t", None])).to_pylist() == ["A", "B", None]
    opps = _opps().assign(channel=[" web", "web ", None])
    key = engine._key_column(opps, "channel")
    assert key.type.index_type == pa.int8() and key.to_pylist() == ["web", "web", None]
    many = engine._key_column(pd.DataFrame({"c": [f"v{i}" for i in range(300)]}), "c")
    assert many.type.index_type == pa.int16() and many.to_pylist()[299] == "v299"
    with engine.reusing_tables():
        plain, by_channel = engine.opps_table(opps), engine.opps_table(opps, {"channel": "channel"})
        def dates(t):
            return t.op().data.obj.column("created_at").chunks[0].buffers()[1].address

        assert dates(plain) == dates(by_channel)
    result = engine.pipeline_aggregates(opps, "2025-07-01", "2025-09-30", "2025-09-30", {"channel": "channel"})
    assert {k: row["created"] for (d, k), row in result.items() if d == "channel"} == {"web": 2, "unknown": 1}


def test_value_counts_per_code_of_each_column():
    """engine.value_counts (README, lead quality's grouped counts): rows and converted rows per integer code of each
    column, counted here by hand. Column 0 holds codes 0, 1, 0, 2, 0 and column 1 codes 1, 1, 0, 1, 1; the converted
    flags are 1, 0, 1, 0, 0, so code 0 of column 0 has 3 rows of which 2 converted; a code no row holds is left out."""
    flags = [True, False, True, False, False]
    codes = [[0, 1, 0, 2, 0], [1, 1, 0, 1, 1]]
    got = engine.value_counts(flags, codes)
    assert {dim: {k: (row["n"], row["converted"]) for k, row in per.items()} for dim, per in got.items()} == {
        0: {0: (3, 2), 1: (1, 0), 2: (1, 0)}, 1: {0: (1, 1), 1: (4, 1)}}
    assert engine.value_counts(flags, []) == {}


def test_duckdb_results_are_read_through_the_current_arrow_api(tmp_path):
    """Ibis 12.0.0 reads a DuckDB table's schema and the catalog with fetch_arrow_table(), deprecated in DuckDB 2: after
    helpers.data.duckdb_compat (run by every connection the workbook makes) it is to_arrow_table() and nothing warns,
    the same tables, schemas and rows read."""
    import warnings

    import duckdb

    from helpers.metrics.warehouse import connect, upload

    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        con = connect(url, writable=True)
        upload({"opportunities": _opps().drop(columns="lead_id")}, con, "revops")
        t = con.table("opportunities", database="revops")
        assert con.list_tables(database="revops") == ["opportunities"]
        assert con.list_databases() and t.schema()["amount"].is_floating()
        assert con.to_pyarrow(t.aggregate(n=t.count(), won=t.amount.sum())).to_pylist() == [{"n": 3, "won": 150.0}]
        assert duckdb.connect().sql("SELECT 1 AS x").fetch_arrow_table().to_pylist() == [{"x": 1}]
        con.disconnect()


def test_a_source_table_stays_registered_between_queries_until_the_source_goes():
    before = _views()
    source = FrameSource(None, _opps())
    opps = source.opps()
    first = source.run(engine.pipeline_expr(opps, dt.date(2025, 7, 1), dt.date(2025, 7, 31), dt.date(2025, 9, 30)))
    name = opps.op().name
    assert name in _views()   # kept for the next query: not registered again each time
    second = source.run(engine.pipeline_expr(opps, dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 9, 30)))
    # July: A and B created, A won; July to September: C too, and C lost
    assert (engine.total(first)["created"], engine.total(first)["won"]) == (2, 1)
    assert (engine.total(second)["created"], engine.total(second)["lost"]) == (3, 1)
    del source, opps
    gc.collect()
    assert name not in _views() and _views() - before == set()   # released with the source's tables (other tests'
    # sources may be collected here too: only new names count)


def test_to_arrow_reads_what_ibis_reads():
    con = engine.default_backend()
    source = FrameSource(None, _opps())
    expr = engine.pipeline_expr(source.opps(), dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 9, 30))
    got = engine.to_arrow(con, expr)
    assert got.equals(con.to_pyarrow(expr))
    assert got.to_pylist()[0]["created"] == 3 and got.to_pylist()[0]["won_amount"] == 100.0


def test_a_kept_table_is_dropped_when_it_is_collected():
    con = engine.default_backend()

    def temporary() -> set[str]:
        return {n for (n,) in con.con.sql("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()}

    t = ibis.memtable(pa.table({"x": [1, 2, 3]}))
    kept = engine.KeptTable(t.mutate(y=t.x * 2))
    name = kept.table.op().name
    assert name in temporary()
    assert engine.to_arrow(con, kept.table.aggregate(s=kept.table.y.sum())).to_pylist() == [{"s": 12}]
    del kept
    gc.collect()
    assert name not in temporary()


def test_a_kept_table_a_scalar_query_registered_goes_with_its_source():
    """A kept table (engine_run.keep_registered) that Ibis' own path registered (a scalar expression: not the engine's
    table path) stays for the next query and is unregistered when its source goes, as on the table path; before, only
    the table path arranged that, and DuckDB held the frame's data until the process exited."""
    from helpers.metrics.engine_run import to_arrow

    before = _views()
    source = FrameSource(None, _opps())
    opps = source.opps()
    assert to_arrow(engine.default_backend(), opps.count()).as_py() == 3   # A, B and C
    name = opps.op().name
    assert name in _views()
    del source, opps
    gc.collect()
    assert name not in _views() and _views() - before == set()


def test_a_query_is_planned_once_and_a_read_cut_short_leaves_the_connection_usable(monkeypatch):
    """engine_run._arrow_of runs the SQL with execute (DuckDB 2's relation API binds a statement when the relation is
    made and plans it again when its rows are read); the rows equal the relation's. A read cut short after execute (an
    interrupt in JupyterLab) leaves no pending result behind: the next query registers its in-memory table and runs
    (while a result is pending DuckDB refuses to register one: "unfinished result")."""
    import pytest

    from helpers.metrics import engine_run

    con = engine.default_backend()
    source = FrameSource(None, _opps())
    expr = engine.pipeline_expr(source.opps(), dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 9, 30))
    sql = con.compile(expr)
    made = []
    relation = con.con.sql
    monkeypatch.setattr(type(con.con), "sql", lambda self, *a, **k: made.append(a) or relation(*a, **k), raising=False)
    got = engine.to_arrow(con, expr)
    assert made == []   # no relation made: the statement went straight to execute
    monkeypatch.undo()
    assert got.sort_by("dim").equals(con.con.sql(sql).to_arrow_table().sort_by("dim"))

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(con.con), "fetch_arrow_table", interrupted)
    with pytest.raises(KeyboardInterrupt):
        engine_run._arrow_of(con.con, "SELECT * FROM range(100000) AS t(n)")
    monkeypatch.undo()
    fresh = FrameSource(None, _opps())   # a new in-memory table: the query registers it first
    assert engine.to_arrow(con, fresh.opps().count()).as_py() == 3
