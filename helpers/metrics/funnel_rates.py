"""Funnel rates by breakdown column with confidence intervals: the rate tables of notebook 02 (contract section 2).

:func:`rate_table` / :func:`rate_tables_of`: per value of a breakdown column the MQL rate, lead-to-opportunity
rate, win rate (with 95% Wilson intervals, :func:`wilson_interval`) and the counts behind them, small groups kept but
never ranked, the total row last; :func:`reranked` orders a table by another rate. Also the small pieces the other
funnel-analysis modules share (MIN_GROUP, TOTAL, tables of plain values). Conventions as in
helpers.metrics.funnel_analysis, which still exports every public name.
"""
from __future__ import annotations

import math

import pandas as pd

from helpers.metrics.breakdown import UNKNOWN, _sorted_keys, breakdown, target_fit
from helpers.metrics.pipeline import pipeline_metrics
from helpers.storage import to_jsonable


#: Smallest group whose rate is ranked: fewer than 20 closed deals (win rate) or
#: 20 cohort leads (lead-to-opportunity rate, CVR) or 20 MQLs (SLA hit rate) make a
#: small group. With 20 observations a 95% Wilson interval is still about ±0.2 wide
#: around a 50% rate, so a ranking below that is mostly noise.
MIN_GROUP = 20

#: Label of the total row.
TOTAL = "total"


# --------------------------------------------------------------------------- small pieces
def _plain(value):
    """A plain Python value for JSON (the recorder's rule: NaN / NA -> None, numpy scalars -> Python numbers)."""
    return to_jsonable(value)


def _frame(rows: list[dict], columns: list[str], ints=(), bools=(), maybe_bools=()) -> pd.DataFrame:
    """Rows of plain values as a DataFrame: counts as Int64, flags as bool / boolean, the rest as given."""
    frame = pd.DataFrame(rows, columns=columns)
    for c in ints:
        frame[c] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                             for v in frame[c]], dtype="Int64")
    for c in bools:
        frame[c] = frame[c].astype(bool)
    for c in maybe_bools:
        frame[c] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else bool(v)
                             for v in frame[c]], dtype="boolean")
    return frame.reset_index(drop=True)


def _order(rows: list[dict], rank_by: str, small_key: str) -> list[dict]:
    """Ranked rows by `rank_by` descending (null last, ties in key order), then the unranked rows in key order, then the total.

    Unranked: the small groups and the 'unknown' row (missing data is not a
    value to rank against the real ones). `rows` come in key order.
    """
    body = [r for r in rows if not r["is_total"]]
    total = [r for r in rows if r["is_total"]]
    unranked = [r for r in body if r[small_key] or r["value"] == UNKNOWN]
    ranked = [r for r in body if not (r[small_key] or r["value"] == UNKNOWN)]
    ranked = sorted(ranked, key=lambda r: (r[rank_by] is None, -(r[rank_by] or 0.0)))  # sorted() is stable
    return ranked + unranked + total


def with_target_fit(leads: pd.DataFrame | None, opps: pd.DataFrame, industries, company_sizes):
    """Copies of leads and opps with a `target_fit` column (:func:`helpers.metrics.breakdown.target_fit`), for rate_table(column='target_fit')."""
    opps = opps.assign(target_fit=target_fit(opps, industries, company_sizes))
    if leads is not None:
        leads = leads.assign(target_fit=target_fit(leads, industries, company_sizes))
    return leads, opps


# --------------------------------------------------------------------------- Wilson interval
def wilson_interval(successes, n, confidence: float = 0.95):
    """Wilson score interval of a rate successes / n at the given confidence: (low, high); (None, None) when n is 0.

    statsmodels' ``proportion_confint(method='wilson')``; the interval always
    lies in [0, 1] and is not centred on the rate (it leans towards 0.5), so it
    stays meaningful for 0 of n and n of n. ``n`` None / NaN / 0 gives (None, None).
    """
    if n is None or successes is None or pd.isna(n) or pd.isna(successes) or int(n) == 0:
        return (None, None)
    from statsmodels.stats.proportion import proportion_confint   # imports scipy.stats: only where a rate needs it

    low, high = proportion_confint(int(successes), int(n), alpha=1.0 - float(confidence), method="wilson")
    return (float(min(max(low, 0.0), 1.0)), float(min(max(high, 0.0), 1.0)))


# --------------------------------------------------------------------------- rate table
RATE_TABLE_COLUMNS = [
    "is_total",
    "leads", "mql", "mql_rate", "mql_rate_low", "mql_rate_high",
    "opportunity", "lead_to_opportunity_rate", "lead_to_opportunity_rate_low", "lead_to_opportunity_rate_high",
    "won", "lead_to_won_rate", "immature",
    "opportunities_created", "won_count", "lost_count", "win_rate", "win_rate_low", "win_rate_high",
    "won_revenue", "avg_deal_size",
    "small_lead_to_opportunity", "small_win_rate", "small_group",
]


