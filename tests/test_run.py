"""The report runner: parameters, period selection, failure isolation, atomic publish, determinism."""
import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.paths import NOTEBOOKS_DIR
from helpers.report.run import main, notebook_paths

XSS = "<img src=x onerror=alert(1)>"
OPPS_Q1 = "O0,2025-01-01,2025-03-20,won,300000,,referral,サービス,1-49,田中,\n"


def write_data(path: Path) -> Path:
    """Tiny data spanning 2025Q1-2025Q2, with a channel name that is HTML markup, written into `path`."""
    leads = LEADS_CSV.replace(",seminar,", f",\"{XSS}\",")
    return write_folder(path, {"leads.csv": leads, "opportunities.csv": OPPS_CSV + OPPS_Q1})


@pytest.fixture
def data(tmp_path) -> Path:
    """Tiny data spanning 2025Q1-2025Q2, with a channel name that is HTML markup."""
    return write_data(tmp_path / "data")


def boom_notebooks(tmp_path: Path) -> Path:
    """The real data-health notebook plus one that fails for period 2025Q2 only."""
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = NOTEBOOKS_DIR / "00_data_health.ipynb"
    (folder / nb.name).write_bytes(nb.read_bytes())
    params = nbformat.v4.new_code_cell('period: str = ""  # period label', metadata={"tags": ["parameters"]})
    boom = nbformat.v4.new_code_cell('if period == "2025Q2":\n    raise ValueError("boom in " + period)')
    meta = nbformat.read(folder / "00_data_health.ipynb", as_version=4).metadata
    nbformat.write(nbformat.v4.new_notebook(cells=[params, boom], metadata=meta), folder / "99_boom.ipynb")
    return folder


def test_notebooks_are_numbered_in_reading_order():
    names = [p.name for p in notebook_paths()]
    assert names and names[0] == "00_data_health.ipynb"
    assert all(re.match(r"^\d{2}_[a-z0-9_]+\.ipynb$", n) for n in names)
    assert names == sorted(names)
    assert sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")) == names  # no unnumbered notebook slips by


@pytest.fixture(scope="class")
def latest_run(tmp_path_factory) -> tuple[Path, Path, str]:
    """(data folder, output folder, what the runner printed) of `run --data DATA --out OUT --notebooks NBS`: no period
    named, so the latest complete one, 2025Q2; NBS holds every notebook of the project and, after them, two probes
    (50_leave, 99_probe: PROBE) that show which kernel ran them and what it kept (a run without --notebooks, the
    project's own folder, is TestAllPeriodsRun.test_all_periods_and_determinism's); made once for
    TestLatestPeriodRun (a module-level fixture of class scope: pytest deprecates class-scoped fixtures defined as
    instance methods)."""
    tmp = tmp_path_factory.mktemp("latest")
    data, out, printed = write_data(tmp / "data"), tmp / "out", io.StringIO()
    nbs = probe_notebooks(tmp / "nbs", tuple(p.name for p in notebook_paths()),
                          {"50_leave": "import os\nleftover = period\nprint(os.getpid())", "99_probe": PROBE})
    with contextlib.redirect_stdout(printed):
        assert main(["--data", str(data), "--out", str(out), "--notebooks", str(nbs)]) == 0
    return data, out, printed.getvalue()


