"""A warehouse run's Workbook without rows (helpers.data.rowless): what the sessions read from it is the run snapshot's,
and the lead, deal and touch rows are never served."""
from __future__ import annotations

import pytest

from helpers.config import load_config
from helpers.data.load import first_data_date, load_workbook
from helpers.data.rowless import RowlessWorkbook, RowsInWarehouse, read_rowless
from helpers.data.snapshot import write_snapshot
from helpers.paths import SAMPLE_DATA_DIR


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """(the sample's Workbook, its run snapshot folder)."""
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    return wb, write_snapshot(wb, tmp_path_factory.mktemp("run") / "tables")


def test_the_rowless_workbook_holds_what_the_sessions_read(snapshot):
    wb, folder = snapshot
    rowless = read_rowless(folder, SAMPLE_DATA_DIR, wb.config)
    assert isinstance(rowless, RowlessWorkbook) and rowless.snapshot_id == wb.snapshot_id
    assert rowless.as_of == wb.as_of and str(rowless.as_of.date()) == "2026-09-30"
    assert first_data_date(rowless) == first_data_date(wb) == rowless.first_date
    assert str(first_data_date(rowless).date()) == "2023-04-01"
    assert rowless.findings == wb.findings and rowless.files == wb.files
    for name in ("spend", "checklist", "initiatives"):   # the small tables, read in full
        assert rowless.table(name).equals(wb.table(name)) and len(rowless.table(name)) > 0
    assert rowless.targets is None   # absent, as in the folder
    assert rowless.extras == {}     # the studied lead columns are lead rows too


def test_a_row_table_is_present_but_never_read(snapshot):
    wb, folder = snapshot
    rowless = read_rowless(folder, SAMPLE_DATA_DIR, wb.config)
    for name in ("leads", "opportunities", "touches"):
        table = rowless.table(name)
        assert table is not None   # "no leads table" still reads as None
        with pytest.raises(RowsInWarehouse, match=f"the {name} rows stay in the warehouse"):
            table["created_at"]
        with pytest.raises(RowsInWarehouse):
            len(table)
        with pytest.raises(RowsInWarehouse):
            table.columns


def test_a_warehouse_runs_session_holds_the_rowless_workbook(snapshot, monkeypatch):
    """open_session in a warehouse run (the runner's WORKBOOK_WAREHOUSE and WORKBOOK_SNAPSHOT) gives the rowless
    Workbook; without a warehouse, the loaded one."""
    from helpers.data.snapshot import SNAPSHOT_ENV
    from helpers.metrics.source import WAREHOUSE_ENV
    from helpers.report.session import open_session

    wb, folder = snapshot
    monkeypatch.setenv(SNAPSHOT_ENV, str(folder))
    assert not isinstance(open_session(str(SAMPLE_DATA_DIR), theme=False).wb, RowlessWorkbook)
    monkeypatch.setenv(WAREHOUSE_ENV, '{"url": "duckdb:///nowhere.duckdb", "schema": null, "tables": {}}')
    s = open_session(str(SAMPLE_DATA_DIR), theme=False)
    assert isinstance(s.wb, RowlessWorkbook) and s.period.label == "FY2026Q2" and s.as_of == wb.as_of
    with pytest.raises(RowsInWarehouse, match="the leads rows"):
        s.wb.leads["lead_id"]


def test_another_folders_snapshot_is_not_taken(snapshot, tmp_path):
    wb, folder = snapshot
    assert read_rowless(folder, tmp_path, wb.config) is None
    assert read_rowless(tmp_path / "none", SAMPLE_DATA_DIR, wb.config) is None
