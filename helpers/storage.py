"""Safe files and JSON, for every layer: atomic writes, inter-process locks, folder swaps and deterministic JSON.

Foundation module: imports only the standard library, numpy, pandas, filelock and helpers.errors.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
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
    """Write text (UTF-8) or bytes to `path` through a temporary file in the same folder, fsync and a rename.

    A symbolic link is written through: the file it points to is replaced (temporary file in that file's folder),
    and the link stays. An existing file keeps its permission bits (and its group where the OS allows), so a file
    shared by a team stays writable for the team. WorkbookError (save_link_dangling) for a link to nothing; OSError
    when the folder refuses the write (the temporary file is removed).
    """
    path = save_target(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_TAG, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text if isinstance(text, bytes) else text.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        _keep_mode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_target(path: str | os.PathLike) -> Path:
    """The file a save to `path` writes: `path` itself, or the file its symbolic link (or chain of links) points to.

    Raises WorkbookError (code save_link_dangling) when the link points to nothing (a shared folder not mounted,
    a moved file): a save would otherwise replace the link by a private file that nobody else reads.
    """
    path = Path(path)
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.exists():
        from helpers.errors import coded_error

        raise coded_error("save_link_dangling", str(path), target=str(target))
    return target


def refuse_hard_link(path: Path, target: Path) -> None:
    """WorkbookError (save_hard_link) when the file `target` (the file a save to `path` writes) has other names: an
    atomic save gives it a new file, and the other names would keep the old content."""
    from helpers.errors import coded_error

    if Path(target).is_file() and Path(target).stat().st_nlink > 1:
        raise coded_error("save_hard_link", str(path), n=Path(target).stat().st_nlink)


def _keep_mode(path: Path, tmp: str) -> None:
    """Give the temporary file `tmp` the permission bits (and, where allowed, the group) of the file it replaces."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        os.chmod(tmp, 0o666 & ~_umask())
        return
    os.chmod(tmp, st.st_mode & 0o7777)
    if hasattr(os, "chown") and os.stat(tmp).st_gid != st.st_gid:
        with contextlib.suppress(OSError):  # not a member of the file's group: the file gets the saver's group
            os.chown(tmp, -1, st.st_gid)


#: How long a save or a run waits for another process holding the same lock (seconds).
LOCK_TIMEOUT = 60.0


#: The end of write_atomic's temporary file names: `.<name>.` + 8 characters from tempfile's alphabet + TEMP_TAG
#: (a user's own `.<name>.original` is never taken for one).
TEMP_TAG = ".wb-tmp"
_TEMP_SUFFIX = r"\.[a-z0-9_]{8}" + re.escape(TEMP_TAG)


def lock_path(path: Path) -> Path:
    """The lock file guarding `path`: `.<name>.lock` next to it."""
    path = Path(path)
    return path.with_name(f".{path.name}.lock")


@contextlib.contextmanager
def locked(path: Path, what: str, timeout: float = LOCK_TIMEOUT, wait_note: str | None = None):
    """Hold the inter-process lock of `path` (filelock; released by the OS if the process dies).

    Prints `wait_note` once if another process holds the lock at first. Raises a coded WorkbookError (lock_held,
    lock_create) naming `what` (a helpers.errors.Phrase ``lock_what_*``, said in the error's language) when another
    process holds it for longer than `timeout` seconds, or the lock file cannot be made.
    """
    from filelock import FileLock, Timeout

    from helpers.errors import coded_error

    check_lock_file(lock_path(path))
    lock = FileLock(str(lock_path(path)), timeout=timeout)
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            if wait_note:
                print(wait_note, flush=True)
            lock.acquire()
    except Timeout:
        raise coded_error("lock_held", what, lock=str(lock_path(path)), timeout=f"{timeout:g}") from None
    except OSError as exc:
        raise coded_error("lock_create", what, lock=str(lock_path(path)), reason=str(exc.strerror or exc)) from None
    try:
        yield
    finally:
        lock.release()


def check_lock_file(lock: Path) -> None:
    """WorkbookError (lock_not_a_lock) when `lock` exists but is not an empty file: the lock library empties the file it
    opens, so a user's file of that name would lose its content."""
    lock = Path(lock)
    if lock.is_symlink() or (lock.exists() and (not lock.is_file() or lock.stat().st_size > 0)):
        from helpers.errors import coded_error

        raise coded_error("lock_not_a_lock", str(lock))


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


# --------------------------------------------------------------------------- saving a file people keep, with backups
#: errno values meaning there is no room for a write (disk full, quota, file size limit).
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: errno values meaning the folder refuses writes (read-only disk, no permission).
NOT_WRITABLE_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
#: A backup's time stamp (local time) in its name `<name>.bak-YYYYMMDD-HHMMSS`; `-2`, `-3` ... follow a second's first.
BACKUP_STAMP = "%Y%m%d-%H%M%S"


def _backup_name(path: Path) -> re.Pattern:
    return re.compile(rf"{re.escape(path.name)}\.bak-(\d{{8}}-\d{{6}})(?:-([2-9]|[1-9]\d+))?")


def own_backups(path: str | os.PathLike) -> list[Path]:
    """The backups :func:`save_with_backup` made of `path`, oldest first.

    Only regular files named exactly ``<name>.bak-YYYYMMDD-HHMMSS`` (or ``...-N``, N >= 2) with a real date and
    time; a backup the user named (``checklist.csv.bak-mine``, ``checklist.csv.bak-keep.bak-20240101-000000``) is
    never listed, so never pruned.
    """
    path = Path(path)
    pattern, found = _backup_name(path), []
    for p in path.parent.iterdir() if path.parent.is_dir() else ():
        m = pattern.fullmatch(p.name)
        if m is None or p.is_symlink() or not p.is_file():
            continue
        try:
            dt.datetime.strptime(m.group(1), BACKUP_STAMP)
        except ValueError:
            continue
        found.append(((m.group(1), int(m.group(2) or 1)), p))
    return [p for _, p in sorted(found)]


def make_backup(path: Path) -> Path:
    """Copy `path` to its next free backup name beside it (via a temporary copy and a rename, so a backup is never
    partial); returns the backup. OSError as the copy raises it (the temporary copy is then removed)."""
    path = Path(path)
    stamp = dt.datetime.now().strftime(BACKUP_STAMP)
    pattern = _backup_name(path)
    same_second = [int(m.group(2) or 1) for m in map(pattern.fullmatch, (p.name for p in own_backups(path))) if m.group(1) == stamp]
    n = max(same_second, default=0) + 1  # after this second's latest, even if an older one was pruned: names sort by age
    target = path.with_name(f"{path.name}.bak-{stamp}" + (f"-{n}" if n > 1 else ""))
    while target.exists() or target.is_symlink():
        n += 1
        target = path.with_name(f"{path.name}.bak-{stamp}-{n}")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_TAG, dir=path.parent)
    os.close(fd)
    try:
        shutil.copy2(path, tmp)
        os.rename(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def save_with_backup(path: Path, payload: bytes, keep: int) -> Path | None:
    """Replace the file `path` by `payload` (atomically, :func:`write_atomic`) after backing it up; keep the `keep`
    latest backups this function made (:func:`own_backups`) and delete older ones. Returns the backup (None for a new file).

    Call while holding the lock of `path`, with `path` the file itself (:func:`save_target`). When the disk refuses
    (full, quota, file size limit, read-only, no permission) the backup and temporary copy made so far are removed,
    `path` is unchanged, and WorkbookError ``save_no_space`` (where, free and needed bytes) or ``save_not_writable``
    says so; another OSError is raised as it is.
    """
    path = Path(path)
    backup = None
    try:
        old_size = path.stat().st_size if path.exists() else 0
        if path.exists():
            backup = make_backup(path)
        write_atomic(path, payload)
    except OSError as exc:
        if backup is not None:
            backup.unlink(missing_ok=True)
        error = disk_error(exc, path, needed=len(payload) + old_size)
        if error is None:
            raise
        raise error from None
    for old in own_backups(path)[:-keep] if keep > 0 else own_backups(path):
        old.unlink(missing_ok=True)
    return backup


def disk_error(exc: OSError, path: Path, needed: int):
    """The WorkbookError for a save of `path` the disk refused (``save_no_space`` with the free and the `needed`
    bytes, or ``save_not_writable``), or None when `exc` is another OSError."""
    from helpers.errors import coded_error

    folder, reason = Path(path).parent, exc.strerror or str(exc)
    if exc.errno in NO_SPACE_ERRNOS:
        try:
            free = size_text(shutil.disk_usage(folder).free)
        except OSError:
            free = "?"
        return coded_error("save_no_space", str(path), name=Path(path).name, folder=str(folder), reason=reason, free=free,
                           needed=size_text(needed))
    if exc.errno in NOT_WRITABLE_ERRNOS:
        return coded_error("save_not_writable", str(path), folder=str(folder), reason=reason)
    return None


def size_text(n: int) -> str:
    """A byte count for people: '512 B', '3.4 KiB', '12.0 MiB', '1.5 GiB' (binary units, as `df -h` counts)."""
    if n < 1024:
        return f"{n} B"
    value, units = n / 1024, ["KiB", "MiB", "GiB", "TiB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --------------------------------------------------------------------------- files found by name, in any case
def files_named(folder: Path, names) -> list[Path]:
    """The files at the top of `folder` whose name is one of `names` regardless of upper and lower case
    (OPPORTUNITIES.CSV, Leads.Xlsx, as Windows and macOS save them; those file systems ignore the case too), by name;
    [] when `folder` is not a folder. Listing the folder, not testing each spelling, so a case-sensitive file system
    (Linux) finds them as well."""
    wanted = {str(n).casefold() for n in names}
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.casefold() in wanted and p.is_file())


def one_file_named(folder: Path, names, what: str) -> Path | None:
    """The one file of `folder` named one of `names` regardless of case (:func:`files_named`), or None; a coded
    WorkbookError ``same_table_files`` naming every file when more than one is (`what`: the table or file they hold,
    e.g. 'opportunities' or 'workbook.yaml')."""
    found = files_named(folder, names)
    if len(found) > 1:
        from helpers.errors import coded_error

        raise coded_error("same_table_files", str(folder), table=what, names=", ".join(p.name for p in found))
    return found[0] if found else None
