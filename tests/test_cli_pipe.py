"""A command whose reader stops early (``python -m helpers.ingest --list-mappings | head -1``) ends quietly: no
BrokenPipeError traceback on stderr (helpers.errors.run_cli, the Python documentation's method)."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _closed_pipe_run(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m ARGS`` with its stdout a pipe whose read end is already closed: its first write fails."""
    read, write = os.pipe()
    os.close(read)
    try:
        return subprocess.run([sys.executable, *args], stdout=write, stderr=subprocess.PIPE, cwd=ROOT, text=True,
                              timeout=120)
    finally:
        os.close(write)


def test_a_closed_pipe_ends_the_command_quietly():
    done = _closed_pipe_run("-m", "helpers.ingest", "--list-mappings")
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 1


def test_the_check_sees_the_traceback_without_run_cli():
    """Self-test: a plain print into the same closed pipe does raise the traceback the test above looks for."""
    done = _closed_pipe_run("-c", "print('x' * 100000)")
    assert "BrokenPipeError" in done.stderr


def test_the_runner_outlives_a_reader_that_stops_and_leaves_no_staging_folder(tmp_path):
    """``python -m helpers.report.run ... | head``: the reader is gone before the first line (a closed pipe), yet the
    run finishes: the period is published, index.html written, exit 0, no traceback, no .staging-* or .snapshot-*
    folder left (helpers.errors.ReaderGone). One tiny notebook, on tests/fixtures/newuser/open-expected-close."""
    import json

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {"tags": ["parameters"]},
            "outputs": [], "source": "period = ''\nprint('x' * 100000)"}
    (notebooks / "00_tiny.ipynb").write_text(json.dumps({
        "cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    out = tmp_path / "out"
    done = _closed_pipe_run("-m", "helpers.report.run", "--data", str(ROOT / "tests/fixtures/newuser/open-expected-close"),
                            "--out", str(out), "--notebooks", str(notebooks))
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert (out / "FY2025Q1" / "00_tiny.html").is_file() and (out / "index.html").is_file()
    assert not [p.name for p in out.iterdir() if p.name.startswith(".") and p.name != ".run.lock"]
