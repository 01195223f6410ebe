"""Writing goals into a data folder's targets.csv (the notebook 04 what-if explorer's save), through the safe save path.

The same path as the checklist answer form (helpers.metrics.checklist.append_answers): the file's lock, clean-up
of interrupted saves, a backup ``targets.csv.bak-YYYYMMDD-HHMMSS`` (the latest BACKUPS_KEPT kept), an atomic
replace, saving through a link to a team's shared file, and the same refusals (the shipped sample, a link to
nothing, a file with several hard links, a full or read-only disk). Every row the save does not replace is kept
as the text it was.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from helpers.data.schema import DEFAULT_DEPARTMENT, TARGET_METRICS
from helpers.errors import Phrase, WorkbookError, coded_error

#: The columns of a new targets.csv, in the data dictionary's order.
NEW_FILE_COLUMNS = ("period", "metric", "target", "department", "channel")
#: The backups of targets.csv a save keeps (as the checklist's).
BACKUPS_KEPT = 5


class TargetsExistError(WorkbookError):
    """The period already has all-channel goals for some of the metrics being saved; ``existing`` lists
    them as {metric: target text}. Raised only when the save was not asked to replace them."""

    def __init__(self, message: str, fix: str, existing: dict[str, str]):
        super().__init__(message, fix=fix)
        self.existing = existing


def targets_path(data_dir: str | os.PathLike) -> Path:
    """The data folder's targets file (targets.csv when there is none yet). WorkbookError when the table is in
    more than one file (helpers.data.load.find_table_file)."""
    from helpers.data.load import find_table_file

    return find_table_file(Path(data_dir), "targets") or Path(data_dir) / "targets.csv"


def count_goal(value: float | None) -> int | None:
    """A count goal from a reverse-funnel figure: rounded up to a whole number (10.2 deals needed means 11 to
    reach the goal), after dropping float noise below 1e-9 (10.000000000001 is 10). None stays None."""
    if value is None or not math.isfinite(value):
        return None
    return int(math.ceil(round(float(value), 9)))


def target_text(value: float) -> str:
    """A goal as targets.csv holds it: a whole number without a decimal point, else the shortest exact decimal."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def goal_rows(period_label: str, goals: dict[str, float | None]) -> pd.DataFrame:
    """The targets.csv rows of one period's all-channel goals: columns NEW_FILE_COLUMNS as text, one row per metric
    of `goals` ({metric: value}, metric one of TARGET_METRICS) that has a value, in TARGET_METRICS order;
    department as the data dictionary's default owner, channel empty. ValueError for an unknown metric or a value
    that is negative or not finite."""
    rows = []
    for metric in TARGET_METRICS:
        value = goals.get(metric)
        if value is None:
            continue
        if not math.isfinite(float(value)) or float(value) < 0:
            raise ValueError(f"{metric}: a goal must be a finite number >= 0, not {value!r}")
        rows.append({"period": period_label, "metric": metric, "target": target_text(value),
                     "department": DEFAULT_DEPARTMENT[metric], "channel": ""})
    unknown = sorted(set(goals) - set(TARGET_METRICS))
    if unknown:
        raise ValueError(f"unknown target metric(s) {', '.join(unknown)}; use {', '.join(TARGET_METRICS)}")
    return pd.DataFrame(rows, columns=list(NEW_FILE_COLUMNS))


