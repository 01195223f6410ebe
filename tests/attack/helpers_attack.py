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


def tiny_notebooks(folder) -> "Path":
    """A notebooks folder with one quick notebook that records the period's start and end (the runner's real protocol)."""
    from pathlib import Path

    import nbformat

    from helpers.report.run import notebook_paths

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = nbformat.read(notebook_paths()[0], as_version=4).metadata
    params = nbformat.v4.new_code_cell('period = ""\nmetrics_path = ""\ndata_dir = ""\nconfig_path = ""\nas_of = ""\nlang = "en"',
                                       metadata={"tags": ["parameters"]})
    body = nbformat.v4.new_code_cell(
        "from helpers.data.periods import parse_period\nfrom helpers.report.record import Recorder\n"
        "p = parse_period(period, 1)\n"
        "Recorder(metrics_path).update({'period': period, 'start': p.start, 'end': p.end, 'as_of': as_of})\n"
        "print('# Tiny report', period)")
    title = nbformat.v4.new_markdown_cell("# Tiny report")
    nbformat.write(nbformat.v4.new_notebook(cells=[title, params, body], metadata=meta), folder / "00_tiny.ipynb")
    return folder


RUNNER = """
import sys
from helpers.report.run import main
sys.exit(main(sys.argv[1:]))
"""
