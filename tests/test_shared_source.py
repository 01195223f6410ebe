"""A run's kernel shares one source per snapshot between its notebooks and periods, and computes a data-only figure once."""
from __future__ import annotations

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data import snapshot
from helpers.data.load import load_workbook
from helpers.data.snapshot import write_snapshot
from helpers.metrics import health_engine, limits
from helpers.metrics.source import FrameSource
from helpers.report import session as session_module
from helpers.report.session import open_session


@pytest.fixture
def run_snapshot(tmp_path, tiny_folder, monkeypatch):
    """The tiny folder's run snapshot, as the runner hands it to the kernels (no shared source left from another test)."""
    folder = write_snapshot(load_workbook(tiny_folder, load_config(tiny_folder)), tmp_path / "run-snapshot")
    monkeypatch.setenv(snapshot.SNAPSHOT_ENV, str(folder))
    monkeypatch.setattr(session_module, "_FRAMES", {})
    return tiny_folder


def counting(source: FrameSource) -> list:
    """Count the queries `source` fetches from now on."""
    fetched = []
    fetch = source.fetch

    def counted(expr):
        fetched.append(expr)
        return fetch(expr)

    source.fetch = counted
    return fetched


def test_the_notebooks_of_a_run_share_one_source(run_snapshot):
    a = open_session(str(run_snapshot), period="2025Q2", theme=False)
    b = open_session(str(run_snapshot), period="2025Q3", theme=False)
    assert a.source is b.source
    assert a.wb.opportunities is not b.wb.opportunities   # each notebook still gets its own frames
    other = open_session(str(run_snapshot), period="2025Q2", lang="ja", theme=False)   # other settings: another source
    assert other.source is not a.source


def test_a_notebook_changing_its_frames_leaves_the_shared_source_alone(run_snapshot):
    a = open_session(str(run_snapshot), theme=False)
    source = a.source
    a.wb.opportunities.loc[:, "amount"] = 0.0
    b = open_session(str(run_snapshot), theme=False)
    assert b.source is source
    assert source.frames["opportunities"]["amount"].tolist() == [1_200_000.0, 500_000.0, 800_000.0]


def test_a_data_only_figure_is_computed_once_per_source(run_snapshot):
    source = open_session(str(run_snapshot), theme=False).source
    fetched = counting(source)
    first = health_engine.table_rows_of(source)
    # tests/conftest.py's LEADS_CSV and OPPS_CSV, read by eye: 3 rows each, first and last created_at
    assert first == {"leads": (3, pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20")),
                     "opportunities": (3, pd.Timestamp("2025-04-12"), pd.Timestamp("2025-06-10"))}
    queries = len(fetched)
    assert queries == 2   # one aggregate row per table
    first["leads"] = None   # a caller changing its copy
    assert health_engine.table_rows_of(source)["leads"] == (3, pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20"))
    assert len(fetched) == queries
    # another argument is another figure
    before = health_engine.stale_open_deals_of(source, pd.Timestamp("2025-06-30"), 10)
    after = health_engine.stale_open_deals_of(source, pd.Timestamp("2025-06-30"), 30)
    assert (before["stale"], after["stale"]) == (1, 0)   # O3, open since 2025-06-10: 20 days old on 2025-06-30
    assert len(fetched) == queries + 2


def test_the_data_facts_and_first_dates_are_fetched_once_per_source(run_snapshot):
    source = open_session(str(run_snapshot), theme=False).source
    fetched = counting(source)
    as_of = pd.Timestamp("2025-06-30")
    facts = limits.data_facts_of(source, as_of)
    assert limits.data_facts_of(source, as_of) == facts
    assert not facts.no_lost_deals and not facts.no_amounts   # O2 lost, every deal has an amount
    assert limits.data_facts_of(source, as_of, ("one_created_at",)).one_created_at   # the codes still count per call
    assert limits.source_dates(source) == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20"))
    assert limits.source_dates(source) == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-05-20"))
    assert len(fetched) == 1 + 2   # the facts' row, then the opportunities' and the leads' dates
