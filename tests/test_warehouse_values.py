"""A warehouse reads dates and amounts as a data folder reads the same cells (helpers.metrics.warehouse_values).

Text datetimes with a UTC offset and columns typed as timestamps WITH time zone are converted to the settings' time
zone (Asia/Tokyo here) on DuckDB and PostgreSQL, as a folder converts an offset written in a cell (or a Parquet
column with a time zone); amounts written with a Japanese unit (1,200万円) read as in a folder; numbers a float cannot
hold (1e309, 1e-400) are refused as bad_number with ids, never the warehouse's own error. Hand-computed values.
"""
from __future__ import annotations

import io
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.errors import DataValidationError
from test_warehouse_load import BACKENDS, refused_as_text, warehouse_load, warehouse_url, write

#: Dates written with offsets across a day and a quarter's end, amounts with Japanese units. In Asia/Tokyo (+09:00):
#: L02 2025-04-01T23:30-05:00 is 2025-04-02 13:30; L03 2025-06-30T20:00Z is 2025-07-01 05:00; O1's closed_at
#: 2025-06-30T16:00+0000 is 2025-07-01 01:00, so O1 (1,200万円 = 12,000,000) is won in 2025Q3 (July-September
#: 2025), not 2025Q2 as its clock time says; O3 created 2025-07-02 09:00 +09:00 is open at 1.5億円 = 150,000,000.
FILES = {
    "leads.csv": "lead_id,created_at,channel\n"
                 "L01,2025-04-02,web\n"
                 "L02,2025-04-01T23:30:00-05:00,web\n"
                 "L03,2025-06-30T20:00:00Z,ads\n",
    "opportunities.csv": "opportunity_id,created_at,closed_at,outcome,amount,lead_id\n"
                         'O1,2025-04-20,2025-06-30T16:00:00+0000,won,"1,200万円",L01\n'
                         "O2,2025-05-01,2025-06-30,lost,300,L02\n"
                         "O3,2025-07-02 09:00 +09:00,,open,1.5億円,L03\n",
}


