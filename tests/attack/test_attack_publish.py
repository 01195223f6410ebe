"""Attack: the runner's output folder under kill -9, two runners at once, users' own files, a full or read-only disk.

Real runner processes (python -m helpers.report.run's main) on the tiny data of tests/conftest.py, with one quick
notebook (tests/attack/helpers_attack.tiny_notebooks), so each run takes seconds.
"""
from __future__ import annotations

import errno
import json
import resource
import signal
from pathlib import Path

import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.report.record import MARKER
from helpers.report.run import main

from helpers_attack import RUNNER, assert_no_traceback, child, run_child, tiny_notebooks

OPPS_Q1 = "O0,2025-01-01,2025-03-20,won,300000,,referral,サービス,1-49,田中,\n"


@pytest.fixture
def setup(tmp_path):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV + OPPS_Q1})
    nbs = tiny_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    return data, nbs, out


def args(data, nbs, out, *more) -> list[str]:
    return ["--data", str(data), "--out", str(out), "--notebooks", str(nbs), *more]


def hidden(out: Path) -> list[str]:
    """Hidden entries left in the output folder and its _failed folder (the run lock file is expected)."""
    found = [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".run.lock"]
    if (out / "_failed").is_dir():
        found += [p.name for p in (out / "_failed").iterdir() if p.name.startswith(".")]
    return found


def test_report_folders_carry_the_marker(setup):
    data, nbs, out = setup
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
    assert sorted(p.name for p in (out / "2025Q2").iterdir()) == sorted([MARKER, "00_tiny.html", "00_tiny.ipynb", "metrics.json"])


@pytest.mark.parametrize("where", ["2025Q2", "_failed/2025Q2"])
@pytest.mark.parametrize("marked", [False, True])
def test_a_folder_with_users_files_is_never_replaced(setup, capsys, where, marked):
    data, nbs, out = setup
    folder = out / where
    folder.mkdir(parents=True)
    (folder / "my notes.txt").write_text("mine", encoding="utf-8")
    if marked:  # a folder the runner made, where the user saved a file of their own
        (folder / MARKER).write_text("x", encoding="utf-8")
        (folder / "metrics.json").write_text("{}", encoding="utf-8")
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 2
    err = capsys.readouterr().err
    assert f"{folder}: holds files the report runner did not make (my notes.txt)" in err
    assert "How to fix: Move those files out of 2025Q2/, or choose another output folder with --out." in err
    assert (folder / "my notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (out / "index.html").exists() and hidden(out) == []


def test_legacy_report_folder_without_marker_is_replaced(setup):
    data, nbs, out = setup
    legacy = out / "2025Q2"
    legacy.mkdir(parents=True)
    for name in ("metrics.json", "00_old.html", "00_old.ipynb"):
        (legacy / name).write_text("{}", encoding="utf-8")
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
    assert sorted(p.name for p in legacy.iterdir()) == sorted([MARKER, "00_tiny.html", "00_tiny.ipynb", "metrics.json"])


KILL_AT_SECOND_RENAME = """
import os, sys, pathlib
rename = pathlib.Path.rename
def rename_then_die(self, target):
    if self.name.startswith(".staging-") and pathlib.Path(target).name == "2025Q2":
        os.kill(os.getpid(), 9)      # kill -9 after the old report moved aside, before the new one moved in
    return rename(self, target)
pathlib.Path.rename = rename_then_die
from helpers.report.run import main
sys.exit(main(sys.argv[1:]))
"""


def test_kill_between_the_two_renames_is_recovered(setup):
    data, nbs, out = setup
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
    good = {p.name: p.read_bytes() for p in (out / "2025Q2").iterdir()}
    killed = run_child(KILL_AT_SECOND_RENAME, *args(data, nbs, out, "--period", "2025Q2"))
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "2025Q2").exists()  # the half-done publish the attack found
    assert sorted(n.split("-")[0] for n in hidden(out)) == [".old", ".snapshot", ".staging"]
    # the next run (of another period) puts the last good report back and removes the dead run's staging folder
    nxt = run_child(RUNNER, *args(data, nbs, out, "--period", "2025Q1"))
    assert nxt.returncode == 0, nxt.stderr
    assert "note: restored" in nxt.stdout and "note: removed .staging-2025Q2-" in nxt.stdout
    assert {p.name: p.read_bytes() for p in (out / "2025Q2").iterdir()} == good
    assert hidden(out) == []
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2025Q2/00_tiny.html"' in index and 'href="2025Q1/00_tiny.html"' in index


