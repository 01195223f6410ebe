"""Funnel comparisons behind notebook 02 (contract section 2): marketing ROI by channel, period over period, and
the lead-to-opportunity heatmap of two columns.

:func:`marketing_roi` / :func:`roi_table`: spend against leads, pipeline and revenue per channel;
:func:`period_over_period` / :func:`period_over_period_of`: the KPIs of consecutive periods and their change;
:func:`heatmap_table` / :func:`heatmap_table_of`: lead-to-opportunity rate per cell of two columns. Conventions as
in helpers.metrics.funnel_analysis, which still exports every public name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.periods import Period
from helpers.metrics.breakdown import _sorted_keys, breakdown
from helpers.metrics.funnel import _ids, funnel_cohort, linked_pairs
from helpers.metrics.pipeline import dates, day, outcome_is, pipeline_metrics, ratio
from helpers.metrics.roi import roi_by_channel
from helpers.metrics.funnel_rates import MIN_GROUP, TOTAL, _frame


#: The keys of one :func:`marketing_roi` row, in order.
ROI_KEYS = ("spend", "leads", "opportunities_created", "pipeline_amount", "won_revenue", "cohort_won_revenue",
            "cost_per_lead", "cost_per_opportunity", "return_on_spend")


#: The KPIs of :func:`period_over_period`, in order, and which of them are rates.
POP_KPIS = ("leads", "mql_rate", "lead_to_opportunity_rate", "opportunities_created", "win_rate",
            "won_revenue", "avg_deal_size", "sales_cycle_days", "sales_velocity")

RATE_KPIS = ("mql_rate", "lead_to_opportunity_rate", "win_rate")


# --------------------------------------------------------------------------- marketing ROI
def cohort_won_revenue(leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of) -> float | None:
    """Won revenue, to as_of, of the leads created in [start, min(end, as_of)]: the known amounts of the distinct
    opportunities linked to those leads (either link column) that were won on or before as_of. Currency; 0.0 when
    none was won; None without a leads table. The return a period's spend bought (cohort basis)."""
    if leads is None:
        return None
    cutoff = day(as_of)
    cohort = leads[dates(leads, "created_at").between(day(start), min(day(end), cutoff))]
    pairs = linked_pairs(cohort, opps)
    pairs = pairs[pairs["lead_id"].isin(set(_ids(cohort["lead_id"]).dropna()))]
    won = outcome_is(opps, "won") & (dates(opps, "closed_at") <= cutoff) & _ids(opps["opportunity_id"]).isin(set(pairs["opportunity_id"]))
    if "amount" not in opps.columns:
        return 0.0
    amounts = pd.to_numeric(opps.loc[won, "amount"], errors="coerce").to_numpy(dtype=float)
    return float(np.nansum(amounts))


def marketing_roi(spend: pd.DataFrame | None, leads: pd.DataFrame | None, opps: pd.DataFrame, start, end, as_of):
    """Marketing ROI by channel: spend in P, leads, opportunities, pipeline and won revenue, cost per lead, cost per opportunity, return on spend.

    One row per channel (the union of the channels of spend rows dated on or
    before as_of and of leads and opportunities created on or before as_of;
    null -> 'unknown'; sorted, 'unknown' last), then the total row of all rows.
    Columns ``channel``, ``is_total``, and:

    - ``spend``: sum of spend amount over the months whose first day is in
      [start, min(end, as_of)] (0.0 when none);
    - ``leads``: leads with created_at in P (the lead's channel; null without a leads table);
    - ``opportunities_created``: opportunities created in P (the opportunity's own channel);
    - ``pipeline_amount``: sum of the known amounts of those opportunities;
    - ``won_revenue``: won_revenue of ``pipeline_metrics`` on the channel's opportunities (closed in P, whenever created);
    - ``cohort_won_revenue``: :func:`cohort_won_revenue` of the channel's leads created in P (the lead's channel),
      to as_of: what the period's spend bought (null without a leads table);
    - ``cost_per_lead`` = spend / leads (リード単価, CPL), ``cost_per_opportunity``
      = spend / opportunities_created (商談単価), ``return_on_spend`` = cohort_won_revenue
      / spend (ROAS on a cohort basis: the spend of P against the revenue of P's leads, to as_of; still growing
      while the cohort is young); each null when its denominator is 0 and all three are
      null when spend is 0 (no recorded cost is unknown, not free: a channel without spend gets no ratio). The
      total's return_on_spend counts the cohort revenue of the channels with spend only. pipeline_amount,
      won_revenue, cohort_won_revenue and return_on_spend are null when the data has no amounts at all.

    None when there is no spend table. Computed as grouped engine aggregates, one pass per table
    (:func:`helpers.metrics.roi.roi_by_channel`); :func:`roi_table` turns a memoized result into this frame.
    """
    return roi_table(roi_by_channel(spend, leads, opps, start, end, as_of))


