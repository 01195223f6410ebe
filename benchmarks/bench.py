"""Benchmark of the report command (`make bench-report`): real notebooks vs a floor of trivial ones.

The floor runs as many notebooks as notebooks/ holds, each only importing the stack
and drawing one chart, through the same runner (papermill, one kernel per period, HTML
export, publish). Prints both wall times and their ratio (the aim is a ratio of at most
1.5), and the CPU seconds of each run (the runner and its kernels), which a machine
shared with other work changes less than the wall time.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import resource
import statistics
import tempfile
import time
from pathlib import Path

import nbformat

from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.run import main as run_main
from helpers.report.run import notebook_paths

FLOOR_SOURCE = """import pandas as pd
import seaborn as sns
import matplotlib.pyplot as plt
from helpers.views.theme import set_theme
set_theme()
fig, ax = plt.subplots()
sns.barplot(x=["a", "b"], y=[1, 2], ax=ax);"""


PARAMS = "\n".join(f'{name}: str = ""' for name in ("data_dir", "config_path", "period", "as_of", "lang", "metrics_path"))


def floor_notebooks(folder: Path, count: int) -> Path:
    """`count` trivial notebooks with the real notebooks' kernel and a parameters cell."""
    meta = nbformat.read(notebook_paths()[0], as_version=4).metadata
    for i in range(count):
        params = nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]})
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Floor"), params,
                                             nbformat.v4.new_code_cell(FLOOR_SOURCE)], metadata=meta)
        nbformat.write(nb, folder / f"{i:02d}_floor.ipynb")
    return folder


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its ended children (the kernels)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one runner invocation (its output swallowed); fails loudly if the run fails."""
    started, cpu = time.perf_counter(), cpu_seconds()
    with contextlib.redirect_stdout(io.StringIO()):
        code = run_main(argv)
    if code != 0:
        raise SystemExit(f"the run {argv} failed with exit status {code}")
    return time.perf_counter() - started, cpu_seconds() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SAMPLE_DATA_DIR))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (the median is reported)")
    args = parser.parse_args(argv)
    count = len(notebook_paths())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "floor_nbs").mkdir()
        floor_dir = floor_notebooks(tmp / "floor_nbs", count)
        real = [timed(["--data", args.data, "--out", str(tmp / f"real{i}")]) for i in range(args.repeat)]
        floor = [timed(["--data", args.data, "--out", str(tmp / f"floor{i}"), "--notebooks", str(floor_dir)])
                 for i in range(args.repeat)]
    r, f = statistics.median(w for w, _ in real), statistics.median(w for w, _ in floor)
    rc, fc = statistics.median(c for _, c in real), statistics.median(c for _, c in floor)
    print(f"report command, latest period, {count} notebook(s): {r:.2f}s wall, {rc:.2f}s CPU (median of {args.repeat})")
    print(f"floor, {count} trivial notebook(s):                {f:.2f}s wall, {fc:.2f}s CPU (median of {args.repeat})")
    print(f"ratio: {r / f:.2f}x (aim: <= 1.5x); CPU ratio {rc / fc:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
