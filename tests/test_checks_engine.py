"""Row checks as engine queries (helpers.data.checks_engine): a warehouse table gets the findings of a folder (issue 26).

Two small folders written by hand: one whose every problem is a warning (it loads), one with errors (it is refused).
The same rows go into a DuckDB file (helpers.metrics.warehouse.upload, typed as a CRM replica holds them) and, with
.ci/with-postgres (WORKBOOK_TEST_PG), into PostgreSQL. The warehouse's findings must be the folder's, but for where
they point: no row numbers (a table has none), the ids of those rows instead. Each expected finding is written out
by hand from the rows below.
"""
from __future__ import annotations

import dataclasses
import io
import os
import uuid

import pandas as pd
import pytest

from helpers.data.load import load_workbook
from helpers.errors import DataValidationError

PG = os.environ.get("WORKBOOK_TEST_PG")
AS_OF = "2025-05-31"

# every row sorted by id, so a folder's first rows are also a warehouse's first ids
WARN_FILES = {
    "leads.csv": """lead_id,created_at,channel,mql_at,sql_at,opportunity_id
L1,2025-01-10,web,2025-01-05,,O1
L2,2025-02-01,web,,,O9
L3,2025-02-03,ads,,2025-02-01,
L4,1901-01-01,ads,,,
L5,2025-06-10,web,,,
""",
    "opportunities.csv": """opportunity_id,created_at,closed_at,outcome,amount,lead_id
O1,2025-01-20,2025-03-01,won,1000,L1
O2,2025-02-10,2025-04-01,won,,LX
O3,2025-02-11,2025-03-05,open,,
O4,2025-02-12,2025-04-02,lost,0,
O5,2025-06-10,,open,500,
""",
    "touches.csv": """touch_id,lead_id,touched_at,channel,opportunity_id
T1,L1,2025-01-11,web,
T2,L9,2025-01-12,web,
T3,L1,2025-03-05,email,
T4,L2,2025-02-02,web,O8
T5,L3,2025-06-01,web,
""",
    "spend.csv": """month,channel,amount
2025-01,web,100
2025-01,web,50
2025-02,ads,70
""",
}

ERROR_FILES = {
    "leads.csv": "lead_id,created_at,channel,opportunity_id\nL1,2025-01-10,web,O1\nL1,2025-01-11,web,\nL2,2025-01-12,ads,\n",
    "opportunities.csv": """opportunity_id,created_at,closed_at,outcome,amount,lead_id
O1,2025-01-20,2025-01-10,won,1000,L1
O2,2025-02-10,,lost,-5,L2
O3,2025-02-11,,maybe,,
O3,2025-02-12,,open,,
""",
}

#: The warnings of WARN_FILES as a folder reports them (file, code, column, rows, values, count), by hand.
EXPECTED_WARNINGS = [
    ("leads.csv", "far_date_before", "created_at", (5,), ("1901-01-01",), 1),
    ("opportunities.csv", "won_without_amount", "amount", (3,), (), 1),
    ("opportunities.csv", "lost_amounts_zero", "amount", (5,), (), 1),
    ("opportunities.csv", "open_with_closed_at", "closed_at", (4,), (), 1),
    ("opportunities.csv", "unknown_lead_id", "lead_id", (3,), ("LX",), 1),
    ("opportunities.csv", "after_as_of", "created_at", (6,), ("2025-06-10",), 1),
    ("leads.csv", "stage_before_created", "mql_at", (2,), ("2025-01-05",), 1),
    ("leads.csv", "stage_before_created", "sql_at", (4,), ("2025-02-01",), 1),
    ("leads.csv", "unknown_opportunity_id", "opportunity_id", (3,), ("O9",), 1),
    ("leads.csv", "after_as_of", "created_at", (6,), ("2025-06-10",), 1),
    ("spend.csv", "duplicate_month_channel", "month", (3,), (), 1),
    ("touches.csv", "touch_unknown_lead", "lead_id", (3,), ("L9",), 1),
    ("touches.csv", "touch_unknown_opportunity", "opportunity_id", (5,), ("O8",), 1),
    ("touches.csv", "touch_after_close", "touched_at", (4,), ("2025-03-05",), 1),
    ("touches.csv", "after_as_of", "touched_at", (6,), ("2025-06-01",), 1),
]
#: The errors of ERROR_FILES, by hand (file, code, column, rows, values, count).
EXPECTED_ERRORS = [
    ("opportunities.csv", "duplicate_id", "opportunity_id", (4, 5), ("O3", "O3"), 2),   # both rows holding O3
    ("opportunities.csv", "bad_outcome", "outcome", (4,), ("maybe",), 1),
    ("opportunities.csv", "missing_closed_at", "closed_at", (3,), (), 1),
    ("opportunities.csv", "closed_before_created", "closed_at", (2,), ("2025-01-10",), 1),
    ("opportunities.csv", "negative_amount", "amount", (3,), ("-5.0",), 1),
    ("leads.csv", "duplicate_id", "lead_id", (2, 3), ("L1", "L1"), 2),
]


