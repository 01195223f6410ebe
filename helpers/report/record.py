"""The figure recorder: notebooks write their figures into the period's metrics.json through here.

Each notebook calls `Recorder(metrics_path).put(section, value)`; the file is read,
the section set, and the file replaced atomically. An empty path (interactive use)
records nothing. Output is deterministic: keys keep insertion order, dates are ISO
strings, NaN/NaT become null, numpy scalars become Python numbers.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from helpers.storage import dumps, replace_dir, to_jsonable, write_atomic


# --------------------------------------------------------------------------- report folders the runner made
#: The marker file the runner writes into every report folder it makes (OUT/<period>/, OUT/_failed/<period>/).
MARKER = ".alignment-workbook-report"
#: Names of the files the runner writes into a report folder (besides the marker).
_REPORT_FILE = re.compile(r"^(metrics\.json|kernel\.log|\d\d_[^/]+\.(ipynb|html))$")
_STALE = re.compile(r"^\.(staging-.+-\d+|old-.+-\d+|_data\.ingest-\d+|snapshot-\d+|\.snapshot-\d+\.tmp-\d+)$")
_OLD = re.compile(r"^\.old-(?P<name>.+)-\d+$")


def mark_report_dir(folder: Path) -> None:
    """Write the marker file that says the runner made `folder`."""
    (Path(folder) / MARKER).write_text("This folder was made by the alignment workbook's report runner "
                                       "(python -m helpers.report.run); a later run replaces it whole.\n", encoding="utf-8")


def foreign_files(folder: Path) -> list[str]:
    """Entries of `folder` the runner did not make (all of them if it has no marker and no metrics.json); [] if absent.

    A folder from before the marker existed counts as the runner's when it holds only the runner's file names
    and a metrics.json.
    """
    folder = Path(folder)
    if not folder.exists():
        return []
    if not folder.is_dir():
        return [folder.name]
    names = sorted(p.name for p in folder.iterdir())
    if MARKER not in names and "metrics.json" not in names:
        return names or []
    return [n for n in names if n != MARKER and not _REPORT_FILE.match(n)]


def check_replaceable(folder: Path) -> None:
    """WorkbookError unless `folder` is absent or a report folder the runner made, holding only the runner's files."""
    from helpers.errors import WorkbookError

    others = foreign_files(folder)
    if others:
        shown = ", ".join(others[:5]) + (f" (+{len(others) - 5} more)" if len(others) > 5 else "")
        raise WorkbookError(f"{folder} holds files the report runner did not make ({shown}); it was not replaced and nothing was deleted",
                            fix=f"Move those files out of {folder.name}/, or choose another output folder with --out.")


def publish_dir(staging: Path, final: Path) -> None:
    """Replace the report folder `final` by `staging` (marked), refusing a folder the runner did not make."""
    check_replaceable(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    replace_dir(staging, final)


def recover_publish(out: Path) -> list[str]:
    """Finish what a killed run left in `out` (and out/_failed); call only while holding the run lock.

    A `.old-<name>-<pid>` folder whose `<name>` is missing is renamed back (the last good report returns);
    otherwise it and every `.staging-*` folder are deleted. Returns what was done, one line each.
    """
    done = []
    for parent in (Path(out), Path(out) / "_failed"):
        if not parent.is_dir():
            continue
        for entry in sorted(parent.iterdir()):
            if not (entry.is_dir() and _STALE.match(entry.name)):
                continue
            old = _OLD.match(entry.name)
            if old and not (parent / old.group("name")).exists():
                entry.rename(parent / old.group("name"))
                done.append(f"restored {parent / old.group('name')} (a run was interrupted while publishing it)")
            else:
                shutil.rmtree(entry, ignore_errors=True)
                done.append(f"removed {entry.name}/ left by an interrupted run")
    return done



class Recorder:
    """Sets sections of one metrics.json file; a no-op when the path is empty."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path else None

    def read(self) -> dict:
        """The current content of the file ({} when absent or disabled)."""
        if self.path is None or not self.path.exists():
            return {}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def put(self, key: str, value) -> None:
        """Set the top-level `key` to `value` (replacing it) and rewrite the file atomically."""
        if self.path is None:
            return
        data = self.read()
        data[key] = to_jsonable(value)
        write_atomic(self.path, dumps(data))

    def update(self, values: dict) -> None:
        """Set several top-level keys at once, in the given order."""
        if self.path is None:
            return
        data = self.read()
        data.update(to_jsonable(values))
        write_atomic(self.path, dumps(data))
