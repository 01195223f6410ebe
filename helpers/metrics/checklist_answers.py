"""The checklist answer form's save path: checklist.csv appended, replaced or pruned safely (contract section 3, "Checklist").

:func:`append_answers` validates the form's rows and appends them under the file's lock, keeping the file's
own encoding, delimiter and line endings, with a backup (:data:`BACKUPS_KEPT` kept) and an atomic replace;
:func:`remove_answers` takes one respondent's answers of one day out the same way. Nothing a user saved is
lost: a failed save leaves the file as it was (helpers.storage). The figures over the answers are
helpers.metrics.checklist's.
"""
from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data.schema import department_key
from helpers.errors import Phrase, PhraseList, WorkbookError, coded_error


#: Answer texts accepted by the save path, and their canonical text in the file.
ANSWER_TEXT = {"yes": "yes", "partial": "partial", "no": "no", "はい": "yes", "一部": "partial", "いいえ": "no",
               "1": "yes", "1.0": "yes", "0.5": "partial", "0": "no", "0.0": "no"}
#: Columns of checklist.csv written by the save path, in order.
FILE_COLUMNS = ("respondent", "department", "answered_on", "item", "answer", "note")
#: How many backups of checklist.csv the save path keeps.
BACKUPS_KEPT = 5


class DuplicateAnswersError(WorkbookError):
    """The respondent already has answers on that date; saving again needs replace_same_day=True."""

    def __init__(self, message: str, fix: str | None = None, duplicates: list[tuple[str, str]] | None = None, *,
                 code: str | None = None, params: dict | None = None):
        self.duplicates = list(duplicates or [])
        super().__init__(message, fix, code=code, params=params)


def _text(v) -> str:
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return ""
    return str(v).strip()


def _parse_day(v) -> pd.Timestamp | None:
    if isinstance(v, str):
        v = v.strip()
        if not re.match(r"^\d{4}-\d{2}-\d{2}", v):
            return None
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError):
        return None
    return None if ts is pd.NaT or pd.isna(ts) else ts.normalize()


def _answer_text(v) -> str | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float, np.integer, np.floating)) and not (isinstance(v, float) and math.isnan(v)):
        return {1.0: "yes", 0.5: "partial", 0.0: "no"}.get(float(v))
    return ANSWER_TEXT.get(_text(v).lower())


def _item_number(v) -> int | None:
    if isinstance(v, bool):
        return None
    try:
        f = float(_text(v)) if isinstance(v, str) else float(v)
    except (TypeError, ValueError):
        return None
    if math.isnan(f) or f != int(f) or not 1 <= int(f) <= 15:
        return None
    return int(f)


def _validate_new_rows(new_rows: pd.DataFrame) -> pd.DataFrame:
    """The new rows in canonical text form; WorkbookError naming every bad row."""
    missing = [c for c in FILE_COLUMNS[:5] if c not in new_rows.columns]
    if missing:
        raise coded_error("checklist_save_columns", None, columns=", ".join(missing))
    problems, rows = [], []
    for pos, (_, r) in enumerate(new_rows.iterrows(), start=1):
        who, item_raw = _text(r["respondent"]), r["item"]
        where = Phrase("checklist_new_row", pos=pos, who=repr(who), item=repr(_text(item_raw)))
        bad = []
        if not who:
            bad.append(Phrase("checklist_bad_respondent"))
        dept = department_key(_text(r["department"])) or ""
        if not dept:
            bad.append(Phrase("checklist_bad_department"))
        when = _parse_day(r["answered_on"])
        if when is None:
            bad.append(Phrase("checklist_bad_answered_on", value=repr(_text(r["answered_on"]))))
        item = _item_number(item_raw)
        if item is None:
            bad.append(Phrase("checklist_bad_item", value=repr(_text(item_raw))))
        answer = _answer_text(r["answer"])
        if answer is None:
            bad.append(Phrase("checklist_bad_answer", value=repr(_text(r["answer"]))))
        if bad:
            problems.append(Phrase("checklist_row_problems", where=where, bad=PhraseList(bad, {"en": "; ", "ja": "。"})))
            continue
        note = _text(r["note"]) if "note" in new_rows.columns else ""
        rows.append({"respondent": who, "department": dept, "answered_on": when.strftime("%Y-%m-%d"),
                     "item": str(item), "answer": answer, "note": note, "_pos": pos})
    if problems:
        raise coded_error("checklist_save_rows", None, problems=PhraseList(problems, "\n  - "))
    out = pd.DataFrame(rows, columns=[*FILE_COLUMNS, "_pos"])
    dup = out.duplicated(["respondent", "answered_on", "item"], keep=False)
    if dup.any():
        listed = PhraseList([Phrase("checklist_new_row", pos=p, who=repr(w), item=i) for p, w, i in
                             out.loc[dup, ["_pos", "respondent", "item"]].itertuples(index=False)], Phrase("part_comma"))
        raise coded_error("checklist_save_twice", None, listed=listed)
    return out.drop(columns="_pos")


