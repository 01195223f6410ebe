"""Shared test fixtures: tiny canonical data folders written by hand."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

LEADS_CSV = """lead_id,created_at,channel,campaign,industry,company_size,mql_at,sql_at,first_sales_touch_at,opportunity_id,owner,email
L1,2025-04-01,web,,製造,50-299,2025-04-03,2025-04-10,2025-04-04T09:00:00,O1,佐藤,a@example.com
L2,2025-04-15,seminar,ウェビナー,IT・通信,1-49,2025-04-16,,,,鈴木,b@example.com
L3,2025-05-20,web,,小売,1000+,,,,,,c@example.com
"""

OPPS_CSV = """opportunity_id,created_at,closed_at,outcome,amount,lead_id,channel,industry,company_size,owner,loss_reason
O1,2025-04-12,2025-06-01,won,1200000,L1,,製造,50-299,佐藤,
O2,2025-05-01,2025-06-30,lost,500000,,outbound,金融,300-999,鈴木,価格
O3,2025-06-10,,open,800000,,,,,鈴木,
"""


def as_dates(frame, *columns):
    """Cast the named columns of a hand-built frame to datetime64[ns] (the loader's date type), in place."""
    for c in columns:
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    return frame


def write_folder(path: Path, files: dict[str, str], encoding: str = "utf-8") -> Path:
    """Write {file name: text} into `path` and return it."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (path / name).write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def tiny_folder(tmp_path) -> Path:
    """A valid data folder: 3 leads, 3 opportunities."""
    return write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})


#: Runner output folders whose reports were scanned in this test session (by the fixture below).
SCANNED_REPORTS: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def scan_every_report():
    """Every runner invocation of the test suite gets its reports scanned as it publishes them.

    helpers.report.run.main calls helpers.report.index_page.write_index after each run; wrapped here, it then
    scans OUT/index.html and every OUT/<period>/*.html (tests/report_scan.py) and fails the run,
    and so the test that started it, on any None, NaN, nan, <NA>, null or float with more than
    4 decimals in visible text. Works under pytest-xdist (each worker wraps its own import).
    """
    from helpers.report import index_page
    from report_scan import scan_folder

    original = index_page.write_index

    def write_index_and_scan(out, *args, **kwargs):
        page = original(out, *args, **kwargs)
        SCANNED_REPORTS.append(Path(out))
        found = scan_folder(Path(out))
        assert not found, "reports show text they never may:\n" + "\n".join(found[:30])
        return page

    index_page.write_index = write_index_and_scan
    yield SCANNED_REPORTS
    index_page.write_index = original
