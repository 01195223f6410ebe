"""Assemble one period's core figures in the layout of metrics.json (contract section 3a).

The definitions live in helpers.pipeline, helpers.funnel and helpers.breakdown;
this module only puts them together so every notebook and the runner agree.
"""
from __future__ import annotations

from helpers.breakdown import breakdown, segment_columns, target_fit
from helpers.funnel import funnel_cohort, funnel_period, typical_days_to_opportunity
from helpers.load import Workbook
from helpers.periods import Period
from helpers.pipeline import pipeline_metrics


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
    funnel = None
    if leads is not None:
        funnel = {"period": funnel_period(leads, opps, start, end, as_of),
                  "cohort": funnel_cohort(leads, opps, start, end, as_of, typical_days=typical)}
        if projected:
            from helpers.goals import projected_cohort_rates

            proj = projected_cohort_rates(leads, opps, start, end, as_of)
            funnel["cohort"].update(proj or {"projected_lead_to_opportunity_rate": None, "projected_lead_to_won_rate": None})
    by_segment = {col: breakdown(leads, opps, col, start, end, as_of, typical_days=typical)
                  for col in segment_columns(leads, opps)}
    if has_target(wb):
        t_leads, t_opps = with_target_fit(wb)
        by_segment["target_fit"] = breakdown(t_leads, t_opps, "target_fit", start, end, as_of, typical_days=typical)
    return {
        "period": period.label,
        "start": period.start,
        "end": period.end,
        "as_of": as_of,
        "pipeline": pipeline_metrics(opps, start, end, as_of),
        "funnel": funnel,
        "by_channel": breakdown(leads, opps, "channel", start, end, as_of, typical_days=typical),
        "by_segment": by_segment,
    }
