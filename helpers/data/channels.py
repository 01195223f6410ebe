"""Channel labels as CRMs export them: placeholders (Select, -, (none)) count as unknown, and labels that differ only
in case or width (Google / google, Ｗｅｂ / Web) are one channel when ``channels.normalize`` is on (the default).

Data layer: used by :func:`helpers.data.load.load_workbook`; its warnings (``channel_placeholder``,
``channel_variants``) reach data health through the load findings.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from helpers.data.codes import factorized
from helpers.errors import Finding, warning


# --------------------------------------------------------------------------- channel labels
#: Values a CRM picklist leaves when nobody chose a channel (compared after folding): they count as unknown.
CHANNEL_PLACEHOLDERS = frozenset({"select", "-", "--", "---", "(none)", "none", "--none--", "n/a", "na", "null",
                                  "(blank)", "未選択", "なし", "-なし-", "選択してください"})


#: Characters nobody sees in a label: control characters but tab and line ends (NUL ...), soft hyphen, zero-width
#: spaces and joiners, word joiners, byte order marks inside a cell, and the bidirectional controls (LRM/RLM, embeddings,
#: overrides such as U+202E, isolates). Two labels that differ only by them read the same and are one label.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")
#: Label columns whose invisible characters are removed (with the warning ``invisible_characters``).
LABEL_COLUMNS = ("channel", "industry", "company_size")


def strip_invisible(text: str) -> str:
    """`text` without the characters of :data:`INVISIBLE`."""
    return INVISIBLE.sub("", text)


def shown(text: str) -> str:
    """`text` quoted, its invisible characters written as <U+200B>, so a message shows what is there and carries none."""
    return "'" + INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text) + "'"


def channel_key(value) -> str | None:
    """The folded form of a channel label: Unicode NFKC (full-width -> half-width), invisible characters removed
    (:data:`INVISIBLE`), underscores read as spaces (a CRM's internal value 'ORGANIC_SEARCH' is its label 'Organic
    Search': HubSpot's deals carry the one, its contacts the other), inner spaces collapsed, casefolded."""
    if value is None or pd.isna(value):
        return None
    text = " ".join(strip_invisible(unicodedata.normalize("NFKC", str(value))).replace("_", " ").split())
    return text.casefold() or None


def visible(text: str) -> str | None:
    """A label cell without its invisible characters (:func:`strip_invisible`); None when nothing else is left."""
    cleaned = strip_invisible(text)
    return cleaned if cleaned.strip() else None


def channel_value(value) -> str | None:
    """A channel cell as the loader reads it before folding spellings: invisible characters removed
    (:func:`visible`), surrounding spaces trimmed, a placeholder (:data:`CHANNEL_PLACEHOLDERS`) or an empty cell
    None."""
    if value is None or pd.isna(value):
        return None
    text = (visible(str(value)) or "").strip()
    return None if not text or channel_key(text) in CHANNEL_PLACEHOLDERS else text


def fold_variants(counts: dict[str, dict[str, int]], fold: bool) -> tuple[dict[str, str], list[Finding]]:
    """The spelling each channel is folded to: `counts` maps :func:`channel_key` -> {spelling: rows (all tables
    together)}; returns ``(mapping, findings)``: with `fold` every spelling of a key with several maps to the most
    frequent (ties: the first in sorted order), else {}; one warning ``channel_variants`` per such key, listing each
    spelling with its rows (variant ``separate`` without `fold`)."""
    mapping, findings = {}, []
    for key, spellings in sorted(counts.items()):
        if len(spellings) < 2:
            continue
        chosen = sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        listed = ", ".join(f"'{v}' ({n})" for v, n in sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0])))
        moved = sum(n for v, n in spellings.items() if v != chosen)
        if fold:
            mapping.update({v: chosen for v in spellings})
        findings.append(warning("leads / opportunities / spend", "channel_variants", "channel", count=int(moved),
                                spellings=listed, chosen=chosen, **({} if fold else {"variant": "separate"})))
    return mapping, findings


def channel_mapping(cells, fold: bool) -> tuple[dict[str, str | None], list[Finding]]:
    """The channel label of each distinct cell, by the loader's rule (:func:`normalize_channels`), for an engine
    that maps a table's cells in its own query (helpers.metrics.warehouse): `cells` is an iterable of (cell as the
    table holds it, rows) over the leads, opportunities, spend and touches (a cell may come once per table); returns
    ``({cell: label, None for a placeholder or an empty cell}, the channel_variants warnings)`` as the loader finds
    them in the same data."""
    read = {}
    counts: dict[str, dict[str, int]] = {}
    for cell, n in cells:
        if cell is None:
            continue
        value = read[cell] = channel_value(cell)
        if value is not None:
            counts.setdefault(channel_key(value), {}).setdefault(value, 0)
            counts[channel_key(value)][value] += int(n)
    folded, findings = fold_variants(counts, fold)
    return {cell: folded.get(value, value) for cell, value in read.items()}, findings


def fold_invisible(tables: dict[str, pd.DataFrame | None], files: dict[str, str]):
    """Label cells (:data:`LABEL_COLUMNS`) with their invisible characters removed: ``(tables, findings)``, new frames.

    A value such as ``Web<U+200B>`` or ``製造<U+202E>`` reads like ``Web`` / ``製造`` but would be a second row of
    every breakdown: it becomes the value without them (a cell of nothing but them becomes empty). One warning
    ``invisible_characters`` per column (all tables together) lists each spelling with its rows, invisible
    characters shown as <U+hex> (e.g. <U+200B>), and the count of cells changed."""
    findings: list[Finding] = []
    out = dict(tables)
    for column in LABEL_COLUMNS:
        spellings: dict[str, dict[str, int]] = {}
        where = []
        for name, frame in tables.items():
            if frame is None or column not in frame.columns:
                continue
            codes, uniques = factorized(frame[column])
            values = [str(v) for v in uniques]
            cleaned = [visible(v) for v in values]
            if all(c == v for c, v in zip(cleaned, values)):
                continue
            where.append(files.get(name, f"{name}.csv"))
            folded = np.array(cleaned + [None], dtype=object)
            out[name] = out[name].assign(**{column: pd.Series(folded[codes], index=frame.index, dtype=object)})
            counts = np.bincount(codes[codes >= 0], minlength=len(values))
            for value, clean, n in zip(values, cleaned, counts):
                spellings.setdefault(clean or "", {}).setdefault(value, 0)
                spellings[clean or ""][value] += int(n)
        findings += invisible_warning(column, spellings, where)
    return out, findings


def invisible_warning(column: str, spellings: dict[str, dict[str, int]], where: list[str]) -> list[Finding]:
    """The warning ``invisible_characters`` of label `column` (none when no spelling changed): `spellings` maps each
    label without invisible characters ("" for none left) to {spelling as written: cells}, `where` the files."""
    changed = {clean: found for clean, found in spellings.items() if any(v != clean for v in found)}
    if not changed:
        return []
    listed = "; ".join(", ".join(f"{shown(v)} ({n})" for v, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))
                       for _, found in sorted(changed.items()))
    moved = sum(n for clean, found in changed.items() for v, n in found.items() if v != clean)
    chosen = ", ".join(shown(c) for c in sorted(changed))
    return [warning(" / ".join(where), "invisible_characters", column, count=moved, spellings=listed, chosen=chosen)]


def normalize_channels(tables: dict[str, pd.DataFrame | None], fold: bool, files: dict[str, str]):
    """Channel labels of leads, opportunities and spend, with placeholders made empty and (when `fold`) case/width variants folded;
    invisible characters removed from channel and segment labels first (:func:`fold_invisible`, always).

    `tables` maps table name -> frame (None = absent); returns ``(tables, findings)`` with
    new frames. A placeholder (:data:`CHANNEL_PLACEHOLDERS`) becomes empty (so the
    opportunity falls back to its lead's channel, else ``unknown``): warning
    ``channel_placeholder`` per table with its rows. Values whose :func:`channel_key`
    is equal are one channel spelled differently: warning ``channel_variants`` listing
    each spelling with its row count (all tables together); with `fold`, every spelling
    becomes the most frequent one (ties: the first in sorted order).
    """
    tables, findings = fold_invisible(tables, files)
    out = dict(tables)
    counts: dict[str, dict[str, int]] = {}
    distinct: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # table -> (codes per row, value per code + None last)
    for name, frame in tables.items():
        if frame is None or "channel" not in frame.columns:
            continue
        # each distinct cell is folded once (a million rows hold a few dozen channel spellings)
        codes, uniques = factorized(frame["channel"])
        values = [str(v).strip() or None for v in uniques]
        keys = [channel_key(v) for v in values]
        is_placeholder = np.array([v is not None and channel_value(v) is None for v in values] + [False], dtype=bool)
        placeholder = is_placeholder[codes]
        if placeholder.any():
            rows = np.flatnonzero(placeholder)
            shown = sorted({v for v, p in zip(values, is_placeholder) if p})
            findings.append(warning(files.get(name, f"{name}.csv"), "channel_placeholder", "channel",
                                    tuple(int(r) + 2 for r in rows[:5]), (), int(len(rows)),
                                    placeholders=", ".join(repr(v) for v in shown)))
        kept = np.array([None if p else v for v, p in zip(values, is_placeholder)] + [None], dtype=object)
        distinct[name] = (codes, kept)
        if placeholder.any() or any(k != v for k, v in zip(kept, uniques)):
            out[name] = frame.assign(channel=pd.Series(kept[codes], index=frame.index, dtype=object))
        # else every cell stays as it is: the column keeps its text data (no object column of a million references)
        for value, key, n in zip(kept, keys, np.bincount(codes[codes >= 0], minlength=len(values))):
            if value is not None:
                counts.setdefault(key, {}).setdefault(value, 0)
                counts[key][value] += int(n)
    mapping, variants = fold_variants(counts, fold)
    findings += variants
    if mapping:
        for name, (codes, kept) in distinct.items():
            folded = np.array([mapping.get(v, v) for v in kept], dtype=object)
            out[name] = out[name].assign(channel=pd.Series(folded[codes], index=out[name].index, dtype=object))
    return out, findings


# --------------------------------------------------------------------------- display names (setting labels.channels)
#: Close matches named for a display name's unknown channel (difflib ratio on the folded labels, at most this many).
NAME_MATCH_CUTOFF = 0.6
NAME_MATCHES = 3


def check_channel_names(names: dict[str, dict[str, str]], frames, named_in: dict[str, str] | None = None) -> list[Finding]:
    """Warnings for display names (setting ``labels.channels``) whose channel no row has: one ``channel_name_unknown``
    per such key, naming the settings file that set it and up to NAME_MATCHES of the data's channels that are close
    (difflib's ratio on :func:`channel_key`), or, variant ``no_match``, the data's channels.

    `names`: the names the settings give (:attr:`helpers.config.Config.settings_channel_names`, never the shipped
    names of the default channel codes, which a data set may well lack); `frames`: the leads, opportunities, spend and touches
    tables (None = absent), channels already normalized. The names are compared with the data's spelling as it is
    (after ``channels.normalize``): a name for 'Web' does not name 'web'; the close match says so."""
    import difflib

    known: dict[str, str] = {}   # folded label -> the data's spelling
    for frame in frames:
        if frame is not None and "channel" in frame.columns:
            for value in frame["channel"].dropna().astype(str).unique():
                known.setdefault(channel_key(value) or value, value)
    spellings = set(known.values())
    out = []
    for key in sorted(set(names) - spellings):
        where = (named_in or {}).get(key, "settings")
        close = difflib.get_close_matches(channel_key(key) or key, list(known), n=NAME_MATCHES, cutoff=NAME_MATCH_CUTOFF)
        if close:
            out.append(warning(where, "channel_name_unknown", f"labels.channels.{key}", count=1, channel=key,
                               matches=", ".join(f"'{known[k]}'" for k in close)))
        else:
            listed = ", ".join(f"'{v}'" for v in sorted(spellings)[:10]) + (", ..." if len(spellings) > 10 else "")
            out.append(warning(where, "channel_name_unknown", f"labels.channels.{key}", count=1, channel=key,
                               channels=listed or "-", variant="no_match"))
    return out


# --------------------------------------------------------------------------- attribution.marketing_channels
def check_marketing_channels(listed, touched, names: dict[str, dict[str, str]], where: str = "settings") -> list[Finding]:
    """The warning ``marketing_channels_unmatched`` when the touches' channels and the setting
    ``attribution.marketing_channels`` (`listed`) do not meet as a reader would expect; [] otherwise.

    Variant ``names``: a touch channel is spelled as a listed channel code in another form or as its display name
    (either language; compared by :func:`channel_key`) but is not listed itself ('セミナー' or 'Seminar' for seminar,
    'Paid Search' for paid_search; attribution compares the spellings as written): its touches count
    as another department's, so the warning names each such spelling and the setting that lists them as the data
    spells them. Variant "": touches exist and none of their channels is listed: every touch counts as another
    department's, and marketing-sourced and -influenced are 0 by the setting, not by the data. Never a guess: the
    touches are counted as the setting says; the warning says what to write.

    `touched`: the touches' distinct channels (after ``channels.normalize``); `names`: {code: {lang: display name}}
    (:attr:`helpers.config.Config.channel_names`)."""
    listed, touched = [str(c) for c in listed], sorted({str(c) for c in touched})
    if not touched:
        return []
    chosen = set(listed)
    spelled = {}   # a touch channel -> the listed code it is the display name of
    for value in touched:
        if value in chosen:
            continue
        for code in listed:   # the code's own folded spelling ('Paid Search' for paid_search) or a display name's
            if any(channel_key(value) == channel_key(name) for name in [code, *(names.get(code) or {}).values()] if name):
                spelled[value] = code
                break
    if spelled:
        suggest = sorted((chosen & set(touched)) | set(spelled))
        return [warning(where, "marketing_channels_unmatched", "attribution.marketing_channels", count=len(spelled),
                        variant="names", pairs=", ".join(f"'{v}' ({c})" for v, c in sorted(spelled.items())),
                        suggest=", ".join(suggest))]
    if chosen & set(touched):
        return []
    shown = ", ".join(f"'{v}'" for v in touched[:10]) + (", ..." if len(touched) > 10 else "")
    return [warning(where, "marketing_channels_unmatched", "attribution.marketing_channels", count=len(touched),
                    listed=", ".join(listed) or "-", channels=shown)]
