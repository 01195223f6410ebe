"""A --warehouse run's Workbook without rows (helpers.metrics.warehouse_load) gets a folder's findings of the same data.

The same tables as CSV files in a folder (read by helpers.data.load.load_workbook) and uploaded into a DuckDB file (the
small tables copied into a folder as the runner copies them, the row tables read where they are): the same findings
(codes, columns, counts, values shown, parameters), where a folder names rows a warehouse names the first ids; the
same small tables, as_of and first data date.
"""
from __future__ import annotations

import contextlib
import io
import os
import uuid
from pathlib import Path

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import first_data_date, load_workbook
from helpers.errors import DataValidationError

PG = os.environ.get("WORKBOOK_TEST_PG")
SCHEMA = "revops"
ZWSP = "\u200b"

#: Every cell check of the row tables that warns: channel spellings (Web / web / WEB in spend), a placeholder
#: (Select), an invisible character (Retail<U+200B>), company sizes that are all Excel day numbers, touches with
#: several channels (one with campaigns it cannot pair), a target channel no row has. Rows in id order.
WARN_FILES = {
    "leads.csv": f"""lead_id,created_at,channel,industry,company_size,owner,opportunity_id
L1,2025-01-10,Web,Retail,45667,Sato,O1
L2,2025-01-11,web,Retail{ZWSP},45668,Suzuki,O2
L3,2025-01-12,Web,Retail,45667,Sato,
L4,2025-01-13,Select,Finance,,Sato,
L5,2025-01-14,Ads,Finance,45669,,
""",
    "opportunities.csv": """opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel
O1,2025-01-20,2025-03-01,won,1000,L1,
O2,2025-02-10,2025-04-01,lost,300,L2,Select
O3,2025-02-11,,open,,,
""",
    "touches.csv": """touch_id,lead_id,touched_at,channel,campaign
T1,L1,2025-01-11,Web;Email,a;b
T2,L2,2025-01-12,Web,x
T3,L3,2025-01-13,Web;Email;Ads,p;q
T4,L3,2025-01-14,Web;Email,one
""",
    "spend.csv": """month,channel,amount
2025-01,WEB,100
2025-01,Ads,50
""",
    "targets.csv": """period,metric,target,channel
2025Q1,won_count,3,Webinar
2025Q1,leads,10,web
""",
}

#: The cell checks that refuse: several channels in one cell, a company size Excel made a date beside ranges, an empty
#: required value, a date written as text that is no date (the warehouse holds created_at as text).
ERROR_FILES = {
    "leads.csv": """lead_id,created_at,channel,company_size,opportunity_id
L1,2025-01-10,Web;Ads,1-10,O1
L2,2025-01-11,Web,10-Jan,
L3,2025-01-40,,11-50,
""",
    "opportunities.csv": """opportunity_id,created_at,closed_at,outcome,amount,lead_id
O1,2025-01-20,2025-03-01,won,1000,L1
""",
}


def write(folder, files: dict[str, str]):
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def typed(files: dict[str, str], text_dates: bool = False) -> dict[str, pd.DataFrame]:
    """The tables as a warehouse holds them: dates as timestamps (as text with `text_dates`), amounts and targets as
    numbers, the rest text."""
    out = {}
    for name, text in files.items():
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
        for col in frame.columns:
            if col.endswith("_at") and not text_dates:
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
            elif col in ("amount", "target"):
                frame[col] = frame[col].astype(float)
        out[name.removesuffix(".csv")] = frame
    return out


def warehouse_load(url: str, schema: str, tmp_path):
    """helpers.metrics.warehouse_load.load_warehouse as the runner calls it: the small tables copied first."""
    from helpers.metrics.warehouse import export_folder
    from helpers.metrics.warehouse_load import SMALL_TABLES, load_warehouse

    data = export_folder(url, tmp_path / "_data", schema, names=SMALL_TABLES)
    assert not {p.stem for p in data.iterdir()} & {"leads", "opportunities", "touches"}
    return load_warehouse(data, load_config(data), url, schema, {})


def compared(findings) -> list[tuple]:
    """What a folder's and a warehouse's findings share: all but where they point (file, rows or ids)."""
    return sorted((f.severity, f.code, f.column, f.count, f.values, tuple(sorted(f.params.items())))
                  for f in findings)


