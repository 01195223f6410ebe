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


# --------------------------------------------------------------------------- what the runner owns in the output folder
#: The marker file the runner writes into every folder it makes in the output folder: report folders (OUT/<period>/,
#: OUT/_failed/<period>/), their staging folders, the run's snapshot folder and the data folder OUT/_data.
#: Crash recovery touches only folders carrying it.
MARKER = ".alignment-workbook-report"
#: Names of the files the runner writes into a report folder (besides the marker).
_REPORT_FILE = re.compile(r"^(metrics\.json|kernel\.log|\d\d_[^/]+\.(ipynb|html))$")
#: Names of the hidden folders a killed run may leave: staging, a report moved aside, an ingest's staging, a snapshot.
_STALE = re.compile(r"^\.(staging-.+-\d+|old-.+-\d+|_data\.ingest-\d+|snapshot-\d+)$")
_OLD = re.compile(r"^\.old-(?P<name>.+)-\d+$")
#: The folder of the output folder where a failed period's notebooks are kept (OUT/_failed/<period>/).
FAILED_DIR = "_failed"
#: The files the runner writes at the top of the output folder; it replaces only its own (:func:`runners_file`).
TOP_FILES = ("index.html", "run.json")
#: The runner's mark in those files: index.html's <meta name="generator">, run.json's "generator".
GENERATOR = "alignment-workbook report runner"
INDEX_MARK = f'<meta name="generator" content="{GENERATOR}">'
#: How an index page or run record written before the mark existed is recognised (the runner's own layout).
_LEGACY_INDEX = '<ul class="wb-periods">'
_LEGACY_RUN_KEYS = frozenset({"as_of", "data_folder", "files", "settings", "packages"})
#: How much of a top file is read to recognise it.
_HEAD_BYTES = 1 << 20


def mark_report_dir(folder: Path) -> None:
    """Write the marker file that says the runner made `folder`."""
    (Path(folder) / MARKER).write_text("This folder was made by the alignment workbook's report runner "
                                       "(python -m helpers.report.run); a later run replaces or removes it whole.\n",
                                       encoding="utf-8")


def make_own_dir(folder: Path) -> Path:
    """Create `folder` (and its parents) and mark it as the runner's; OSError if it exists or cannot be made."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    mark_report_dir(folder)
    return folder


def runner_made(folder: Path) -> bool:
    """True when `folder` is a folder (not a link) carrying the runner's marker file."""
    folder = Path(folder)
    return folder.is_dir() and not folder.is_symlink() and (folder / MARKER).is_file()


def foreign_files(folder: Path) -> list[str]:
    """Entries of `folder` the runner did not make (all of them if it has no marker and no metrics.json); [] if absent.

    A folder from before the marker existed counts as the runner's when it holds only the runner's file names
    and a metrics.json. A link or a file in place of the folder is foreign ([its name]).
    """
    folder = Path(folder)
    if not folder.exists() and not folder.is_symlink():
        return []
    if folder.is_symlink() or not folder.is_dir():
        return [folder.name]
    names = sorted(p.name for p in folder.iterdir())
    if MARKER not in names and "metrics.json" not in names:
        return names or []
    return [n for n in names if n != MARKER and not _REPORT_FILE.match(n)]


def _refuse_foreign(folder: Path, others: list[str]) -> None:
    from helpers.errors import coded_error

    if others:
        shown = ", ".join(others[:5]) + (f" (+{len(others) - 5} more)" if len(others) > 5 else "")
        raise coded_error("out_foreign_files", str(folder), names=shown, name=Path(folder).name)


def check_replaceable(folder: Path) -> None:
    """WorkbookError (out_foreign_files) unless `folder` is absent or a report folder the runner made, holding only
    the runner's files."""
    _refuse_foreign(folder, foreign_files(folder))


def check_data_replaceable(folder: Path) -> None:
    """WorkbookError (out_foreign_files) unless the data folder `folder` (OUT/_data, which --mapping and --warehouse
    rewrite) is absent, marked as the runner's, or holds only the names an ingest writes (the rule of ingest --force)."""
    from helpers.data.ingest import OUTPUT_FILES

    folder = Path(folder)
    if runner_made(folder) or (not folder.exists() and not folder.is_symlink()):
        return
    if folder.is_symlink() or not folder.is_dir():
        _refuse_foreign(folder, [folder.name])
    _refuse_foreign(folder, sorted(p.name for p in folder.iterdir() if p.name not in OUTPUT_FILES))