KILL_MID_RUN = """
import os, sys, pathlib
from helpers.report import run
real = run.export_html
def export_then_die(*a, **k):
    real(*a, **k)
    os.kill(os.getpid(), 9)          # kill -9 while the staging folder is half built
run.export_html = export_then_die
sys.exit(run.main(sys.argv[1:]))
"""


def test_stale_staging_of_a_killed_run_is_removed_and_the_report_kept(setup):
    data, nbs, out = setup
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
    good = (out / "2025Q2" / "metrics.json").read_bytes()
    killed = run_child(KILL_MID_RUN, *args(data, nbs, out, "--period", "2025Q2"))
    assert killed.returncode == -signal.SIGKILL
    assert sorted(n.split("-")[0] for n in hidden(out)) == [".snapshot", ".staging"]
    assert (out / "2025Q2" / "metrics.json").read_bytes() == good
    assert main(args(data, nbs, out, "--period", "2025Q1")) == 0
    assert hidden(out) == [] and (out / "2025Q2" / "metrics.json").read_bytes() == good


def test_two_runners_publishing_the_same_period_at_once(setup):
    data, nbs, out = setup
    for _ in range(3):
        procs = [child(RUNNER, *args(data, nbs, out, "--period", "2025Q2")) for _ in range(2)]
        done = [(p, *p.communicate(timeout=600)) for p in procs]
        for p, stdout, stderr in done:
            assert p.returncode == 0, stderr
            assert_no_traceback(stdout, stderr)
        assert sorted(p.name for p in (out / "2025Q2").iterdir()) == sorted([MARKER, "00_tiny.html", "00_tiny.ipynb", "metrics.json"])
        assert json.loads((out / "2025Q2" / "metrics.json").read_text(encoding="utf-8"))["period"] == "2025Q2"
        assert hidden(out) == []
    assert any("another run is writing reports" in stdout for _, stdout, _ in done)


def test_full_disk_ends_in_the_workbooks_error_and_keeps_the_report(setup):
    data, nbs, out = setup
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
    before = {p.name: p.read_bytes() for p in (out / "2025Q2").iterdir()}

    def small_disk():  # every file this process (and its kernel) writes may hold at most 2 KiB: "disk full"
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    proc = child(RUNNER, *args(data, nbs, out, "--period", "2025Q2"), preexec_fn=small_disk)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 2, stdout + stderr
    assert_no_traceback(stdout, stderr)
    assert f"error: cannot write the reports to {out}" in stderr and "File too large" in stderr
    assert "How to fix: Free disk space or make the folder writable" in stderr
    assert {p.name: p.read_bytes() for p in (out / "2025Q2").iterdir()} == before
    assert hidden(out) == []


def test_read_only_output_folder_ends_in_the_workbooks_error(setup, monkeypatch, capsys):
    data, nbs, out = setup
    real_mkdir = Path.mkdir

    def read_only(self, *a, **k):
        if str(self).startswith(str(out)):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 2
    err = capsys.readouterr().err
    assert f"error: cannot write the reports to {out}: Read-only file system ({out})" in err
    assert "How to fix:" in err


