"""make clean-reports (helpers.report.clean) removes only what the report runner wrote: a user's own files in the
reports folder stay (a new user's notes next to the reports were deleted by the old `find ... -exec rm -rf`)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers.paths import PROJ_ROOT
from helpers.report.record import INDEX_MARK, MARKER, clean_reports
from helpers.storage import locked


def _runner_output(out):
    """A folder as a run leaves it: a marked period folder, a marked failed period, its index.html and run.json, the
    lock file."""
    for folder in (out / "FY2026Q2", out / "_failed" / "FY2010Q1"):
        folder.mkdir(parents=True)
        (folder / MARKER).write_text("runner", encoding="utf-8")
        (folder / "metrics.json").write_text("{}", encoding="utf-8")
    (out / "index.html").write_text(f"<html><head>{INDEX_MARK}</head></html>", encoding="utf-8")
    (out / "run.json").write_text('{"generator": "alignment-workbook report runner"}', encoding="utf-8")
    (out / ".run.lock").write_text("", encoding="utf-8")


def test_only_the_runners_reports_go(tmp_path):
    out = tmp_path / "reports"
    _runner_output(out)
    _runner_output(out / "ja")                                  # a second run's --out reports/ja
    (out / "README.md").write_text("about reports", encoding="utf-8")
    (out / "my-notes.txt").write_text("keep me", encoding="utf-8")
    (out / "mine").mkdir()                                      # a user's folder, without the runner's marker
    (out / "mine" / "index.html").write_text("<p>my own page</p>", encoding="utf-8")
    (out / "_failed" / "keep.txt").write_text("a user's file in _failed", encoding="utf-8")

    removed = clean_reports(out)

    left = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    assert left == [".run.lock", "README.md", "_failed", "_failed/keep.txt", "mine", "mine/index.html", "my-notes.txt"]
    assert sorted(str(Path(p).relative_to(out)) for p in removed) == [
        "FY2026Q2", "_failed/FY2010Q1", "index.html", "ja", "ja/FY2026Q2", "ja/_failed", "ja/_failed/FY2010Q1",
        "ja/index.html", "ja/run.json", "run.json"]   # ja/_failed and ja left empty: removed; _failed keeps keep.txt


def test_a_users_index_page_stays(tmp_path):
    (tmp_path / "index.html").write_text("<p>my own index</p>", encoding="utf-8")
    assert clean_reports(tmp_path) == [] and (tmp_path / "index.html").read_text(encoding="utf-8") == "<p>my own index</p>"


def test_the_command_refuses_while_a_run_writes(tmp_path):
    _runner_output(tmp_path)
    command = [sys.executable, "-m", "helpers.report.clean", "--out", str(tmp_path)]
    with locked(tmp_path / "run", "a run"):
        busy = subprocess.run(command, capture_output=True, text=True, cwd=PROJ_ROOT, timeout=120)
    assert busy.returncode == 2 and "a report run is writing there" in busy.stderr
    assert (tmp_path / "FY2026Q2" / "metrics.json").is_file()
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJ_ROOT, timeout=120)
    assert done.returncode == 0 and "5 report item(s) removed" in done.stdout   # _failed, left empty, too
    assert sorted(p.name for p in tmp_path.iterdir()) == [".run.lock"]