def upload_duckdb(tmp_path, tables) -> str:
    from helpers.metrics.warehouse import connect, upload

    url = f"duckdb://{tmp_path / 'crm.duckdb'}"
    con = connect(url, writable=True)
    upload(tables, con, SCHEMA)
    con.disconnect()
    return url


def test_a_warehouse_warns_as_the_same_data_in_a_folder(tmp_path):
    folder = load_workbook(write(tmp_path / "folder", WARN_FILES))
    wb = warehouse_load(upload_duckdb(tmp_path, typed(WARN_FILES)), SCHEMA, tmp_path)
    codes = {f.code for f in folder.findings}
    assert {"channel_variants", "channel_placeholder", "invisible_characters", "excel_serial_category", "touches_split",
            "touches_campaign_unpaired", "target_channel_unknown"} <= codes
    assert compared(wb.findings) == compared(folder.findings)
    by_code = {f.code: f for f in wb.findings}
    assert [(f.file, f.ids) for f in wb.findings if f.code == "channel_placeholder"] == [
        (f"{SCHEMA}.leads", ("L4",)), (f"{SCHEMA}.opportunities", ("O2",))]
    assert by_code["touches_split"].ids == ("T1", "T3", "T4") and by_code["touches_split"].params["touches"] == 7
    assert by_code["excel_serial_category"].ids == ("L1", "L2", "L3", "L5") and by_code["excel_serial_category"].rows == ()
    assert (wb.as_of, wb.first_date) == (folder.as_of, first_data_date(folder))
    assert sorted(wb.spend["channel"].astype(str)) == sorted(folder.spend["channel"].astype(str)) == ["Ads", "Web"]  # WEB folded
    assert sorted(wb.targets["channel"]) == sorted(folder.targets["channel"]) == ["Web", "Webinar"]   # web: the data's spelling
    assert {name: f.rows for name, f in wb.files.items()} == {"leads": 5, "opportunities": 3, "touches": 4, "spend": 2,
                                                             "targets": 2}


def test_a_warehouse_refuses_what_a_folder_refuses(tmp_path):
    with pytest.raises(DataValidationError) as folder:
        load_workbook(write(tmp_path / "folder", ERROR_FILES))
    with pytest.raises(DataValidationError) as warehouse:
        warehouse_load(upload_duckdb(tmp_path, typed(ERROR_FILES, text_dates=True)), SCHEMA, tmp_path)
    errors = [f for f in warehouse.value.findings if f.severity == "error"]
    assert {f.code for f in errors} == {"multi_value", "excel_date_category", "missing_value", "bad_date"}
    assert compared(errors) == compared(f for f in folder.value.findings if f.severity == "error")
    assert {f.code: f.ids for f in errors} == {"multi_value": ("L1",), "excel_date_category": ("L2",),
                                              "missing_value": ("L3",), "bad_date": ("L3",)}


def test_a_rowless_workbook_round_trips_through_the_runs_snapshot(tmp_path):
    """write_snapshot writes a warehouse run's Workbook without its rows, read_rowless reads it back."""
    from helpers.data.rowless import RowsInWarehouse, read_rowless
    from helpers.data.snapshot import read_snapshot, write_snapshot

    wb = warehouse_load(upload_duckdb(tmp_path, typed(WARN_FILES)), SCHEMA, tmp_path)
    folder = write_snapshot(wb, tmp_path / "snapshot")
    assert sorted(p.name for p in folder.iterdir()) == ["snapshot.json", "spend.parquet", "targets.parquet"]
    back = read_rowless(folder, wb.data_dir, wb.config)
    assert (back.as_of, back.first_date, back.findings) == (wb.as_of, wb.first_date, wb.findings)
    assert back.leads is not None and back.snapshot_id == wb.snapshot_id
    with pytest.raises(RowsInWarehouse):
        len(back.opportunities)
    assert read_snapshot(folder, wb.data_dir, wb.config) is None   # never a Workbook with rows from it


@pytest.mark.skipif(not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/with-postgres starts one)")
def test_postgresql_warns_as_the_same_data_in_a_folder(tmp_path):
    from helpers.metrics.warehouse import connect, upload

    folder = load_workbook(write(tmp_path / "folder", WARN_FILES))
    con = connect(PG)
    schema = f"workbook_load_{uuid.uuid4().hex[:8]}"
    try:
        upload(typed(WARN_FILES), con, schema)
        wb = warehouse_load(PG, schema, tmp_path)
    finally:
        con.drop_database(schema, force=True, cascade=True)
        con.disconnect()
    assert compared(wb.findings) == compared(folder.findings)