def test_truncated_metrics_of_an_older_period_does_not_break_the_index(setup, capsys):
    data, nbs, out = setup
    assert main(args(data, nbs, out, "--period", "2025Q1")) == 0
    metrics = out / "2025Q1" / "metrics.json"
    metrics.write_bytes(metrics.read_bytes()[:25])  # cut in the middle
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
    printed = capsys.readouterr().out
    assert f"note: {metrics} cannot be read" in printed and "re-run it with --period 2025Q1" in printed
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="2025Q1/00_tiny.html"' in index and "metrics.json cannot be read" in index


# --------------------------------------------------------------------------- the user's own files in the output folder
USERS_HIDDEN = {".staging-site-2024": "index.md", ".old-archive-2023": "q4.pdf", ".snapshot-1": "notes.txt",
                "._data.ingest-12": "leads.csv", "_failed/.old-2024Q4-3": "why it failed.txt"}


def users_hidden_folders(out: Path) -> dict[str, bytes]:
    """Put the user's hidden folders, named as the runner names its leftovers, into `out`; returns their content."""
    for name, file in USERS_HIDDEN.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        (out / name / file).write_text(f"mine: {name}", encoding="utf-8")
    return {f"{name}/{file}": (out / name / file).read_bytes() for name, file in USERS_HIDDEN.items()}


def test_recovery_after_kill_leaves_the_users_hidden_folders_alone(setup):
    data, nbs, out = setup
    out.mkdir()
    mine = users_hidden_folders(out)
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
    good = {p.name: p.read_bytes() for p in (out / "2025Q2").iterdir()}
    killed = run_child(KILL_AT_SECOND_RENAME, *args(data, nbs, out, "--period", "2025Q2"))
    assert killed.returncode == -signal.SIGKILL
    nxt = run_child(RUNNER, *args(data, nbs, out, "--period", "2025Q1"))
    assert nxt.returncode == 0, nxt.stderr
    assert_no_traceback(nxt.stdout, nxt.stderr)
    # the runner's leftovers were recovered (the report back, staging and snapshot removed); only those were touched
    assert {p.name: p.read_bytes() for p in (out / "2025Q2").iterdir()} == good
    assert sorted(nxt.stdout.count(f"note: {w}") for w in ("restored", "removed .staging-2025Q2-", "removed .snapshot-")) == [1, 1, 1]
    assert {k: (out / k).read_bytes() for k in mine} == mine
    assert sorted(hidden(out)) == sorted(Path(k).name for k in USERS_HIDDEN)
    assert not (out / "archive").exists() and not (out / "_failed" / "2024Q4").exists()


@pytest.mark.parametrize("kind", ["a team page through a link", "another tool's run record", "a folder named index.html",
                                  "a lock file with a note"])
def test_a_users_file_at_the_top_of_the_output_folder_is_never_replaced(setup, capsys, kind, tmp_path):
    data, nbs, out = setup
    out.mkdir()
    if kind == "a team page through a link":
        page = tmp_path / "www" / "index.html"
        page.parent.mkdir()
        page.write_text("<html><body>Revenue team wiki</body></html>", encoding="utf-8")
        (out / "index.html").symlink_to(page)
        theirs, mine = out / "index.html", page
    elif kind == "another tool's run record":
        theirs = mine = out / "run.json"
        mine.write_text('{"pipeline": "dbt", "finished": "2025-07-01T02:00:00Z"}\n', encoding="utf-8")
    elif kind == "a folder named index.html":
        theirs = out / "index.html"
        theirs.mkdir()
        mine = theirs / "draft.md"
        mine.write_text("# draft", encoding="utf-8")
    else:
        theirs = mine = out / ".run.lock"
        mine.write_text("do not run before the board meeting", encoding="utf-8")
    before = mine.read_bytes()
    assert main(args(data, nbs, out, "--period", "2025Q2")) == 2
    err = capsys.readouterr().err
    if kind == "a lock file with a note":
        assert f"error: {theirs}: not a lock file the workbook made (it is not an empty file)" in err
        assert f"How to fix: Move {theirs} elsewhere or rename it" in err
    else:
        assert f"error: {theirs}: not written by the report runner, so it was not replaced" in err
        assert f"How to fix: Move {theirs.name} out of {out}, or choose another output folder with --out." in err
    assert mine.read_bytes() == before
    assert not (out / "2025Q2").exists() and hidden(out) == []