class TestLatestPeriodRun:
    """The tests that read one run of every notebook over the `data` fixture's files (latest_run). tests/conftest.py
    sends a class of tests/test_run.py to one worker, so the run is made once."""

    def test_latest_period_report(self, latest_run):
        _, out, printed = latest_run
        # as_of = 2025-06-30 (latest date): the latest complete period is 2025Q2
        metrics = json.loads((out / "2025Q2" / "metrics.json").read_text(encoding="utf-8"))
        assert list(metrics)[:8] == ["period", "start", "end", "as_of", "pipeline", "funnel", "by_channel", "by_segment"]
        assert (metrics["period"], metrics["start"], metrics["end"], metrics["as_of"]) == ("2025Q2", "2025-04-01", "2025-06-30", "2025-06-30")
        # Hand count for 2025Q2: created O1 (04-12), O2 (05-01), O3 (06-10) = 3; won O1 (1,200,000), lost O2 -> 1/2
        p = metrics["pipeline"]
        assert (p["opportunities_created"], p["won_count"], p["lost_count"], p["win_rate"]) == (3, 1, 1, 0.5)
        assert p["won_revenue"] == 1200000.0 and p["sales_cycle_days"] == 50.0  # 04-12 -> 06-01
        assert p["sales_velocity"] == pytest.approx(3 * 1200000 * 0.5 / 50)
        # every channel in the data gets a row, even with nothing in the period (referral: only a 2025Q1 deal)
        assert set(metrics["by_channel"]) == {"outbound", "referral", "unknown", "web", XSS}
        assert metrics["by_channel"]["referral"]["opportunities_created"] == 0
        assert metrics["by_channel"]["referral"]["win_rate"] is None
        assert (out / "2025Q2" / "00_data_health.html").is_file() and (out / "2025Q2" / "00_data_health.ipynb").is_file()
        executed = nbformat.read(out / "2025Q2" / "00_data_health.ipynb", as_version=4)   # the source's path, not its text
        assert executed.metadata.papermill.input_path == str(out.parent / "nbs" / "00_data_health.ipynb")
        assert (out / "index.html").is_file() and not (out / "2025Q1").exists()
        assert stderr_outputs(out / "2025Q2") == []  # no warning (e.g. a missing Japanese glyph) in any notebook
        assert "[2025Q2] 00_data_health.ipynb ok" in printed and "Done: 1 of 1 period(s) published" in printed

    def test_a_period_runs_in_one_kernel_and_each_notebook_starts_fresh(self, latest_run):
        _, out, _ = latest_run
        pid = printed_by(out / "2025Q2" / "50_leave.ipynb")
        # the same kernel ran 00 to 06, 50 and 99: 00 computed the core figures, 02 (the other notebook that asks for
        # them) took them from the memo; nothing a notebook defined (s, core, extra, leftover) is seen by the next one
        assert printed_by(out / "2025Q2" / "99_probe.ipynb") == f"{pid} {{'hits': 1, 'misses': 1, 'size': 1}} []"
        executed = sorted((out / "2025Q2").glob("*.ipynb"))
        assert [p.stem for p in executed] == [p.stem for p in notebook_paths()] + ["50_leave", "99_probe"]
        for path in executed:  # every notebook counts its cells from 1, as in a new kernel
            counts = [c.execution_count for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
            assert counts[:3] == [1, 2, 3], path.name
        assert stderr_outputs(out / "2025Q2") == []

    def test_failure_is_isolated_and_never_replaces_a_good_report(self, latest_run, tmp_path, capsys):
        data, published, _ = latest_run
        out = tmp_path / "out"
        shutil.copytree(published, out)  # the good report of 2025Q2, in a folder of this test's own
        good = (out / "2025Q2" / "00_data_health.html").read_bytes()
        nbs = boom_notebooks(tmp_path)
        code = main(["--data", str(data), "--out", str(out), "--period", "2025Q1", "--period", "2025Q2", "--notebooks", str(nbs)])
        assert code == 1
        printed = capsys.readouterr().out
        assert re.search(r"\[2025Q2\] 99_boom\.ipynb FAILED at cell \d+: ValueError: boom in 2025Q2", printed)
        assert (out / "2025Q2" / "00_data_health.html").read_bytes() == good       # last good report kept
        assert not (out / "2025Q2" / "99_boom.ipynb").exists()
        assert (out / "_failed" / "2025Q2" / "99_boom.ipynb").is_file()             # failed notebook kept
        failed = nbformat.read(out / "_failed" / "2025Q2" / "99_boom.ipynb", as_version=4)
        assert failed.metadata.papermill.input_path == str(nbs / "99_boom.ipynb")
        assert (out / "_failed" / "2025Q2" / "kernel.log").is_file()                # with the kernel log
        assert not (out / "2025Q1" / "kernel.log").exists()                         # published reports carry none
        assert (out / "2025Q1" / "99_boom.html").is_file()                           # the other period went on
        assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".run.lock"]  # no staging folder left


def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    data = write_folder(tmp_path / "bad", {"opportunities.csv": OPPS_CSV.replace("1200000", "-1")})
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "opportunities.csv, row 2, column 'amount': negative amounts" in err
    assert not out.exists()


