"""Assemble one period's core figures in the layout of metrics.json (contract section 3a).

The definitions live in helpers.pipeline, helpers.funnel and helpers.breakdown;
this module only puts them together so every notebook and the runner agree.
"""
from __future__ import annotations

from helpers.breakdown import breakdowns, segment_columns, target_fit
from helpers.funnel import typical_days_to_opportunity
from helpers.load import Workbook
from helpers.periods import Period


def has_target(wb: Workbook) -> bool:
    """True when the config defines a target (ICP) by industry or company size."""
    return bool(wb.config.target_industries or wb.config.target_company_sizes)


def with_target_fit(wb: Workbook):
    """(leads, opps) with a `target_fit` column added (copies; the workbook is not changed)."""
    industries, sizes = wb.config.target_industries, wb.config.target_company_sizes
    leads = None if wb.leads is None else wb.leads.assign(target_fit=target_fit(wb.leads, industries, sizes))
    opps = wb.opportunities.assign(target_fit=target_fit(wb.opportunities, industries, sizes))
    return leads, opps


def core_metrics(wb: Workbook, period: Period, projected: bool = False) -> dict:
    """period/start/end/as_of, pipeline, funnel (period and cohort), by_channel and by_segment for one period.

    With `projected`, funnel.cohort also holds the censoring-aware projected rates of
    helpers.goals.projected_cohort_rates (notebook 02 records them; they take a few seconds).
    """
    leads, opps, as_of = wb.leads, wb.opportunities, wb.as_of
    start, end = period.start, period.end
    typical = typical_days_to_opportunity(leads, opps, as_of) if leads is not None else None
    segments = segment_columns(leads, opps)
    if has_target(wb):
        leads, opps = with_target_fit(wb)
        segments.append("target_fit")
    # Totals, by channel and by every segment: one grouped pass per table (helpers.engine).
    rows, totals = breakdowns(leads, opps, ["channel", *segments], start, end, as_of, typical_days=typical, with_totals=True)
    funnel = totals["funnel"]
    if funnel is not None and projected:
        from helpers.goals import projected_cohort_rates

        proj = projected_cohort_rates(wb.leads, wb.opportunities, start, end, as_of)
        funnel["cohort"].update(proj or {"projected_lead_to_opportunity_rate": None, "projected_lead_to_won_rate": None})
    return {
        "period": period.label,
        "start": period.start,
        "end": period.end,
        "as_of": as_of,
        "pipeline": totals["pipeline"],
        "funnel": funnel,
        "by_channel": rows["channel"],
        "by_segment": {col: rows[col] for col in segments},
    }
