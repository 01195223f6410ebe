"""Attack: checklist saves from real concurrent processes, kill -9 mid-save, a held lock, formulas in cells, a shared file
reached through a link, a really full disk (a small tmpfs) and a file size limit."""
from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.load import read_csv_text
from helpers.metrics import checklist as ck
from helpers.storage import lock_path

from helpers_attack import assert_no_traceback, child, run_child

SAVER = """
import sys
import pandas as pd
from helpers.metrics.checklist import append_answers
path, who, sets = sys.argv[1], sys.argv[2], int(sys.argv[3])
for n in range(sets):
    rows = pd.DataFrame({"respondent": f"{who}-{n:02d}", "department": "sales", "answered_on": "2025-08-01",
                         "item": range(1, 16), "answer": "yes"})
    append_answers(path, rows)
print("saved", sets)
"""


def test_two_processes_saving_at_once_lose_nothing(tmp_path):
    path = tmp_path / "checklist.csv"
    procs = [child(SAVER, str(path), who, "30") for who in ("A", "B")]
    results = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert out.strip() == "saved 30"
        assert_no_traceback(err)
    frame, _ = read_csv_text(path)
    # 2 processes x 30 answer sets x 15 items, each set exactly once
    assert len(frame) == 900
    sets = frame.groupby("respondent")["item"].apply(lambda s: sorted(int(i) for i in s))
    assert len(sets) == 60 and all(items == list(range(1, 16)) for items in sets)
    assert not list(tmp_path.glob(".checklist.csv.*????????"))


KILLED = """
import os, sys
import pandas as pd
from helpers.metrics.checklist import append_answers
from helpers.report import record
def die(*a):
    os.kill(os.getpid(), 9)   # kill -9 between writing the temporary copy and the rename
record.os.replace = die
append_answers(sys.argv[1], pd.DataFrame({"respondent": "K", "department": "sales", "answered_on": "2025-08-02",
                                          "item": [1], "answer": "no"}))
"""


def test_kill_during_save_keeps_the_file_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "checklist.csv"
    ck.append_answers(path, pd.DataFrame({"respondent": "S1", "department": "sales", "answered_on": "2025-08-01",
                                          "item": [1, 2], "answer": "yes"}))
    before = path.read_bytes()
    done = run_child(KILLED, str(path))
    assert done.returncode == -signal.SIGKILL
    assert path.read_bytes() == before  # the old file is whole
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".checklist.csv.") and not p.name.endswith(".lock")]
    assert len(leftovers) == 1 and leftovers[0].stat().st_size > len(before)  # a full temporary copy
    # the dead process's lock is gone with it: the next save does not wait, and removes the leftover copy
    result = ck.append_answers(path, pd.DataFrame({"respondent": "S2", "department": "sales", "answered_on": "2025-08-01",
                                                   "item": [1], "answer": "no"}), lock_timeout=5)
    assert result["written"] == 1
    assert not leftovers[0].exists()
    assert path.read_bytes().startswith(before)