def test_period_errors(data, tmp_path, capsys):
    assert main(["--data", str(data), "--out", str(tmp_path / "o"), "--period", "2025Q2", "--as-of", "2025-03-31"]) == 2
    err = capsys.readouterr().err
    assert "period(s) 2025Q2 start after as_of 2025-03-31: there is no data for them" in err
    assert "Choose 2025Q1 or earlier, or a later --as-of." in err
    assert main(["--data", str(data), "--out", str(tmp_path / "o"), "--period", "FY2025Q1"]) == 2
    assert "does not match the configured fiscal calendar" in capsys.readouterr().err


# The data of `data`: first created_at 2025-01-01 (O0), last date 2025-06-30 (O2's closed_at): 2025Q1-2025Q2 have data.
@pytest.mark.parametrize("args, message, fix", [
    (["--period", "2024Q4"], "period(s) 2024Q4 end before the data's first date 2025-01-01", "Choose 2025Q1 or later."),
    (["--period", "2026Q1"], "period(s) 2026Q1 start after the data's last date 2025-06-30", "Choose 2025Q2 or earlier"),
    (["--period", "2025Q3", "--as-of", "2025-09-30"], "period(s) 2025Q3 start after the data's last date 2025-06-30",
     "Choose 2025Q2 or earlier; a later --as-of adds no data."),
    (["--as-of", "2024-12-31"], "as_of 2024-12-31 is before the data's first date 2025-01-01",
     "the first period with data is 2025Q1."),
    (["--all", "--as-of", "2024-12-31"], "as_of 2024-12-31 is before the data's first date 2025-01-01", "on or after 2025-01-01"),
])
def test_a_period_outside_the_data_is_refused_and_replaces_nothing(data, tmp_path, capsys, args, message, fix):
    out = tmp_path / "o"
    good = write_folder(out / "2025Q1", {"index.html": "<p>the good report</p>"})
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main(["--data", str(data), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and fix in err, err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert (good / "index.html").read_text() == "<p>the good report</p>"


def stderr_outputs(folder: Path) -> list[str]:
    """Text of every stderr stream or error output in the executed notebooks of a report folder."""
    found = []
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                if out.get("name") == "stderr" or out.get("output_type") == "error":
                    found.append(f"{path.name}: {out.get('text', out.get('evalue'))}")
    return found


def test_partial_data_opportunities_only(tmp_path):
    # Only opportunities: the funnel, checklist and velocity sections say what data would enable them.
    data = write_folder(tmp_path / "data", {"opportunities.csv": OPPS_CSV + OPPS_Q1})
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out), "--period", "2025Q2"]) == 0
    metrics = json.loads((out / "2025Q2" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["funnel"] is None and metrics["checklist"] is None and metrics["velocity_comparison"] is None
    assert metrics["sla"] is None and metrics["roi"] is None
    assert metrics["pipeline"]["won_count"] == 1  # O1 (won 2025-06-01); O0 closed in 2025Q1
    assert stderr_outputs(out / "2025Q2") == []
    health = (out / "2025Q2" / "00_data_health.html").read_text(encoding="utf-8")
    assert "There is no leads table" in health
    checklist = (out / "2025Q2" / "01_checklist_diagnostic.html").read_text(encoding="utf-8")
    assert "There is no checklist.csv" in checklist
    velocity = (out / "2025Q2" / "03_velocity_comparison.html").read_text(encoding="utf-8")
    assert "No alignment initiative is declared" in velocity


LEADS_NO_STAGES = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i not in (6, 7, 8))
                            for line in LEADS_CSV.splitlines()) + "\n"  # drop mql_at, sql_at, first_sales_touch_at
LEADS_NO_MQL = "\n".join(",".join(c for i, c in enumerate(line.split(",")) if i != 6)
                         for line in LEADS_CSV.splitlines()) + "\n"  # drop mql_at only (a sales-led CRM)


