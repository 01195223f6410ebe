"""Benchmark of the report command (`make bench-report`): real notebooks vs a floor of trivial ones.

The floor runs as many notebooks as notebooks/ holds, each only importing the stack
and drawing one chart, through the same runner (papermill, one kernel per period, HTML
export, publish). The two run in interleaved rounds (report, floor, report again, ...;
``--repeat``, default 3), so a change of load on a shared machine falls on both; it prints
each run's wall and CPU seconds (the runner and its kernels: a machine shared with other
work changes CPU less than wall time) and the medians of the per-round ratios report/floor.
The aim (issue 26): CPU ratio at most 2.

Each round has a compiled-SQL store of its own (helpers.metrics.sql_store, ``WORKBOOK_SQL_CACHE``), empty at
its start: the round's first report is **cold** (as the first run after an install or an upgrade: every query
shape compiled by Ibis), the floor follows, then the same report again is **warm** (a second run: the shapes'
SQL read from the store). Both ratios are printed, each the median of its per-round ratios against the round's floor.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
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


def timed(argv: list[str], store: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one runner invocation (its output swallowed), its kernels' compiled-SQL store
    `store` (``WORKBOOK_SQL_CACHE``); fails loudly if the run fails."""
    started, cpu = time.perf_counter(), cpu_seconds()
    with contextlib.redirect_stdout(io.StringIO()), sql_store_at(store):
        code = run_main(argv)
    if code != 0:
        raise SystemExit(f"the run {argv} failed with exit status {code}")
    return time.perf_counter() - started, cpu_seconds() - cpu


@contextlib.contextmanager
def sql_store_at(folder: Path):
    """A block whose processes (the runner's kernels inherit the environment) keep compiled SQL in `folder`."""
    from helpers.metrics.sql_store import ENV

    saved = os.environ.get(ENV)
    os.environ[ENV] = str(folder)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SAMPLE_DATA_DIR))
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds of report and floor (medians reported)")
    parser.add_argument("run_args", nargs="*", help="more arguments for both runs, after -- (e.g. -- --all)")
    args = parser.parse_args(argv)
    count = len(notebook_paths())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "floor_nbs").mkdir()
        floor_dir = floor_notebooks(tmp / "floor_nbs", count)
        cold, floor, warm = [], [], []
        for i in range(args.repeat):
            store = tmp / f"sql{i}"   # the round's own store, empty: its first report is cold, the second warm
            report = ["--data", args.data] + args.run_args
            cold.append(timed(report + ["--out", str(tmp / f"cold{i}")], store))
            floor.append(timed(["--data", args.data, "--out", str(tmp / f"floor{i}"), "--notebooks", str(floor_dir)]
                               + args.run_args, store))
            warm.append(timed(report + ["--out", str(tmp / f"warm{i}")], store))
            print(f"round {i + 1}: report cold {cold[-1][0]:.2f}s wall, {cold[-1][1]:.2f}s CPU; "
                  f"floor {floor[-1][0]:.2f}s wall, {floor[-1][1]:.2f}s CPU; "
                  f"report warm {warm[-1][0]:.2f}s wall, {warm[-1][1]:.2f}s CPU", flush=True)
    what = "latest period" if not args.run_args else " ".join(args.run_args)
    f, fc = statistics.median(w for w, _ in floor), statistics.median(c for _, c in floor)
    for title, real in (("cold store (a first run)", cold), ("warm store (a second run)", warm)):
        r, rc = statistics.median(w for w, _ in real), statistics.median(c for _, c in real)
        print(f"report command, {what}, {count} notebook(s), {title}: {r:.2f}s wall, {rc:.2f}s CPU "
              f"(median of {args.repeat})")
    print(f"floor, {count} trivial notebook(s): {f:.2f}s wall, {fc:.2f}s CPU (median of {args.repeat})")
    for title, real in (("cold store (a first run)", cold), ("warm store (a second run)", warm)):
        wall_ratio = statistics.median(a[0] / b[0] for a, b in zip(real, floor))
        cpu_ratio = statistics.median(a[1] / b[1] for a, b in zip(real, floor))
        print(f"median of the per-round ratios report/floor ({args.repeat} interleaved rounds), {title}: "
              f"CPU {cpu_ratio:.2f}x (aim: <= 2x), wall {wall_ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