def _rate_row(value, is_total: bool, pipe: dict | None, cohort: dict | None, min_group: int, rank_by: str) -> dict:
    pipe = pipe or {}
    cohort = cohort or {}
    leads, mql, opp, won = (cohort.get(k) for k in ("leads", "mql", "opportunity", "won"))
    won_count, lost_count = pipe.get("won_count"), pipe.get("lost_count")
    closed = None if won_count is None else won_count + lost_count
    row = {"value": value, "is_total": is_total,
           "leads": leads, "mql": mql, "mql_rate": cohort.get("mql_rate")}
    row["mql_rate_low"], row["mql_rate_high"] = wilson_interval(mql, leads)
    row["opportunity"] = opp
    row["lead_to_opportunity_rate"] = cohort.get("lead_to_opportunity_rate")
    row["lead_to_opportunity_rate_low"], row["lead_to_opportunity_rate_high"] = wilson_interval(opp, leads)
    row["won"] = won
    row["lead_to_won_rate"] = cohort.get("lead_to_won_rate")
    row["immature"] = cohort.get("immature")
    row["opportunities_created"] = pipe.get("opportunities_created")
    row["won_count"], row["lost_count"] = won_count, lost_count
    row["win_rate"] = pipe.get("win_rate")
    # a win rate made null for a data-wide reason (no lost deals) has no interval either
    row["win_rate_low"], row["win_rate_high"] = wilson_interval(won_count, closed) if row["win_rate"] is not None else (None, None)
    row["won_revenue"] = pipe.get("won_revenue")
    row["avg_deal_size"] = pipe.get("avg_deal_size")
    row["small_lead_to_opportunity"] = (leads or 0) < min_group
    row["small_win_rate"] = (closed or 0) < min_group
    row["small_group"] = row["small_win_rate"] if rank_by == "win_rate" else row["small_lead_to_opportunity"]
    return row


def rate_table(leads: pd.DataFrame | None, opps: pd.DataFrame, column: str, start, end, as_of,
               min_group: int = MIN_GROUP, typical_days=None, rank_by: str = "lead_to_opportunity_rate",
               facts=None) -> pd.DataFrame:
    """Rates by value of a column with counts beside them and 95% Wilson intervals; small groups marked, not ranked; the total from all rows.

    One row per value of `column` (the rows of :func:`helpers.metrics.breakdown.breakdown`,
    'unknown' for null), then a total row. Columns: `column` (the value;
    'total' on the total row), ``is_total``;
    cohort view of the leads created in P (funnel side, through the lead's value):
    ``leads``, ``mql``, ``mql_rate`` (CVR) with ``mql_rate_low``/``_high``,
    ``opportunity``, ``lead_to_opportunity_rate`` (商談化率) with ``_low``/``_high``,
    ``won``, ``lead_to_won_rate``, ``immature``;
    period view of the opportunities (pipeline side, the opportunity's own value):
    ``opportunities_created``, ``won_count``, ``lost_count``, ``win_rate`` (受注率)
    with ``win_rate_low``/``_high``, ``won_revenue`` (受注金額), ``avg_deal_size``;
    flags: ``small_lead_to_opportunity`` (fewer than `min_group` cohort leads),
    ``small_win_rate`` (fewer than `min_group` closed deals, won + lost), and
    ``small_group`` = the flag of the rate the table is ranked by (`rank_by`:
    'lead_to_opportunity_rate' or 'win_rate').

    Order: rows that are not small by `rank_by` descending (a null rate last,
    ties in key order), then the unranked rows (the small groups and the
    'unknown' row) in key order (sorted, 'unknown' last), then the total. The total row is ``pipeline_metrics`` and
    ``funnel_cohort`` on the whole frames, never the sum of the rows. A side
    with no data (no leads table, or the column missing from a table) is null.
    With `facts` (:class:`helpers.metrics.limits.DataFacts`), the pipeline figures the data
    cannot support are null in every row (:func:`helpers.metrics.limits.explain_pipeline`:
    no lost deals makes every win rate and its interval null, no amounts the money).
    """
    from helpers.metrics.source import FrameSource

    return rate_table_of(FrameSource(leads, opps), column, start, end, as_of, min_group, typical_days, rank_by, facts)


def rate_table_of(source, column: str, start, end, as_of, min_group: int = MIN_GROUP, typical_days=None,
                  rank_by: str = "lead_to_opportunity_rate", facts=None) -> pd.DataFrame:
    """:func:`rate_table` of a :class:`helpers.metrics.source.Source` (the engine's grouped aggregates: a row per value
    fetched). KeyError when `column` is in neither table; ValueError for another `rank_by`."""
    return rate_tables_of(source, [column], start, end, as_of, min_group, typical_days, rank_by, facts)[column]