def write(folder, files: dict[str, str]):
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def where(findings, severity: str) -> list[tuple]:
    return [(f.file, f.code, f.column, f.rows, f.values, f.count) for f in findings if f.severity == severity]


def typed(files: dict[str, str]) -> dict[str, pd.DataFrame]:
    """The tables as a warehouse holds them: dates as timestamps, amounts as numbers, the rest text (spend's month too:
    2025-01, as the sample's upload in tests/test_warehouse_report.py holds it)."""
    out = {}
    for name, text in files.items():
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
        for col in frame.columns:
            if col.endswith("_at"):
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
            elif col == "amount":
                frame[col] = frame[col].astype(float)
        out[name.removesuffix(".csv")] = frame
    return out


def in_warehouse(con, schema: str, files: dict[str, str], as_of=AS_OF):
    """helpers.data.checks_engine.warehouse_findings over the tables of `files` uploaded into `schema`."""
    from helpers.data.checks_engine import warehouse_findings
    from helpers.metrics.warehouse import upload

    tables = typed(files)
    upload(tables, con, schema)
    sources = {name: con.table(name, database=schema) for name in tables}
    return warehouse_findings(con, sources, {name: f"{name}.csv" for name in tables}, as_of)


def as_in_warehouse(folder_findings, files: dict[str, str]) -> list:
    """A folder's findings as a warehouse gives them: no rows, the ids of those rows (the table's key) instead."""
    keys = {"leads.csv": "lead_id", "opportunities.csv": "opportunity_id", "touches.csv": "touch_id"}
    tables = {f"{name}.csv": frame for name, frame in typed(files).items()}
    out = []
    for f in folder_findings:
        ids = tuple(str(tables[f.file][keys[f.file]].iloc[r - 2]) for r in f.rows) if f.file in keys else ()
        out.append(dataclasses.replace(f, rows=(), ids=ids))
    return out


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("checks")
    return write(tmp / "warn", WARN_FILES), write(tmp / "error", ERROR_FILES)


def test_a_folders_warnings_by_hand(folders):
    wb = load_workbook(folders[0], as_of=AS_OF)
    assert where(wb.findings, "warning") == EXPECTED_WARNINGS
    assert wb.as_of == pd.Timestamp(AS_OF)


def test_a_folders_errors_by_hand(folders):
    with pytest.raises(DataValidationError) as info:
        load_workbook(folders[1])
    assert where(info.value.findings, "error") == EXPECTED_ERRORS


