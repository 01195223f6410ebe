"""Velocity per fiscal quarter and its seasonal profile (contract section 3, "Before/after velocity").

:func:`quarterly_velocity_of`: velocity and its factors per complete fiscal quarter, as engine aggregates of a
Source; :func:`seasonal_profile`: each fiscal quarter's velocity relative to its year's mean (STL), quoted by the
different_seasons caveat and shown by notebook 03. helpers.metrics.velocity still exports every public name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.periods import complete_periods
from helpers.metrics.pipeline import PIPELINE_KEYS, pipeline_metrics_windows_of


def quarterly_velocity(opps: pd.DataFrame, as_of, fiscal_year_start_month: int = 1) -> pd.DataFrame:
    """Velocity and its factors per complete fiscal quarter (:func:`quarterly_velocity_of` on the frame)."""
    from helpers.metrics.source import FrameSource

    return quarterly_velocity_of(FrameSource(None, opps), as_of, fiscal_year_start_month)


def quarterly_velocity_of(source, as_of, fiscal_year_start_month: int = 1) -> pd.DataFrame:
    """Velocity and its factors per complete fiscal quarter: every quarter from the first with all its days on or after the first opportunity's created_at to the last ending on or before as_of.

    Columns: label, start, end, fiscal_year, quarter, then the pipeline keys
    (``open_pipeline`` flattened to open_pipeline_count and
    open_pipeline_amount); a null metric is NaN. Empty (same columns) when no
    quarter is complete. Computed once per source, as_of and fiscal year (:meth:`helpers.metrics.source.Source.memo`;
    notebook 03's trend, seasonal profile, STL and comparison all read it); every call gets its own copy.
    """
    from helpers.metrics.source import memoized

    return memoized(source, ("quarterly_velocity", pd.Timestamp(as_of), fiscal_year_start_month),
                    lambda: _quarterly_velocity(source, as_of, fiscal_year_start_month)).copy()


def _quarterly_velocity(source, as_of, fiscal_year_start_month: int) -> pd.DataFrame:
    keys = [k for k in PIPELINE_KEYS if k != "open_pipeline"]
    columns = ["label", "start", "end", "fiscal_year", "quarter", *keys, "open_pipeline_count", "open_pipeline_amount"]
    from helpers.metrics.velocity_engine import first_created

    first = first_created(source, as_of)
    rows = []
    periods = complete_periods(first, as_of, fiscal_year_start_month)
    every = pipeline_metrics_windows_of(source, [(period.start, period.end) for period in periods], as_of)  # one query
    for period, metrics in zip(periods, every):
        row = {"label": period.label, "start": period.start, "end": period.end,
               "fiscal_year": period.fiscal_year, "quarter": period.quarter}
        for key in keys:
            row[key] = np.nan if metrics[key] is None else metrics[key]
        row["open_pipeline_count"] = metrics["open_pipeline"]["count"]
        row["open_pipeline_amount"] = metrics["open_pipeline"]["amount"]
        rows.append(row)
    frame = pd.DataFrame(rows, columns=columns)
    for key in ("win_rate", "win_rate_by_amount", "won_revenue", "avg_deal_size", "sales_cycle_days",
                "sales_velocity", "open_pipeline_amount"):
        frame[key] = frame[key].astype("float64")
    return frame


def seasonal_profile(quarterly: pd.DataFrame, min_years: int = 2) -> dict:
    """Seasonal profile of velocity: for each fiscal quarter 1-4, the mean over full fiscal years of its velocity ÷ that year's mean quarterly velocity; plus an STL decomposition (period 4, robust) when at least min_years × 4 consecutive quarters have a velocity.

    A full fiscal year has all four quarters in ``quarterly`` with a known
    velocity and a positive mean. Returns ``{profile: {1: r1, .., 4: r4},
    years_used, stl, reason}``: profile values are None without a full year;
    ``stl`` is a DataFrame (label, start, observed, trend, seasonal, resid)
    over the latest run of consecutive quarters with a velocity, or None;
    ``reason`` says what could not be computed (and that a profile from fewer
    than min_years years cannot separate season from trend), None when both
    were computed from enough years.
    """
    profile: dict = {q: None for q in (1, 2, 3, 4)}
    reasons = []
    ratios: dict[int, list[float]] = {q: [] for q in (1, 2, 3, 4)}
    years_used = 0
    frame = quarterly if quarterly is not None else pd.DataFrame()
    if len(frame):
        velocity_ = pd.to_numeric(frame["sales_velocity"], errors="coerce")
        for _, group in frame.assign(_v=velocity_).groupby("fiscal_year", sort=True):
            if sorted(group["quarter"].tolist()) != [1, 2, 3, 4] or group["_v"].isna().any():
                continue
            mean = float(group["_v"].mean())
            if mean <= 0:
                continue
            years_used += 1
            for q, v in zip(group["quarter"], group["_v"]):
                ratios[int(q)].append(float(v) / mean)
    if years_used:
        profile = {q: float(np.mean(values)) for q, values in ratios.items()}
        if years_used < min_years:
            reasons.append(f"The quarterly profile uses {years_used} full fiscal year(s) only (fewer than "
                           f"{min_years}): one year's pattern cannot separate season from trend.")
    else:
        reasons.append("No full fiscal year (four complete quarters, each with a measurable velocity), "
                       "so there is no quarterly profile.")

    stl_frame = None
    needed = 4 * int(min_years)
    run = _latest_run(frame)
    if len(run) >= needed:
        from statsmodels.tsa.seasonal import STL

        series = pd.Series(run["sales_velocity"].astype("float64").to_numpy(), index=pd.RangeIndex(len(run)))
        fit = STL(series, period=4, robust=True).fit()
        stl_frame = pd.DataFrame({
            "label": run["label"].to_numpy(), "start": run["start"].to_numpy(),
            "observed": series.to_numpy(), "trend": fit.trend.to_numpy(),
            "seasonal": fit.seasonal.to_numpy(), "resid": fit.resid.to_numpy(),
        })
    else:
        reasons.append(f"The STL decomposition needs at least {needed} consecutive complete quarters "
                       f"({min_years} years) with a measurable velocity; there are {len(run)}.")
    return {"profile": profile, "years_used": years_used, "stl": stl_frame,
            "reason": " ".join(reasons) if reasons else None}


def _latest_run(quarterly: pd.DataFrame) -> pd.DataFrame:
    """The latest run of consecutive rows with a known velocity."""
    if quarterly is None or not len(quarterly):
        return pd.DataFrame(columns=["label", "start", "sales_velocity"])
    known = pd.to_numeric(quarterly["sales_velocity"], errors="coerce").notna().to_numpy()
    end = len(known)
    while end and not known[end - 1]:
        end -= 1
    first = end
    while first and known[first - 1]:
        first -= 1
    return quarterly.iloc[first:end]
