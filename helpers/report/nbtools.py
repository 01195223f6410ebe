"""Maintainer tool: `python -m helpers.report.nbtools refresh` re-executes the notebooks on the sample data
and stores the outputs of the cells marked `# NBVAL_CHECK_OUTPUT` (and nothing else) in notebooks/.

nbval (`make test`) then checks that those cells still print the same text. Every other output is
stripped, so git holds no images or tables. Review the diff of the stored outputs before committing:
the figures they pin are cross-checked by an independent computation in tests/test_sample_figures.py.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import nbformat

from helpers.paths import KERNEL_NAME
from helpers.report.run import notebook_paths

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def strip_outputs(nb) -> None:
    """Remove outputs and execution counts from every cell that nbval does not check."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if not cell.source.lstrip().startswith(CHECK_MARK):
            cell.outputs = []
            cell.execution_count = None
    for key in ("papermill", "widgets"):
        nb.metadata.pop(key, None)


def refresh(path: Path) -> None:
    """Execute one notebook in place (default parameters, static mode) and keep only checked outputs."""
    import papermill as pm

    os.environ["WORKBOOK_STATIC"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        pm.execute_notebook(str(path), str(out), kernel_name=KERNEL_NAME, cwd=str(path.parent), progress_bar=False)
        executed = nbformat.read(out, as_version=4)
    source = nbformat.read(path, as_version=4)
    by_source = {c.source: c for c in executed.cells if c.cell_type == "code"}
    for cell in source.cells:
        if cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARK):
            done = by_source[cell.source]
            cell.outputs = [o for o in done.outputs if o.get("name") != "stderr"]
            cell.execution_count = done.execution_count
    strip_outputs(source)
    nbformat.write(source, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.report.nbtools", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["refresh", "strip"])
    parser.add_argument("notebooks", nargs="*", help="default: every numbered notebook")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.notebooks] or notebook_paths()
    for path in paths:
        if args.command == "refresh":
            refresh(path)
        else:
            nb = nbformat.read(path, as_version=4)
            strip_outputs(nb)
            nbformat.write(nb, path)
        print(f"{args.command}: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from helpers.errors import run_cli

    raise SystemExit(run_cli(main))