def test_a_duckdb_file_gives_the_folders_findings_with_ids(folders, tmp_path):
    from helpers.metrics.warehouse import connect

    con = connect(f"duckdb://{tmp_path / 'warehouse.duckdb'}", writable=True)
    found, as_of = in_warehouse(con, "revops", WARN_FILES)
    assert as_of == pd.Timestamp(AS_OF)
    assert found == as_in_warehouse(load_workbook(folders[0], as_of=AS_OF).findings, WARN_FILES)
    # the ids by hand: O2 has no amount, T3 is after O1's close, T5 after as_of
    ids = {(f.file, f.code, f.column): f.ids for f in found}
    assert ids["opportunities.csv", "won_without_amount", "amount"] == ("O2",)
    assert ids["touches.csv", "touch_after_close", "touched_at"] == ("T3",)
    assert ids["touches.csv", "after_as_of", "touched_at"] == ("T5",)
    assert "leads.csv, id L4, column" in next(f for f in found if f.code == "far_date_before").render()
    errors, _ = in_warehouse(con, "bad", ERROR_FILES, None)
    with pytest.raises(DataValidationError) as info:
        load_workbook(folders[1])
    expected = [f for f in as_in_warehouse(info.value.findings, ERROR_FILES) if f.code in {e[1] for e in EXPECTED_ERRORS}]
    assert [f for f in errors if f.severity == "error"] == expected
    assert next(f for f in errors if f.code == "duplicate_id" and f.file == "leads.csv").ids == ("L1", "L1")


def test_a_warehouse_with_whitespace_and_case_reads_as_the_loader_types(tmp_path):
    """Ids and outcomes as an export may hold them (' O1 ', 'Won'): trimmed and lower case, as a folder's loader reads them."""
    from helpers.data.checks_engine import warehouse_findings
    from helpers.metrics.warehouse import connect, upload

    con = connect(f"duckdb://{tmp_path / 'warehouse.duckdb'}", writable=True)
    opps = pd.DataFrame({"opportunity_id": [" O1 ", "O1", "O2"], "created_at": pd.to_datetime(["2025-01-01"] * 3),
                         "closed_at": pd.to_datetime(["2025-02-01", None, "2025-02-01"]), "outcome": ["Won ", "open", " lost"],
                         "amount": [10.0, None, 0.0]})
    upload({"opportunities": opps}, con, "revops")
    found, _ = warehouse_findings(con, {"opportunities": con.table("opportunities", database="revops")})
    assert [(f.code, f.count, f.ids) for f in found] == [("duplicate_id", 2, ("O1", "O1")), ("lost_amounts_zero", 1, ("O2",)),
                                                        ("one_created_at", 3, ())]


@pytest.mark.skipif(not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/with-postgres starts one)")
def test_postgresql_gives_the_folders_findings_with_ids(folders):
    from helpers.metrics.warehouse import connect

    con = connect(PG)
    schema = f"workbook_checks_{uuid.uuid4().hex[:8]}"
    try:
        found, _ = in_warehouse(con, schema, WARN_FILES)
    finally:
        con.drop_database(schema, force=True, cascade=True)
        con.disconnect()
    assert found == as_in_warehouse(load_workbook(folders[0], as_of=AS_OF).findings, WARN_FILES)


def test_repeated_ids_counted_past_empty_ids():
    """DuckDB hashes a null id too: empty ids are never repeats, and a repeat among them is still found (rows by hand:
    'a' on rows 2 and 5, 'b' on rows 3, 7 and 8: every row holding a repeated id named)."""
    from helpers.data.validate import check_duplicates

    ids = pd.DataFrame({"touch_id": ["a", "b", None, "a", None, "b", "b"]})
    (found,) = check_duplicates(ids, "touch_id", "touches.csv")
    assert (found.rows, found.values, found.count) == ((2, 3, 5, 7, 8), ("a", "b", "a", "b", "b"), 5)
    assert check_duplicates(pd.DataFrame({"touch_id": ["a", None, None, "b"]}), "touch_id", "touches.csv") == []


