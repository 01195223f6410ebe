"""The figure recorder: notebooks write their figures into the period's metrics.json through here.

Each notebook calls `Recorder(metrics_path).put(section, value)`; the file is read,
the section set, and the file replaced atomically. An empty path (interactive use)
records nothing. Output is deterministic: keys keep insertion order, dates are ISO
strings, NaN/NaT become null, numpy scalars become Python numbers.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
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


def write_atomic(path: Path, text: str) -> None:
    """Write text to `path` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_dir(staging: Path, final: Path) -> None:
    """Replace the folder `final` by the finished `staging` folder with renames (the old one stays until then)."""
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