def test_all_periods_on_a_warehouse_refuse_a_far_first_date_as_a_folder_does(tmp_path, capsys):
    """`--all` starts at the first created_at: a lead created in 1901 (a typo, far_date_before) stops it on a warehouse as
    on the same folder, the warehouse's message naming the table and the lead's id; with --period the run goes on."""
    from helpers.report import run

    files = dict(WARN_FILES, **{"leads.csv": WARN_FILES["leads.csv"].replace("L5,2025-01-14", "L5,1901-01-14")})
    url = upload_duckdb(tmp_path, typed(files))
    folder = write(tmp_path / "folder", files)
    empty = tmp_path / "notebooks"
    empty.mkdir()
    common = ["--all", "--notebooks", str(empty)]
    assert run.main(["--data", str(folder), "--out", str(tmp_path / "out1"), *common]) == 2
    said = capsys.readouterr().err
    assert "--all starts at the first created_at date, and leads.csv, row 6, column 'created_at'" in said
    assert run.main(["--warehouse", url, "--schema", SCHEMA, "--out", str(tmp_path / "out2"), *common]) == 2
    said = capsys.readouterr().err
    assert f"--all starts at the first created_at date, and {SCHEMA}.leads, id L5, column 'created_at'" in said
    assert run.main(["--warehouse", url, "--schema", SCHEMA, "--out", str(tmp_path / "out3"), "--period", "2025Q1",
                     "--notebooks", str(empty)]) == 2   # past the check: no notebooks in the folder given
    assert "no notebooks named NN_*.ipynb" in capsys.readouterr().err