def copy_findings(url: str, folders, tmp_path, warn: str, bad: str) -> None:
    """The runner's --warehouse path (helpers.metrics.warehouse_load.load_warehouse, the small tables copied into
    OUT/_data, no row) and a full copy's (helpers.metrics.warehouse_checks.load_copy) on the warehouse at `url`, the
    folders' rows uploaded into schemas `warn` and `bad`: the row findings are the warehouse's, naming schema.table and
    ids, never a row."""
    from helpers.config import load_config
    from helpers.metrics.limits import workbook_warnings
    from helpers.metrics.warehouse import export_folder
    from helpers.metrics.warehouse_checks import load_copy
    from helpers.metrics.warehouse_load import SMALL_TABLES, load_warehouse

    folder = as_in_warehouse(load_workbook(folders[0], as_of=AS_OF).findings, WARN_FILES)
    loaders = {"runner": (lambda data, schema: load_warehouse(data, load_config(data, overrides={"as_of": AS_OF}), url, schema, {}),
                          SMALL_TABLES),
               "copy": (lambda data, schema: load_copy(data, load_config(data, overrides={"as_of": AS_OF}), url, schema, {}),
                        None)}
    for kind, (load, names) in loaders.items():
        data = export_folder(url, tmp_path / kind / "bad", bad, names=names)
        with pytest.raises(DataValidationError) as info:
            load(data, bad)
        found = [f for f in info.value.findings if f.severity == "error"]
        assert [(f.file, f.code, f.ids, f.rows) for f in found] == [
            (f"{bad}.opportunities", "duplicate_id", ("O3", "O3"), ()), (f"{bad}.opportunities", "bad_outcome", ("O3",), ()),
            (f"{bad}.opportunities", "missing_closed_at", ("O2",), ()),
            (f"{bad}.opportunities", "closed_before_created", ("O1",), ()),
            (f"{bad}.opportunities", "negative_amount", ("O2",), ()), (f"{bad}.leads", "duplicate_id", ("L1", "L1"), ())], kind
        data = export_folder(url, tmp_path / kind / "warn", warn, names=names)
        wb = load(data, warn)
        assert wb.findings == [dataclasses.replace(f, file=f"{warn}.{f.file.removesuffix('.csv')}") for f in folder], kind
        assert f"{warn}.touches, id T3, column 'touched_at'" in next(f for f in wb.findings
                                                                     if f.code == "touch_after_close").render()
        # notebook 00's table and metrics.json's data_health.warnings show the ids where a folder shows rows
        records = {w["code"]: w for w in workbook_warnings(wb, None if kind == "copy" else warehouse_source(url, warn, wb))}
        assert (records["touch_after_close"]["file"], records["touch_after_close"]["rows"]) == (f"{warn}.touches", "id T3")
        assert records["lost_amounts_zero"]["rows"] == "id O4"


def warehouse_source(url: str, schema: str, wb):
    """The warehouse's tables as a notebook's session source (helpers.metrics.warehouse.WarehouseSource)."""
    from helpers.metrics.warehouse import WarehouseSource, connect

    return WarehouseSource(connect(url), wb.config, schema)


def test_a_warehouse_runs_copy_reports_the_warehouses_tables_and_ids(folders, tmp_path):
    from helpers.metrics.warehouse import connect, upload

    url = f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    con = connect(url, writable=True)
    upload(typed(WARN_FILES), con, "revops")
    upload(typed(ERROR_FILES), con, "bad")
    con.disconnect()
    copy_findings(url, folders, tmp_path, "revops", "bad")


@pytest.mark.skipif(not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/with-postgres starts one)")
def test_a_postgresql_runs_copy_reports_the_warehouses_tables_and_ids(folders, tmp_path):
    from helpers.metrics.warehouse import connect, upload

    con = connect(PG)
    warn, bad = (f"workbook_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("warn", "bad"))
    try:
        upload(typed(WARN_FILES), con, warn)
        upload(typed(ERROR_FILES), con, bad)
        copy_findings(PG, folders, tmp_path, warn, bad)
    finally:
        for schema in (warn, bad):
            con.drop_database(schema, force=True, cascade=True)
        con.disconnect()