HOLDER = """
import sys, time
from filelock import FileLock
lock = FileLock(sys.argv[1]); lock.acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_save_that_cannot_get_the_lock_says_so(tmp_path):
    path = tmp_path / "checklist.csv"
    holder = child(HOLDER, str(lock_path(path)))
    try:
        assert holder.stdout.readline().strip() == "held"
        try:
            ck.append_answers(path, pd.DataFrame({"respondent": "S1", "department": "sales", "answered_on": "2025-08-01",
                                                  "item": [1], "answer": "yes"}), lock_timeout=0.5)
        except ck.WorkbookError as exc:
            assert "another process has held the lock" in str(exc) and "nothing was written" in str(exc)
            assert "How to fix: Wait until" in str(exc)
        else:
            raise AssertionError("the save did not wait for the lock")
        assert not path.exists()
    finally:
        holder.kill()
        holder.wait()


def test_formula_cells_are_neutralized_and_read_back(tmp_path):
    from conftest import LEADS_CSV, OPPS_CSV, write_folder
    from helpers.data.load import load_workbook

    folder = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    path = folder / "checklist.csv"
    attack = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\tTAB", "\rCR"]
    rows = pd.DataFrame({"respondent": [f"R{i}" for i in range(len(attack))], "department": "sales",
                         "answered_on": "2025-05-01", "item": 1, "answer": "yes", "note": attack})
    rows.loc[0, "respondent"] = "=1+1"
    ck.append_answers(path, rows)
    text = path.read_text(encoding="utf-8")
    raw, _ = read_csv_text(path)
    # every dangerous cell starts with an apostrophe in the file (leading tab/CR are trimmed); numbers are untouched
    assert raw["note"].tolist() == ["'" + a for a in attack[:4]] + ["TAB", "CR"]
    assert raw["respondent"].tolist()[0] == "'=1+1" and raw["item"].tolist() == ["1"] * 6
    assert "\n=" not in text and ",=" not in text
    # the loader reads the values back as they were typed
    wb = load_workbook(folder)
    assert sorted(wb.checklist["respondent"]) == sorted(["=1+1", "R1", "R2", "R3", "R4", "R5"])
    assert Path(path).exists()


# --------------------------------------------------------------------------- a shared file through a link, full disks
def test_saves_through_a_link_and_straight_to_the_shared_file_at_once_lose_nothing(tmp_path):
    shared = tmp_path / "nas" / "team-checklist.csv"
    shared.parent.mkdir()
    (tmp_path / "mine").mkdir()
    link = tmp_path / "mine" / "checklist.csv"
    shared.write_text("respondent,department,answered_on,item,answer,note\n", encoding="utf-8")
    link.symlink_to(shared)
    procs = [child(SAVER, str(link), "viaLink", "20"), child(SAVER, str(shared), "direct", "20")]
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert_no_traceback(err)
    frame, _ = read_csv_text(shared)
    assert len(frame) == 2 * 20 * 15 and sorted(frame["respondent"].str.split("-").str[0].unique()) == ["direct", "viaLink"]
    assert link.is_symlink() and [p.name for p in link.parent.iterdir()] == ["checklist.csv"]
    assert len(ck.backups(shared)) == ck.BACKUPS_KEPT


ONE_SAVE = """
import sys
import pandas as pd
from helpers.errors import WorkbookError
from helpers.metrics.checklist import append_answers
rows = pd.DataFrame({"respondent": "late-01", "department": "sales", "answered_on": "2025-08-05", "item": range(1, 16),
                     "answer": "partial", "note": "x" * 200})
try:
    append_answers(sys.argv[1], rows)
except WorkbookError as exc:
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)
print("saved")
"""


def big_checklist(path: Path, rows: int) -> bytes:
    lines = ["respondent,department,answered_on,item,answer,note"]
    lines += [f"R{i:05d},marketing,2025-07-01,{i % 15 + 1},yes,{'n' * 40}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path.read_bytes()


@pytest.fixture
def small_disk(tmp_path):
    """A real 256 KiB file system (tmpfs), mounted for the test; skipped where mounting is not allowed (not root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow mounting a tmpfs")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.mark.parametrize("room", ["no room for the backup", "room for the backup only"])
def test_a_full_disk_keeps_the_file_frees_what_the_save_wrote_and_says_how_much_to_free(small_disk, room):
    path = small_disk / "checklist.csv"
    before = big_checklist(path, 1000)                 # about 60 KiB of answers
    free_wanted = len(before) // 2 if room == "no room for the backup" else len(before) + len(before) // 4
    filler = small_disk / "exports.zip"
    filler.write_bytes(b"\0" * max(0, shutil.disk_usage(small_disk).free - free_wanted))
    free_before = shutil.disk_usage(small_disk).free
    done = run_child(ONE_SAVE, str(path))
    assert done.returncode == 2, done.stdout + done.stderr
    assert_no_traceback(done.stderr)
    assert f"error: {path}: not enough disk space to save it (No space left on device: " in done.stderr
    assert f"How to fix: Free at least " in done.stderr and f"on the disk that holds {small_disk}" in done.stderr
    # the answers are whole, no partial backup or copy is left, the disk is as free as before the save
    assert path.read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == [".checklist.csv.lock", "checklist.csv", "exports.zip"]
    assert shutil.disk_usage(small_disk).free == free_before
    # the fix works: free what it says, and the same save goes through
    filler.unlink()
    again = run_child(ONE_SAVE, str(path))
    assert again.returncode == 0 and again.stdout.strip() == "saved", again.stderr
    assert path.read_bytes().startswith(before) and len(ck.backups(path)) == 1


def test_a_file_size_limit_during_a_save_leaves_nothing_half_written(tmp_path):
    path = tmp_path / "checklist.csv"
    before = big_checklist(path, 400)                  # about 24 KiB; the process may write files of 8 KiB at most

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))

    done = run_child(ONE_SAVE, str(path), preexec_fn=small_files)
    assert done.returncode == 2, done.stdout + done.stderr
    assert_no_traceback(done.stderr)
    assert f"error: {path}: not enough disk space to save it (File too large: " in done.stderr
    assert "How to fix: Free at least" in done.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".checklist.csv.lock", "checklist.csv"]