def test_an_index_and_run_record_of_an_older_runner_are_replaced_and_a_rerun_works(setup):
    data, nbs, out = setup
    out.mkdir()
    # the files an earlier version of the runner wrote (before the mark): its own layout
    (out / "index.html").write_text('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Reports</title></head>'
                                    '<body><h1>Reports</h1><ul class="wb-periods"><li><b>2025Q1</b></li></ul></body></html>\n',
                                    encoding="utf-8")
    (out / "run.json").write_text(json.dumps({"as_of": "2025-03-31", "data_folder": "data", "files": {}, "settings": {},
                                              "packages": {}, "periods_this_run": ["2025Q1"]}), encoding="utf-8")
    for _ in range(2):  # and the runner's own files, marked, on the next run
        assert main(args(data, nbs, out, "--period", "2025Q2")) == 0
        index = (out / "index.html").read_text(encoding="utf-8")
        assert '<meta name="generator" content="alignment-workbook report runner">' in index and 'href="2025Q2/00_tiny.html"' in index
        record = json.loads((out / "run.json").read_text(encoding="utf-8"))
        assert record["generator"] == "alignment-workbook report runner" and record["periods_this_run"] == ["2025Q2"]


EXPORTS = Path(__file__).parent.parent / "fixtures" / "exports" / "salesforce_ja"

KILL_IN_INGEST_PUBLISH = """
import os, sys, pathlib
rename = pathlib.Path.rename
def rename_then_die(self, target):
    if self.name.startswith("._data.ingest-") and pathlib.Path(target).name == "_data":
        os.kill(os.getpid(), 9)      # kill -9 after the old data folder moved aside, before the new one moved in
    return rename(self, target)
pathlib.Path.rename = rename_then_die
from helpers.report.run import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_data_folder_of_a_mapping_run_is_the_runners_and_a_kill_in_it_is_recovered(tmp_path, capsys):
    nbs = tiny_notebooks(tmp_path / "nbs")
    out = tmp_path / "out"
    run = ["--data", str(EXPORTS), "--mapping", "salesforce_ja", "--out", str(out), "--notebooks", str(nbs)]
    (out / "_data").mkdir(parents=True)
    (out / "_data" / "商談メモ.txt").write_text("my notes", encoding="utf-8")   # the user's file where the runner copies data
    (out / ".old-_data-2020").mkdir()
    (out / ".old-_data-2020" / "leads.csv").write_text("lead_id\nMINE\n", encoding="utf-8")  # and a folder of theirs
    assert main(run) == 2
    err = capsys.readouterr().err
    assert f"error: {out / '_data'}: holds files the report runner did not make (商談メモ.txt); it was not replaced" in err
    assert [p.name for p in (out / "_data").iterdir()] == ["商談メモ.txt"]
    (out / "_data" / "商談メモ.txt").unlink()
    assert main(run) == 0
    assert (out / "_data" / MARKER).is_file() and (out / "_data" / "opportunities.csv").is_file()
    killed = run_child(KILL_IN_INGEST_PUBLISH, *run)
    assert killed.returncode == -signal.SIGKILL
    assert sorted(n.split("-")[0] for n in hidden(out)) == ["._data.ingest", ".old", ".old"] and not (out / "_data").exists()
    nxt = run_child(RUNNER, *run)
    assert nxt.returncode == 0, nxt.stderr
    assert "note: removed .old-_data-" in nxt.stdout and "note: removed ._data.ingest-" in nxt.stdout
    assert (out / "_data" / "opportunities.csv").is_file()
    assert hidden(out) == [".old-_data-2020"] and (out / ".old-_data-2020" / "leads.csv").read_text(encoding="utf-8") == "lead_id\nMINE\n"