def roi_table(result) -> pd.DataFrame | None:
    """The :func:`marketing_roi` frame of a :func:`helpers.metrics.roi.roi_by_channel` result (None stays None)."""
    if result is None:
        return None
    rows, total = result
    records = [{"channel": k, "is_total": False, **{kk: vv for kk, vv in v.items() if kk != "null_reasons"}}
               for k, v in rows.items()]
    records.append({"channel": TOTAL, "is_total": True, **{k: v for k, v in total.items() if k != "null_reasons"}})
    return _frame(records, ["channel", "is_total", *ROI_KEYS], ints=("leads", "opportunities_created"),
                  bools=("is_total",))


# --------------------------------------------------------------------------- period over period
def _kpis(source, period: Period, as_of, typical_days, maturity=None, facts=None) -> dict:
    """The KPIs of :func:`period_over_period` in `period`. Their totals (helpers.metrics.breakdown.breakdowns_of
    without dimensions) are kept per source, period, as_of and yardsticks (:func:`helpers.metrics.source.memoized`):
    the periods of a run ask for each period up to three times (as the current one, the previous, a year ago)."""
    import copy

    from helpers.metrics.breakdown import breakdowns_of
    from helpers.metrics.limits import explain_funnel, explain_pipeline
    from helpers.metrics.source import memoized

    key = ("period_totals", period.start, period.end, day(as_of), typical_days, maturity)
    totals = copy.deepcopy(memoized(source, key, lambda: breakdowns_of(
        source, [], period.start, period.end, as_of, typical_days=typical_days, with_totals=True, maturity=maturity)[1]))
    pipe = totals["pipeline"]
    if facts is not None:
        pipe = explain_pipeline(pipe, facts)
        if totals["funnel"] is not None:   # a stage no lead has a date of: its rates null (no_mql_dates), not 0
            totals["funnel"] = explain_funnel(totals["funnel"], facts)
    fp = None if totals["funnel"] is None else totals["funnel"]["period"]
    cohort = None if totals["funnel"] is None else totals["funnel"]["cohort"]
    values = {
        "leads": None if fp is None else fp["leads"],
        "mql_rate": None if cohort is None else cohort["mql_rate"],
        "lead_to_opportunity_rate": (None if cohort is None or not source.has_opportunities   # leads-only: unknown
                                     else cohort["lead_to_opportunity_rate"]),
        **{k: pipe[k] for k in ("opportunities_created", "win_rate", "won_revenue", "avg_deal_size",
                                "sales_cycle_days")},
        "sales_velocity": pipe["sales_velocity"],
    }
    return {"values": values, "immature": None if cohort is None else cohort["immature"]}


def change(after, before):
    """Relative change after / before − 1; None when either is None or before is 0."""
    if after is None or before is None or pd.isna(after) or pd.isna(before) or before == 0:
        return None
    return float(after) / float(before) - 1.0


def _difference(after, before):
    if after is None or before is None:
        return None
    return float(after) - float(before)


