"""Breakdowns of the pipeline and funnel metrics by channel and by segment (contract section 3, "Breakdowns").

One row per value of a column. The pipeline keys of a row come from the
opportunities with that value in their own column; the funnel of a row comes
from the leads with that value, and the opportunities are attributed to the
funnel through those leads (an opportunity linked to a `web` lead is in the
`web` funnel whatever its own channel says).

The total is never the sum of the rows: totals always come from
:func:`helpers.pipeline.pipeline_metrics` (and the funnel functions) on all
rows. Rows need not add up to it (an opportunity can be linked to leads of two
channels, and rates never add up).

Pure functions: inputs are never changed; results are plain Python values.
"""
from __future__ import annotations

import pandas as pd

from helpers.funnel import _ids, funnel_cohort, funnel_period, linked_pairs, typical_days_to_opportunity
from helpers.pipeline import PIPELINE_KEYS, dates, day, pipeline_metrics

#: The key for a null (or blank) value.
UNKNOWN = "unknown"

#: The segment columns a breakdown is offered for, in report order (target fit is added by the caller).
SEGMENT_COLUMNS = ("industry", "company_size", "owner")

TARGET, NON_TARGET = "target", "non_target"


def _labels(series: pd.Series) -> pd.Series:
    """Values as str keys; null or blank -> 'unknown'."""
    def label(value):
        if pd.isna(value) or not str(value).strip():
            return UNKNOWN
        return str(value).strip()
    return series.astype(object).map(label).astype(object)


def target_fit(frame: pd.DataFrame, industries, company_sizes) -> pd.Series:
    """Target (ICP) fit of each row: 'target' (industry in industries and company_size in company_sizes), 'non_target' or 'unknown'.

    - 'target': both criteria met;
    - 'non_target': both values known and not both criteria met;
    - 'unknown': a value the definition needs is missing (null, blank or the
      text 'unknown'), even when the other value already rules the row out.

    An empty (or None) list means "any value": that column is then not part
    of the definition, so its nulls do not make the row unknown (and a column
    absent from `frame` is all null). Values are compared as text. Returns a
    Series on `frame`'s index.
    """
    checks = []
    for column, allowed in (("industry", industries), ("company_size", company_sizes)):
        allowed = [str(a).strip() for a in (allowed or [])]
        if not allowed:
            continue
        if column in frame.columns:
            values = _labels(frame[column])
            known = values.ne(UNKNOWN)
        else:
            values = pd.Series(UNKNOWN, index=frame.index, dtype=object)
            known = pd.Series(False, index=frame.index)
        checks.append((known, values.isin(allowed) & known))
    all_known = pd.Series(True, index=frame.index)
    all_in = pd.Series(True, index=frame.index)
    for known, inside in checks:
        all_known &= known
        all_in &= inside
    result = pd.Series(NON_TARGET, index=frame.index, dtype=object, name="target_fit")
    result[all_in] = TARGET
    result[~all_known] = UNKNOWN
    return result


def segment_columns(leads: pd.DataFrame | None, opps: pd.DataFrame | None) -> list[str]:
    """The segment columns to break down by: those of industry, company_size, owner present with at least one non-null value in leads or opps."""
    present = []
    for column in SEGMENT_COLUMNS:
        for frame in (leads, opps):
            if frame is not None and column in frame.columns and _labels(frame[column]).ne(UNKNOWN).any():
                present.append(column)
                break
    return present


def _sorted_keys(values) -> list[str]:
    """Keys in sorted order, 'unknown' last."""
    keys = set(values)
    return sorted(keys - {UNKNOWN}) + ([UNKNOWN] if UNKNOWN in keys else [])


def breakdown(leads: pd.DataFrame | None, opps: pd.DataFrame, column: str, start, end, as_of,
              typical_days=None) -> dict[str, dict]:
    """The pipeline metrics and the funnel of period P for each value of `column` (null -> 'unknown').

    Returns ``{value: {<pipeline keys>..., "funnel": {"period": ..., "cohort": ...}}}``
    with the values sorted ('unknown' last). The values are those found in
    either table on rows created on or before as_of; a value found in only one
    table still gets a row (with zero counts on the other side).

    - pipeline keys: :func:`helpers.pipeline.pipeline_metrics` on the
      opportunities whose own `column` has that value; every pipeline key is
      None when opps has no such column.
    - ``funnel``: :func:`helpers.funnel.funnel_period` and
      :func:`helpers.funnel.funnel_cohort` on the leads with that value and the
      opportunities linked to them; None when there is no leads table or it has
      no such column. The cohort's maturity uses `typical_days`, by default
      the typical time of all leads (one yardstick for every row).

    The total is never the sum of these rows; it always comes from
    pipeline_metrics and the funnel functions on all rows.
    """
    cutoff = day(as_of)
    opps_side = column in opps.columns
    leads_side = leads is not None and column in leads.columns
    if not opps_side and not leads_side:
        raise KeyError(f"column {column!r} is in neither the leads nor the opportunities table")

    values: set[str] = set()
    if opps_side:
        opp_keys = _labels(opps[column])
        values |= set(opp_keys[dates(opps, "created_at") <= cutoff])
    if leads_side:
        lead_keys = _labels(leads[column])
        values |= set(lead_keys[dates(leads, "created_at") <= cutoff])
        pairs = linked_pairs(leads, opps)
        opp_ids = _ids(opps["opportunity_id"])
        if typical_days is None:
            typical_days = typical_days_to_opportunity(leads, opps, as_of)

    rows: dict[str, dict] = {}
    for value in _sorted_keys(values):
        if opps_side:
            row = pipeline_metrics(opps.loc[opp_keys == value], start, end, as_of)
        else:
            row = dict.fromkeys(PIPELINE_KEYS)
        if leads_side:
            these_leads = leads.loc[lead_keys == value]
            existing = these_leads.loc[dates(these_leads, "created_at") <= cutoff]
            lead_ids = set(_ids(existing["lead_id"]).dropna())
            linked = set(pairs.loc[pairs["lead_id"].isin(lead_ids), "opportunity_id"])
            these_opps = opps.loc[opp_ids.isin(linked)]
            row["funnel"] = {
                "period": funnel_period(these_leads, these_opps, start, end, as_of),
                "cohort": funnel_cohort(these_leads, these_opps, start, end, as_of, typical_days=typical_days),
            }
        else:
            row["funnel"] = None
        rows[value] = row
    return rows
