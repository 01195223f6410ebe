"""Display order of segment values: the configured order (setting `segment_order`), else natural order.

Company sizes read 1-49, 50-299, 300-999, 1000+ (not as text, 1-49, 1000+, 300-999, 50-299).
Only the order of rows, columns and choices changes here; no figure does.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

UNKNOWN = "unknown"


def natural_key(value) -> tuple:
    """Sort key comparing the digit runs of a value as numbers ("50-299" < "300-999" < "1000+"); 'unknown' last."""
    text = "" if value is None else str(value)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", text) if p)
    return (text == UNKNOWN, parts)


def configured_order(config, column: str) -> tuple[str, ...]:
    """The values listed for `column` in the setting `segment_order` (empty when none are)."""
    return tuple((getattr(config, "segment_order", None) or {}).get(column, ()))


def ordered(values: Iterable, column: str, config) -> list:
    """`values` (unique, in a new list): those listed in `segment_order[column]` first, in that order,
    then the others in natural order (numbers by value), 'unknown' last."""
    values = list(dict.fromkeys(values))
    listed = [str(v) for v in configured_order(config, column)]
    rank = {v: i for i, v in enumerate(listed)}
    return sorted(values, key=lambda v: (str(v) == UNKNOWN, str(v) not in rank, rank.get(str(v), 0), natural_key(v)))


def order_rows(frame: pd.DataFrame, column: str, config, total_column: str = "is_total") -> pd.DataFrame:
    """The rows of a breakdown table in the configured order of `column` (total rows last);
    unchanged when `segment_order` lists nothing for `column` (rate tables then stay ranked)."""
    if not configured_order(config, column) or column not in frame.columns or frame.empty:
        return frame
    totals = frame[total_column].astype(bool) if total_column in frame.columns else pd.Series(False, index=frame.index)
    body = frame[~totals]
    position = {v: i for i, v in enumerate(ordered(body[column], column, config))}
    body = body.iloc[sorted(range(len(body)), key=lambda i: position[body[column].iloc[i]])]
    return pd.concat([body, frame[totals]])
