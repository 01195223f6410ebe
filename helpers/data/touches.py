"""The touches table (contract section 6): its cross-table checks and the split of multi-valued cells.

Data layer, used by :func:`helpers.data.load.load_workbook`:

- :func:`check_touches`: the findings of touches.csv against leads and opportunities: repeated
  touch_id (error), a lead_id not in the leads (warning ``touch_unknown_lead``), an opportunity_id
  not in the opportunities (``touch_unknown_opportunity``), a touch dated after its deal closed
  (``touch_after_close``: left out of that deal's attribution) or after as_of (``after_as_of``).
  Unparseable dates and empty required cells are the loader's (``bad_datetime``, ``missing_value``).
- :func:`split_multi_valued`: a channel or campaign cell holding several values separated by ``;``
  (a CRM multi-select such as ``Paid Search;Webinar``) becomes one touch per value, said in the
  warning ``touches_split``: never one new channel named ``Paid Search;Webinar``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.validate import _warn, check_duplicates, finding, isin_ids
from helpers.errors import Finding, warning

#: The separator of a multi-select picklist value (Salesforce, HubSpot export them joined by ';').
MULTI_SEPARATOR = ";"
#: Columns whose multi-valued cells are split into touches.
SPLIT_COLUMNS = ("channel", "campaign")


def _parts(value) -> list:
    """The values of one cell: split on ';', trimmed, empty parts dropped ([value] when nothing to split)."""
    if value is None or (isinstance(value, float) and value != value) or MULTI_SEPARATOR not in str(value):
        return [value]
    parts = [p.strip() for p in str(value).split(MULTI_SEPARATOR)]
    return [p for p in parts if p] or [None]


def split_multi_valued(touches: pd.DataFrame, fname: str = "touches.csv") -> tuple[pd.DataFrame, list[Finding]]:
    """One touch per value of a multi-valued channel / campaign cell; ``(touches, findings)``.

    A row whose channel holds k values (``a;b``) becomes k touches in file order, each with one channel; a
    campaign cell with the same number of values is paired value by value, one with a single value is kept
    on every part, and one with another number of values is kept whole on every part (it cannot be paired),
    said in the warning. A given touch_id gets ``#1``, ``#2``, ... so ids stay unique and in order. Rows
    without such a cell are unchanged; the result keeps file order (parts in their written order)."""
    present = [c for c in SPLIT_COLUMNS if c in touches.columns]
    if touches.empty or not present:
        return touches, []
    multi = np.zeros(len(touches), dtype=bool)
    for c in present:
        multi |= touches[c].astype("string").str.contains(MULTI_SEPARATOR, regex=False).fillna(False).to_numpy(dtype=bool)
    if not multi.any():
        return touches, []
    rows, unpaired = [], np.zeros(len(touches), dtype=bool)
    records = touches.to_dict("records")
    for pos, record in enumerate(records):
        if not multi[pos]:
            rows.append(record)
            continue
        channels = _parts(record.get("channel"))
        campaigns = _parts(record.get("campaign")) if "campaign" in record else [None]
        if len(campaigns) not in (1, len(channels)):
            unpaired[pos] = True
            campaigns = [record.get("campaign")]
        if len(channels) == 1 and len(campaigns) > 1:   # one channel, several campaigns: a touch per campaign
            channels = channels * len(campaigns)
        for k, channel in enumerate(channels):
            part = dict(record, channel=channel)
            if "campaign" in record:
                part["campaign"] = campaigns[k] if len(campaigns) > 1 else campaigns[0]
            if len(channels) > 1 and record.get("touch_id") is not None and record.get("touch_id") == record.get("touch_id"):
                part["touch_id"] = f"{record['touch_id']}#{k + 1}"
            rows.append(part)
    out = pd.DataFrame(rows, columns=touches.columns)
    for c in touches.columns:   # the loader's dtypes (datetime64, str) kept
        if pd.api.types.is_datetime64_any_dtype(touches[c]):
            out[c] = pd.to_datetime(out[c])
    out = out.reset_index(drop=True)
    where = finding("warning", fname, "touches_split", "", "", present[0], pd.Series(multi), None)
    findings = [warning(fname, "touches_split", ",".join(present), where.rows, (), int(multi.sum()),
                        touches=int(len(out) - len(touches) + multi.sum()))]
    if unpaired.any():
        where = finding("warning", fname, "touches_campaign_unpaired", "", "", "campaign", pd.Series(unpaired), None)
        findings.append(warning(fname, "touches_campaign_unpaired", "campaign", where.rows, (), int(unpaired.sum())))
    return out, findings


def _day(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.normalize()


def _at(keys: pd.Series, table: pd.Series) -> np.ndarray:
    """`table`'s dates (indexed by text id) at each of `keys` (NaT where absent or null): one Arrow hash lookup."""
    import pyarrow as pa
    import pyarrow.compute as pc

    where = pc.index_in(pa.array(keys.astype("string"), type=pa.string(), from_pandas=True),
                        value_set=pa.array(pd.Series(table.index, dtype="string"), type=pa.string(), from_pandas=True))
    where = pc.fill_null(where, -1).to_numpy(zero_copy_only=False)
    return np.append(table.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))[where]


