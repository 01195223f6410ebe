"""The figure recorder: notebooks write their figures into the period's metrics.json through here.

Each notebook calls `Recorder(metrics_path).put(section, value)`; the file is read,
the section set, and the file replaced atomically. An empty path (interactive use)
records nothing. Output is deterministic: keys keep insertion order, dates are ISO
strings, NaN/NaT become null, numpy scalars become Python numbers.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd


def to_jsonable(value):
    """Plain JSON types: dicts/lists recursively, NaN/NaT/None -> None, Timestamps -> 'YYYY-MM-DD'."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        ts = pd.Timestamp(value)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.isoformat()
    return value


def dumps(value) -> str:
    """Deterministic JSON text (UTF-8, 2-space indent, no NaN) with a final newline."""
    return json.dumps(to_jsonable(value), ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write text (UTF-8) or bytes to `path` through a temporary file in the same folder, fsync and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


#: How long a save or a run waits for another process holding the same lock (seconds).
LOCK_TIMEOUT = 60.0
#: Name pattern of write_atomic's temporary files: `.<name>.` + 8 characters from tempfile's alphabet.
_TEMP_SUFFIX = r"\.[a-z0-9_]{8}"


def lock_path(path: Path) -> Path:
    """The lock file guarding `path`: `.<name>.lock` next to it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(path: Path, what: str, timeout: float = LOCK_TIMEOUT, wait_note: str | None = None):
    """Hold the inter-process lock of `path` (filelock; released by the OS if the process dies).

    Prints `wait_note` once if another process holds the lock at first. Raises WorkbookError naming
    `what` when another process holds it for longer than `timeout` seconds.
    """
    from filelock import FileLock, Timeout

    from helpers.errors import WorkbookError

    lock = FileLock(str(lock_path(path)), timeout=timeout)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait_note:
                print(wait_note, flush=True)
            lock.acquire()
    except Timeout:
        raise WorkbookError(f"{what}: another process has held the lock {lock_path(path)} for more than {timeout:g} s; nothing was written",
                            fix="Wait until the other save or run has finished and try again.") from None
    except OSError as exc:
        raise WorkbookError(f"{what}: cannot create the lock file {lock_path(path)}: {exc.strerror or exc}",
                            fix="Make the folder writable (and check the disk is not full).") from None
    try:
        yield
    finally:
        lock.release()


def remove_temp_files(path: Path) -> list[Path]:
    """Delete temporary copies of `path` left by interrupted atomic writes; call only while holding its lock."""
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}{_TEMP_SUFFIX}$")
    removed = []
    for p in path.parent.glob(f".{path.name}.*"):
        if pattern.match(p.name) and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def neutralize_cell(value):
    """A text cell safe to open in a spreadsheet: a leading `'` before =, +, -, @, tab or CR (OWASP).

    Plain numbers (`-5`, `+1.5e3`) and a lone `-` are left alone (no formula), as is anything
    that is not text. `helpers.load` removes the apostrophe again when reading (round trip).
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and value != "-" and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def neutralize_text_columns(frame, table_name: str):
    """`frame` with neutralize_cell applied to every column that is not a date or number column of the contract table."""
    from helpers.schema import TABLES

    typed = {c.name for c in TABLES[table_name].columns if c.kind not in ("text", "category")} if table_name in TABLES else set()
    return frame.assign(**{str(c): frame[c].map(neutralize_cell) for c in frame.columns if c not in typed})


def unneutralize_cell(value):
    """Undo neutralize_cell: drop a leading `'` that precedes a formula character."""
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


def replace_dir(staging: Path, final: Path) -> None:
    """Replace the folder `final` by the finished `staging` folder with renames (the old one stays until then).

    Between the two renames the old folder is `.old-<name>-<pid>` next to `final`;
    `recover_publish` puts it back if the process died there.
    """
    staging, final = Path(staging), Path(final)
    if final.exists():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        final.rename(old)
        staging.rename(final)
        shutil.rmtree(old)
    else:
        staging.rename(final)


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
                                       "(python -m helpers.run); a later run replaces it whole.\n", encoding="utf-8")


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