def period_over_period(leads: pd.DataFrame | None, opps: pd.DataFrame, period: Period, as_of, facts=None) -> pd.DataFrame:
    """Period-over-period change: each shared KPI in P, in the previous period and in the same period a year earlier, with the change.

    One row per KPI of :data:`POP_KPIS`: ``leads`` (created in P),
    ``mql_rate`` (CVR) and ``lead_to_opportunity_rate`` (商談化率) of the cohort
    view, and the pipeline keys ``opportunities_created``, ``win_rate`` (受注率),
    ``won_revenue`` (受注金額), ``avg_deal_size``, ``sales_cycle_days``,
    ``sales_velocity``. Columns: ``kpi``, ``is_rate``, ``current`` (P),
    ``previous`` (``period.shift(-1)``), ``year_ago`` (``period.shift(-4)``),
    ``change_vs_previous`` / ``change_vs_year_ago`` = current / other − 1 (null
    when either is null or the other is 0), ``diff_vs_previous`` /
    ``diff_vs_year_ago`` = current − other for rates only (a fraction: 0.05 = 5
    points), and for the two cohort rates ``immature_current`` /
    ``immature_previous`` / ``immature_year_ago`` (a cohort still maturing is
    not final; never compare it with a mature one as if it were). Every period
    is computed as known on the same as_of, with one maturity yardstick (the
    typical days of all data). ``frame.attrs["periods"]`` holds the three labels and
    ``frame.attrs["coverage"]`` the :func:`helpers.metrics.limits.coverage` of each period (the
    data from the first created_at of leads and opportunities to as_of): a change against
    a partial period is not like for like and the report flags it. With `facts`, the
    pipeline figures the data cannot support are null (:func:`helpers.metrics.limits.explain_pipeline`), and
    ``mql_rate`` when no lead has an mql_at (:func:`helpers.metrics.limits.explain_funnel`: no_mql_dates).
    """
    from helpers.metrics.source import FrameSource

    return period_over_period_of(FrameSource(leads, opps), period, as_of, facts)


def period_over_period_of(source, period: Period, as_of, facts=None) -> pd.DataFrame:
    """:func:`period_over_period` of a :class:`helpers.metrics.source.Source` (aggregate rows fetched per period)."""
    from helpers.metrics.funnel import maturity_days_of, typical_days_of
    from helpers.metrics.limits import coverage, data_end_of, source_dates, source_last_date

    first = source_dates(source)[0]
    first = day(as_of) if first is None else first
    last = source_last_date(source)
    data_end = data_end_of(as_of, last)
    typical = typical_days_of(source, as_of)
    periods = {"current": period, "previous": period.shift(-1), "year_ago": period.shift(-4)}
    maturity = maturity_days_of(source, as_of)
    results = {name: _kpis(source, p, as_of, typical, maturity, facts) for name, p in periods.items()}
    rows = []
    for kpi in POP_KPIS:
        cur, prev, ago = (results[n]["values"][kpi] for n in ("current", "previous", "year_ago"))
        is_rate = kpi in RATE_KPIS
        cohort_rate = kpi in ("mql_rate", "lead_to_opportunity_rate")
        rows.append({
            "kpi": kpi, "is_rate": is_rate, "current": cur, "previous": prev, "year_ago": ago,
            "change_vs_previous": change(cur, prev), "change_vs_year_ago": change(cur, ago),
            "diff_vs_previous": _difference(cur, prev) if is_rate else None,
            "diff_vs_year_ago": _difference(cur, ago) if is_rate else None,
            "immature_current": results["current"]["immature"] if cohort_rate else None,
            "immature_previous": results["previous"]["immature"] if cohort_rate else None,
            "immature_year_ago": results["year_ago"]["immature"] if cohort_rate else None,
        })
    columns = ["kpi", "is_rate", "current", "previous", "year_ago", "change_vs_previous", "change_vs_year_ago",
               "diff_vs_previous", "diff_vs_year_ago", "immature_current", "immature_previous", "immature_year_ago"]
    frame = _frame(rows, columns, bools=("is_rate",),
                   maybe_bools=("immature_current", "immature_previous", "immature_year_ago"))
    for c in ("current", "previous", "year_ago", "change_vs_previous", "change_vs_year_ago",
              "diff_vs_previous", "diff_vs_year_ago"):
        frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    frame.attrs["periods"] = {name: p.label for name, p in periods.items()}
    frame.attrs["coverage"] = {name: coverage(first, data_end, p.start, p.end) for name, p in periods.items()}
    return frame


