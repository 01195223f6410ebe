"""The period's core figures are computed once per process: notebooks 00 and 02 of a period share them.

helpers.report.run runs a period's notebooks in one kernel; each notebook opens its session
(helpers.report.session.open_session reads the run's snapshot again) and calls core_metrics.
The memo is keyed on the snapshot's identity (input checksums, the settings that shaped
the tables, as_of), the period and every setting: the second notebook reuses the figures,
any change of inputs computes them again.
"""
import dataclasses

import pytest

from conftest import LEADS_CSV, write_folder
from helpers.config import load_config
from helpers.data import snapshot
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.metrics import core as metrics
from helpers.report.session import open_session
from helpers.storage import dumps


@pytest.fixture
def counted(tmp_path, monkeypatch):
    """A fresh memo, the snapshot cache in tmp_path, and the list of (snapshot id, period) actually computed."""
    monkeypatch.setenv(snapshot.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(snapshot.SNAPSHOT_ENV, raising=False)
    metrics.clear_memo()
    computed = []
    real = metrics._core_metrics

    def counting(wb, period, source=None):
        computed.append((wb.snapshot_id, period.label))
        return real(wb, period, source)

    monkeypatch.setattr(metrics, "_core_metrics", counting)
    yield computed
    metrics.clear_memo()


def notebook_core(folder, projected=False, **kw):
    """What a notebook's setup cell does: open a session, compute the period's core figures."""
    s = open_session(str(folder), theme=False, **kw)
    return s, metrics.core_metrics(s.wb, s.period, projected=projected)


def test_the_second_notebook_reuses_the_core_figures(counted, tiny_folder):
    s00, core00 = notebook_core(tiny_folder)                       # notebook 00
    s02, core02 = notebook_core(tiny_folder)                       # notebook 02, same kernel: its own session and Workbook
    assert s02.wb is not s00.wb and s02.wb.snapshot_id == s00.wb.snapshot_id is not None
    assert len(counted) == 1                                       # computed once
    assert metrics.memo_info() == {"hits": 1, "misses": 1, "size": 1}
    assert dumps(core02) == dumps(core00)
    # 2025Q2 by hand: leads L1 04-01, L2 04-15, L3 05-20; created O1, O2, O3; won O1, lost O2
    assert core02["period"] == "2025Q2" and core02["funnel"]["period"]["leads"] == 3
    assert (core02["pipeline"]["opportunities_created"], core02["pipeline"]["win_rate"]) == (3, 0.5)
    core02["pipeline"]["win_rate"] = 0.99                          # each caller gets its own copy
    assert notebook_core(tiny_folder)[1]["pipeline"]["win_rate"] == 0.5


def test_the_shared_figures_equal_a_fresh_computation_with_the_projection_in_place(counted, tiny_folder):
    notebook_core(tiny_folder)                                     # 00 fills the memo
    s, core02 = notebook_core(tiny_folder, projected=True)         # 02 adds the projected cohort rates to the shared figures
    assert len(counted) == 1
    loaded = load_workbook(tiny_folder, s.config)                  # not from a snapshot: computed, never memoized
    assert loaded.snapshot_id is None
    assert dumps(metrics.core_metrics(loaded, s.period, projected=True)) == dumps(core02)
    assert len(counted) == 2
    cohort = core02["funnel"]["cohort"]
    assert "projected_lead_to_won_rate" in cohort and "projected_lead_to_won_rate" not in notebook_core(tiny_folder)[1]["funnel"]["cohort"]
    if "null_reasons" in cohort:                                   # metrics.json keeps the reasons as the cohort's last key
        assert list(cohort)[-1] == "null_reasons"


def test_a_change_of_inputs_computes_them_again(counted, tiny_folder):
    _, before = notebook_core(tiny_folder)
    new_lead = "L4,2025-06-05,web,,製造,50-299,,,,,佐藤,d@example.com\n"
    (tiny_folder / "leads.csv").write_text(LEADS_CSV + new_lead, encoding="utf-8")
    _, after = notebook_core(tiny_folder)
    assert len(counted) == 2 and counted[0][0] != counted[1][0]    # a new snapshot id: the memo is not used
    assert (before["funnel"]["period"]["leads"], after["funnel"]["period"]["leads"]) == (3, 4)


def test_other_settings_another_period_or_as_of_compute_them_again(counted, tiny_folder, tmp_path):
    notebook_core(tiny_folder)
    notebook_core(tiny_folder, period="2025Q1")
    notebook_core(tiny_folder, as_of="2025-06-15")
    config = write_folder(tmp_path / "cfg", {"settings.yaml": "target:\n  industries: [製造]\n"}) / "settings.yaml"
    _, targeted = notebook_core(tiny_folder, config_path=str(config))
    assert [label for _, label in counted] == ["2025Q2", "2025Q1", "2025Q2", "2025Q2"]
    assert "target_fit" in targeted["by_segment"]
    notebook_core(tiny_folder)                                     # the first one again: still held
    assert len(counted) == 4 and metrics.memo_info()["size"] == 4


def test_a_filtered_copy_of_the_workbook_is_never_mistaken_for_the_snapshot(counted, tiny_folder):
    s, whole = notebook_core(tiny_folder)
    web = dataclasses.replace(s.wb, opportunities=s.wb.opportunities.iloc[:1])   # as helpers.views.funnel_views.filtered does
    assert web.snapshot_id is None
    assert metrics.core_metrics(web, s.period)["pipeline"]["opportunities_created"] == 1
    assert whole["pipeline"]["opportunities_created"] == 3 and len(counted) == 2


def test_the_key_holds_every_setting(tiny_folder):
    config = load_config(tiny_folder)
    period = parse_period("2025Q2", config.fiscal_year_start_month)
    wb = load_workbook(tiny_folder, config)
    assert metrics.core_key(wb, period) is None
    wb.snapshot_id = "x"
    other = dataclasses.replace(wb, config=dataclasses.replace(config, sla_hours=config.sla_hours + 1))
    other.snapshot_id = "x"
    assert metrics.core_key(wb, period) != metrics.core_key(other, period)
