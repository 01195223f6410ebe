"""Shared pieces of the attack tests: run Python in a real child process, with the project importable."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from helpers.paths import PROJ_ROOT


def child(code: str, *args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    """Start `python -c code args...` in the project root (a real process; stdout/stderr piped, text)."""
    full_env = dict(os.environ, PYTHONPATH=str(PROJ_ROOT), MPLBACKEND="Agg", **(env or {}))
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=PROJ_ROOT, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def run_child(code: str, *args: str, timeout: float = 600, **kw) -> subprocess.CompletedProcess:
    """Run `child` to completion; returns the completed process (stdout, stderr, returncode)."""
    proc = child(code, *args, **kw)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def assert_no_traceback(*texts: str) -> None:
    """No Python traceback in any of the texts (the workbook speaks in its own errors)."""
    for text in texts:
        assert "Traceback (most recent call last)" not in (text or ""), text
