"""The data's last record date and the default as_of: an open deal's closed_at (an expected close date) never counts,
in a folder, a Source and a warehouse alike; the runner's default and --all never give a period --period refuses;
a coverage range is never shown backwards. Inputs: tests/fixtures/newuser (hand-checked dates)."""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import first_data_date, last_data_date, load_workbook
from helpers.metrics.limits import source_last_date
from helpers.metrics.source import FrameSource
from helpers.report import run

T = pd.Timestamp
CASES = Path(__file__).parent / "fixtures" / "newuser"
#: The data's last record date of each case, by hand: open-expected-close's last won/lost closed_at is O2's
#: 2025-06-10 (O3 is open, its 2025-12-25 is ignored); open-only's is the last lead's created_at 2025-05-20
#: (every deal is open: O1's 2025-07-20 is ignored).
LAST = {"open-expected-close": T("2025-06-10"), "open-only": T("2025-05-20")}


@pytest.mark.parametrize("case", sorted(LAST))
def test_an_open_deals_closed_at_is_never_the_last_record_date(case):
    folder = CASES / case
    wb = load_workbook(folder, load_config(folder))
    assert wb.as_of == LAST[case]
    assert last_data_date(wb) == LAST[case]
    assert source_last_date(FrameSource(wb.leads, wb.opportunities)) == LAST[case]
    # the open deal's later closed_at is said once (open_with_closed_at), not again as a date after as_of
    assert [f.code for f in wb.findings if f.column == "closed_at"] == ["open_with_closed_at"]


@pytest.mark.parametrize("case", sorted(LAST))
def test_a_warehouse_ends_where_the_same_folder_ends(case, tmp_path):
    import ibis

    from helpers.metrics.warehouse_source import as_of_of
    from test_warehouse_load import SCHEMA, upload_duckdb, warehouse_load

    folder = CASES / case
    wb = load_workbook(folder, load_config(folder))
    tables = {"leads": wb.leads.astype({c: "datetime64[ns]" for c in ("created_at", "mql_at", "sql_at")}),
              "opportunities": wb.opportunities.astype({c: "datetime64[ns]" for c in ("created_at", "closed_at")})}
    tables = {name: frame.astype({c: "string" for c in frame.columns if str(frame[c].dtype) == "category"})
              for name, frame in tables.items()}
    rowless = warehouse_load(upload_duckdb(tmp_path, tables), SCHEMA, tmp_path)
    assert (rowless.as_of, rowless.last_date, rowless.first_date) == (LAST[case], LAST[case], first_data_date(wb))
    con = ibis.duckdb.connect()
    assert as_of_of(con, ibis.memtable(tables["leads"]), ibis.memtable(tables["opportunities"]),
                    load_config(folder)) == LAST[case]


def _args(**given) -> argparse.Namespace:
    return argparse.Namespace(period=None, all=False, max_periods=run.MAX_ALL_PERIODS) if not given else \
        argparse.Namespace(**{"period": None, "all": False, "max_periods": run.MAX_ALL_PERIODS, **given})


def test_the_default_run_never_gives_a_period_that_period_refuses(capsys):
    """open-expected-close (fiscal year from April): data 2025-04-08..2025-06-10. Without --as-of, as_of is 06-10 and
    no quarter is complete: FY2025Q1 (Apr-Jun), partial. With --as-of 2025-12-31 the complete quarters up to it are
    FY2025Q1-Q3, but Q2 and Q3 start after the data's last date (07-01 > 06-10): the default is FY2025Q1, --all
    runs FY2025Q1 alone (partial: the data ends 06-10, 204 days before as_of), and --period FY2025Q2 is refused."""
    folder = CASES / "open-expected-close"
    wb = load_workbook(folder, load_config(folder))
    first, last = first_data_date(wb), last_data_date(wb)
    assert [p.label for p in run.select_periods(_args(), first, wb.as_of, 4, last)] == ["FY2025Q1"]
    late = T("2025-12-31")
    assert [p.label for p in run.select_periods(_args(), first, late, 4, last)] == ["FY2025Q1"]
    capsys.readouterr()
    assert [p.label for p in run.select_periods(_args(all=True), first, late, 4, last)] == ["FY2025Q1"]
    assert "covers FY2025Q1 only in part" in capsys.readouterr().out
    with pytest.raises(Exception, match="start after the data's last date 2025-06-10"):
        run.select_periods(_args(period=["FY2025Q2"]), first, late, 4, last)


def test_the_default_run_of_open_only_data_reports_the_quarter_holding_its_data(tmp_path, capsys):
    """open-only (every deal open, fiscal year from April): as_of is 2025-05-20 (the last lead), not O1's expected
    close 2025-07-20; the run reports FY2025Q1 (stopped here before any notebook: none in the folder given)."""
    empty = tmp_path / "notebooks"
    empty.mkdir()
    assert run.main(["--data", str(CASES / "open-only"), "--out", str(tmp_path / "out"), "--notebooks", str(empty)]) == 2
    said = capsys.readouterr()
    assert "reporting the period holding as_of, FY2025Q1" in said.out
    assert "no notebooks named" in said.err


@pytest.mark.parametrize("lang, partial, none", [("en", "Partial: data from 2025-04-08 to 2025-06-10", "No data in this period"),
                                                 ("ja", "部分期間: 2025-04-08〜2025-06-10のデータ", "この期間のデータはありません")])
def test_a_coverage_range_is_never_shown_backwards(lang, partial, none, tmp_path):
    from helpers.report.export import coverage_text, partial_note
    from helpers.report.index_page import partial_mark

    ok = {"data_start": "2025-04-08", "data_end": "2025-06-10", "partial": True}
    backwards = {"data_start": "2025-07-01", "data_end": "2025-06-10", "partial": True}
    assert coverage_text(ok, lang) == partial
    assert coverage_text(backwards, lang) == none
    assert coverage_text({"partial": False}, lang) == ""
    assert partial_mark({"coverage": backwards}, lang) == f" ({none})"
    (tmp_path / "metrics.json").write_text('{"coverage": {"data_start": "2025-07-01", "data_end": "2025-06-10", '
                                           '"partial": true}}', encoding="utf-8")
    assert partial_note(tmp_path, lang) == none


def test_the_notebooks_and_the_panel_default_to_the_runners_period():
    """helpers.data.periods.latest_period, the one default of the runner, open_session and the lab's panel (fiscal year
    from April, data 2025-04-08..2025-06-10)."""
    from helpers.data.periods import latest_period

    first, last = T("2025-04-08"), T("2025-06-10")
    assert [(p.label, whole) for p, whole in [latest_period(first, T("2025-06-10"), 4, last)]] == [("FY2025Q1", False)]
    # as_of months after the data's end: FY2025Q2 and Q3 are complete up to it, but start after the data ends
    assert [(p.label, whole) for p, whole in [latest_period(first, T("2025-12-31"), 4, last)]] == [("FY2025Q1", False)]
    assert [(p.label, whole) for p, whole in [latest_period(T("2025-04-01"), T("2025-12-31"), 4, last)]] == [("FY2025Q1", True)]
    assert [(p.label, whole) for p, whole in [latest_period(T("2025-04-01"), T("2025-12-31"), 4)]] == [("FY2025Q3", True)]


def test_open_session_defaults_to_the_quarter_holding_the_data(monkeypatch):
    from helpers.report.session import open_session

    monkeypatch.delenv("WORKBOOK_SNAPSHOT", raising=False)
    s = open_session(str(CASES / "open-expected-close"), as_of="2025-12-31", theme=False)
    assert s.period.label == "FY2025Q1"