@pytest.mark.parametrize("shape, files", [
    ("leads_only", {"leads.csv": LEADS_CSV}),
    ("no_stage_dates", {"leads.csv": LEADS_NO_STAGES, "opportunities.csv": OPPS_CSV + OPPS_Q1}),
    ("no_mql_dates", {"leads.csv": LEADS_NO_MQL, "opportunities.csv": OPPS_CSV + OPPS_Q1}),
])
def test_partial_data_shapes_run_every_notebook(tmp_path, shape, files):
    """Every notebook runs on each shape without a warning or an error output. (Data with no lost deal: every notebook
    of tests/test_honest_figures.py's CLOSED_DEALS run, in both languages, with its null win rate and reason.)"""
    data = write_folder(tmp_path / "data", files)
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out), "--period", "2025Q2"]) == 0
    assert stderr_outputs(out / "2025Q2") == []
    m = json.loads((out / "2025Q2" / "metrics.json").read_text(encoding="utf-8"))
    if shape == "leads_only":
        # no opportunities table: the counts of deals are unknown, not 0, and every figure says no_opportunities (not
        # no_amounts); the lead funnel still counts 3 leads created in 2025Q2, their opportunities unknown
        assert m["pipeline"]["opportunities_created"] is None and m["pipeline"]["win_rate"] is None
        assert m["pipeline"]["null_reasons"]["opportunities_created"] == m["pipeline"]["null_reasons"]["won_revenue"] \
            == "no_opportunities"
        assert m["funnel"]["cohort"]["leads"] == 3 and m["funnel"]["cohort"]["lead_to_opportunity_rate"] is None
        assert m["funnel"]["cohort"]["null_reasons"]["lead_to_opportunity_rate"] == "no_opportunities"
        # notebook 00's data health: the open deals and the traceability counts unknown too (not "Open deals 0")
        stale, trace = m["data_health"]["stale_open_deals"], m["data_health"]["traceability_period"]
        assert (stale["threshold_days"], stale["open"], stale["stale"], stale["oldest_days"]) == (180, None, None, None)
        assert set(stale["null_reasons"].values()) == set(trace["null_reasons"].values()) == {"no_opportunities"}
        assert trace["won_count"] is None and trace["opportunities_without_lead"] is None and len(trace["null_reasons"]) == 6
        health = (out / "2025Q2" / "00_data_health.html").read_text(encoding="utf-8")
        assert health.count("There are no opportunities (no opportunities table, or one without rows)") >= 5
        # the sales cycle, the stage times of a deal, the goals' forecast and the lead quality's outcomes: unknown
        assert set(m["sales_cycle"]["null_reasons"].values()) == {"no_opportunities"} and m["sales_cycle"]["won"] is None
        assert m["stage_times"]["opportunity_to_close"]["n"] is None and m["stage_times"]["lead_to_mql"]["n"] is not None
        assert m["goals"]["forecast"]["null_reasons"]["won_count"] == "no_opportunities"
        assert m["lead_quality"]["mql_audit"]["all_history"]["null_reasons"]["converted"] == "no_opportunities"
        assert m["data_health"]["stage_completeness"]["null_reasons"]["with_opportunity"] == "no_opportunities"
    if shape == "no_stage_dates":
        # no MQL/SQL columns: the stages are not recorded, so their counts are unknown (not L1 through its O1)
        assert (m["funnel"]["cohort"]["mql"], m["funnel"]["cohort"]["sql"]) == (None, None)
        assert m["funnel"]["cohort"]["null_reasons"]["sql"] == "no_sql_dates"
        assert m["funnel"]["period"]["mqls"] is None and m["sla"] is None
    if shape == "no_mql_dates":
        # no mql_at: the MQL count is unknown (no_mql_dates), not L1 through its later stage; L1's SQL (04-10) counts
        assert (m["funnel"]["cohort"]["mql"], m["funnel"]["cohort"]["sql"]) == (None, 1)
        assert m["funnel"]["cohort"]["null_reasons"]["mql"] == "no_mql_dates"
        assert m["funnel"]["period"]["mqls"] is None and m["goals"] is not None   # the goals notebook ran to its end


def test_runner_takes_exports_with_a_mapping(tmp_path, capsys):
    # The Japanese Salesforce report exports (cp932) go through the shipped mapping, then every notebook.
    exports = Path(__file__).parent / "fixtures" / "exports" / "salesforce_ja"
    out = tmp_path / "out"
    assert main(["--data", str(exports), "--mapping", "salesforce_ja", "--out", str(out), "--lang", "ja"]) == 0
    printed = capsys.readouterr().out
    # the ingest's summary is printed in the run's language (--lang ja)
    assert "helpers.data.load.load_workbook で検証しました: OK(データ基準日 " in printed
    assert "Validated with" not in printed
    assert (out / "_data" / "opportunities.csv").is_file()
    published = [p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("_")]
    assert len(published) == 1 and (out / published[0] / "02_funnel_breakdown.html").is_file()
    assert stderr_outputs(out / published[0]) == []


