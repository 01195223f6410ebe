"""Breakdowns of the pipeline and funnel metrics by channel and by segment (contract section 3, "Breakdowns").

One row per value of a column. The pipeline keys of a row come from the
opportunities with that value in their own column; the funnel of a row comes
from the leads with that value, and the opportunities are attributed to the
funnel through those leads (an opportunity linked to a `web` lead is in the
`web` funnel whatever its own channel says).

The total is never the sum of the rows: totals always come from
:func:`helpers.metrics.pipeline.pipeline_metrics` (and the funnel functions) on all
rows. Rows need not add up to it (an opportunity can be linked to leads of two
channels, and rates never add up).

Pure functions: inputs are never changed; results are plain Python values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.metrics.funnel import derive_cohort, derive_period
from helpers.metrics.pipeline import PIPELINE_KEYS, derive_pipeline

#: The key for a null (or blank) value.
UNKNOWN = "unknown"

#: The segment columns a breakdown is offered for, in report order (target fit is added by the caller).
SEGMENT_COLUMNS = ("industry", "company_size", "owner")

TARGET, NON_TARGET = "target", "non_target"


def _labels(series: pd.Series) -> pd.Series:
    """Values as str keys; null or blank -> 'unknown' (object dtype, on `series`' index).

    Each distinct value is labelled once and spread to the rows by its code (a million rows hold a few
    dozen channels or segments)."""
    codes, lookup = _coded_labels(series)
    return pd.Series(lookup[codes], index=series.index, dtype=object)


def _coded_labels(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, lookup)``: :func:`_labels` of row i is ``lookup[codes[i]]`` (the distinct values' labels, then
    'unknown' for a null row: code -1 is its last entry)."""
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    text = pd.Series(distinct, dtype=object if not len(distinct) else None).astype("string").str.strip()
    text = text.mask(text.eq(""), UNKNOWN).fillna(UNKNOWN)
    return codes, np.append(text.to_numpy(dtype=object), UNKNOWN)


def target_fit(frame: pd.DataFrame, industries, company_sizes, categorical: bool = False) -> pd.Series:
    """Target (ICP) fit of each row: 'target' (industry in industries and company_size in company_sizes), 'non_target' or 'unknown'.

    - 'target': both criteria met;
    - 'non_target': both values known and not both criteria met;
    - 'unknown': a value the definition needs is missing (null, blank or the
      text 'unknown'), even when the other value already rules the row out.

    An empty (or None) list means "any value": that column is then not part
    of the definition, so its nulls do not make the row unknown (and a column
    absent from `frame` is all null). Values are compared as text. Returns a
    Series on `frame`'s index: of text, or with `categorical` the same values as a pandas categorical (a byte per
    row: an engine table's key takes its codes instead of hashing a million texts).
    """
    all_known = np.ones(len(frame), dtype=bool)
    all_in = np.ones(len(frame), dtype=bool)
    for column, allowed in (("industry", industries), ("company_size", company_sizes)):
        allowed = [str(a).strip() for a in (allowed or [])]
        if not allowed:
            continue
        if column not in frame.columns:
            all_known[:] = False
            continue
        codes, lookup = _coded_labels(frame[column])   # known / inside decided per distinct value, then per row
        known = lookup != UNKNOWN
        all_known &= known[codes]
        all_in &= (known & np.isin(lookup, allowed))[codes]
    fit = np.where(~all_known, 2, np.where(all_in, 1, 0))
    if categorical:
        values = pd.Categorical.from_codes(fit.astype(np.int8), categories=[NON_TARGET, TARGET, UNKNOWN])
        return pd.Series(values, index=frame.index, name="target_fit")
    return pd.Series(np.array([NON_TARGET, TARGET, UNKNOWN], dtype=object)[fit], index=frame.index, dtype=object,
                     name="target_fit")


def segment_columns(leads: pd.DataFrame | None, opps: pd.DataFrame | None) -> list[str]:
    """The segment columns to break down by: those of industry, company_size, owner present with at least one non-null value in leads or opps."""
    present = []
    for column in SEGMENT_COLUMNS:
        for frame in (leads, opps):
            if frame is not None and column in frame.columns and _known_label(frame[column]):
                present.append(column)
                break
    return present


def _known_label(series: pd.Series) -> bool:
    """True when a row of `series` has a label other than 'unknown' (:func:`_labels`; decided over the distinct values)."""
    return bool((_coded_labels(series)[1][:-1] != UNKNOWN).any())   # the distinct values' labels (not the null row's)


def segment_columns_of(source) -> list[str]:
    """:func:`segment_columns` of a :class:`helpers.metrics.source.Source` (a count per column and table in a warehouse)."""
    tables = ("leads", "opportunities") if source.has_leads else ("opportunities",)
    return [c for c in SEGMENT_COLUMNS if any(source.has_values(t, c) for t in tables)]


def _sorted_keys(values) -> list[str]:
    """Keys in sorted order, 'unknown' last."""
    keys = set(values)
    return sorted(keys - {UNKNOWN}) + ([UNKNOWN] if UNKNOWN in keys else [])


def breakdown(leads: pd.DataFrame | None, opps: pd.DataFrame, column: str, start, end, as_of,
              typical_days=None, maturity=None) -> dict[str, dict]:
    """The pipeline metrics and the funnel of period P for each value of `column` (null -> 'unknown').

    Returns ``{value: {<pipeline keys>..., "funnel": {"period": ..., "cohort": ...}}}``
    with the values sorted ('unknown' last). The values are those found in
    either table on rows created on or before as_of; a value found in only one
    table still gets a row (with zero counts on the other side).

    - pipeline keys: :func:`helpers.metrics.pipeline.pipeline_metrics` on the
      opportunities whose own `column` has that value; every pipeline key is
      None when opps has no such column.
    - ``funnel``: :func:`helpers.metrics.funnel.funnel_period` and
      :func:`helpers.metrics.funnel.funnel_cohort` on the leads with that value and the
      opportunities linked to them; None when there is no leads table or it has
      no such column. The cohort's maturity uses `maturity` (days, measure), by
      default :func:`helpers.metrics.funnel.maturity_days` of all leads (one yardstick for
      every row); `typical_days` likewise.

    The total is never the sum of these rows; it always comes from
    pipeline_metrics and the funnel functions on all rows.
    """
    return breakdowns(leads, opps, [column], start, end, as_of, typical_days=typical_days, maturity=maturity)[column]


def breakdowns(leads: pd.DataFrame | None, opps: pd.DataFrame, columns, start, end, as_of, typical_days=None,
               with_totals: bool = False, maturity=None):
    """:func:`breakdown` for several columns at once: ``{column: rows}``, in one grouped pass per table for all of them.

    With `with_totals`, returns ``(rows, totals)`` where totals is ``{"pipeline": pipeline_metrics,
    "funnel": {"period": funnel_period, "cohort": funnel_cohort} or None}`` on all rows, taken from the
    same passes. Raises KeyError when a column is in neither table. (:func:`breakdowns_of` on the frames.)
    """
    from helpers.metrics.source import FrameSource

    return breakdowns_of(FrameSource(leads, opps), columns, start, end, as_of, typical_days=typical_days,
                         with_totals=with_totals, maturity=maturity)


def breakdowns_of(source, columns, start, end, as_of, typical_days=None, with_totals: bool = False, maturity=None):
    """:func:`breakdowns` of a :class:`helpers.metrics.source.Source`: the engine's grouped aggregates (a few hundred
    rows fetched whatever the tables' size) assembled by :func:`assemble`. KeyError when a column is in neither table.

    Kept per source (:meth:`helpers.metrics.source.Source.memo`) by the set of columns, the period, as_of and the
    yardsticks (typical days and maturity; when not given, those the source measured, :func:`_yardsticks`), each caller
    getting its own copy: a value's row is its own whatever else is grouped, so notebook 02's rate tables of every
    dimension are notebook 00's core breakdowns in another order (five queries and their compiles a period)."""
    import copy

    columns = list(columns)
    has = {t: (t == "opportunities" or source.has_leads) for t in ("leads", "opportunities")}
    for column in columns:
        if not any(has[t] and source.has_column(t, column) for t in has):
            raise KeyError(f"column {column!r} is in neither the leads nor the opportunities table")
    if not hasattr(source, "held"):   # a source object that keeps no memo
        return _breakdowns_of(source, columns, start, end, as_of, typical_days, with_totals, maturity)[0]
    key = ("breakdowns", frozenset(columns), start, end, as_of, with_totals)
    known = (_yardsticks(source, as_of, typical_days, maturity) if _reads_lead_side(source, columns, with_totals)
             else (typical_days, maturity))
    found = source.held(key + known) if known is not None else None
    if found is None:
        result, *measured = _breakdowns_of(source, columns, start, end, as_of, typical_days, with_totals, maturity)
        found = source.memo(key + tuple(measured), lambda: result)
    rows, totals = found if with_totals else (found, None)
    rows = copy.deepcopy({column: rows[column] for column in columns})
    return (rows, copy.deepcopy(totals)) if with_totals else rows


def _reads_lead_side(source, columns, with_totals: bool) -> bool:
    """True when a breakdown of `columns` of `source` reads the lead side (:func:`_lead_side`), which measures the
    yardsticks not given; otherwise it uses them as given (None when not given)."""
    return source.has_leads and (with_totals or any(source.has_column("leads", c) for c in columns))


def _yardsticks(source, as_of, typical_days, maturity) -> tuple | None:
    """``(typical_days, maturity)`` a breakdown of `source` uses: those given, a missing one the source measured
    already (helpers.metrics.funnel.typical_and_maturity_held, which :func:`_lead_side` takes too); None when one is
    missing and not measured yet."""
    from helpers.metrics.funnel import typical_and_maturity_held

    if typical_days is not None and maturity is not None:
        return typical_days, maturity
    held = typical_and_maturity_held(source, as_of)
    if held is None:
        return None
    return (held[0] if typical_days is None else typical_days), (held[1] if maturity is None else maturity)


def _breakdowns_of(source, columns: list, start, end, as_of, typical_days, with_totals: bool, maturity) -> tuple:
    """``(result, typical_days, maturity)``: :func:`breakdowns_of` computed, with the yardsticks it used."""
    from helpers.metrics import engine

    opp_dims = [c for c in columns if source.has_column("opportunities", c)]
    lead_dims = [c for c in columns if source.has_leads and source.has_column("leads", c)]
    s, last, a = engine.period_bounds(start, end, as_of)
    # One grouped pass per table (GROUP BY column, value), whatever the number of columns and values; the totals ride
    # in the same passes (the rows (ALL, ALL)).
    pipe = source.run(engine.pipeline_expr(source.opps(opp_dims), s, last, a, opp_dims)) if opp_dims or with_totals else {}
    lead_side, linked = {}, {}
    if _reads_lead_side(source, columns, with_totals):
        lead_side, linked, typical_days, maturity = _lead_side(source, lead_dims, s, last, a, typical_days, maturity)
    opp_dims, lead_dims = dict.fromkeys(opp_dims), dict.fromkeys(lead_dims)
    result = assemble(columns, opp_dims, lead_dims, pipe, lead_side, linked, typical_days, end, as_of,
                      totals_with_funnel=source.has_leads if with_totals else None, maturity=maturity)
    return result, typical_days, maturity


def _lead_side(source, dims: list[str], s, last, a, typical_days, maturity) -> tuple:
    """``(lead_side, linked, typical_days, maturity)`` of `source` by `dims`: the lead funnel's grouped counts
    (helpers.metrics.engine.lead_funnel_expr's rows), the linked deals' (helpers.metrics.engine.linked_opps_expr's; {}
    without dims), and the typical days and maturity given, else :func:`helpers.metrics.funnel.typical_and_maturity_of`'s
    (their one owner and memo: values it already holds are taken as they are). All read one join of the links with
    the leads and the deals (helpers.metrics.engine_links), made a temporary table when more than one query reads
    it."""
    import contextlib

    from helpers.metrics import engine, engine_links
    from helpers.metrics.funnel import typical_and_maturity_of

    known = _yardsticks(source, a, typical_days, maturity)
    measured = known is None
    if known is not None:
        typical_days, maturity = known
    links = engine_links.links_expr(source.leads(dims), source.opps(), a)
    reads = 1 + measured + bool(dims)
    with engine.materialized(links, source.backend) if reads > 1 else contextlib.nullcontext(links) as links:
        if measured:
            typical, mature = typical_and_maturity_of(source, a, links=links)
            typical_days = typical if typical_days is None else typical_days
            maturity = mature if maturity is None else maturity
        lead_side = source.run(engine_links.lead_funnel_links_expr(source.leads(dims), links, s, last, a, dims))
        linked = source.run(engine_links.linked_counts_expr(links, source.opps(), s, last, a, dims)) if dims else {}
    return lead_side, linked, typical_days, maturity


def assemble(columns, opp_dims, lead_dims, pipe: dict, lead_side: dict, linked: dict, typical_days, end, as_of,
             totals_with_funnel: bool | None = None, maturity=None):
    """Breakdown rows ``{column: {value: row}}`` from the engine's grouped aggregates ``{(dim, k): aggregates}``.

    With `totals_with_funnel` given (True: leads exist), returns ``(rows, totals)``, the totals taken from the
    (ALL, ALL) rows of the same aggregates. Pure: every figure is derived by derive_pipeline / derive_period /
    derive_cohort. `maturity` = (days, measure) of :func:`helpers.metrics.funnel.maturity_days` (one yardstick for every row).
    """
    maturity = maturity or (None, None)
    from helpers.metrics.engine import by_dim, total

    rows = {column: _rows(column in opp_dims, column in lead_dims, by_dim(pipe, column), by_dim(lead_side, column),
                          by_dim(linked, column), typical_days, end, as_of, maturity) for column in columns}
    if totals_with_funnel is None:
        return rows
    pipe_total, lead_total = total(pipe), total(lead_side)
    totals = {"pipeline": derive_pipeline(pipe_total), "funnel": None if not totals_with_funnel else {
        "period": derive_period(lead_total, (pipe_total or {}).get("created", 0), (pipe_total or {}).get("won", 0)),
        "cohort": derive_cohort(lead_total, typical_days, end, as_of, maturity)}}
    return rows, totals


def _rows(opps_side: bool, leads_side: bool, pipe: dict, lead_side: dict, linked: dict, typical_days, end, as_of,
          maturity) -> dict[str, dict]:
    """The rows of one breakdown from its grouped aggregates (the pure derivations of pipeline and funnel)."""
    values = {k for side in (pipe, lead_side) for k, agg in side.items() if agg["exists"]}
    rows: dict[str, dict] = {}
    for value in _sorted_keys(values):
        row = derive_pipeline(pipe.get(value)) if opps_side else dict.fromkeys(PIPELINE_KEYS)
        if leads_side:
            these = linked.get(value, {})
            row["funnel"] = {
                "period": derive_period(lead_side.get(value), these.get("opps", 0), these.get("won", 0)),
                "cohort": derive_cohort(lead_side.get(value), typical_days, end, as_of, maturity),
            }
        else:
            row["funnel"] = None
        rows[value] = row
    return rows