def _read_existing(path: Path) -> pd.DataFrame:
    from helpers.data.load import read_raw

    raw, _ = read_raw(path)
    return raw.astype(object).map(_text)


def _key_frame(respondent: pd.Series, answered_on: pd.Series) -> pd.Series:
    """`respondent \\x00 YYYY-MM-DD` per row (vectorized; an unreadable date gives an empty day)."""
    day = pd.to_datetime(answered_on.fillna("").astype(str).str.strip().str[:10], format="%Y-%m-%d", errors="coerce")
    return respondent.fillna("").astype(str).str.strip() + "\x00" + day.dt.strftime("%Y-%m-%d").fillna("")


def _existing_layout(path: Path) -> tuple[str, list[str], str, pd.Series] | None:
    """An existing checklist file's encoding, header, line ending and its rows' respondent/day keys (None: no rows, no header).

    Reads only the two key columns with pandas' C parser (no per-cell Python work), so a save
    into a large file costs one pass over its bytes.
    """
    import io

    from helpers.data.files import check_kind
    from helpers.data.load import read_csv_text

    if path.suffix.lower() != ".csv":
        raise coded_error("checklist_not_csv", path.name)
    check_kind(path, "csv")  # a file that is not text (NUL bytes, a workbook) is refused from its first block
    data = path.read_bytes()
    text = encoding = None
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        read_csv_text(path)  # raises the loader's own encoding error, naming the file
    if not text.strip():
        return None
    newline = "\r\n" if text.split("\n", 1)[0].endswith("\r") else "\n"
    try:
        raw_names = list(pd.read_csv(io.StringIO(text), nrows=0, dtype=str).columns)
        columns = [str(c).strip() for c in raw_names]
        missing = [c for c in FILE_COLUMNS[:5] if c not in columns]
        if missing:
            raise coded_error("checklist_file_columns", path.name, columns=", ".join(missing))
        keys = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, usecols=[
            raw_names[columns.index("respondent")], raw_names[columns.index("answered_on")]])
    except (pd.errors.ParserError, ValueError) as exc:
        raise coded_error("checklist_file_unreadable", path.name, reason=str(exc)) from None
    keys.columns = [str(c).strip() for c in keys.columns]
    return encoding, columns, newline, _key_frame(keys["respondent"], keys["answered_on"])


def backups(path: str | os.PathLike) -> list[Path]:
    """The backups the save made of a checklist file (``<name>.bak-YYYYMMDD-HHMMSS`` beside the file a link points
    to), oldest first; backups named by people (``checklist.csv.bak-mine``) are not among them and are never pruned."""
    from helpers.storage import own_backups

    return own_backups(Path(os.path.realpath(path)))


def append_answers(path: str | os.PathLike, new_rows: pd.DataFrame, replace_same_day: bool = False,
                   lock_timeout: float | None = None) -> dict:
    """Save checklist answers: validate, keep every earlier answer, back up the previous file, write atomically.

    The new rows are appended after the existing ones in canonical text form
    (answer yes/partial/no, answered_on YYYY-MM-DD). Earlier rows are kept
    exactly as they were: the existing bytes are copied unchanged and the new
    rows follow in the file's own column order, encoding and line ending
    (a file without a `note` column, or in cp932, is rewritten once as UTF-8 with
    the columns respondent, department, answered_on, item, answer, note first).
    Text cells starting with =, +, -, @, tab or CR get a leading apostrophe
    (CSV injection, see helpers.data.values.neutralize_cell). If a respondent already has rows
    on the same answered_on date, DuplicateAnswersError is raised unless
    ``replace_same_day``, in which case only that respondent's rows of that day are
    replaced. Before writing, the previous file is copied to
    ``<name>.bak-YYYYMMDD-HHMMSS`` next to it; the latest 5 of those backups are kept
    (a backup named by a person is never deleted).

    A symbolic link (a team's shared answers file) is saved through: the file it points
    to is replaced, with the lock, the temporary copy and the backups in that file's
    folder, and the link stays (helpers.storage.save_target). Refused with a WorkbookError:
    a link to nothing (``save_link_dangling``), a file with several hard links
    (``save_hard_link``: replacing it would leave the other names with the old answers).
    A disk that refuses the write (full, read-only) leaves the file, and no partial backup
    or copy, and raises ``save_no_space`` / ``save_not_writable`` (where, and how much to free).

    Concurrent saves are serialized by a file lock (``.<name>.lock``, filelock) held
    around re-read, append and atomic replace; temporary copies left by an
    interrupted save are removed. WorkbookError if the lock is not free within
    ``lock_timeout`` seconds (default helpers.storage.LOCK_TIMEOUT). The file is created
    (with its header) when absent. Returns
    ``{"written": new rows written, "replaced": earlier rows removed, "backup": path or None}``.
    """
    from helpers.data.values import neutralize_cell
    from helpers.storage import LOCK_TIMEOUT, locked, refuse_hard_link, remove_temp_files, save_target

    new = _validate_new_rows(new_rows)
    if new.empty:
        return {"written": 0, "replaced": 0, "backup": None}
    new = new.map(neutralize_cell)
    target = save_target(path)
    refuse_hard_link(Path(path), target)
    with locked(target, Phrase("lock_what_save_checklist", name=target.name), LOCK_TIMEOUT if lock_timeout is None else lock_timeout):
        remove_temp_files(target)
        return _append_locked(target, new, replace_same_day)


