"""Documented names keep working (README "Stable names"): every old `python -m helpers.X` runs its new module.

Every old name gives the same exit status, standard output and standard error as the new name, for --help and for a
run that fails (a bad period: exit 2 and the workbook's error). The new names run in this process, as `python -m`
runs them; the old names too (its alias module executed as the main program, helpers.aliases.stand_in), but one of
each kind runs as a child process, as a scheduled job runs it (CHILD_OLD_NAMES: a product module's old name, a
benchmark's at the package's top and under helpers.report, all run from a folder outside the checkout), and so do
the failing runs' old names. The list of old names is checked against the project's history of documented commands.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
import warnings

import pytest

from helpers.aliases import OLD_NAMES
from helpers.paths import PROJ_ROOT, SAMPLE_DATA_DIR

#: Every `python -m helpers...` the README, docs/ or the Makefile documented before the layers (git log -p at
#: commit 9756726^, the split): the names a user's job may call.
DOCUMENTED_BEFORE_THE_SPLIT = {"helpers.run", "helpers.ingest", "helpers.sample", "helpers.warehouse", "helpers.lab",
                               "helpers.nbtools", "helpers.bench", "helpers.bench_save", "helpers.bench_scale"}
#: The benchmarks' names in the README and Makefile before they left the package for benchmarks/ (issue 26).
DOCUMENTED_BEFORE_BENCHMARKS_MOVED = {"helpers.report.bench", "helpers.report.bench_save", "helpers.report.bench_scale",
                                      "helpers.report.bench_forecast"}


def child(module: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    """`python -m module args` in `cwd`; a benchmark's own name (benchmarks.*, not in the installed package) runs from
    the checkout, as `make bench-*` runs it."""
    cwd = PROJ_ROOT if module.startswith("benchmarks.") else cwd
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def in_process(module: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    """`python -m module args` run in this process as `python -m` runs it (runpy, the module as __main__), in `cwd`:
    its exit status, standard output and standard error. The help's width is a child's with piped output: COLUMNS,
    else 80. An old name (OLD_NAMES) runs its own alias module (helpers/run.py, ...), not the new module that an
    import of the old name gave (sys.modules maps it so): as a fresh interpreter finds it."""
    out, err, code = io.StringIO(), io.StringIO(), 0
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        mp.setattr(sys, "argv", [module, *args])
        mp.setattr(sys, "path", list(sys.path))   # an alias of a benchmark puts the checkout on it
        if module in OLD_NAMES:
            mp.delitem(sys.modules, module, raising=False)
        if cwd is not None:
            mp.chdir(cwd)
        if not os.environ.get("COLUMNS"):
            mp.setenv("COLUMNS", "80")
        try:
            with warnings.catch_warnings():   # runpy's note that the module was imported before: it is, by this suite
                warnings.filterwarnings("ignore", "'.*' found in sys.modules after import of package", RuntimeWarning)
                runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
            if not isinstance(stop.code, (int, type(None))):
                print(stop.code, file=sys.stderr)
    return subprocess.CompletedProcess([module, *args], code, out.getvalue(), err.getvalue())


#: The --help of each new name, run once in this process (in_process: no interpreter to start for each): old names
#: that became the same module (helpers.bench and helpers.report.bench) compare with one run of it.
NEW_HELP: dict[str, subprocess.CompletedProcess] = {}
#: The old names whose --help runs as a child process from a folder outside the checkout, as a scheduled job calls
#: it, one of each kind: a product module's (helpers.X), a benchmark's at the package's top (its alias puts the
#: checkout on sys.path) and under helpers.report (helpers.report.bench_forecast runs as a child too, in
#: test_the_benchmarks_old_names_are_the_moved_modules; the failing runs' old names, helpers.run and helpers.ingest,
#: in test_the_old_name_fails_as_the_new_one). The others run their alias module in this process (in_process): the
#: same module executed as the main program, without an interpreter and the stack's imports to start for each
#: (2.6-2.9 CPU s for helpers.nbtools, helpers.bench and helpers.report.bench, which import nbformat).
CHILD_OLD_NAMES = ("helpers.run", "helpers.bench_scale", "helpers.report.bench_scale")


def new_help(module: str) -> subprocess.CompletedProcess:
    """`--help` of a new name (NEW_HELP)."""
    if module not in NEW_HELP:
        NEW_HELP[module] = in_process(module, "--help")
    return NEW_HELP[module]


def test_every_documented_old_name_has_an_alias():
    assert set(OLD_NAMES) == DOCUMENTED_BEFORE_THE_SPLIT | DOCUMENTED_BEFORE_BENCHMARKS_MOVED
    readme = (PROJ_ROOT / "README.md").read_text(encoding="utf-8")
    stable = readme[readme.index("## Stable names"):readme.index("## What a reader gets")]
    for old, new in OLD_NAMES.items():
        assert f"`{old}`" in stable and f"`{new}`" in stable, old


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_the_old_name_answers_help_as_the_new_one(old, tmp_path):
    new = new_help(OLD_NAMES[old])
    was = (child if old in CHILD_OLD_NAMES else in_process)(old, "--help", cwd=tmp_path)
    assert new.returncode == 0 and new.stdout.startswith(f"usage: python -m {OLD_NAMES[old]} ")
    assert (was.returncode, was.stdout, was.stderr) == (new.returncode, new.stdout, new.stderr)


@pytest.mark.parametrize("old, args", [
    ("helpers.run", ["--data", str(SAMPLE_DATA_DIR), "--period", "2025Q9"]),
    ("helpers.ingest", ["--exports", "no-such-folder", "--mapping", "salesforce_ja", "--out", "x"]),
])
def test_the_old_name_fails_as_the_new_one(old, args, tmp_path):
    new, was = in_process(OLD_NAMES[old], *args, cwd=tmp_path), child(old, *args, cwd=tmp_path)
    assert new.returncode == 2 and new.stderr.startswith("error: ") and "Traceback" not in new.stderr
    assert (was.returncode, was.stdout, was.stderr) == (new.returncode, new.stdout, new.stderr)
    assert list(tmp_path.iterdir()) == []  # neither wrote anything


def test_importing_an_old_name_gives_the_new_module():
    import helpers.report.run
    import helpers.run
    from helpers.ingest import main as ingest_main
    from helpers.run import main

    import helpers.data.ingest

    assert helpers.run is helpers.report.run and main is helpers.report.run.main
    assert ingest_main is helpers.data.ingest.main
    assert re.search(r"helpers/report/run\.py$", helpers.run.__file__)


def test_the_benchmarks_old_names_are_the_moved_modules(tmp_path):
    """Both names of before (helpers.bench_scale, helpers.report.bench_scale) import the module in benchmarks/ and run
    it from anywhere, as a scheduled job ran them (here: a folder outside the checkout)."""
    import helpers.bench_scale
    import helpers.report.bench_forecast
    import helpers.report.bench_scale

    import benchmarks.bench_scale

    assert helpers.bench_scale is helpers.report.bench_scale is benchmarks.bench_scale
    assert helpers.report.bench_forecast.drifting_opportunities.__module__ == "benchmarks.bench_forecast"
    assert benchmarks.bench_scale.__file__ == str(PROJ_ROOT / "benchmarks" / "bench_scale.py")
    was = child("helpers.report.bench_forecast", "--help", cwd=tmp_path)
    assert was.returncode == 0 and was.stdout.startswith("usage: python -m benchmarks.bench_forecast ")