def runners_file(path: Path) -> bool:
    """True when the top file `path` (index.html, run.json) is absent or one the runner wrote: it carries the
    runner's mark (or, written before the mark existed, the runner's own layout). A folder, a link to nothing
    or a file that cannot be read is not the runner's."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        return True
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    if path.name == "run.json":
        try:
            record = json.loads(head)
        except ValueError:
            return False
        return isinstance(record, dict) and (record.get("generator") == GENERATOR or _LEGACY_RUN_KEYS <= set(record))
    return INDEX_MARK in head or _LEGACY_INDEX in head


def check_top_files(out: Path) -> None:
    """WorkbookError (out_not_runners_file) when the output folder holds an index.html or run.json the runner did not
    write (checked before a run writes anything); the runner never replaces a user's file of those names."""
    from helpers.errors import coded_error

    theirs = [name for name in TOP_FILES if not runners_file(Path(out) / name)]
    if theirs:
        raise coded_error("out_not_runners_file", ", ".join(str(Path(out) / n) for n in theirs), name=", ".join(theirs),
                          folder=str(out))


def publish_dir(staging: Path, final: Path) -> None:
    """Replace the report folder `final` by `staging` (marked), refusing a folder the runner did not make."""
    check_replaceable(final)
    if final.is_dir() and not runner_made(final):  # a report folder from before the marker: marked before it moves aside
        mark_report_dir(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    replace_dir(staging, final)


def recover_publish(out: Path) -> list[str]:
    """Finish what a killed run left in `out` (and out/_failed); call only while holding the run lock.

    Only hidden folders named as the runner names them *and* carrying its marker (:func:`runner_made`) are touched;
    a user's `.old-photos-2019/` or `.staging-site-2/` is left as it is. A `.old-<name>-<pid>` folder whose `<name>`
    is missing is renamed back (the last good report returns); otherwise it and every `.staging-*`, `._data.ingest-*`
    and `.snapshot-*` folder are deleted. Returns what was done, one line each (helpers.errors.Phrase: English as str,
    said in Japanese by in_language).
    """
    from helpers.errors import Phrase

    done = []
    for parent in (Path(out), Path(out) / FAILED_DIR):
        if not parent.is_dir() or parent.is_symlink():
            continue
        for entry in sorted(parent.iterdir()):
            if not (_STALE.match(entry.name) and runner_made(entry)):
                continue
            old = _OLD.match(entry.name)
            if old and not (parent / old.group("name")).exists() and not (parent / old.group("name")).is_symlink():
                entry.rename(parent / old.group("name"))
                done.append(Phrase("run_recovered_restored", path=str(parent / old.group("name"))))
            else:
                shutil.rmtree(entry, ignore_errors=True)
                done.append(Phrase("run_recovered_removed", name=entry.name))
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


def clean_reports(out: Path) -> list[str]:
    """Remove what the report runner wrote in the output folder `out` (``make clean-reports``): the folders carrying
    its marker (:func:`runner_made`: periods, failed runs, staging, the data copy) and its top files
    (:data:`TOP_FILES` that :func:`runners_file` recognises), in `out`, its _failed folder and each sub-folder that is
    a run's output folder too (``--out reports/ja``: it holds the runner's lock file), each removed when left empty. Anything
    else (a user's notes, reports/README.md, the lock files) stays. Returns the paths removed, one each.
    WorkbookError when a run is writing to `out` (its lock is held)."""
    from helpers.errors import Phrase
    from helpers.storage import lock_path, locked

    out = Path(out)
    if not out.is_dir() or out.is_symlink():
        return []
    removed: list[str] = []
    with locked(out / "run", Phrase("lock_what_clean_reports", out=str(out)),
                timeout=0):
        for entry in sorted(out.iterdir()):
            if runner_made(entry):
                shutil.rmtree(entry)
                removed.append(str(entry))
            elif entry.name in TOP_FILES and entry.is_file() and runners_file(entry):
                entry.unlink()
                removed.append(str(entry))
            elif entry.is_dir() and not entry.is_symlink() and (entry.name == FAILED_DIR or lock_path(entry / "run").is_file()):
                removed += _remove_marked(entry) if entry.name == FAILED_DIR else clean_reports(entry)
                if not [e for e in entry.iterdir() if e != lock_path(entry / "run")]:
                    shutil.rmtree(entry)
                    removed.append(str(entry))
    return removed


def _remove_marked(folder: Path) -> list[str]:
    """Remove the folders in `folder` that carry the runner's marker (a failed run's periods in OUT/_failed)."""
    removed = []
    for entry in sorted(folder.iterdir()):
        if runner_made(entry):
            shutil.rmtree(entry)
            removed.append(str(entry))
    return removed
