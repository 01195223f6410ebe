"""What the data cannot tell: data-wide facts that make a figure undefined, and the reason shown beside it.

A figure is right, or null with its reason. The reason is a code (``no_lost_deals``,
``no_amounts``, ...) recorded in ``null_reasons: {figure key: reason code}`` of each
section of metrics.json; its sentence is the label ``reason_<code>`` (helpers/labels.yaml,
en + ja), shown next to the figure in every report. docs/glossary.md ("When a figure is
empty") lists every code.

Pure functions: frames and dicts in, new dicts out (inputs never changed).

- :func:`data_facts`: the data-wide facts (no lost deal at all, every lost amount 0,
  no amounts, one bulk-load created_at) read from the opportunities and the warnings.
- :func:`explain_pipeline` / :func:`explain_cohort` / :func:`explain_core`: the same
  figures with the undefined ones set to None and their ``null_reasons``.
- :func:`ingest_warnings` / :func:`warnings_list`: every ingest and load warning as
  ``{code, message, count, file, source, column, rows, fix, params}`` (message and fix in English;
  :func:`warning_sentences` says them in a report's language from the label table).
- :func:`coverage`: how much of a period the data covers.
- :func:`negative_intervals`: rows whose dates run backwards (a deal won before its lead).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.metrics.pipeline import (STAGE_DATE_REASONS, amounts_reason, dates, day, outcome_is, stage_dates_of,  # noqa: F401
                                      stage_dates_of_frame, stage_dates_reason)

#: The file helpers.data.ingest writes next to the canonical tables.
INGEST_REPORT = "ingest_report.json"

#: A leads table whose last lead is more than this many days before the period's last day has ended early.
LEADS_GAP_DAYS = 30

#: Warning codes that mean the opportunities' created_at is a bulk-load stamp.
BULK_CODES = ("one_created_at",)

#: Every reason code a figure can be null for (each has the label ``reason_<code>``).
REASON_CODES = (
    "no_lost_deals", "lost_amounts_zero", "no_amounts", "won_amounts_missing", "created_amounts_missing", "one_created_at",
    "no_opportunities", "no_closed_deals", "no_won_deals", "no_closed_amounts", "zero_cycle",
    "no_leads", "leads_not_covered", "no_cohort_leads", "too_few_cohort_leads", "no_conversion_curve",
    "projection_nothing_closed", "projection_no_lost_deals",
    "segment_not_in_opportunities", "segment_not_in_leads", "no_cohort_mqls", "no_cohort_sqls",
    "no_cohort_opportunities", "no_maturity_data", "no_initiative", "no_open_deals", "no_stale_amounts", "open_amounts_missing",
    "nothing_closed", "same_day_cycle", "no_created_dates",
    # lead quality (helpers.metrics.lead_quality, lead_score, lead_feedback, lead_section)
    "no_observed_leads", "nothing_flagged", "nothing_converted", "all_flagged", "too_few_observed", "too_few_converted",
    "no_score_attributes", "test_one_class", "no_attributes", "no_clean_attributes", "no_mqls", "none_accepted",
    "no_mql_dates", "no_sql_dates",
    # attribution (helpers.metrics.attribution_paths.attribution_section)
    "no_touches_table", "no_touch_rows", "few_converted_paths", "no_conversions",
    # before/after velocity (helpers.metrics.velocity_change.outside_data): a window the data does not reach
    "before_data", "after_data",
)

#: Pipeline figures whose null this module explains, and the factors of sales velocity.
VELOCITY_FACTORS = ("avg_deal_size", "win_rate", "sales_cycle_days")

#: Cohort rate -> the reason when its denominator is 0.
COHORT_DENOMINATORS = {"mql_rate": "no_cohort_leads", "sql_rate": "no_cohort_mqls",
                       "opportunity_rate": "no_cohort_sqls", "won_rate": "no_cohort_opportunities",
                       "lead_to_opportunity_rate": "no_cohort_leads", "lead_to_won_rate": "no_cohort_leads"}


@dataclass(frozen=True)
class DataFacts:
    """Facts about the whole data set (up to as_of) that make figures undefined in every period."""

    no_lost_deals: bool = False      # deals were won but none was ever lost
    lost_amounts_zero: bool = False  # there are lost deals and every lost amount is 0 or empty
    no_amounts: bool = False         # no opportunity has an amount (column absent or all empty)
    one_created_at: bool = False     # created_at is a bulk-load stamp (one day for all, or the ingest said so)
    nothing_closed: bool = False     # there are opportunities and none was won or lost (an export of open deals only)
    no_opportunities: bool = False   # there is no opportunities table (a leads-only folder: warning no_opportunities)
    empty_opportunities: bool = False   # there is an opportunities table and it holds no row
    no_mql_dates: bool = False       # there are leads and none has an mql_at (column absent or all empty)
    no_sql_dates: bool = False       # there are leads and none has an sql_at (column absent or all empty)

    def codes(self) -> list[str]:
        """The reason codes of the facts that hold, in the order the data health report lists them (without an
        opportunity, no table or an empty one, no_opportunities alone: the amounts are not missing, the deals are)."""
        if self.amounts_code == "no_opportunities":
            return ["no_opportunities"]
        return [name for name in ("no_lost_deals", "lost_amounts_zero", "no_amounts", "one_created_at", "nothing_closed")
                if getattr(self, name)]

    @property
    def stage_codes(self) -> dict[str, str]:
        """The lead stages whose counts and rates are null in every period: {date column: reason}, by the one rule
        :func:`helpers.metrics.pipeline.stage_dates_reason` (no_mql_dates, no_sql_dates); empty when both are dated."""
        dated = {"mql_at": not self.no_mql_dates, "sql_at": not self.no_sql_dates}
        return {c: code for c in STAGE_DATE_REASONS if (code := stage_dates_reason(c, dated[c]))}

    @property
    def amounts_code(self) -> str | None:
        """The reason a money figure is null in every period, by the one rule :func:`amounts_reason`: no_opportunities
        (no table, or no row in it), no_amounts (opportunities, none with an amount), else None."""
        rows = None if self.no_opportunities else 0 if self.empty_opportunities else 1
        return amounts_reason(rows, 0 if self.no_amounts else 1)


def data_facts(opps: pd.DataFrame, as_of, warning_codes=()) -> DataFacts:
    """The data-wide facts of the opportunities known on as_of (and the codes of the ingest/load warnings).

    - ``no_lost_deals``: at least one deal won and none lost (closed on or before as_of);
    - ``lost_amounts_zero``: deals were lost and every lost amount is 0 or empty, while
      some opportunity has an amount (a CRM habit that makes win rate by amount 100%);
    - ``no_amounts``: no opportunity has an amount;
    - ``one_created_at``: every opportunity (at least two) shares one created_at day, or a
      warning code of :data:`BULK_CODES` was raised (the ingest saw it in the export);
    - ``nothing_closed``: there are opportunities and none was won or lost by as_of;
    - ``no_opportunities``: there is no opportunities table (the load's warning of that code): every opportunity
      count is undefined, not 0, and every money figure null with this reason instead of no_amounts;
    - ``empty_opportunities``: there is an opportunities table without a row: the counts are 0, and every money
      figure null with the reason no_opportunities too (:func:`amounts_reason`).
    """
    cutoff = day(as_of)
    closed = dates(opps, "closed_at") <= cutoff
    won, lost = outcome_is(opps, "won") & closed, outcome_is(opps, "lost") & closed
    amount = (pd.to_numeric(opps["amount"], errors="coerce") if "amount" in opps.columns
              else pd.Series(np.nan, index=opps.index))
    has_amounts = bool(amount.notna().any())
    created = dates(opps, "created_at").dropna()
    return DataFacts(
        no_lost_deals=bool(won.any() and not lost.any()),
        lost_amounts_zero=bool(lost.any() and has_amounts and not (amount[lost].fillna(0) > 0).any()),
        no_amounts=not has_amounts,
        one_created_at=bool(any(code in BULK_CODES for code in warning_codes)
                            or (len(created) >= 2 and created.nunique() == 1)),
        nothing_closed=bool(len(opps) and not (won.any() or lost.any())),
        no_opportunities="no_opportunities" in warning_codes,
        empty_opportunities=not len(opps) and "no_opportunities" not in warning_codes,
    )


def data_facts_of(source, as_of, warning_codes=()) -> DataFacts:
    """:func:`data_facts` of a :class:`helpers.metrics.source.Source`'s opportunities: one aggregate row fetched, once
    per source and as_of (:func:`helpers.metrics.source.memoized`: a report's views ask for it again and again);
    ``no_opportunities`` also when the source has no opportunities table (its ``has_opportunities``)."""
    from helpers.metrics.source import memoized

    row = memoized(source, ("data_facts", day(as_of)),
                   lambda: source.fetch(facts_expr(source.opps(), as_of)).to_pylist()[0])
    facts = facts_from_row(row, tuple(warning_codes) + (() if source.has_opportunities else ("no_opportunities",)))
    return with_stage_facts(facts, stage_dates_of(source))


def with_stage_facts(facts: DataFacts, dated: dict | None) -> DataFacts:
    """`facts` with no_mql_dates / no_sql_dates from `dated` ({"mql_at": leads with one, "sql_at": ...}; None without
    a leads table: nothing to say about a stage, both False)."""
    if dated is None:
        return facts
    return replace(facts, no_mql_dates=stage_dates_reason("mql_at", dated["mql_at"]) is not None,
                   no_sql_dates=stage_dates_reason("sql_at", dated["sql_at"]) is not None)


def facts_expr(o, as_of, **extra):
    """The one-row aggregate :func:`data_facts_of` reads from the opportunities' engine table `o`: rows, won, lost (closed
    by as_of), amounts (rows with one), lost_paid (lost with an amount above 0), created (rows with a created_at),
    days (distinct created days); plus the aggregates `extra` of `o` (name: expression)."""
    cutoff = day(as_of).date()
    closed = o.closed_at.cast("date") <= cutoff
    won, lost = (o.outcome == "won") & closed, (o.outcome == "lost") & closed
    created = o.created_at.cast("date")
    return o.aggregate(
        rows=o.count(), won=o.count(where=won), lost=o.count(where=lost), amounts=o.count(where=o.amount.notnull()),
        lost_paid=o.count(where=lost & (o.amount > 0)), created=created.count(), days=created.nunique(), **extra)


def facts_from_row(row: dict, warning_codes=()) -> DataFacts:
    """The :class:`DataFacts` of :func:`facts_expr`'s row and the load's warning codes."""
    return DataFacts(
        no_lost_deals=bool(row["won"] and not row["lost"]),
        lost_amounts_zero=bool(row["lost"] and row["amounts"] and not row["lost_paid"]),
        no_amounts=not row["amounts"],
        one_created_at=bool(any(code in BULK_CODES for code in warning_codes) or (row["created"] >= 2 and row["days"] == 1)),
        nothing_closed=bool(row["rows"] and not (row["won"] or row["lost"])),
        no_opportunities="no_opportunities" in warning_codes,
        empty_opportunities=not row["rows"] and "no_opportunities" not in warning_codes,
    )


def _set(out: dict, reasons: dict, key: str, code: str) -> None:
    out[key] = None
    reasons[key] = code


def explain_pipeline(pipe: dict, facts: DataFacts) -> dict:
    """The pipeline keys of one period (or breakdown row) with every undefined figure None and ``null_reasons``.

    Rules, first match wins (codes of :data:`REASON_CODES`):

    - win_rate: no_lost_deals; else null -> no_closed_deals.
    - win_rate_by_amount: no_amounts (no_opportunities for an empty table: :func:`amounts_reason`, as every
      no_amounts here), no_lost_deals, lost_amounts_zero; else null ->
      no_closed_deals (nothing closed), lost_amounts_zero (the period's or row's own lost deals are all 0 or
      empty, helpers.metrics.pipeline.derive_pipeline: the data-wide rule applied per set) or no_closed_amounts
      (closed deals carry no amount).
    - won_revenue: no_amounts; else null -> won_amounts_missing.
    - avg_deal_size: no_amounts; else null -> no_won_deals or won_amounts_missing.
    - sales_cycle_days: one_created_at; else null -> no_won_deals.
    - sales_velocity: the reason of its first null factor (avg_deal_size, win_rate,
      sales_cycle_days); else null -> zero_cycle.
    - open_pipeline.amount: no_amounts, or open_amounts_missing when deals are open and none
      has an amount (reason key ``open_pipeline_amount``): unknown, never 0.

    ``null_reasons`` is added only when some figure is null; a row whose pipeline keys are
    all None (the column is not in the opportunities) is returned unchanged.
    """
    if pipe.get("opportunities_created") is None:
        return dict(pipe)
    if facts.no_opportunities:
        return _no_opportunities(pipe)
    out, reasons = dict(pipe), {}
    won, lost = out.get("won_count") or 0, out.get("lost_count") or 0
    if facts.no_lost_deals:
        _set(out, reasons, "win_rate", "no_lost_deals")
    elif out.get("win_rate") is None:
        reasons["win_rate"] = "no_closed_deals"
    for flag in ("no_amounts", "no_lost_deals", "lost_amounts_zero"):
        if getattr(facts, flag):
            _set(out, reasons, "win_rate_by_amount", facts.amounts_code if flag == "no_amounts" else flag)
            break
    else:
        if out.get("win_rate_by_amount") is None:   # this set's own lost deals all 0 or empty: lost_amounts_zero
            reasons["win_rate_by_amount"] = ("no_closed_deals" if not (won + lost)
                                             else "won_amounts_missing" if won and out.get("won_revenue") is None
                                             else "lost_amounts_zero" if lost and out.get("won_revenue") is not None
                                             else "no_closed_amounts")
    if facts.no_amounts:
        _set(out, reasons, "won_revenue", facts.amounts_code)
        _set(out, reasons, "avg_deal_size", facts.amounts_code)
    else:
        if out.get("won_revenue") is None:
            reasons["won_revenue"] = "won_amounts_missing"
        if out.get("avg_deal_size") is None:
            reasons["avg_deal_size"] = "no_won_deals" if not won else "won_amounts_missing"
    if facts.one_created_at:
        _set(out, reasons, "sales_cycle_days", "one_created_at")
    elif out.get("sales_cycle_days") is None:
        reasons["sales_cycle_days"] = "no_won_deals"
    factor_reason = next((reasons[k] for k in VELOCITY_FACTORS if k in reasons), None)
    if factor_reason:
        _set(out, reasons, "sales_velocity", factor_reason)
    elif out.get("sales_velocity") is None:
        reasons["sales_velocity"] = "zero_cycle"
    open_ = out.get("open_pipeline")
    if isinstance(open_, dict) and (facts.no_amounts or (open_.get("count") and open_.get("amount_unknown_count") == open_["count"])):
        out["open_pipeline"] = dict(open_, amount=None)
        reasons["open_pipeline_amount"] = facts.amounts_code if facts.no_amounts else "open_amounts_missing"
    if reasons:
        out["null_reasons"] = reasons
    return out


#: The pipeline figures null without an opportunities table (the counts of deals too: undefined, not 0).
NO_OPPORTUNITIES_KEYS = ("opportunities_created", "won_count", "lost_count", "win_rate", "win_rate_by_amount",
                         "won_revenue", "avg_deal_size", "sales_cycle_days", "sales_velocity")


def _no_opportunities(pipe: dict) -> dict:
    """:func:`explain_pipeline` without an opportunities table: every figure of a deal null with no_opportunities
    (the open pipeline's count and amount too)."""
    out, reasons = dict(pipe), {}
    for key in NO_OPPORTUNITIES_KEYS:
        if key in out:
            _set(out, reasons, key, "no_opportunities")
    if isinstance(out.get("open_pipeline"), dict):
        out["open_pipeline"] = dict(out["open_pipeline"], count=None, amount=None, amount_unknown_count=None)
        reasons["open_pipeline_count"] = reasons["open_pipeline_amount"] = "no_opportunities"
    return dict(out, null_reasons=reasons)


def explain_cohort(cohort: dict | None) -> dict | None:
    """A cohort funnel dict with ``null_reasons`` for its null rates (a zero denominator) and an unknown maturity."""
    if cohort is None:
        return None
    reasons = {key: code for key, code in COHORT_DENOMINATORS.items() if key in cohort and cohort[key] is None}
    if cohort.get("immature") is None:   # an empty cohort has nothing to mature: its reason, not "no data"
        reasons["immature"] = "no_cohort_leads" if cohort.get("leads") == 0 else "no_maturity_data"
    return dict(cohort, null_reasons=reasons) if reasons else dict(cohort)


#: The lead funnel's counts and rates of opportunities (period counts, cohort counts and rates): undefined without
#: an opportunities table (no_opportunities), not 0.
NO_OPPORTUNITIES_FUNNEL = {"period": ("opportunities", "won"),
                           "cohort": ("opportunity", "won", "opportunity_rate", "won_rate", "lead_to_opportunity_rate",
                                      "lead_to_won_rate", "skipped_sql")}


#: A lead stage date column -> the funnel's counts and rates of that stage (period counts, cohort counts and rates
#: into and out of it, the skipped count): undefined when no lead has that date (no_mql_dates / no_sql_dates), not 0
#: and not "every later lead" (helpers.metrics.pipeline.stage_dates_reason).
STAGE_DATES_FUNNEL = {"mql_at": {"period": ("mqls",), "cohort": ("mql", "mql_rate", "sql_rate", "skipped_mql")},
                      "sql_at": {"period": ("sqls",), "cohort": ("sql", "sql_rate", "opportunity_rate", "skipped_sql")}}


def _explain_funnel(funnel: dict, facts: DataFacts) -> dict:
    """A funnel dict ({period, cohort}) with the cohort's null_reasons (:func:`explain_cohort`); when no lead has an
    mql_at / sql_at, that stage's counts and rates null with no_mql_dates / no_sql_dates (:data:`STAGE_DATES_FUNNEL`);
    without an opportunities table, its opportunity counts and rates null with no_opportunities (that reason last:
    it wins)."""
    out = dict(funnel, cohort=explain_cohort(funnel.get("cohort")))
    # sql_at first: a rate between the two stages (sql_rate) says the earlier stage's reason
    nulls = [(STAGE_DATES_FUNNEL[column], code) for column, code in reversed(facts.stage_codes.items())]
    if facts.no_opportunities:
        nulls.append((NO_OPPORTUNITIES_FUNNEL, "no_opportunities"))
    for parts, code in nulls:
        for part, keys in parts.items():
            if isinstance(out.get(part), dict):
                section = dict(out[part])
                reasons = dict(section.get("null_reasons") or {})
                for key in keys:
                    if key in section:
                        section[key] = None
                        reasons[key] = code
                out[part] = dict(section, null_reasons=reasons)
    return out


#: :func:`_explain_funnel`, public: the period-over-period KPIs explain their funnel totals by the same rules.
explain_funnel = _explain_funnel


def _explain_row(row: dict, facts: DataFacts) -> dict:
    out = explain_pipeline(row, facts)
    funnel = out.get("funnel")
    if funnel:
        out["funnel"] = _explain_funnel(funnel, facts)
    return out


def explain_segment_row(row: dict, facts: DataFacts, has_leads: bool) -> dict:
    """A by_segment row explained as a channel row, and with the reason of the figures its column cannot split: every
    pipeline figure null with ``segment_not_in_opportunities`` when the column is a leads column only (the row's
    pipeline keys are all None: helpers.metrics.breakdown), ``funnel`` null with ``segment_not_in_leads`` when it is an
    opportunities column only and there are leads."""
    from helpers.metrics.pipeline import PIPELINE_KEYS

    out = _explain_row(row, facts)
    reasons = dict(out.get("null_reasons") or {})
    if row.get("opportunities_created") is None:
        reasons.update(dict.fromkeys(PIPELINE_KEYS, "segment_not_in_opportunities"))
    if row.get("funnel") is None and has_leads:
        reasons["funnel"] = "segment_not_in_leads"
    return dict(out, null_reasons=reasons) if reasons else out


def explain_core(core: dict, facts: DataFacts, leads_end=None) -> dict:
    """core_metrics' dict with null_reasons in pipeline, funnel cohort, every breakdown row, and a top-level one.

    The top-level ``null_reasons`` explains a whole section that is null: ``funnel``
    (no_leads: there is no leads table). When the leads table ends before the period
    starts (`leads_end` < start), the period funnel's lead counts are None with
    ``leads_not_covered``: the data cannot say how many leads came in, which is not 0.
    """
    out = dict(core)
    out["pipeline"] = explain_pipeline(core["pipeline"], facts)
    top = {}
    if core.get("funnel") is None:
        top["funnel"] = "no_leads"
    else:
        funnel = _explain_funnel(core["funnel"], facts)
        if leads_end is not None and pd.Timestamp(leads_end) < pd.Timestamp(core["start"]):
            period = dict(funnel["period"])
            for key in ("leads", "mqls", "sqls"):
                period[key] = None
            period["null_reasons"] = dict(period.get("null_reasons") or {},
                                          **dict.fromkeys(("leads", "mqls", "sqls"), "leads_not_covered"))
            funnel["period"] = period
        out["funnel"] = funnel
    out["by_channel"] = {k: _explain_row(v, facts) for k, v in core["by_channel"].items()}
    has_leads = core.get("funnel") is not None
    out["by_segment"] = {col: {k: explain_segment_row(v, facts, has_leads) for k, v in rows.items()}
                         for col, rows in core["by_segment"].items()}
    if top:
        out["null_reasons"] = top
    return out


def _null_interval() -> dict:
    return {"expected": None, "low_80": None, "high_80": None, "low_95": None, "high_95": None}


def explain_goals(section: dict, forecast: dict | None, facts: DataFacts) -> tuple[dict, dict | None]:
    """The goals section (helpers.metrics.goals.goals_section) and its forecast with the figures the data cannot
    support set to None and ``null_reasons`` added (new dicts; the inputs are not changed).

    Rules (codes of :data:`REASON_CODES`):

    - forecast: won_count and won_revenue need the data's win chances by deal age: null with
      ``no_lost_deals`` (every closed deal would count as won), ``one_created_at`` (no deal age) or
      ``nothing_closed`` (no closed deal to learn from), and first ``no_opportunities`` (no opportunities table);
      else won_revenue (and the revenue parts) null with ``no_amounts``. ``forecast.null_reasons``.
    - backtest (forecasts of won revenue): no rows, ``null_reasons.backtest`` = the first of
      no_lost_deals, one_created_at, nothing_closed, no_amounts that holds.
    - coverage: open_pipeline_amount, remaining_target, coverage and sufficient null with
      ``no_amounts``; win_rate, implied_coverage and sufficient null with ``no_lost_deals``.
    - reverse_funnel: every stage null with ``no_amounts`` (won deals = revenue ÷ average deal);
      else opportunities and the stages before it null with ``no_lost_deals`` (÷ win rate).
    - progress / targets: the won_revenue rows' actual, attainment (and a last-year target) null with
      ``no_amounts``; the won_revenue and won_count rows' with ``nothing_closed`` (reason key ``actual`` / ``target``);
      without an opportunities table those and the opportunities_created rows' with ``no_opportunities`` (a count
      of deals unknown, not 0).
    - coverage without an opportunities table: win_rate, implied_coverage and sufficient null with no_opportunities.
    """
    out = dict(section)
    whole = next((c for c in ("no_opportunities", "no_lost_deals", "one_created_at", "nothing_closed")
                  if getattr(facts, c)), None)
    out["forecast"], f = _explain_forecast(out.get("forecast"), forecast, facts, whole)
    bt_code = whole or facts.amounts_code
    if bt_code:
        out["backtest"] = {"interval_coverage_95": None, "mean_absolute_error": None, "periods": [],
                           "null_reasons": {"backtest": bt_code}}
    out["coverage"] = _explain_coverage(out["coverage"], facts)
    out["reverse_funnel"] = _explain_reverse_funnel(out["reverse_funnel"], facts)
    if facts.no_amounts or facts.nothing_closed or facts.no_opportunities:
        out["progress"], out["targets"] = _explain_progress(out["progress"], out["targets"], facts)
    return out, f


def _explain_forecast(section_forecast: dict | None, forecast: dict | None, facts: DataFacts,
                      whole: str | None) -> tuple[dict, dict | None]:
    """explain_goals's forecast rules: the goals section's forecast figures and the full forecast (new dicts), null
    where the data cannot support them: both won figures with the code `whole` (no_lost_deals, one_created_at or
    nothing_closed; the full forecast then None), else the revenue ones with no_amounts."""
    f = None if forecast is None else dict(forecast)
    fsec = dict(section_forecast or {})
    freasons = {}
    if whole:
        for key in ("won_count", "won_revenue"):
            fsec[key] = None
            freasons[key] = whole
        f = None
    elif facts.no_amounts:
        fsec["won_revenue"] = None
        freasons["won_revenue"] = facts.amounts_code
        if f is not None:
            f["won_revenue"] = _null_interval()
            f["parts"] = {k: (None if k.endswith("revenue") else v) for k, v in f["parts"].items()}
    if freasons:
        fsec["null_reasons"] = freasons
    return fsec, f


def _explain_coverage(coverage: dict, facts: DataFacts) -> dict:
    """explain_goals's coverage rules (a new dict): the amounts' figures null with no_amounts, the win rate's with
    no_lost_deals, each reason in null_reasons."""
    cov = dict(coverage)
    reasons = dict(cov.get("null_reasons") or {})
    if facts.no_amounts:
        for key in ("open_pipeline_amount", "remaining_target", "coverage", "sufficient"):
            cov[key] = None
            reasons[key] = facts.amounts_code
    code = "no_opportunities" if facts.no_opportunities else "no_lost_deals" if facts.no_lost_deals else None
    if code:
        for key in ("win_rate", "implied_coverage", "sufficient"):
            cov[key] = None
            reasons.setdefault(key, code)
        reasons["implied_coverage"] = code
        if facts.no_opportunities:   # no deals at all: before any other reason of the win rate (no_closed_deals)
            reasons["win_rate"] = code
    cov["null_reasons"] = reasons
    return cov


def _explain_reverse_funnel(reverse_funnel: dict, facts: DataFacts) -> dict:
    """explain_goals's reverse funnel rules (new dicts): every stage null with no_amounts, else every stage but
    won_count with no_lost_deals, those before the reasons the funnel already has (no_mql_dates, no_sql_dates);
    null_reasons only when one is null."""
    rf = {k: dict(v) for k, v in reverse_funnel.items() if k != "null_reasons"}
    rf_reasons = dict(reverse_funnel.get("null_reasons") or {})   # the stage dates' (goals_plan.stage_step_reasons)
    for key in rf:
        code = facts.amounts_code if facts.no_amounts else ("no_lost_deals" if facts.no_lost_deals and key != "won_count" else None)
        if code:
            rf[key] = {"expected": None, "low_95": None, "high_95": None}
            rf_reasons[key] = code
    if rf_reasons:
        rf["null_reasons"] = rf_reasons
    return rf


def _explain_progress(progress: list[dict], targets: list[dict], facts: DataFacts) -> tuple[list[dict], list[dict]]:
    """explain_goals's progress and targets rules (new lists): the won_revenue rows' actual and attainment (and a
    last-year target) null with no_amounts; the won_revenue and won_count rows' with nothing_closed."""
    if facts.no_amounts:
        progress = [dict(r, actual=None, attainment=None, null_reasons={"actual": facts.amounts_code})
                    if r["metric"] == "won_revenue" else r for r in progress]
        targets = [dict(r, target=None, null_reason=facts.amounts_code)
                   if r["metric"] == "won_revenue" and r["source"] == "last_year" else r for r in targets]
    if facts.nothing_closed:   # an export of open deals cannot tell what was won: not 0
        won = ("won_revenue", "won_count")
        progress = [dict(r, actual=None, attainment=None, null_reasons={"actual": "nothing_closed"})
                    if r["metric"] in won else r for r in progress]
        targets = [dict(r, target=None, null_reason="nothing_closed")
                   if r["metric"] in won and r["source"] == "last_year" else r for r in targets]
    if facts.no_opportunities:   # no deals table: every count and sum of deals unknown, not 0
        deals = ("won_revenue", "won_count", "opportunities_created")
        progress = [dict(r, actual=None, attainment=None, null_reasons={"actual": "no_opportunities"},
                         **({"target": None} if r["source"] == "last_year" else {}))
                    if r["metric"] in deals else r for r in progress]
        targets = [dict(r, target=None, null_reason="no_opportunities")
                   if r["metric"] in deals and r["source"] == "last_year" else r for r in targets]
    return progress, targets


# --------------------------------------------------------------------------- warnings
def ingest_warnings(data_dir) -> list[dict]:
    """The ``warnings`` of the data folder's ingest_report.json (written by helpers.data.ingest), as
    ``{code, message, count, file, source: "ingest"}``; [] when there is no such file.

    A report that is not valid JSON is itself a warning (code ``ingest_report_unreadable``):
    the data still loads, but what the ingest found cannot be shown. ``params`` are the record's
    (what fills its sentence in the label table); {} when the record has none.
    """
    from helpers.errors import warning

    path = Path(data_dir) / INGEST_REPORT
    if not path.is_file():
        return []
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        items = record.get("warnings") or []
    except (ValueError, AttributeError, OSError) as exc:
        w = warning(INGEST_REPORT, "ingest_report_unreadable", error=type(exc).__name__)
        return [{"code": w.code, "message": w.message, "count": 0, "file": INGEST_REPORT, "source": "ingest", "column": "",
                 "rows": "", "fix": w.fix, "params": w.params}]
    out = []
    for w in items:
        if not isinstance(w, dict) or not w.get("code"):
            continue
        count = w.get("count")
        count = int(count) if isinstance(count, (int, float)) and count == count else 0
        params, message = w.get("params"), str(w.get("message") or "")
        if w["code"] == "footer_dropped" and not (isinstance(params, dict) and "footer_rows" in params):
            # an older ingest quoted the footer's lines ("Generated By: <name>"): said again from its rows alone
            rows = ", ".join(str(r) for r in w.get("rows") or [] if isinstance(r, int)) or "?"
            fresh = warning(str(w.get("file") or INGEST_REPORT), "footer_dropped", count=count, footer_rows=rows)
            params, message = fresh.params, fresh.message
        out.append({"code": str(w["code"]), "message": message, "count": count,
                    "file": str(w.get("file") or INGEST_REPORT), "source": "ingest",
                    "column": str(w.get("column") or ""), "rows": "", "fix": str(w.get("fix") or ""),
                    "params": {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}})
    return out


def warnings_list(load_findings, ingest: list[dict]) -> list[dict]:
    """Every ingest and load warning as ``{code, message, count, file, source, column, rows, fix}``, the data-wide facts first.

    Order: the load warnings whose code is a data-wide fact (no_lost_deals first, as the
    report must say before anything else), then the ingest warnings, then the other load
    warnings. A load warning with the same code as an ingest warning, or one the ingest's says more precisely
    (helpers.errors.SAID_BY_INGEST: no_opportunities after leads_only_export), is left out (the
    ingest saw the export before any adjustment, so its message is the one to read), except
    the ingest's bulk-load warning about the leads, which is not the loader's about the opportunities.
    """
    from helpers.errors import said_by_ingest

    facts_order = ("no_lost_deals", "lost_amounts_zero", "no_amounts", "one_created_at")
    ingest_codes = {w["code"] for w in ingest if not about_leads(w)}
    load = [{"code": f.code, "message": f.message, "count": int(f.count), "file": f.file, "source": "load",
             "column": f.column or "", "fix": f.fix, "params": dict(f.params),
             "rows": where_shown(f)}
            for f in load_findings if f.severity == "warning"]
    load = [w for w in load if not said_by_ingest(w["code"], ingest_codes)]
    first = sorted((w for w in load if w["code"] in facts_order), key=lambda w: facts_order.index(w["code"]))
    rest = [w for w in load if w["code"] not in facts_order]
    return first + list(ingest) + rest


def where_shown(f) -> str:
    """The rows a finding names as a report shows them ("3, 7 (+2)"), or, for a warehouse's finding (no rows), its
    first ids ("id L4, L9 (+2)"); empty when it names neither."""
    shown = f.rows or f.ids
    if not shown:
        return ""
    text = ", ".join(map(str, shown)) + (f" (+{f.count - len(shown)})" if f.count > len(shown) else "")
    return text if f.rows else f"id {text}"


# --------------------------------------------------------------------------- coverage
def data_end_of(as_of, last_record):
    """Where the data ends for coverage: `as_of`, or the data's last record date `last_record` (the latest date in
    any date column of the leads and opportunities; None: not known) when that is more than :data:`LEADS_GAP_DAYS`
    days before as_of. An as_of months past the last record adds no data (the export ended there: a period it cuts
    is partial), while a shorter quiet spell before as_of (a weekend, a holiday at a quarter's end) is a quiet
    spell, as for ``leads_partial``: the period is covered to as_of, as the user's snapshot date says."""
    if last_record is None or pd.isna(last_record):
        return as_of
    last = pd.Timestamp(last_record).normalize()
    return last if last < pd.Timestamp(as_of).normalize() - pd.Timedelta(days=LEADS_GAP_DAYS) else as_of


def coverage(data_start, data_end, start, end, leads_end=None) -> dict:
    """How much of period [start, end] the data covers: ``{data_start, data_end, partial, leads_end}``.

    ``data_start`` = the later of the first data date and the period start, ``data_end`` =
    the earlier of `data_end` (as_of, or the data's last record date a month before it: :func:`data_end_of`) and the
    period end; ``partial`` = the data starts
    after the period starts or ends before it ends. ``leads_end`` is the last lead
    created_at (None without a leads table); ``leads_partial``: the last lead is more than
    :data:`LEADS_GAP_DAYS` days before min(as_of, period end): a month without a single lead at
    the end of the data means the leads export ended, and the lead counts after it are missing,
    not zero (the report says so instead of showing 0 leads).
    """
    first, last, start, end = (pd.Timestamp(x).normalize() for x in (data_start, data_end, start, end))
    out = {"data_start": max(first, start), "data_end": min(last, end), "partial": bool(first > start or last < end)}
    out["leads_end"] = None if leads_end is None or pd.isna(leads_end) else pd.Timestamp(leads_end).normalize()
    out["leads_partial"] = bool(out["leads_end"] is not None
                                and out["leads_end"] < min(last, end) - pd.Timedelta(days=LEADS_GAP_DAYS))
    return out



def source_dates(source) -> tuple:
    """(the earliest created_at of the opportunities and leads, the latest lead created_at or None) of a
    :class:`helpers.metrics.source.Source`, as Timestamps (helpers.data.load.first_data_date's first date; None
    when no row has a created_at). Fetched once per source (:func:`helpers.metrics.source.memoized`)."""
    return _source_extent(source)[:2]


def source_last_date(source):
    """The data's last record date of a :class:`helpers.metrics.source.Source`: the latest date in any date column of
    the leads and opportunities, not an open deal's closed_at (helpers.data.load.last_data_date's,
    helpers.data.checks_engine.record_dates), a Timestamp, None when no row has one."""
    return _source_extent(source)[2]


def _source_extent(source) -> tuple:
    """(first created_at, last lead created_at, last date of any date column), one aggregate row a table, once per source."""
    from helpers.metrics.source import memoized

    return memoized(source, ("source_dates",), lambda: _extent(source))


def _extent(source) -> tuple:
    from helpers.data.checks_engine import record_dates

    tables = [("opportunities", source.opps())] + ([("leads", source.leads())] if source.has_leads else [])
    first, latest, last_lead = [], [], None
    for name, t in tables:
        dates = {c: e for c, e in record_dates(t, name).items() if c != "created_at"}  # not an open deal's closed_at
        row = source.fetch(t.aggregate(lo=t.created_at.cast("date").min(), hi=t.created_at.cast("date").max(),
                                       **{f"d{i}": e.cast("date").max() for i, e in enumerate(dates.values())})).to_pylist()[0]
        first.append(row.pop("lo"))
        latest += [v for v in row.values() if v is not None]   # the last created_at ("hi") is a record date too
        if name == "leads":
            last_lead = None if row["hi"] is None else pd.Timestamp(row["hi"])
    known = [pd.Timestamp(d) for d in first if d is not None]
    return (min(known) if known else None), last_lead, (max(pd.Timestamp(d) for d in latest) if latest else None)


# --------------------------------------------------------------------------- dates running backwards
def negative_intervals(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of) -> dict:
    """Linked lead -> opportunity pairs (both created on or before as_of) whose dates run backwards.

    - ``opportunity_before_lead``: the opportunity was created before its lead;
    - ``won_before_lead``: the opportunity was won (closed_at) before its lead was created.

    These rows are left out of every time-to-convert measure (never counted as 0 days).
    Zeros without a leads table. :func:`helpers.metrics.health_engine.negative_intervals_of` on the frames.
    """
    from helpers.metrics.health_engine import negative_intervals_of
    from helpers.metrics.source import FrameSource

    return negative_intervals_of(FrameSource(leads, opps), as_of)


# --------------------------------------------------------------------------- a whole workbook
def workbook_warnings(wb, source=None) -> list[dict]:
    """Every warning about a loaded workbook: :func:`warnings_list` of its load findings and its
    data folder's ingest report, then the rows whose dates run backwards (:func:`negative_intervals`,
    codes ``opportunity_before_lead`` / ``won_before_lead``) and the checklist answers dated after
    as_of (code ``checklist_after_as_of``), each with its count. Messages and fixes in English
    (metrics.json); :func:`warning_sentences` gives them in a report's language. Display names of channels no row
    has (setting labels.channels, code ``channel_name_unknown``) come from the run's settings, after the load
    warnings. The figures over the leads, opportunities and touches (negative intervals, the channels the data has)
    are engine queries on `source` (a :class:`helpers.metrics.source.Source`, default the workbook's frames)."""
    from helpers.errors import warning
    from helpers.metrics.health_engine import channel_values_of, negative_intervals_of, touch_channels_of
    from helpers.metrics.source import FrameSource

    def checked(code: str, file: str, column: str, count: int, **params) -> dict:
        w = warning(file, code, column, count=count, **params)
        return {"code": code, "message": w.message, "count": count, "file": file, "source": "data", "column": column,
                "rows": "", "fix": w.fix, "params": w.params}

    from helpers.data.channels import check_channel_names, check_marketing_channels
    from helpers.metrics.attribution_paths import settings as attribution_settings

    # the workbook's frames as they are: these counts need no target fit (helpers.metrics.core.workbook_source's key)
    source = source if source is not None else FrameSource(wb.leads, wb.opportunities, wb.touches,
                                                           has_opportunities=wb.has_opportunities)
    channels = pd.DataFrame({"channel": pd.Series(channel_values_of(source), dtype=object)})   # one row per spelling
    names = check_channel_names(wb.config.settings_channel_names, (channels, wb.spend),   # never the shipped names
                                wb.config.channel_names_from)   # the run's settings, not the cached load's
    names += check_marketing_channels(attribution_settings(wb.config)["marketing_channels"], touch_channels_of(source),
                                      wb.config.channel_names)
    out = warnings_list([*wb.findings, *names], ingest_warnings(wb.data_dir))
    for code, count in negative_intervals_of(source, wb.as_of).items():
        if code != "null_reasons" and count:   # None without an opportunities table: nothing to warn of
            out.append(checked(code, "leads / opportunities", "created_at / closed_at", count))
    if wb.checklist is not None and len(wb.checklist):
        late = int((dates(wb.checklist, "answered_on") > day(wb.as_of)).sum())
        if late:
            out.append(checked("checklist_after_as_of", "checklist", "answered_on", late, as_of=f"{wb.as_of:%Y-%m-%d}"))
    out += _target_sizes_unmatched(wb, source, checked)
    return out


def _target_sizes_unmatched(wb, source, checked) -> list[dict]:
    """The warning ``target_sizes_unmatched`` when the settings name target company sizes and no known company_size
    of the leads or opportunities is one of them (every deal of known size would be 'Outside target'): it names the
    data's values (up to 10) and the fix. Sizes are compared as text, as the target fit does
    (helpers.metrics.breakdown.target_fit); headcounts are never put in ranges here."""
    from helpers.metrics.health_engine import value_counts_of

    targets = [str(x).strip() for x in wb.config.target_company_sizes]
    if not targets:
        return []
    counts = value_counts_of(source, "company_size")
    values = [str(v) for v in counts.get("value", []) if str(v) != "unknown"]
    if not values or set(values) & set(targets):
        return []
    shown = ", ".join(values[:10]) + (", ..." if len(values) > 10 else "")
    return [checked("target_sizes_unmatched", "settings", "company_size", 0, targets=", ".join(targets), sizes=shown,
                    example=", ".join(values[:2]))]


def warning_sentences(w: dict, lang: str) -> tuple[str, str]:
    """(sentence, fix) of one warning of :func:`workbook_warnings` in `lang`, from the label table by its code and
    params (helpers.errors.warning_text). A record the label cannot be filled from (an ingest_report.json written
    before the ingest recorded params, or a code this version does not know) keeps its own English text."""
    from helpers.errors import recorded, warning_text

    params = w.get("params") or {}
    params = {k: recorded(params, k) for k in params if not k.endswith("_ja")}   # a text recorded in both languages: said in lang
    try:
        return warning_text(w["code"], params, lang, w.get("count") or 0, w.get("file") or "", w.get("column") or "")
    except (KeyError, IndexError, ValueError):
        return w["message"], w.get("fix") or ""


def workbook_facts(wb, source=None) -> DataFacts:
    """:func:`data_facts` of a loaded workbook (its opportunities, as_of and warning codes); with `source` (a
    :class:`helpers.metrics.source.Source`), the opportunities' facts are computed there (:func:`data_facts_of`)."""
    codes = warning_codes(wb)
    if source is not None:
        return data_facts_of(source, wb.as_of, codes)
    return with_stage_facts(data_facts(wb.opportunities, wb.as_of, codes), stage_dates_of_frame(wb.leads))


def warning_codes(wb) -> list[str]:
    """The codes of the workbook's load warnings and of its ingest's warnings (but the leads' bulk-load one:
    :func:`about_leads`), which :func:`data_facts` reads."""
    return ([f.code for f in wb.findings if f.severity == "warning"]
            + [w["code"] for w in ingest_warnings(wb.data_dir) if not about_leads(w)])


def about_leads(w: dict) -> bool:
    """True for the ingest's bulk-load warning about the leads' created_at (params variant "leads"): it says nothing
    about the opportunities' cycle, so it neither nulls it nor stands in for the loader's own warning about them."""
    return w["code"] in BULK_CODES and (w.get("params") or {}).get("variant") == "leads"

