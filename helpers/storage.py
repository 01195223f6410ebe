"""Safe files and JSON, for every layer: atomic writes, inter-process locks, folder swaps and deterministic JSON.

Foundation module: imports only the standard library, numpy, pandas, filelock and helpers.errors.
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
