"""The figure recorder and deterministic JSON; what the runner owns in its output folder."""
import json

import numpy as np
import pandas as pd
import pytest

from helpers.report.record import Recorder
from helpers.storage import dumps, to_jsonable


def test_to_jsonable_types():
    value = {"a": np.int64(3), "b": np.float64(0.25), "c": float("nan"), "d": pd.Timestamp("2025-07-01"),
             "e": pd.NaT, "f": [np.bool_(True), None], "g": pd.Timestamp("2025-07-01 10:30")}
    assert to_jsonable(value) == {"a": 3, "b": 0.25, "c": None, "d": "2025-07-01", "e": None, "f": [True, None],
                                  "g": "2025-07-01T10:30:00"}


def test_dumps_is_deterministic_and_keeps_unicode():
    text = dumps({"z": 1, "a": {"受注率": 0.5}})
    assert text == '{\n  "z": 1,\n  "a": {\n    "受注率": 0.5\n  }\n}\n'


def test_recorder_merges_sections(tmp_path):
    path = tmp_path / "p" / "metrics.json"
    r = Recorder(path)
    r.update({"period": "2025Q3", "pipeline": {"won_count": 2}})
    r.put("checklist", {"overall_score": 60.8})
    r.put("pipeline", {"won_count": 3})
    assert json.loads(path.read_text()) == {"period": "2025Q3", "pipeline": {"won_count": 3}, "checklist": {"overall_score": 60.8}}
    assert list(json.loads(path.read_text())) == ["period", "pipeline", "checklist"]
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]  # no temporary file left behind


def test_recorder_without_path_records_nothing(tmp_path):
    r = Recorder("")
    r.put("x", 1)
    assert r.read() == {}


# --------------------------------------------------------------------------- what the runner owns in the output folder
def own(folder, *files):
    """A folder the runner made: its marker and the given files."""
    from helpers.report.record import make_own_dir

    make_own_dir(folder)
    for name in files:
        (folder / name).write_text("x", encoding="utf-8")
    return folder


def test_recovery_touches_only_folders_carrying_the_runners_marker(tmp_path):
    from helpers.report.record import recover_publish

    out = tmp_path / "out"
    # the user's hidden folders, named the way the runner names its own: kept, not renamed, not emptied
    users = {".old-budget-2023": "plan.xlsx", ".staging-website-2024": "index.md", ".snapshot-15": "diff.txt",
             "._data.ingest-3": "leads.csv", "_failed/.old-notes-1": "todo.txt"}
    for name, file in users.items():
        (out / name).mkdir(parents=True)
        (out / name / file).write_text("mine", encoding="utf-8")
    # what killed runs left: a report moved aside whose place is empty, one whose place is filled, staging, a snapshot
    own(out / ".old-2025Q2-41", "metrics.json")
    own(out / "2025Q3", "metrics.json")
    own(out / ".old-2025Q3-41", "metrics.json")
    own(out / ".staging-2025Q4-41", "00_a.html")
    own(out / ".snapshot-41", "leads.parquet")
    own(out / "_failed" / ".staging-2025Q2-41")
    done = recover_publish(out)
    assert sorted(done) == sorted([f"restored {out / '2025Q2'} (a run was interrupted while publishing it)",
                                   "removed .old-2025Q3-41/ left by an interrupted run",
                                   "removed .staging-2025Q4-41/ left by an interrupted run",
                                   "removed .snapshot-41/ left by an interrupted run",
                                   "removed .staging-2025Q2-41/ left by an interrupted run"])
    for name, file in users.items():
        assert (out / name / file).read_text(encoding="utf-8") == "mine"
    assert not (out / "budget").exists() and not (out / "_failed" / "notes").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".old-budget-2023", ".staging-website-2024", ".snapshot-15", "._data.ingest-3", "_failed", "2025Q2", "2025Q3"])


def test_recovery_does_not_follow_a_link_named_like_a_leftover(tmp_path):
    from helpers.report.record import recover_publish

    out = tmp_path / "out"
    elsewhere = own(tmp_path / "elsewhere", "metrics.json")  # even a marked folder, reached through a link
    out.mkdir()
    (out / ".staging-2025Q1-9").symlink_to(elsewhere, target_is_directory=True)
    assert recover_publish(out) == []
    assert (elsewhere / "metrics.json").exists() and (out / ".staging-2025Q1-9").is_symlink()


def test_top_files_the_runner_did_not_write_are_refused(tmp_path):
    from helpers.errors import WorkbookError
    from helpers.report.record import GENERATOR, INDEX_MARK, check_top_files, runners_file

    out = tmp_path / "out"
    out.mkdir()
    check_top_files(out)  # a fresh folder
    # the runner's own files, marked, and the layout of older runs (before the mark existed)
    (out / "index.html").write_text(f"<html><head><meta charset=\"utf-8\">{INDEX_MARK}</head></html>", encoding="utf-8")
    (out / "run.json").write_text(json.dumps({"generator": GENERATOR, "as_of": "2025-06-30"}), encoding="utf-8")
    check_top_files(out)
    (out / "index.html").write_text('<html><body><h1>Reports</h1><ul class="wb-periods"></ul></body></html>', encoding="utf-8")
    (out / "run.json").write_text(json.dumps({k: None for k in ("as_of", "data_folder", "files", "settings", "packages",
                                                                  "periods_this_run")}), encoding="utf-8")
    check_top_files(out)
    # a team's landing page reached through a link, a run log of another tool, a folder named run.json, a dangling link
    page = tmp_path / "team" / "index.html"
    page.parent.mkdir()
    page.write_text("<html><body><h1>Team dashboards</h1></body></html>", encoding="utf-8")
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(page)
    (out / "run.json").write_text('{"job": "nightly-etl", "status": "ok"}', encoding="utf-8")
    assert not runners_file(out / "index.html") and not runners_file(out / "run.json")
    with pytest.raises(WorkbookError) as err:
        check_top_files(out)
    assert str(err.value) == (f"{out / 'index.html'}, {out / 'run.json'}: not written by the report runner, so it was not "
                              f"replaced\n  How to fix: Move index.html, run.json out of {out}, or choose another output "
                              "folder with --out.")
    assert err.value.in_language("ja").startswith(f"{out / 'index.html'}, {out / 'run.json'}: レポート実行ツールが書いたファイルでは"
                                                  "ないため、置き換えませんでした\n  対処方法: index.html, run.json を ")
    (out / "run.json").unlink()
    (out / "run.json").mkdir()
    assert not runners_file(out / "run.json")
    (out / "run.json").rmdir()
    (out / "run.json").symlink_to(tmp_path / "gone.json")
    assert not runners_file(out / "run.json")
    assert page.read_text(encoding="utf-8") == "<html><body><h1>Team dashboards</h1></body></html>"


def test_the_data_folder_is_rewritten_only_when_it_is_the_runners(tmp_path):
    from helpers.errors import WorkbookError
    from helpers.report.record import check_data_replaceable

    data = tmp_path / "_data"
    check_data_replaceable(data)                      # absent
    data.mkdir()
    for name in ("leads.parquet", "opportunities.csv", "ingest_report.json", "workbook.yaml"):
        (data / name).write_text("x", encoding="utf-8")
    check_data_replaceable(data)                      # what an ingest or a warehouse copy writes
    (data / "crm_notes.docx").write_text("mine", encoding="utf-8")
    with pytest.raises(WorkbookError, match=r": holds files the report runner did not make \(crm_notes.docx\); it was not "
                                            r"replaced and nothing was deleted"):
        check_data_replaceable(data)
    own(tmp_path / "marked")
    check_data_replaceable(tmp_path / "marked")
