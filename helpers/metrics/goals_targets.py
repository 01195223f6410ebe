"""The goals of a period (notebook 04): targets (targets.csv, else last year's actual), their plausibility notes and
the progress against them. Definitions: docs/glossary.md, "Shared goals".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.periods import Period
from helpers.data.schema import DEFAULT_DEPARTMENT, TARGET_METRICS
from helpers.metrics.goals_constants import IMPLAUSIBLE_RATIO, TEN_THOUSAND_CURRENCIES, UNIT_SLIPS, WARMUP_DAYS
from helpers.metrics.goals_data import GoalData, frames_data
from helpers.metrics.pipeline import dates, day, ratio, stage_dates_of_frame, stage_dates_reason


def actual(leads: pd.DataFrame | None, opps: pd.DataFrame, metric: str, start, end, as_of, channel: str | None = None):
    """The actual of a target metric in [start, min(end, as_of)] (one channel when given); None for a lead metric without leads."""
    return actual_of(frames_data(leads, opps, as_of), metric, start, end, channel)


def actual_of(data: GoalData, metric: str, start, end, channel: str | None = None):
    """:func:`actual` of a :class:`helpers.metrics.goals_data.GoalData` (a window of its batch)."""
    if metric not in TARGET_METRICS:
        raise KeyError(f"unknown target metric {metric!r}; use one of {', '.join(TARGET_METRICS)}")
    if metric in ("won_revenue", "won_count", "opportunities_created"):
        return data.pipeline(start, end, channel)[metric]
    counts = data.lead_counts(start, end, channel)
    return None if counts is None else counts[metric]


def covered(first_date, period: Period, metric: str | None = None) -> bool:
    """True when the data covers the period well enough to serve as a target: it starts at least WARMUP_DAYS after
    the first data date, for every metric (`metric` is kept for callers; the rule is one): in its first months an
    export holds only part of the pipeline (deals won then began before it; a CRM taken into use fills up slowly),
    so a figure of that time would make a too-low target (3 opportunities giving "900%")."""
    if first_date is None or pd.isna(first_date):
        return False
    return period.start >= day(first_date) + pd.Timedelta(days=WARMUP_DAYS)


#: The lead metrics of a goal and the stage date each one counts (None: the lead's created_at).
LEAD_STAGE_COLUMN = {"leads": None, "mqls": "mql_at", "sqls": "sql_at"}


def lead_metric_gap(leads: pd.DataFrame | None, metric: str, period: Period) -> str | None:
    """Why a lead metric's count of `period` is unknown, or None when it can be counted: ``no_leads_table``,
    ``leads_not_covered`` (the leads table ends before the period starts: unknown, not 0), ``no_mql_dates`` /
    ``no_sql_dates`` (no lead carries the stage's date, e.g. no sql_at at all: the CRM does not record the stage; the one
    rule :func:`helpers.metrics.pipeline.stage_dates_reason`)."""
    facts = None if leads is None else {"last": dates(leads, "created_at").max(), **stage_dates_of_frame(leads)}
    return lead_gap(facts, metric, period)


def lead_gap(lead_facts: dict | None, metric: str, period: Period) -> str | None:
    """:func:`lead_metric_gap` from the leads' facts (helpers.metrics.goals_data.GoalData.facts: last created_at, leads
    carrying an mql_at / sql_at; None without a leads table)."""
    if metric not in LEAD_STAGE_COLUMN:
        return None
    if lead_facts is None:
        return "no_leads_table"
    last_lead = lead_facts["last"]
    if last_lead is None or pd.isna(last_lead) or last_lead < day(period.start):
        return "leads_not_covered"
    column = LEAD_STAGE_COLUMN[metric]
    return None if column is None else stage_dates_reason(column, lead_facts[column])


def targets_for(leads, opps, targets: pd.DataFrame | None, period: Period, as_of, first_date) -> list[dict]:
    """:func:`targets_for_of` of pandas frames."""
    return targets_for_of(frames_data(leads, opps, as_of), targets, period, first_date)


def targets_windows(period: Period) -> list[tuple]:
    """The windows :func:`targets_for_of` reads: the same period a year earlier, every channel."""
    last = period.shift(-4)
    return [(last.start, last.end, None)]


def given_goals(targets: pd.DataFrame | None, period: Period) -> list[dict]:
    """The targets.csv rows of the period as goals (:func:`targets_for_of`'s rows, source ``targets.csv``), in file order."""
    rows = []
    if targets is not None and len(targets):
        mine = targets[targets["period"].astype(str).str.strip() == period.label]
        for r in mine.itertuples(index=False):
            channel = getattr(r, "channel", None)
            channel = None if channel is None or pd.isna(channel) else str(channel)
            dept = getattr(r, "department", None)
            dept = DEFAULT_DEPARTMENT[r.metric] if dept is None or pd.isna(dept) else str(dept)
            rows.append({"period": period.label, "metric": r.metric, "department": dept, "channel": channel,
                         "target": float(r.target), "source": "targets.csv", "null_reason": None})
    return rows


def targets_for_of(data: GoalData, targets: pd.DataFrame | None, period: Period, first_date) -> list[dict]:
    """The goals of the period: every targets.csv row of the period (source ``targets.csv``), and for each
    metric without an all-channel row there, the actual of the same period a year earlier (source ``last_year``).

    Rows: {period, metric, department, channel, target, source, null_reason}, in TARGET_METRICS order. A
    last-year goal is None with null_reason ``no_data_last_year`` when the data does not cover that period,
    ``warmup_last_year`` when its year-earlier period lies in the data's first WARMUP_DAYS (:func:`covered`, every
    metric), else a lead metric's :func:`lead_metric_gap` (``no_leads_table``, ``leads_not_covered``, ``no_mql_dates``,
    ``no_sql_dates``).
    """
    rows = given_goals(targets, period)
    given = {r["metric"] for r in rows if r["channel"] is None}
    last = period.shift(-4)
    for metric in TARGET_METRICS:
        if metric in given:
            continue
        value, reason = None, None
        if not covered(first_date, last, metric):
            # inside the data but in its first WARMUP_DAYS: the export may not hold that time's pipeline yet
            inside = first_date is not None and not pd.isna(first_date) and last.start >= day(first_date)
            reason = "warmup_last_year" if inside else "no_data_last_year"
        else:
            reason = lead_gap(data.facts()["leads"], metric, last)
            value = None if reason else actual_of(data, metric, last.start, last.end)
            reason = reason or ("no_leads_table" if value is None else None)
        rows.append({"period": period.label, "metric": metric, "department": DEFAULT_DEPARTMENT[metric], "channel": None,
                     "target": None if value is None else float(value), "source": "last_year", "null_reason": reason})
    order = {m: i for i, m in enumerate(TARGET_METRICS)}
    return sorted(rows, key=lambda r: (order[r["metric"]], r["channel"] or ""))


def unit_slip(target, last_year, currency: str = "JPY") -> dict | None:
    """The plausibility note of a won_revenue goal against last year's won revenue of the same period (and channel):
    None when the goal is plausible (or either figure is missing or not positive), else {ratio (last year ÷ goal),
    power (k of the likely slip 10^k, or None), unit (UNIT_SLIPS[k] or "")}.

    Implausible: goal × IMPLAUSIBLE_RATIO < last year. The likely unit: the slip 10^k of UNIT_SLIPS (10^4 only for
    TEN_THOUSAND_CURRENCIES) within half a decade of the ratio, i.e. |log10(ratio) − k| <= 0.5; else none is named.
    """
    if target is None or last_year is None or not target > 0 or not last_year > 0:
        return None
    ratio = float(last_year) / float(target)
    if ratio <= IMPLAUSIBLE_RATIO:
        return None
    powers = [k for k in UNIT_SLIPS if k != 4 or str(currency).upper() in TEN_THOUSAND_CURRENCIES]
    near = [k for k in powers if abs(np.log10(ratio) - k) <= 0.5]
    power = min(near, key=lambda k: abs(np.log10(ratio) - k)) if near else None
    return {"ratio": ratio, "power": power, "unit": UNIT_SLIPS[power] if power is not None else ""}


def target_notes(leads, opps, goals: list[dict], period: Period, as_of, first_date, currency: str = "JPY") -> list[dict]:
    """:func:`target_notes_of` of pandas frames."""
    return target_notes_of(frames_data(leads, opps, as_of), goals, period, first_date, currency)


def notes_windows(goals: list[dict], period: Period) -> list[tuple]:
    """The windows :func:`target_notes_of` may read: last year's period in each targets.csv won_revenue goal's channel."""
    last = period.shift(-4)
    return [(last.start, last.end, g["channel"]) for g in goals if g["metric"] == "won_revenue" and g["source"] == "targets.csv"]


def target_notes_of(data: GoalData, goals: list[dict], period: Period, first_date, currency: str = "JPY") -> list[dict]:
    """Plausibility notes on the period's targets.csv won_revenue goals (:func:`unit_slip`), against the won revenue
    of the same period a year earlier in the same channel (only when the data covers it, :func:`covered`).

    Rows: {metric, channel, code ``target_unit_suspect``, variant (the unit, "" when none is likely), target,
    last_year, ratio, scaled (target × 10^power, None without a unit)}.
    """
    last = period.shift(-4)
    if not covered(first_date, last, "won_revenue"):
        return []
    notes = []
    for g in goals:
        if g["metric"] != "won_revenue" or g["source"] != "targets.csv":
            continue
        before = actual_of(data, "won_revenue", last.start, last.end, g["channel"])
        slip = unit_slip(g["target"], before, currency)
        if slip is not None:
            notes.append({"metric": g["metric"], "channel": g["channel"], "code": "target_unit_suspect",
                          "variant": slip["unit"], "target": g["target"], "last_year": float(before),
                          "ratio": slip["ratio"],
                          "scaled": None if slip["power"] is None else g["target"] * 10 ** slip["power"]})
    return notes


def data_channels(*frames) -> set[str]:
    """The channel labels the leads, opportunities and spend tables hold (None = an absent table)."""
    present: set[str] = set()
    for frame in frames:
        if frame is not None and "channel" in frame.columns:
            present |= {str(v) for v in frame["channel"].dropna().unique()}
    return present


def elapsed_share(period: Period, as_of) -> float:
    """Share of the period's days elapsed on as_of: days from start to min(end, as_of), both included, / days in the period (0 before it starts)."""
    done = (min(day(as_of), period.end) - period.start).days + 1
    return float(min(max(done, 0), period.days)) / period.days


def progress(leads, opps, goals: list[dict], period: Period, as_of, spend: pd.DataFrame | None = None) -> list[dict]:
    """:func:`progress_of` of pandas frames."""
    return progress_of(frames_data(leads, opps, as_of), goals, period, spend)


def progress_windows(goals: list[dict], period: Period) -> list[tuple]:
    """The windows :func:`progress_of` reads: the period in each goal's channel."""
    return [(period.start, period.end, g["channel"]) for g in goals]


def progress_of(data: GoalData, goals: list[dict], period: Period, spend: pd.DataFrame | None = None) -> list[dict]:
    """Each goal against the actual to date: {metric, department, channel, source, target, actual, attainment, elapsed_share}.

    attainment = actual / target (None when the target is None or 0, or the actual is unknown). A goal for a channel
    no lead, opportunity or spend row has (:func:`data_channels`) has actual and attainment None and
    ``null_reasons`` {actual: ``channel_not_in_data``}: a missed goal it is not (the loader warned,
    ``target_channel_unknown``). A lead metric the data cannot count in the period (:func:`lead_metric_gap`: no
    leads table, leads ending before the period, no stage dates) has actual and attainment None with that reason.
    """
    share = elapsed_share(period, data.as_of)
    present = (data.channels() | data_channels(spend)) if any(g["channel"] is not None for g in goals) else set()
    rows = []
    for g in goals:
        if g["channel"] is not None and g["channel"] not in present:
            rows.append({"metric": g["metric"], "department": g["department"], "channel": g["channel"], "source": g["source"],
                         "target": g["target"], "actual": None, "attainment": None, "elapsed_share": share,
                         "null_reasons": {"actual": "channel_not_in_data"}})
            continue
        gap = lead_gap(data.facts()["leads"], g["metric"], period)
        if gap:
            rows.append({"metric": g["metric"], "department": g["department"], "channel": g["channel"], "source": g["source"],
                         "target": g["target"], "actual": None, "attainment": None, "elapsed_share": share,
                         "null_reasons": {"actual": gap}})
            continue
        value = actual_of(data, g["metric"], period.start, period.end, g["channel"])
        rows.append({"metric": g["metric"], "department": g["department"], "channel": g["channel"], "source": g["source"],
                     "target": g["target"], "actual": value, "attainment": ratio(value, g["target"]) if g["target"] else None,
                     "elapsed_share": share})
    return rows


def main_goal(goals: list[dict], metric: str = "won_revenue") -> float | None:
    """The all-channel goal of `metric` (None when there is none or it is unknown)."""
    for g in goals:
        if g["metric"] == metric and g["channel"] is None:
            return g["target"]
    return None
