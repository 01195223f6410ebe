"""Attack: checklist saves from real concurrent processes, kill -9 mid-save, a held lock, formulas in cells."""
from __future__ import annotations

import signal
from pathlib import Path

import pandas as pd

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