def text_tables(files: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {name.removesuffix(".csv"): pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
            for name, text in files.items()}


def zoned_tables(files: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The tables with every date column a timestamp WITH time zone (UTC; a date without an offset is its midnight
    UTC) and amounts as numbers: a warehouse's timestamptz columns, a folder's Parquet columns with a time zone."""
    out = text_tables(files)
    for frame in out.values():
        for col in [c for c in frame.columns if c.endswith("_at")]:
            frame[col] = pd.to_datetime(frame[col], format="ISO8601", utc=True)
    out["opportunities"]["amount"] = [12_000_000.0, 300.0, 150_000_000.0]
    return out


def figures_of(where: str, tmp_path, tables: dict[str, pd.DataFrame], period: str, nan_amount: str | None = None) -> dict:
    """warehouse_core_metrics of `tables` in `where` (the load's checks pass first, as the runner's); with
    `nan_amount`, that opportunity's amount set to the float NaN in the warehouse (an upload writes pandas' NaN as
    null)."""
    from benchmarks.bench_scale import figures
    from helpers.metrics.limits import data_facts_of, explain_core
    from helpers.metrics.warehouse import connect, warehouse_core_metrics
    from helpers.metrics.warehouse_source import _source
    from test_warehouse import plain

    tmp_path.mkdir()
    with warehouse_url(where, tmp_path, tables) as (url, schema):
        if nan_amount:
            con = connect(url, writable=True)
            con.raw_sql(f"UPDATE {schema}.opportunities SET amount = CAST('NaN' AS DOUBLE PRECISION) "
                        f"WHERE opportunity_id = '{nan_amount}'")
            assert con.to_pyarrow(con.table("opportunities", database=schema).amount.isnan().sum()).as_py() == 1
            con.disconnect()
        wb = warehouse_load(url, schema, tmp_path)
        assert [f for f in wb.findings if f.severity == "error"] == []
        con = connect(url)
        try:   # explained as a folder's core_metrics is (helpers.metrics.limits.explain_core on the warehouse's facts)
            core = warehouse_core_metrics(con, wb.config, period, schema=schema)
            source = _source(con, wb.config, schema, "leads", "opportunities")
            return plain(figures(explain_core(core, data_facts_of(source, core["as_of"]))))
        finally:
            con.disconnect()


def folder_figures(folder, period: str) -> dict:
    from benchmarks.bench_scale import figures
    from helpers.metrics.core import core_metrics
    from test_warehouse import plain

    config = load_config(folder)
    return plain(figures(core_metrics(load_workbook(folder, config), parse_period(period, config.fiscal_year_start_month))))


def won(figures: dict) -> tuple:
    pipeline = figures["pipeline"]
    return pipeline["won_count"], pipeline["won_revenue"], pipeline["lost_count"]


@pytest.mark.parametrize("where", BACKENDS)
@pytest.mark.parametrize("kind", ["text", "timestamptz"])
def test_dates_with_an_offset_or_a_time_zone_and_japanese_amounts_read_as_in_a_folder(where, kind, tmp_path):
    """FILES as text cells (a CSV folder / text columns) or as timestamps with a time zone (a Parquet folder /
    timestamptz columns): the warehouse's figures equal the folder's in 2025Q2 and 2025Q3, and O1 is won in 2025Q3
    for 12,000,000 (its closed_at 2025-06-30T16:00Z is 2025-07-01 in Asia/Tokyo), O2 lost in 2025Q2."""
    from benchmarks.bench_scale import differences

    folder = tmp_path / "folder"
    if kind == "text":
        tables = text_tables(FILES)
        write(folder, FILES)
    else:
        tables = zoned_tables(FILES)
        folder.mkdir()
        for name, frame in tables.items():
            frame.to_parquet(folder / f"{name}.parquet")
    config = load_config(folder)
    assert (config.timezone, config.fiscal_year_start_month) == ("Asia/Tokyo", 1)
    assert parse_period("2025Q3", 1).start == pd.Timestamp("2025-07-01")
    for period, expected in (("2025Q2", (0, 0.0, 1)), ("2025Q3", (1, 12_000_000.0, 0))):
        by_folder = folder_figures(folder, period)
        by_warehouse = figures_of(where, tmp_path / period, tables, period)
        assert won(by_folder) == won(by_warehouse) == expected
        assert differences(by_folder, by_warehouse) == []


@pytest.mark.parametrize("where", BACKENDS)
def test_converted_dates_are_the_folders_to_the_second(where, tmp_path):
    """The leads' and opportunities' dates as the warehouse's canonical tables hold them: the folder's clock times in
    Asia/Tokyo (L02 2025-04-02 13:30, L03 2025-07-01 05:00, O1 closed 2025-07-01 01:00, O3 created 2025-07-02 09:00)."""
    from helpers.metrics.warehouse import connect
    from helpers.metrics.warehouse_canonical import canonical

    with warehouse_url(where, tmp_path, text_tables(FILES)) as (url, schema):
        con = connect(url)
        try:
            leads, opps = canonical(con, load_config(), schema)
            created = con.to_pyarrow(leads.select("lead_id", "created_at").order_by("lead_id")).to_pylist()
            deals = con.to_pyarrow(opps.select("opportunity_id", "created_at", "closed_at", "amount").order_by("opportunity_id")).to_pylist()
        finally:
            con.disconnect()
    assert [(r["lead_id"], str(r["created_at"])) for r in created] == [
        ("L01", "2025-04-02 00:00:00"), ("L02", "2025-04-02 13:30:00"), ("L03", "2025-07-01 05:00:00")]
    assert [(r["opportunity_id"], str(r["created_at"]), str(r["closed_at"]), r["amount"]) for r in deals] == [
        ("O1", "2025-04-20 00:00:00", "2025-07-01 01:00:00", 12_000_000.0),
        ("O2", "2025-05-01 00:00:00", "2025-06-30 00:00:00", 300.0),
        ("O3", "2025-07-02 09:00:00", "None", 150_000_000.0)]


#: Amounts a float cannot hold (rows 3, 5, 6: 1e309 and -1e309 overflow to inf, 1e-400 underflows to 0) among
#: amounts that read (1200, 1,200万円, １，２００万円 = 12,000,000 each, 1.7976931348623157e308 the largest double).
NUMBER_FILES = {"opportunities.csv": "opportunity_id,created_at,closed_at,outcome,amount\n"
                                     "O01,2025-01-20,2025-03-01,won,1200\n"
                                     "O02,2025-01-20,2025-03-01,won,1e309\n"
                                     'O03,2025-01-20,2025-03-01,won,"1,200万円"\n'
                                     "O04,2025-01-20,2025-03-01,won,-1e309\n"
                                     "O05,2025-01-20,2025-03-01,won,1e-400\n"
                                     'O06,2025-01-20,2025-03-01,won,"１，２００万円"\n'
                                     "O07,2025-01-20,2025-03-01,won,1.7976931348623157e308\n"}


@pytest.mark.parametrize("where", BACKENDS)
def test_a_number_a_float_cannot_hold_is_refused_as_in_a_folder(where, tmp_path):
    """1e309, -1e309 and 1e-400 are bad_number in a folder (rows 3, 5, 6) and on both backends (ids O02, O04, O05),
    with the folder's fix; PostgreSQL no longer stops with its own 'out of range' error; the units read on both."""
    from helpers.data.parse import FIX_NUMBER

    with pytest.raises(DataValidationError) as folder:
        load_workbook(write(tmp_path / "folder", NUMBER_FILES))
    warehouse = refused_as_text(where, tmp_path, NUMBER_FILES)
    found = [[f for f in side.value.findings if f.severity == "error"] for side in (folder, warehouse)]
    assert [[(f.code, f.column, f.count, f.values, f.fix) for f in side] for side in found] == \
        [[("bad_number", "amount", 3, ("1e309", "-1e309", "1e-400"), FIX_NUMBER)]] * 2
    assert found[0][0].rows == (3, 5, 6) and found[1][0].ids == ("O02", "O04", "O05")
    assert found[1][0].file.endswith("opportunities")


def test_the_float_range_rule_is_pythons():
    """helpers.metrics.warehouse_values.out_of_float_range (run in DuckDB here, PostgreSQL in the test above) marks
    exactly the texts Python's float reads as inf or a nonzero text reads as 0, on 26 texts at both ends of the range
    (the largest double and the midpoint above it, 2^-1075 and just above it), and the folder refuses the same."""
    import ibis

    from helpers.data.parse import _parse_number
    from helpers.metrics.warehouse_values import OVERFLOW_DIGITS, UNDERFLOW_DIGITS, out_of_float_range

    cells = ["1e308", "1e309", "-1e309", "1.7976931348623157e308", "1.7976931348623158e308", "1.797693134862315808e308",
             "0." + OVERFLOW_DIGITS + "e309", "0." + OVERFLOW_DIGITS[:-1] + "e309", OVERFLOW_DIGITS, "9" * 309, "1" + "0" * 309,
             "1e-400", "4e-324", "2.4703282292062328e-324", "2.4703282292062327e-324", "0." + UNDERFLOW_DIGITS + "e-323",
             "0." + UNDERFLOW_DIGITS + "1e-323", "0e-999999999", "1e99999999999", "1e-99999999999", "0.000", "000.5e-5",
             "00012", ".5", "5.", "-0"]
    expected = [float(c) in (float("inf"), float("-inf")) or (float(c) == 0 and any(d in "123456789" for d in c.split("e")[0].split("E")[0]))
                for c in cells]
    assert sum(expected) == 12   # 8 overflow (1e309 ... 1e99999999999), 4 underflow (1e-400, 2^-1075 twice, 1e-99999999999)
    con = ibis.duckdb.connect()
    t = ibis.memtable(pa.table({"i": list(range(len(cells))), "c": cells}))
    marked = con.to_pyarrow(t.select(t.i, o=out_of_float_range(t.c)).order_by("i")).column("o").to_pylist()
    assert marked == expected
    assert _parse_number(pd.Series(cells, dtype=object)).isna().tolist() == expected


#: Number cells as an export writes them, with the value a folder reads (hand-computed; None: refused as bad_number).
NUMBER_CELLS = {
    "1,200万円": 12_000_000.0, "1.5億": 150_000_000.0, "2億5千万": 250_000_000.0, "1億2,000万": 120_000_000.0,
    "500千円": 500_000.0, "12万3,456": 123_456.0, "-3万": -30_000.0, "+4万": 40_000.0, "１，２００万円": 12_000_000.0,
    "1兆": 1e12, " 7万 円 ": 70_000.0, "3億円": 300_000_000.0, "12,000": None, "12000": 12_000.0, "1.5": 1.5,
    "-0.25": -0.25, "1e3": 1000.0, "万": None, "1万万": None, "3万2億": None, "1,20万": None, "abc": None,
    "1e309": None, "-1e309": None, "1e-400": None, "0": 0.0, "0.0e5": 0.0,
}


def test_a_number_cell_reads_the_same_in_a_folder_and_a_warehouse():
    """The warehouse's SQL reading of a number cell (helpers.metrics.warehouse_values.number_value) and the folder's
    (helpers.data.parse._parse_number, parse_ja_units for Japanese units) are two implementations of one rule: both
    give each cell of NUMBER_CELLS its hand-computed value (null where the folder refuses the cell). '12,000' is no
    plain number to either (a folder's thousands separators are the mapping's job, before the contract)."""
    import ibis

    from helpers.data.parse import _parse_number
    from helpers.data.checks_tables import folder_backend
    from helpers.metrics.warehouse_values import number_value

    cells = list(NUMBER_CELLS)
    folder = _parse_number(pd.Series(cells, dtype="object")).tolist()
    con = folder_backend()
    t = ibis.memtable(pa.table({"n": list(range(len(cells))), "cell": cells}))
    rows = con.to_pyarrow(t.select("n", value=number_value(t["cell"])).order_by("n"))["value"].to_pylist()
    expected = [NUMBER_CELLS[c] for c in cells]
    assert [None if pd.isna(v) else v for v in folder] == expected
    assert [None if pd.isna(v) else v for v in rows] == expected


def typed_deals(amounts: list, closed: list) -> dict[str, pd.DataFrame]:
    """Four leads L1-L4 (Web, created 2025-01-10) and their won deals O1-O4 created 2025-01-20 with typed `amounts` (float64) and `closed` dates (datetime64[us], which
    holds years a nanosecond timestamp cannot): a Parquet folder's or a warehouse's typed columns."""
    return {"leads": pd.DataFrame({"lead_id": ["L1", "L2", "L3", "L4"], "channel": ["Web"] * 4,
                                   "created_at": pd.to_datetime(["2025-01-10"] * 4).as_unit("us")}),
            "opportunities": pd.DataFrame({
        "opportunity_id": ["O1", "O2", "O3", "O4"], "lead_id": ["L1", "L2", "L3", "L4"],
        "created_at": pd.to_datetime(["2025-01-20"] * 4).as_unit("us"),
        "closed_at": pd.Series(pd.to_datetime(closed), dtype="datetime64[us]"), "outcome": ["won"] * 4,
        "amount": pd.Series(amounts, dtype="float64")})}


def parquet_folder(folder, tables: dict[str, pd.DataFrame]):
    folder.mkdir()
    for name, frame in tables.items():
        frame.to_parquet(folder / f"{name}.parquet")
    return folder


@pytest.mark.parametrize("where", BACKENDS)
def test_typed_infinities_and_far_dates_are_refused_as_in_a_parquet_folder(where, tmp_path):
    """Typed columns (not text): an infinite amount (O2, O3: inf, -inf) is bad_number and a date outside 1678-2261
    (O4 closed 9999-12-31, a CRM's "never" date; O1 closed 1600-01-01) is bad_date, in a Parquet folder and on both
    backends, with the same counts, values and fixes; a warehouse read them as figures before. (The folder then
    also finds the two won deals without a close date; a warehouse stops at its cell checks, as for text cells.)"""
    from helpers.data.parse import FIX_DATE, FIX_NUMBER

    tables = typed_deals([1000.0, float("inf"), float("-inf"), 500.0],
                         [datetime(1600, 1, 1), datetime(2025, 3, 1), datetime(2025, 3, 1), datetime(9999, 12, 31)])
    with pytest.raises(DataValidationError) as folder:
        load_workbook(parquet_folder(tmp_path / "folder", tables))
    with warehouse_url(where, tmp_path, tables) as (url, schema):
        with pytest.raises(DataValidationError) as warehouse:
            warehouse_load(url, schema, tmp_path)
    found = [sorted((f for f in side.value.findings if f.code.startswith("bad_")), key=lambda f: f.code)
             for side in (folder, warehouse)]
    assert [[(f.code, f.column, f.count, f.values, f.fix) for f in side] for side in found] == [[
        ("bad_date", "closed_at", 2, ("1600-01-01 00:00:00", "9999-12-31 00:00:00"), FIX_DATE),
        ("bad_number", "amount", 2, ("inf", "-inf"), FIX_NUMBER)]] * 2
    assert [f.rows for f in found[0]] == [(2, 5), (3, 4)]
    assert [f.ids for f in found[1]] == [("O1", "O4"), ("O2", "O3")]


@pytest.mark.parametrize("where", BACKENDS)
def test_a_typed_nan_amount_is_an_empty_amount_as_in_a_parquet_folder(where, tmp_path):
    """A float column's NaN (O2, won) reads as an empty amount, as a folder reads a Parquet column's NaN: the same
    figures on both sides in 2025Q1, 3 won with revenue 1,000 + 500 = 1,500 (O2's amount unknown), O3 lost (300).
    (Deals created on different days, one lost: every figure defined, none null for a data-wide reason.)"""
    from benchmarks.bench_scale import differences

    tables = typed_deals([1000.0, float("nan"), 300.0, 500.0], [datetime(2025, 3, 1)] * 4)
    deals = tables["opportunities"]
    deals["outcome"] = ["won", "won", "lost", "won"]
    deals["created_at"] = pd.to_datetime(["2025-01-20", "2025-01-21", "2025-01-22", "2025-01-23"]).as_unit("us")
    folder = parquet_folder(tmp_path / "folder", tables)
    written = pq.read_table(folder / "opportunities.parquet")   # pandas writes NaN as null: write a real NaN
    amounts = pa.array([1000.0, float("nan"), 300.0, 500.0], pa.float64(), from_pandas=False)
    pq.write_table(written.set_column(written.schema.get_field_index("amount"), "amount", amounts),
                   folder / "opportunities.parquet")
    assert pc.is_nan(pq.read_table(folder / "opportunities.parquet")["amount"]).to_pylist() == [False, True, False, False]
    by_folder = folder_figures(folder, "2025Q1")
    by_warehouse = figures_of(where, tmp_path / "wh", tables, "2025Q1", nan_amount="O2")
    assert won(by_folder) == won(by_warehouse) == (3, 1500.0, 1)
    assert differences(by_folder, by_warehouse) == []