# --------------------------------------------------------------------------- heatmap
def heatmap_table(leads: pd.DataFrame | None, opps: pd.DataFrame, row_col: str, col_col: str, start, end, as_of,
                  min_group: int = MIN_GROUP, value: str = "rate", typical_days=None) -> pd.DataFrame | None:
    """Lead-to-opportunity rate (商談化率, cohort view) for each row_col × col_col cell; NaN where a cell has fewer than min_group leads.

    The cells split the leads created in [start, min(end, as_of)] by their own
    values (null or blank -> 'unknown'; trimmed as the breakdown keys are); rows and columns are the values present
    in that cohort, sorted, 'unknown' last. A cell's rate is ``funnel_cohort``'s lead_to_opportunity_rate on its
    leads (opportunities attributed through the lead, as in the breakdowns; helpers.metrics.funnel.derive_cohort of
    the cell's counts). A cell with fewer than `min_group` leads (including none) is NaN: too small to colour; every
    cell's rate is NaN without an opportunities table (a leads-only folder: unknown, not 0%).
    ``value='leads'`` returns the cohort lead counts instead (0 for an empty cell), so a chart can print n in each
    cell. None without a leads table. The counts of every cell are one engine query
    (:func:`helpers.metrics.engine.lead_cells_expr`: one row per cell is fetched); `typical_days` only fills the
    derivation's field of that name (the rate does not depend on it).
    """
    from helpers.metrics.source import FrameSource

    if leads is None:
        return None
    return heatmap_table_of(FrameSource(leads, opps), row_col, col_col, start, end, as_of, min_group, value, typical_days)


def heatmap_table_of(source, row_col: str, col_col: str, start, end, as_of, min_group: int = MIN_GROUP,
                     value: str = "rate", typical_days=None) -> pd.DataFrame | None:
    """:func:`heatmap_table` of a :class:`helpers.metrics.source.Source` (one row per cell fetched)."""
    if not source.has_leads:
        return None
    for c in (row_col, col_col):
        if not source.has_column("leads", c):
            raise KeyError(f"column {c!r} is not in the leads table")
    if value not in ("rate", "leads"):
        raise ValueError(f"value must be 'rate' or 'leads', got {value!r}")
    from helpers.metrics import engine
    from helpers.metrics.funnel import derive_cohort

    s, last, a = engine.period_bounds(start, end, as_of)
    flags = engine.lead_flags_expr(source.leads([row_col, col_col]), source.opps(), s, last, a)
    found = source.fetch(engine.lead_cells_expr(flags, s, last, 2)).to_pylist()
    cells = {(row.pop("k0"), row.pop("k1")): row for row in found if row["c_leads"]}
    row_values, col_values = _sorted_keys(r for r, _ in cells), _sorted_keys(c for _, c in cells)
    out = pd.DataFrame(np.nan, index=pd.Index(row_values, name=row_col),
                       columns=pd.Index(col_values, name=col_col), dtype="float64")
    for (r, c), counts in cells.items():
        if value == "leads":
            out.loc[r, c] = float(counts["c_leads"])
        elif counts["c_leads"] >= min_group and source.has_opportunities:
            rate = derive_cohort(counts, typical_days, end, as_of)["lead_to_opportunity_rate"]
            out.loc[r, c] = np.nan if rate is None else rate
    return out.fillna(0.0).astype("int64") if value == "leads" else out