def _append_locked(path: Path, new: pd.DataFrame, replace_same_day: bool) -> dict:
    """append_answers' work while holding the file's lock."""
    layout = _existing_layout(path) if path.exists() else None
    old_key = layout[3] if layout else pd.Series([], dtype=object)
    new_keys = set(new["respondent"] + "\x00" + new["answered_on"])
    clash = old_key.isin(new_keys)
    if clash.any() and not replace_same_day:
        pairs = sorted({tuple(k.split("\x00")) for k in old_key[clash]})
        listed = PhraseList([Phrase("checklist_day_of", who=repr(w), day=d) for w, d in pairs], Phrase("part_comma"))
        refused = coded_error("checklist_same_day", None, cls=DuplicateAnswersError, name=path.name, listed=listed)
        refused.duplicates = pairs
        raise refused
    replaced = int(clash.sum())
    if layout is None:
        payload = new.reindex(columns=list(FILE_COLUMNS)).to_csv(index=False, lineterminator="\n").encode("utf-8")
    elif not replaced and layout[0] == "utf-8-sig" and all(c in layout[1] for c in FILE_COLUMNS):
        # the common case: copy the existing bytes, append the new rows in the file's own layout
        encoding, columns, newline, _ = layout
        data = path.read_bytes()
        tail = new.reindex(columns=columns).fillna("").to_csv(index=False, header=False, lineterminator=newline)
        payload = data + (b"" if data.endswith(b"\n") else newline.encode()) + tail.encode("utf-8")
    else:
        # replacing a day's answers, adding the note column or leaving cp932: rewrite once as UTF-8
        existing = _read_existing(path)
        existing = existing[~_key_frame(existing["respondent"], existing["answered_on"]).isin(new_keys).to_numpy()]
        columns = list(FILE_COLUMNS) + [c for c in existing.columns if c not in FILE_COLUMNS]
        parts = [p.reindex(columns=columns) for p in (existing, new) if len(p)]
        payload = pd.concat(parts, ignore_index=True).fillna("").to_csv(index=False, lineterminator="\n").encode("utf-8")

    from helpers.storage import save_with_backup

    backup = save_with_backup(path, payload, BACKUPS_KEPT)
    return {"written": int(len(new)), "replaced": replaced, "backup": str(backup) if backup else None}


def remove_answers(path: str | os.PathLike, respondent: str, answered_on, lock_timeout: float | None = None) -> dict:
    """Remove one respondent's answers of one day (an answer set saved by mistake), through append_answers' safe path.

    Same lock, clean-up of interrupted saves, backup (``<name>.bak-YYYYMMDD-HHMMSS``, latest 5
    of the save's own kept), atomic replace, saving through a link and refusals (a link to nothing, hard links,
    a full or read-only disk) as :func:`append_answers`; every other row is kept (the file is
    rewritten as UTF-8 with the columns respondent, department, answered_on, item, answer, note
    first). The respondent is compared trimmed and neutralized as the save wrote it
    (helpers.data.values.neutralize_cell); `answered_on` is a date or 'YYYY-MM-DD'. Returns
    ``{"removed": rows removed, "backup": path or None}``; nothing is written (and no backup
    made) when no row matches or the file is absent. WorkbookError when the lock is not free.
    """
    from helpers.data.values import neutralize_cell
    from helpers.storage import LOCK_TIMEOUT, locked, refuse_hard_link, remove_temp_files, save_target, save_with_backup

    key = f"{neutralize_cell(str(respondent or '').strip())}\x00{pd.Timestamp(answered_on):%Y-%m-%d}"
    target = save_target(path)  # a shared file through its link; a link to nothing is refused
    refuse_hard_link(Path(path), target)
    with locked(target, Phrase("lock_what_remove_checklist", name=target.name), LOCK_TIMEOUT if lock_timeout is None else lock_timeout):
        remove_temp_files(target)
        if not target.exists():
            return {"removed": 0, "backup": None}
        existing = _read_existing(target)
        drop = _key_frame(existing["respondent"], existing["answered_on"]).eq(key).to_numpy()
        if not drop.any():
            return {"removed": 0, "backup": None}
        kept = existing[~drop]
        columns = list(FILE_COLUMNS) + [c for c in existing.columns if c not in FILE_COLUMNS]
        payload = kept.reindex(columns=columns).fillna("").to_csv(index=False, lineterminator="\n").encode("utf-8")
        backup = save_with_backup(target, payload, BACKUPS_KEPT)
    return {"removed": int(drop.sum()), "backup": str(backup)}
