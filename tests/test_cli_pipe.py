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