def save_goals(path: str | os.PathLike, period_label: str, goals: dict[str, float | None], replace: bool = False,
               lock_timeout: float | None = None) -> dict:
    """Write one period's all-channel goals into the targets file `path`, keeping every other row.

    `goals` maps metric (TARGET_METRICS) to its value (money in the workbook currency for won_revenue, else a
    count; None: not written). Rows of the file with the same period, one of those metrics and no channel are
    the goals being replaced: TargetsExistError lists them unless `replace`. Other rows (other periods, other
    metrics, channel goals) are kept as the text they were; the file is written as UTF-8 (with its byte-order
    mark when it had one) with its own columns first, then any of period, metric, target, department, channel it
    lacked. A new file gets the header period,metric,target,department,channel.

    Refused with a WorkbookError, nothing written: the shipped sample (``save_sample_refused``), a file that is not
    CSV, an existing file whose header lacks period, metric or target (a column mapping renamed them), a link to
    nothing, several hard links, a lock held elsewhere, a full or read-only disk (helpers.storage). Returns
    ``{"written": rows written, "replaced": rows replaced, "backup": path or None, "path": the file written}``.
    """
    from helpers.paths import is_tracked_sample
    from helpers.storage import LOCK_TIMEOUT, locked, refuse_hard_link, remove_temp_files, save_target

    path = Path(path)
    if is_tracked_sample(path):
        from helpers.errors import coded_error

        raise coded_error("save_sample_refused", str(path.resolve()))
    if path.suffix.lower() != ".csv":
        raise coded_error("goals_not_csv", path.name)
    new = goal_rows(period_label, goals)
    if new.empty:
        return {"written": 0, "replaced": 0, "backup": None, "path": str(path)}
    target = save_target(path)
    refuse_hard_link(path, target)
    with locked(target, Phrase("lock_what_save_goals", name=target.name), LOCK_TIMEOUT if lock_timeout is None else lock_timeout):
        remove_temp_files(target)
        return _save_locked(target, new, period_label, replace)


def _save_locked(path: Path, new: pd.DataFrame, period_label: str, replace: bool) -> dict:
    """save_goals' work while holding the file's lock."""
    from helpers.data.schema import target_label_key
    from helpers.storage import save_with_backup

    kept, columns, replaced, bom = None, list(NEW_FILE_COLUMNS), 0, False
    if path.exists() and path.stat().st_size > 0:
        existing, bom = _read_existing(path)
        blank = pd.Series("", index=existing.index, dtype=object)
        channel = existing["channel"] if "channel" in existing.columns else blank
        same = ((existing["period"].fillna("").str.strip() == period_label)
                & existing["metric"].map(lambda m: target_label_key(m, "metric") or "").isin(set(new["metric"]))
                & (channel.fillna("").str.strip() == "")).to_numpy()
        if same.any() and not replace:
            found = {target_label_key(m, "metric"): str(v or "") for m, v in existing.loc[same, ["metric", "target"]].itertuples(index=False)}
            listed = ", ".join(f"{m} {v}" for m, v in found.items())
            raise TargetsExistError(f"{path.name} already has goals of {period_label} for all channels ({listed}); nothing was written",
                                    fix="Tick 'replace this period's goals' to replace them (the file before is kept as a backup).",
                                    existing=found)
        kept, replaced = existing[~same], int(same.sum())
        columns = list(existing.columns) + [c for c in NEW_FILE_COLUMNS if c not in existing.columns]
    parts = [p.reindex(columns=columns) for p in (kept, new) if p is not None and len(p)]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    text = frame.fillna("").to_csv(index=False, lineterminator="\n")
    backup = save_with_backup(path, (("\ufeff" if bom else "") + text).encode("utf-8"), BACKUPS_KEPT)
    return {"written": int(len(new)), "replaced": replaced, "backup": str(backup) if backup else None, "path": str(path)}


def _read_existing(path: Path) -> tuple[pd.DataFrame, bool]:
    """An existing targets file as text cells (None for empty) and whether it starts with a UTF-8 byte-order mark;
    WorkbookError when it cannot be read (helpers.data.load.read_raw) or lacks period, metric or target."""
    from helpers.data.load import read_raw

    frame, _ = read_raw(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in ("period", "metric", "target") if c not in frame.columns]
    if missing:
        raise coded_error("goals_file_columns", path.name, columns=", ".join(missing))
    frame = frame.astype(object).where(frame.notna(), None).map(lambda v: None if v is None else str(v))
    return frame, path.read_bytes().startswith(b"\xef\xbb\xbf")