def test_no_complete_period_reports_the_partial_one_and_says_so(data, tmp_path, capsys):
    out = tmp_path / "out"
    # the fixture starts 2025-01-01, so with as_of 2025-03-31 the quarter 2025Q1 is complete (which period: notebook 00
    # is enough)
    health = probe_notebooks(tmp_path / "nbs", ("00_data_health.ipynb",), {})
    assert main(["--data", str(data), "--out", str(out), "--as-of", "2025-03-31", "--notebooks", str(health)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["2025Q1"]  # complete: 2025-01-01 .. 2025-03-31
    assert json.loads((out / "2025Q1" / "metrics.json").read_text(encoding="utf-8"))["coverage"]["partial"] is False
    out2 = tmp_path / "out2"
    only_q2 = write_folder(tmp_path / "q2", {"opportunities.csv": OPPS_CSV})
    # with no complete period, a plain run reports the partial one (which period, and notebook 00 saying so)
    assert main(["--data", str(only_q2), "--out", str(out2), "--as-of", "2025-06-15", "--notebooks", str(health)]) == 0
    assert "no complete period in the data; reporting the period holding as_of, 2025Q2" in capsys.readouterr().out
    assert sorted(p.name for p in out2.iterdir() if p.is_dir() and not p.name.startswith("_")) == ["2025Q2"]
    html = (out2 / "2025Q2" / "00_data_health.html").read_text(encoding="utf-8")
    assert "The data covers 2025Q2 only from 2025-04-12 to 2025-06-15" in html
    # --all reports the partly covered period too, marked partial (metrics.json coverage, the report header), every
    # notebook running on it
    assert main(["--data", str(only_q2), "--out", str(out2), "--as-of", "2025-06-15", "--all"]) == 0
    assert len(list((out2 / "2025Q2").glob("*.ipynb"))) == len(notebook_paths()) and stderr_outputs(out2 / "2025Q2") == []
    coverage = json.loads((out2 / "2025Q2" / "metrics.json").read_text(encoding="utf-8"))["coverage"]
    assert (coverage["data_start"], coverage["data_end"], coverage["partial"]) == ("2025-04-12", "2025-06-15", True)
    assert "Partial: data from 2025-04-12 to 2025-06-15" in (out2 / "2025Q2" / "02_funnel_breakdown.html").read_text(encoding="utf-8")


def probe_notebooks(folder: Path, real: tuple[str, ...], probes: dict[str, str]) -> Path:
    """Copies of the named real notebooks plus small ones: {file stem: code after a `period` parameters cell}."""
    folder.mkdir()
    for name in real:
        (folder / name).write_bytes((NOTEBOOKS_DIR / name).read_bytes())
    meta = nbformat.read(NOTEBOOKS_DIR / "00_data_health.ipynb", as_version=4).metadata
    for stem, code in probes.items():
        params = nbformat.v4.new_code_cell('period: str = ""  # period label', metadata={"tags": ["parameters"]})
        nbformat.write(nbformat.v4.new_notebook(cells=[params, nbformat.v4.new_code_cell(code)], metadata=meta),
                       folder / f"{stem}.ipynb")
    return folder


def printed_by(path: Path) -> str:
    """The stdout of an executed notebook's last cell."""
    cell = nbformat.read(path, as_version=4).cells[-1]
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout").strip()


PROBE = ('import os\nfrom helpers.metrics.core import memo_info\n'
         'print(os.getpid(), memo_info(), [n for n in ("leftover", "s", "core", "extra") if n in globals()])')


@pytest.fixture(scope="class")
def serial_all_run(tmp_path_factory) -> tuple[Path, Path]:
    """(data folder, output folder) of `run --data DATA --out OUT --all --notebooks NBS`, one process, one kernel for
    both periods: NBS holds every notebook of the project and, after them, a probe (10_pid) that prints its kernel's
    process id and whether a name the previous period's probe defined is still there; made once for
    TestAllPeriodsRun (its two tests ran an `--all` run of this data each, one of them with the probe alone)."""
    tmp = tmp_path_factory.mktemp("all")
    data, out = write_data(tmp / "data"), tmp / "out"
    nbs = probe_notebooks(tmp / "nbs", tuple(p.name for p in notebook_paths()), {
        "10_pid": 'import os\nprint(os.getpid(), [n for n in ("leftover",) if n in globals()])\nleftover = period'})
    assert main(["--data", str(data), "--out", str(out), "--all", "--notebooks", str(nbs)]) == 0
    return data, out


class TestAllPeriodsRun:
    """The tests that read one serial `--all` run of every notebook over the `data` fixture's files (serial_all_run);
    tests/conftest.py sends the class to one worker, so the run is made once."""

    def test_all_periods_and_determinism(self, serial_all_run, tmp_path):
        data, b = serial_all_run
        a = tmp_path / "a"   # every notebook of the project's own folder (no --notebooks), a process per period
        assert main(["--data", str(data), "--out", str(a), "--all", "--jobs", "2"]) == 0
        assert sorted(p.name for p in a.iterdir() if p.is_dir()) == ["2025Q1", "2025Q2"]
        for label in ("2025Q1", "2025Q2"):
            assert (a / label / "metrics.json").read_bytes() == (b / label / "metrics.json").read_bytes()
        index = (a / "index.html").read_text(encoding="utf-8")
        assert 'href="2025Q1/00_data_health.html"' in index and 'href="2025Q2/metrics.json"' in index

    def test_the_periods_of_a_run_share_one_kernel_and_each_starts_fresh(self, serial_all_run):
        _, out = serial_all_run
        first, second = printed_by(out / "2025Q1" / "10_pid.ipynb"), printed_by(out / "2025Q2" / "10_pid.ipynb")
        pid = first.split()[0]
        assert pid.isdigit() and first == second == f"{pid} []"   # one kernel; the second period saw no name of the first
        counts = [c.execution_count for c in nbformat.read(out / "2025Q2" / "10_pid.ipynb", as_version=4).cells if c.cell_type == "code"]
        assert counts[0] == 1


def test_a_kernel_that_dies_fails_its_period_only(data, tmp_path, capsys):
    nbs = probe_notebooks(tmp_path / "nbs", (), {
        "10_pid": "import os\nprint(os.getpid())",
        "20_die": 'import os\nif period == "2025Q1":\n    os._exit(1)',
        "30_pid": "import os\nprint(os.getpid())"})
    out = tmp_path / "out"
    assert main(["--data", str(data), "--out", str(out), "--all", "--notebooks", str(nbs)]) == 1
    printed = capsys.readouterr().out
    assert re.search(r"\[2025Q1\] 20_die\.ipynb FAILED: DeadKernelError", printed)
    assert (out / "_failed" / "2025Q1" / "kernel.log").is_file() and not (out / "2025Q1").exists()
    assert not (out / "_failed" / "2025Q1" / "30_pid.ipynb").exists()           # the period stopped at its failure
    died = nbformat.read(out / "_failed" / "2025Q1" / "20_die.ipynb", as_version=4)  # kept as far as it ran (no per-cell saves)
    injected = [c.source for c in died.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'period = "2025Q1"' in injected[0] and died.cells[-1].source.endswith("os._exit(1)")
    # the next period has a kernel of its own: all three notebooks ran in it
    first, last = printed_by(out / "2025Q2" / "10_pid.ipynb"), printed_by(out / "2025Q2" / "30_pid.ipynb")
    assert first == last and first.isdigit() and first != printed_by(out / "_failed" / "2025Q1" / "10_pid.ipynb")


def _warn_once_here():
    import warnings

    warnings.warn("shown by a new kernel", UserWarning, stacklevel=1)


def test_fresh_kernel_state_empties_the_namespace_closes_figures_and_shows_warnings_again():
    import warnings

    import matplotlib.pyplot as plt

    from helpers.report.session import fresh_kernel_state

    class Shell:  # the part of IPython's shell it uses
        def __init__(self):
            self.resets = []

        def reset(self, new_session):
            self.resets.append(new_session)

    import gc

    shell = Shell()
    plt.figure()
    thresholds = gc.get_threshold()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")
        _warn_once_here()
        _warn_once_here()                      # "default": once per place, as a kernel shows it
        assert len(seen) == 1
        try:
            fresh_kernel_state(shell)
            # the youngest generation collected every 10,000 allocations, the older ones as before
            assert gc.get_threshold() == (10_000, *thresholds[1:])
        finally:
            gc.set_threshold(*thresholds)
        _warn_once_here()                      # the next notebook sees it again
        assert len(seen) == 2
    assert shell.resets == [True] and plt.get_fignums() == []
    assert gc.get_freeze_count() > 0           # what survived the reset is out of the collector's reach
    gc.unfreeze()