def test_all_periods_on_a_warehouse_are_the_folders(tmp_path, capsys):
    """`--all` on a warehouse runs the periods from its first created_at (2025-01-10) to as_of (2025-04-01), as the same
    folder: the same note on the partly covered first and last ones (the run then stops: no notebooks in the folder given)."""
    from helpers.report import run

    url = upload_duckdb(tmp_path, typed(WARN_FILES))
    empty = tmp_path / "notebooks"
    empty.mkdir()
    said = []
    for args in (["--data", str(write(tmp_path / "folder", WARN_FILES))], ["--warehouse", url, "--schema", SCHEMA]):
        assert run.main([*args, "--all", "--out", str(tmp_path / f"out{len(said)}"), "--notebooks", str(empty)]) == 2
        said.append([line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")])
    assert said[0] == said[1] == ["note: the data covers 2025Q1, 2025Q2 only in part; those reports are marked partial"]


@contextlib.contextmanager
def warehouse_url(where: str, tmp_path, tables: dict[str, pd.DataFrame]):
    """The URL of a warehouse holding `tables` in schema SCHEMA (DuckDB file) or in a fresh schema (PostgreSQL,
    dropped afterwards): (url, schema)."""
    if where == "duckdb":
        yield upload_duckdb(tmp_path, tables), SCHEMA
        return
    from helpers.metrics.warehouse import connect, upload

    con = connect(PG)
    schema = f"workbook_load_{uuid.uuid4().hex[:8]}"
    try:
        upload(tables, con, schema)
        yield PG, schema
    finally:
        con.drop_database(schema, force=True, cascade=True)
        con.disconnect()


needs_pg = pytest.mark.skipif(not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/with-postgres starts one)")
BACKENDS = ["duckdb", pytest.param("postgresql", marks=needs_pg)]


@pytest.mark.parametrize("where", BACKENDS)
def test_a_warehouse_refuses_what_a_folder_refuses_text_dates_too(where, tmp_path):
    """ERROR_FILES with every date as text: PostgreSQL (no TRY_CAST) refuses as DuckDB and the folder do, the text
    date that is no date (2025-01-40) a bad_date naming the column and the lead, never the warehouse's own error."""
    with pytest.raises(DataValidationError) as folder:
        load_workbook(write(tmp_path / "folder", ERROR_FILES))
    with warehouse_url(where, tmp_path, typed(ERROR_FILES, text_dates=True)) as (url, schema):
        with pytest.raises(DataValidationError) as warehouse:
            warehouse_load(url, schema, tmp_path)
    errors = [f for f in warehouse.value.findings if f.severity == "error"]
    assert compared(errors) == compared(f for f in folder.value.findings if f.severity == "error")
    bad = next(f for f in errors if f.code == "bad_date")
    assert (bad.file, bad.column, bad.ids, bad.values, bad.count) == (f"{schema}.leads", "created_at", ("L3",), ("2025-01-40",), 1)


def refused_as_text(where: str, tmp_path, files: dict[str, str]):
    """The DataValidationError (pytest's ExceptionInfo) of a warehouse holding `files` with every cell as text."""
    tables = {name.removesuffix(".csv"): pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
              for name, text in files.items()}
    with warehouse_url(where, tmp_path, tables) as (url, schema):
        with pytest.raises(DataValidationError) as warehouse:
            warehouse_load(url, schema, tmp_path)
    return warehouse


#: Text dates of the shapes the folder documents (YYYY-MM-DD, ISO datetimes): read, or refused as no date.
#: (Offsets are tested apart: a warehouse converts them as a folder does, tests/test_warehouse_values.py.)
GOOD_DATES = ["2024-02-29", "2025-04-01T10:30:00.123456789", "2025-04-01 10:30", "2025-04-01T10:30:00",
              "2025-04-01 00:00:00", "2025-04-01T10:30:59.5", "2025-03-31T23:59:59", "2025-01-31"]
BAD_DATES = ["2025-02-29", "1677-12-31", "2262-01-01", "2025-04-01T24:00:00", "2025-13-01", "2025-04-31",
             "2025-04-01T10:60", "soon"]


#: Text amounts: plain numbers as FIX_NUMBER writes them (read), and cells the folder refuses (bad_number).
GOOD_NUMBERS = ["1200", "0.0", "+5", ".5", "5.", "1e5", "1E-3", "00012"]
BAD_NUMBERS = ["inf", "nan", "1,200", "1 200", "0x10", "--1", "1e", "1.2.3"]


def _text_cells(kind: str) -> tuple[dict[str, str], list[str]]:
    """(files, bad cells): leads' created_at (kind date) or opportunities' amount (number) as text, the good and bad
    cells of that kind alternating, ids in row order."""
    good, bad = (GOOD_DATES, BAD_DATES) if kind == "date" else (GOOD_NUMBERS, BAD_NUMBERS)
    cells = [c for pair in zip(good, bad) for c in pair]
    if kind == "date":
        return {"leads.csv": "lead_id,created_at,channel\n" + "".join(f"L{i:02d},{c},web\n" for i, c in enumerate(cells, 1)),
                "opportunities.csv": "opportunity_id,created_at,closed_at,outcome,amount,lead_id\n"
                                     "O1,2025-01-20,2025-03-01,won,1000,L01\n"}, bad
    return {"opportunities.csv": "opportunity_id,created_at,closed_at,outcome,amount\n"
                                 + "".join(f'O{i:02d},2025-01-20,2025-03-01,won,"{c}"\n' for i, c in enumerate(cells, 1))}, bad


@pytest.mark.parametrize("where", BACKENDS)
@pytest.mark.parametrize("kind, first_ids", [("date", ("L02", "L04", "L06", "L08", "L10")),
                                             ("number", ("O02", "O04", "O06", "O08", "O10"))])
def test_text_dates_and_numbers_are_refused_as_a_folder_refuses_them(where, kind, first_ids, tmp_path):
    """Leads whose created_at is text, or opportunities whose amount is, good and bad cells alternating: PostgreSQL
    (whose cast would stop at the first bad cell) and DuckDB give the folder's bad_date / bad_number, counting the 8
    bad cells and naming the first 5 ids and values, as the folder names their rows (3, 5, 7, 9, 11) and values."""
    files, bad = _text_cells(kind)
    with pytest.raises(DataValidationError) as folder:
        load_workbook(write(tmp_path / "folder", files))
    warehouse = refused_as_text(where, tmp_path, files)
    found = [{f.code: f for f in side.value.findings if f.severity == "error"} for side in (folder, warehouse)]
    assert [sorted(f) for f in found] == [[f"bad_{kind}"], [f"bad_{kind}"]]
    by_folder, by_warehouse = found[0][f"bad_{kind}"], found[1][f"bad_{kind}"]
    assert by_folder.count == by_warehouse.count == len(bad) == 8
    assert by_folder.values == by_warehouse.values == tuple(bad[:5])
    assert by_folder.rows == (3, 5, 7, 9, 11) and by_warehouse.ids == first_ids


def test_the_warehouse_number_rule_is_the_folders():
    """helpers.data.parse.NUMBER_PATTERN accepts exactly the cells the folder's parse reads, but for Japanese units
    (1,200万円) and a number past a float's range (1e309), which a warehouse reads and refuses by rules of their own
    (helpers.metrics.warehouse_values, tested in tests/test_warehouse_values.py)."""
    import re

    from helpers.data.parse import NUMBER_PATTERN, _parse_number

    cells = GOOD_NUMBERS + BAD_NUMBERS + ["-inf", "Infinity", "１２", "1_000", "e5", ".", "-", "¥100", "100円", "12 ", "1e+5"]
    read = _parse_number(pd.Series(cells, dtype=object)).notna().tolist()
    rule = re.compile(NUMBER_PATTERN)
    assert [c for c, ok in zip(cells, read) if bool(rule.match(c)) != ok] == ["12 "]   # a warehouse trims it first
    assert sum(read) == len(GOOD_NUMBERS) + 2
    assert rule.match("1e309") and not _parse_number(pd.Series(["1e309"])).notna().any()
    assert not rule.match("1,200万円") and _parse_number(pd.Series(["1,200万円"])).tolist() == [12_000_000.0]


def test_the_warehouse_date_rule_is_the_folders():
    """helpers.data.parse.ISO_DATE_PATTERN (what a warehouse checks its text dates with) accepts exactly the cells the
    folder's parse reads, on every YYYY-MM-DD of months 00-13 and days 00-32 around the ends of the date range and the
    century leap rules (1676-1700, 1796-1804, 1896-1904, 1996-2004, 2096-2104, 2196-2204, 2256-2263) and on times and
    offsets around their limits."""
    import calendar
    import re

    from helpers.data.parse import ISO_DATE_PATTERN, _parse_datetime

    years = [y for a, b in ((1676, 1700), (1796, 1804), (1896, 1904), (1996, 2004), (2096, 2104), (2196, 2204),
                            (2256, 2263)) for y in range(a, b + 1)]
    cells = [f"{y:04d}-{m:02d}-{d:02d}" for y in years for m in range(14) for d in range(33)]
    cells += [f"2024-02-29{sep}{h:02d}:{mi:02d}{sec}{off}" for sep in "T " for h in (0, 23, 24) for mi in (0, 59, 60)
              for sec in ("", ":00", ":59", ":60", ":30.5") for off in ("", "Z", "+09:00", "-0500", " +09:00", "+09")]
    rule = re.compile(ISO_DATE_PATTERN)
    read = _parse_datetime(pd.Series(cells, dtype=object), "Asia/Tokyo").notna().tolist()   # one column: offsets mixed
    assert [c for c, ok in zip(cells, read) if bool(rule.match(c)) != ok] == []
    days = sum(366 if calendar.isleap(y) else 365 for y in years if 1678 <= y <= 2261)   # 27,028
    assert sum(read) == days + 2 * 2 * 2 * 4 * 6   # separators x hours 0, 23 x minutes 0, 59 x seconds but :60 x offsets


from test_warehouse_gaps import icu_url  # noqa: E402,F401 - the fixture: a PostgreSQL database with ICU's collation


@pytest.mark.parametrize("where", ["duckdb", pytest.param("postgresql-icu", marks=pytest.mark.skipif(
    not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/with-postgres starts one)"))])
def test_a_cell_findings_first_ids_are_in_code_point_order(where, request, tmp_path):
    """A cell finding's first ids (here the leads whose channel is a placeholder) are in code point order (upper case,
    then lower case, then kana) on every collation, as a row check's (helpers.data.checks_tables.code_point_order)."""
    from helpers.metrics.warehouse import connect, upload
    from helpers.metrics.warehouse_cells import channel_findings

    ids = ["b1", "A2", "a3", "B4", "ア5", "あ6", "a_7", "a8"]
    leads = pd.DataFrame({"lead_id": ids, "created_at": pd.Timestamp("2025-01-10"), "channel": "Select"})
    schema = f"cells_{uuid.uuid4().hex[:8]}"
    duckdb = where == "duckdb"
    con = connect(f"duckdb://{tmp_path / 'cells.duckdb'}", writable=True) if duckdb else connect(request.getfixturevalue("icu_url"))
    try:
        upload({"leads": leads}, con, schema)
        _, found = channel_findings(con, {"leads": con.table("leads", database=schema)}, None, {"leads": "leads"}, True)
    finally:
        if not duckdb:
            con.drop_database(schema, force=True, cascade=True)
        con.disconnect()
    assert [(f.code, f.ids) for f in found] == [("channel_placeholder", tuple(sorted(ids)[:5]))]
    assert sorted(ids)[:5] == ["A2", "B4", "a3", "a8", "a_7"]


#: Dates pandas' ISO8601 parse read by guessing the missing parts (2025 -> 2025-01-01, 2025-04 -> 2025-04-01) or
#: the separators: none is YYYY-MM-DD or an ISO datetime, so both backends refuse them (leads L02-L06, rows 3-7).
GUESSED_DATES = ["2025", "2025-04", "20250401", "2025/04/01", "2025-04-01T10"]


def _guessed_files() -> dict[str, str]:
    cells = ["2025-04-02"] + GUESSED_DATES
    return {"leads.csv": "lead_id,created_at,channel\n" + "".join(f"L{i:02d},{c},web\n" for i, c in enumerate(cells, 1)),
            "opportunities.csv": "opportunity_id,created_at,closed_at,outcome,amount,lead_id\n"
                                 "O1,2025-04-20,2025-05-01,won,1000,L01\n"}


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("where", BACKENDS)
def test_a_date_with_a_guessed_part_is_refused_in_a_folder_and_a_warehouse(where, fast, tmp_path, monkeypatch):
    """created_at cells 2025, 2025-04, 20250401, 2025/04/01, 2025-04-01T10 (leads L02-L06 after a good L01): the
    folder (fast and exact CSV reader) gives bad_date on created_at naming rows 3-7 and the 5 cells, the warehouse
    (the same cells as text) the same finding naming L02-L06; nothing else is refused."""
    from helpers.data import load

    monkeypatch.setattr(load, "FAST_CSV", fast)
    files = _guessed_files()
    with pytest.raises(DataValidationError) as folder:
        load_workbook(write(tmp_path / "folder", files))
    warehouse = refused_as_text(where, tmp_path, files)
    found = [[f for f in side.value.findings if f.severity == "error"] for side in (folder, warehouse)]
    assert [[(f.code, f.column, f.count, f.values) for f in side] for side in found] == \
        [[("bad_date", "created_at", 5, tuple(GUESSED_DATES))]] * 2
    assert found[0][0].rows == (3, 4, 5, 6, 7) and found[0][0].file == "leads.csv"
    assert found[1][0].ids == ("L02", "L03", "L04", "L05", "L06")
    assert found[0][0].fix == found[1][0].fix and "YYYY-MM-DD" in found[0][0].fix


@pytest.mark.parametrize("suffix", ["xlsx", "parquet"])
def test_a_date_cell_with_a_guessed_part_is_refused_in_excel_and_parquet_but_a_real_date_is_read(suffix, tmp_path):
    """An Excel/Parquet created_at column of real dates (2025-04-02, 2025-04-03 as date cells) reads; the same column
    with the text cells 2025-04 and 2025/04/01 in rows 3 and 4 is refused with bad_date naming them."""
    import datetime

    def folder(name, created):
        path = tmp_path / name
        path.mkdir()
        leads = pd.DataFrame({"lead_id": ["L1", "L2", "L3"], "created_at": created, "channel": ["web"] * 3})
        (leads.to_excel(path / "leads.xlsx", index=False) if suffix == "xlsx" else leads.to_parquet(path / "leads.parquet"))
        (path / "opportunities.csv").write_text("opportunity_id,created_at,closed_at,outcome,amount,lead_id\n"
                                                "O1,2025-04-20,2025-05-01,won,1000,L1\n", encoding="utf-8")
        return path

    day = datetime.datetime(2025, 4, 2)
    wb = load_workbook(folder("dates", [day, day + datetime.timedelta(days=1), day]))
    assert [d.isoformat() for d in wb.leads["created_at"].dt.date] == ["2025-04-02", "2025-04-03", "2025-04-02"]
    with pytest.raises(DataValidationError) as refused:
        load_workbook(folder("texts", ["2025-04-02", "2025-04", "2025/04/01"]))
    bad = [f for f in refused.value.findings if f.severity == "error"]
    assert [(f.code, f.column, f.rows, f.values) for f in bad] == [("bad_date", "created_at", (3, 4), ("2025-04", "2025/04/01"))]


@pytest.mark.parametrize("where", BACKENDS)
def test_a_text_datetime_with_an_offset_is_converted_in_a_folder_and_a_warehouse(where, tmp_path):
    """created_at 2025-04-01T23:30:00-05:00 is 2025-04-02 04:30 UTC, 13:30 in Asia/Tokyo (the default settings' zone):
    a folder reads lead L02 on 2025-04-02, and a warehouse holding the text converts it the same way (no finding; a
    plain cast would keep 23:30 on 2025-04-01): its first data date is L02's day, as the folder's. The converted
    values themselves: tests/test_warehouse_values.py."""
    cell = "2025-04-01T23:30:00-05:00"
    files = {"leads.csv": f"lead_id,created_at,channel\nL01,2025-04-03,web\nL02,{cell},web\n",
             "opportunities.csv": "opportunity_id,created_at,closed_at,outcome,amount,lead_id\n"
                                  "O1,2025-04-20,2025-05-01,won,1000,L01\n"}
    wb = load_workbook(write(tmp_path / "folder", files))
    assert wb.config.timezone == "Asia/Tokyo"
    assert wb.leads.set_index("lead_id")["created_at"].astype(str).to_dict() == {"L01": "2025-04-03", "L02": "2025-04-02"}
    tables = {name.removesuffix(".csv"): pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
              for name, text in files.items()}
    with warehouse_url(where, tmp_path, tables) as (url, schema):
        loaded = warehouse_load(url, schema, tmp_path)
    assert [f for f in loaded.findings if f.severity == "error"] == []
    assert loaded.first_date == first_data_date(wb) == pd.Timestamp("2025-04-02")


def test_the_warehouse_offset_rule_is_the_folders():
    """One offset rule on both backends: helpers.metrics.warehouse_cells.OFFSET_PATTERN is helpers.data.parse's, which
    the folder's parse converts by, and it marks exactly the ISO cells written with an offset, on dates and datetimes
    with and without seconds, fractions and each offset form: 2 separators x 4 times x 6 endings = 48 datetimes and 2
    dates, 40 of them with an offset (Python's re here, RE2 in DuckDB and PostgreSQL's ~ in the warehouse tests)."""
    import re

    from helpers.data import parse
    from helpers.metrics.warehouse_cells import OFFSET_PATTERN

    assert OFFSET_PATTERN is parse.OFFSET_PATTERN
    endings = ("", "Z", "+09:00", "-0500", " +09:00", "+09")
    cells = ["2025-04-01", "2024-02-29"] + [f"2025-04-01{sep}{t}{off}" for sep in "T " for t in ("10:30", "10:30:00", "23:59:59.5", "00:00:00.123")
                                            for off in endings]
    written_with_offset = [False, False] + [off != "" for sep in "T " for t in range(4) for off in endings]
    assert all(re.match(parse.ISO_DATE_PATTERN, c) for c in cells)
    assert [bool(re.search(OFFSET_PATTERN, c)) for c in cells] == written_with_offset and sum(written_with_offset) == 40


#: A new user's data (round 3) with three problems in its opportunities: a date written 2025/02/02, an amount written
#: "$20,000" (both of deal 9003) and the id 9001 twice (rows 2 and 3).
MULTI_PROBLEMS = Path(__file__).parent / "fixtures" / "newuser3" / "warehouse-multi-problems"


@pytest.mark.parametrize("where", BACKENDS)
def test_a_warehouse_lists_every_problem_at_once_as_a_folder(where, tmp_path):
    """The duplicate id is listed beside the cells' errors (a bad date, a bad amount), as the folder lists all three:
    the row checks run with the refused cells null and marked (a won deal whose amount was refused is no
    won_without_amount); the warehouse names ids where the folder names rows."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(MULTI_PROBLEMS.glob("*.csv"))}
    with pytest.raises(DataValidationError) as folder:
        load_workbook(write(tmp_path / "folder", files))
    warehouse = refused_as_text(where, tmp_path, files)
    errors = [f for f in warehouse.value.findings if f.severity == "error"]
    assert compared(errors) == compared(f for f in folder.value.findings if f.severity == "error")
    assert sorted((f.code, f.column, f.ids, f.values, f.count) for f in errors) == [
        ("bad_date", "created_at", ("9003",), ("2025/02/02",), 1),
        ("bad_number", "amount", ("9003",), ("$20,000",), 1),
        ("duplicate_id", "opportunity_id", ("9001", "9001"), ("9001", "9001"), 2)]   # both rows holding it