def rate_tables_of(source, columns, start, end, as_of, min_group: int = MIN_GROUP, typical_days=None,
                   rank_by: str = "lead_to_opportunity_rate", facts=None) -> dict[str, pd.DataFrame]:
    """``{column: rate_table_of(source, column, ...)}`` for each of `columns`, from one grouped pass per table over all
    of them (:func:`helpers.metrics.breakdown.breakdowns_of`; each value's counts are its own whatever else is grouped,
    and the total rows are the same): notebook 02's rate tables of every dimension in the queries of one. KeyError
    when a column is in neither table; ValueError for another `rank_by`. Without an opportunities table
    (``source.has_opportunities`` False) the cohort's opportunity and won counts and rates are null in every row
    (helpers.metrics.limits.NO_OPPORTUNITIES_FUNNEL), not 0."""
    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.funnel import maturity_days_of, typical_days_of
    from helpers.metrics.limits import NO_OPPORTUNITIES_FUNNEL, data_facts_of, explain_pipeline

    if rank_by not in ("lead_to_opportunity_rate", "win_rate"):
        raise ValueError(f"rank_by must be 'lead_to_opportunity_rate' or 'win_rate', got {rank_by!r}")
    if typical_days is None:
        typical_days = typical_days_of(source, as_of)
    maturity = maturity_days_of(source, as_of)
    columns = list(dict.fromkeys(columns))
    found, totals = breakdowns_of(source, columns, start, end, as_of, typical_days=typical_days, with_totals=True,
                                  maturity=maturity)
    total_cohort = None if totals["funnel"] is None else totals["funnel"]["cohort"]
    # a leads-only folder: whether a lead became an opportunity is unknown (no_opportunities), not 0
    unknown = () if source.has_opportunities else NO_OPPORTUNITIES_FUNNEL["cohort"]
    if unknown and facts is None:   # the deal figures too, whoever asks (helpers.metrics.limits.explain_pipeline)
        facts = data_facts_of(source, as_of)
    total_cohort = None if total_cohort is None else dict(total_cohort, **dict.fromkeys(unknown))
    total_pipe = totals["pipeline"]
    if facts is not None:
        total_pipe = explain_pipeline(total_pipe, facts)
    out = {}
    for column in columns:
        rows = []
        for value, row in found[column].items():
            pipe = None if row.get("opportunities_created") is None else row
            if pipe is not None and facts is not None:
                pipe = explain_pipeline(pipe, facts)
            cohort = None if row["funnel"] is None else dict(row["funnel"]["cohort"], **dict.fromkeys(unknown))
            rows.append(_rate_row(value, False, pipe, cohort, min_group, rank_by))
        rows.append(_rate_row(TOTAL, True, total_pipe, total_cohort, min_group, rank_by))
        rows = _order(rows, rank_by, "small_group")
        frame = _frame(rows, ["value"] + RATE_TABLE_COLUMNS,
                       ints=("leads", "mql", "opportunity", "won", "opportunities_created", "won_count", "lost_count"),
                       bools=("is_total", "small_lead_to_opportunity", "small_win_rate", "small_group"),
                       maybe_bools=("immature",))
        out[column] = frame.rename(columns={"value": column})
    return out


def reranked(table: pd.DataFrame, column: str, rank_by: str) -> pd.DataFrame:
    """A :func:`rate_table` ranked by another rate: the same rows with ``small_group`` the flag of `rank_by` and in
    :func:`rate_table`'s order for `rank_by` (what rate_table(..., rank_by=rank_by) returns, without computing the
    figures again). ValueError for a rank_by rate_table refuses."""
    if rank_by not in ("lead_to_opportunity_rate", "win_rate"):
        raise ValueError(f"rank_by must be 'lead_to_opportunity_rate' or 'win_rate', got {rank_by!r}")
    small = table["small_win_rate"] if rank_by == "win_rate" else table["small_lead_to_opportunity"]
    frame = table.assign(small_group=small.astype(bool)).reset_index(drop=True)
    keys = {k: i for i, k in enumerate(_sorted_keys(frame.loc[~frame["is_total"], column]))}
    rows = [{"pos": i, "value": v, "is_total": bool(total), "small_group": bool(g), rank_by: None if pd.isna(x) else float(x)}
            for i, (v, total, g, x) in enumerate(zip(frame[column], frame["is_total"], frame["small_group"], frame[rank_by]))]
    rows.sort(key=lambda r: (r["is_total"], keys.get(r["value"], 0)))   # rate_table's key order, the total last
    return frame.iloc[[r["pos"] for r in _order(rows, rank_by, "small_group")]].reset_index(drop=True)
