"""Core figures read no column outside the contract: a Workbook's deferred extra columns (helpers.data.extras) stay in
the file through core_metrics and are read only when a figure asks for one (the source's lead columns, notebook 05)."""
from __future__ import annotations

import pandas as pd

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.data.extras import DeferredColumns
from helpers.data.load import load_workbook
from helpers.data.periods import Period
from helpers.metrics.core import core_metrics, workbook_source


def test_core_metrics_leave_the_extra_columns_in_the_file(tmp_path):
    wb = load_workbook(write_folder(tmp_path / "d", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV}))
    assert isinstance(wb.extras._tables["leads"], DeferredColumns)   # email: not converted at load
    period = Period(pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"), 2025, 1, 4)
    core = core_metrics(wb, period)
    assert core["pipeline"]["won_count"] == 1 and core["funnel"]["cohort"]["leads"] == 3   # L1, L2, L3 created 04-01, 04-15, 05-20
    assert isinstance(wb.extras._tables["leads"], DeferredColumns)   # still in the file
    source = workbook_source(wb)
    assert "email" in source.lead_columns()                          # asked for: read now
    assert list(source.extras["email"]) == ["a@example.com", "b@example.com", "c@example.com"]
    assert isinstance(wb.extras._tables["leads"], pd.DataFrame)
