"""The notebooks' control panel (helpers.report.panel): nothing under the runner, controls that re-run the recorded cells."""
import json
from types import SimpleNamespace

import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.labels import t
from helpers.paths import PROJ_ROOT
from helpers.report.panel import control_panel

PARAMS = {"data_dir": "", "config_path": "", "period": "", "as_of": "", "lang": "", "metrics_path": ""}


@pytest.fixture
def live(monkeypatch):
    monkeypatch.delenv("WORKBOOK_STATIC", raising=False)
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                            "initiatives.csv": "name,started_on\nKPI統一,2025-05-15\n"})


class Shell:
    """Runs a cell's code in the notebook namespace, as the kernel's run_cell would."""

    def __init__(self, ns):
        self.ns, self.ran = ns, []

    def run_cell(self, code, store_history=False):
        self.ran.append(code)
        try:
            exec(code, self.ns)
        except Exception as exc:  # the kernel shows the traceback in the cell's output
            return SimpleNamespace(success=False, error=exc)
        return SimpleNamespace(success=True)


def test_every_notebook_calls_the_panel_right_after_its_parameters_cell():
    for path in sorted((PROJ_ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        at = next(i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", []))
        assert "".join(cells[at + 1]["source"]).endswith("control_panel(globals())"), path.name


def test_static_shows_nothing_and_leaves_the_parameters(folder, monkeypatch):
    monkeypatch.setenv("WORKBOOK_STATIC", "1")
    ns = dict(PARAMS, data_dir=str(folder), period="2025Q2")
    assert control_panel(ns) is None
    assert ns == dict(PARAMS, data_dir=str(folder), period="2025Q2")


def test_panel_lists_the_periods_shows_the_folder_and_reruns_the_cells_below(folder, live):
    ns = dict(PARAMS, data_dir=str(folder), initiative="")
    shown = control_panel(ns)
    panel = shown.panel
    panel.shell = Shell(ns)
    # leads from 2025-04-01, snapshot 2025-06-30 (the last date in the data): one complete quarter
    assert panel.period.options == (("Latest complete (2025Q2)", ""), ("2025Q2", "2025Q2"))
    assert str(panel.as_of.value) == "2025-06-30"
    assert str(folder) in panel.widget.children[0].value
    assert panel.initiative.options == (("(latest initiative)", ""), ("KPI統一", "KPI統一"))
    assert shown._repr_mimebundle_()["text/plain"].startswith("Run the notebook")

    panel.before(SimpleNamespace(raw_cell="seen = (period, lang, as_of, initiative)", cell_id="c1"))
    panel.after(None)
    panel.before(SimpleNamespace(raw_cell="control_panel(globals())", cell_id="c0"))  # the panel's own cell: not recorded
    assert list(panel.cells) == ["c1"]

    panel.lang.value = "ja"
    assert ns["seen"] == ("", "ja", "", "") and panel.shell.ran == ["seen = (period, lang, as_of, initiative)"]
    assert "make lab LANG=ja" in panel.status.value
    panel.initiative.value = "KPI統一"
    assert ns["seen"] == ("", "ja", "", "KPI統一")
    panel.start.value = __import__("datetime").date(2025, 5, 1)  # a date instead of a listed initiative
    assert ns["seen"] == ("", "ja", "", "2025-05-01") and panel.initiative.value == ""
    panel.as_of.value = __import__("datetime").date(2025, 6, 15)
    assert ns["seen"] == ("", "ja", "2025-06-15", "2025-05-01")


def test_a_value_chosen_before_the_cells_below_ran_is_the_one_they_read(folder, live):
    """Choosing a period and a language right after the panel appears (no cell below has run, none is recorded):
    the namespace holds them, so the cells run next use what the panel shows and its status calls updated."""
    ns = dict(PARAMS, data_dir=str(folder))
    panel = control_panel(ns).panel
    panel.shell = Shell(ns)
    panel.period.value = "2025Q2"
    panel.lang.value = "ja"
    assert (ns["period"], ns["lang"]) == ("2025Q2", "ja") and panel.shell.ran == []
    assert t("panel_updated", "ja") in panel.status.value


def test_a_failing_cell_stops_the_rerun_and_says_so(folder, live):
    ns = dict(PARAMS, data_dir=str(folder))
    panel = control_panel(ns).panel
    panel.shell = Shell(ns)
    assert panel.initiative is None  # no initiative parameter: no initiative control
    for key, code in (("a", "1 / 0"), ("b", "reached = True")):
        panel.before(SimpleNamespace(raw_cell=code, cell_id=key))
        panel.after(None)
    panel.period.value = "2025Q2"
    assert ns["period"] == "2025Q2" and "reached" not in ns
    assert "could not be updated" in panel.status.value and "wb-warn" in panel.status.value


def test_in_the_app_the_language_advice_names_make_app(folder, live, monkeypatch):
    monkeypatch.setenv("WORKBOOK_APP", "1")  # as helpers.report.app sets it for its kernels
    ns = dict(PARAMS, data_dir=str(folder))
    panel = control_panel(ns).panel
    panel.shell = Shell(ns)
    panel.lang.value = "ja"
    assert "make app LANG=ja" in panel.status.value and "make lab" not in panel.status.value
    panel.lang.value = "en"  # back to the copy's language: no advice
    assert "make app" not in panel.status.value