def after_close(touches: pd.DataFrame, leads: pd.DataFrame | None, opps: pd.DataFrame) -> np.ndarray:
    """Per touch (bool): dated (calendar day) after the close of a won or lost deal it is linked to: a deal of its
    lead (the lead whose opportunity_id is it, or its lead_id) or the deal it carries (opportunity_id).

    Late for some linked deal is late for the earliest close among them, so each lead's earliest close is found once
    (over its links) and each touch compares its day with that and with its own deal's close: no touch × deal join."""
    decided = opps["outcome"].astype(object).isin(("won", "lost")).to_numpy(dtype=bool) & opps["closed_at"].notna().to_numpy()
    closed = pd.Series(_day(opps["closed_at"]).to_numpy()[decided], index=opps["opportunity_id"].astype(object).to_numpy()[decided])
    closed = closed.groupby(level=0).min()
    links = []
    if leads is not None and "opportunity_id" in leads.columns:
        links.append(leads.loc[leads["opportunity_id"].notna(), ["lead_id", "opportunity_id"]].astype(object))
    if "lead_id" in opps.columns:
        links.append(opps.loc[opps["lead_id"].notna(), ["lead_id", "opportunity_id"]].astype(object))
    limit = np.full(len(touches), np.datetime64("NaT", "ns"))
    if links and len(closed):
        pairs = pd.concat(links, ignore_index=True)
        pairs = pairs.assign(close=_at(pairs["opportunity_id"], closed)).dropna(subset=["close"])
        limit = _at(touches["lead_id"], pairs.groupby("lead_id")["close"].min())
    if "opportunity_id" in touches.columns and len(closed):
        own = _at(touches["opportunity_id"], closed)
        limit = np.where(np.isnat(limit) | (own < limit), own, limit)   # the earlier of the two (NaT: the other)
    day = _day(touches["touched_at"]).to_numpy(dtype="datetime64[ns]")
    return ~np.isnat(limit) & (day > limit)


def _distinct(ids: pd.Series) -> bool:
    """True when no id repeats (nulls aside), counted in Arrow (pyarrow.compute.unique): the usual answer for millions
    of touches, found without the per-row pass that names the repeated rows (then done by check_duplicates)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(ids.astype("string"), type=pa.string(), from_pandas=True)
    unique = pc.unique(values)
    return len(unique) - unique.null_count == len(values) - values.null_count


def check_touches(touches: pd.DataFrame, fname: str, leads: pd.DataFrame | None, opps: pd.DataFrame,
                  as_of: pd.Timestamp | None) -> list[Finding]:
    """The checks of touches.csv (see the module docstring); the rows named as a spreadsheet numbers them."""
    out = check_duplicates(touches, "touch_id", fname) if "touch_id" in touches.columns and not _distinct(touches["touch_id"]) else []
    lead_ids = leads["lead_id"] if leads is not None else pd.Series([], dtype=object)
    unknown = touches["lead_id"].notna() & ~isin_ids(touches["lead_id"], lead_ids)
    if unknown.any():
        out.append(_warn(fname, "touch_unknown_lead", "lead_id", unknown, touches["lead_id"]))
    if "opportunity_id" in touches.columns:
        orphan = touches["opportunity_id"].notna() & ~isin_ids(touches["opportunity_id"], opps["opportunity_id"])
        if orphan.any():
            out.append(_warn(fname, "touch_unknown_opportunity", "opportunity_id", orphan, touches["opportunity_id"]))
    valid = touches["touched_at"].notna()
    if valid.any() and "outcome" in opps.columns and "closed_at" in opps.columns:
        late = pd.Series(False, index=touches.index)
        late[valid] = after_close(touches[valid].reset_index(drop=True), leads, opps)
        if late.any():
            out.append(_warn(fname, "touch_after_close", "touched_at", late, touches["touched_at"].dt.strftime("%Y-%m-%d")))
    if as_of is not None:
        future = _day(touches["touched_at"]) > as_of
        if future.any():
            out.append(_warn(fname, "after_as_of", "touched_at", future, touches["touched_at"].dt.strftime("%Y-%m-%d"),
                             as_of=f"{as_of:%Y-%m-%d}"))
    return out
