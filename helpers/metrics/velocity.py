"""Before/after sales velocity around an alignment initiative (contract section 3, "Before/after velocity").

"Did the initiative work?" answered honestly: the pipeline metrics of the W
days before and after the initiative's start S, the same two windows one year
earlier as a seasonal baseline, an exact split of the change in velocity into
its four factors (LMDI), bootstrap intervals, written caveats and a conclusion
that never claims more than the intervals support.

Every metric of a window is :func:`helpers.metrics.pipeline.pipeline_metrics` on that
window (nothing here redefines a pipeline metric). Pure functions: the frames
passed in are never changed; dict results hold plain Python values (int,
float, None, str, list, dict; dates as Timestamps) ready for ``metrics.json``.

Conventions (the glossary, docs/glossary.md, section "Before/after velocity", uses the same words):

- a window is ``[start, end]``, both dates inclusive, exactly W days long; like
  a period it is cut at ``min(end, as_of)`` (nothing after as_of counts);
- a *change* is a fraction: after / before − 1 (0.2 = +20%); null when before
  is 0 or null, or after is null;
- velocity V = N × A × W ÷ C with N = opportunities_created, A =
  avg_deal_size, W = win_rate, C = sales_cycle_days (revenue per day).
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from helpers.data.periods import complete_periods, period_of
from helpers.errors import WorkbookError
from helpers.metrics.pipeline import (
    PIPELINE_KEYS,
    day,
    last_day,
    pipeline_metrics,
    pipeline_metrics_windows_of,
)

#: The four windows of a comparison, in order.
WINDOW_NAMES = ("before", "after", "before_last_year", "after_last_year")

#: The four factors of V = N × A × W ÷ C, in order (pipeline keys).
FACTORS = ("opportunities_created", "avg_deal_size", "win_rate", "sales_cycle_days")

#: The rates whose change is also given in points (:func:`change_points`); the report shows only that one.
POINT_KEYS = ("win_rate",)

#: The numerical pipeline keys whose change :func:`change` reports, in order.
CHANGE_KEYS = ("opportunities_created", "won_count", "lost_count", "win_rate", "win_rate_by_amount",
               "won_revenue", "avg_deal_size", "sales_cycle_days", "sales_velocity")

#: The quantities the bootstrap gives an interval for in each window.
INTERVAL_KEYS = FACTORS + ("sales_velocity",)

#: Segment columns whose mix is compared between the windows (channel always; the others when present).
MIX_COLUMNS = ("channel", "industry", "company_size")

#: A share of opportunities moving by more than this (10 percentage points) is a mix shift.
MIX_SHIFT_THRESHOLD = 0.10

#: Default bootstrap seed (the config's ``velocity.seed``).
DEFAULT_SEED = 20240401

#: Confidence level of the bootstrap intervals.
LEVEL = 0.95

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------- small pieces
def _num(value) -> float | None:
    """value as a float; None for None / NaN / non-numbers."""
    if value is None:
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) else out


def _velocity_of(metrics: dict | None) -> float | None:
    return None if metrics is None else _num(metrics.get("sales_velocity"))


def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.0%}" if signed else f"{value:.0%}"


def _money(value: float | None) -> str:
    """A money figure for sentences: whole units from 100 up, else 3 significant digits."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _date(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _label(name, start) -> str:
    """How the initiative is named in English sentences."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return f"the change on {_date(start)}"
    return f"'{name}' (started {_date(start)})"


# --------------------------------------------------------------------------- windows
def windows(start, window_days: int = 90) -> dict:
    """The comparison windows of an initiative started on S: before = [S − W, S − 1], after = [S, S + W − 1], and the same two windows from S' = S minus one calendar year.

    Returns ``{start, start_last_year, window_days, before, after,
    before_last_year, after_last_year}``; each window is ``{start, end}``
    (Timestamps, both days inclusive) and exactly W days long. S' uses
    ``pd.DateOffset(years=1)``, so a start on 29 February maps to 28 February.
    """
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)) or window_days < 1:
        raise WorkbookError(f"velocity.window_days must be a positive whole number, got {window_days!r}",
                            fix="Set velocity.window_days in the config, for example 90.")
    w = int(window_days)
    s = day(start)
    s_ly = s - pd.DateOffset(years=1)

    def pair(first: pd.Timestamp) -> dict:
        return {
            "before": {"start": first - pd.Timedelta(days=w), "end": first - pd.Timedelta(days=1)},
            "after": {"start": first, "end": first + pd.Timedelta(days=w - 1)},
        }

    now, ly = pair(s), pair(s_ly)
    return {
        "start": s,
        "start_last_year": s_ly,
        "window_days": w,
        "before": now["before"],
        "after": now["after"],
        "before_last_year": ly["before"],
        "after_last_year": ly["after"],
    }


def window_metrics(opps: pd.DataFrame, start, end, as_of) -> dict:
    """The pipeline metrics of one window [start, end] as known on as_of (``pipeline_metrics``, same keys)."""
    return pipeline_metrics(opps, start, end, as_of)


# --------------------------------------------------------------------------- changes
def change(before: dict, after: dict) -> dict:
    """Change of each numerical pipeline key: after / before − 1 as a fraction; None when before is 0 or None, or after is None.

    Keys: :data:`CHANGE_KEYS` (opportunities_created, won_count, lost_count,
    win_rate, win_rate_by_amount, won_revenue, avg_deal_size,
    sales_cycle_days, sales_velocity). ``open_pipeline`` is a stock at the end
    of a window, not a flow of it, and is not compared.
    """
    out: dict = {}
    for key in CHANGE_KEYS:
        b = _num(before.get(key)) if before else None
        a = _num(after.get(key)) if after else None
        out[key] = None if (b is None or a is None or b == 0) else a / b - 1.0
    return out


def change_points(before: dict, after: dict) -> dict:
    """Change of each rate of :data:`POINT_KEYS` as a difference of fractions (after − before; 0.05 = +5 points):
    rates change in points, never in percent (docs/glossary.md). None when either side is None."""
    out: dict = {}
    for key in POINT_KEYS:
        b = _num(before.get(key)) if before else None
        a = _num(after.get(key)) if after else None
        out[key] = None if (b is None or a is None) else a - b
    return out


def seasonally_adjusted_change(v_after, v_before, v_after_ly, v_before_ly) -> float | None:
    """Seasonally adjusted change of velocity: (V_after / V_before) / (V_after_last_year / V_before_last_year) − 1.

    None when any of the four is None/NaN, or when a divisor (V_before,
    V_after_last_year, V_before_last_year) is 0. V_after = 0 with the other
    three positive is a real −100% and gives −1.0.
    """
    va, vb, val, vbl = (_num(v) for v in (v_after, v_before, v_after_ly, v_before_ly))
    if None in (va, vb, val, vbl) or vb == 0 or val == 0 or vbl == 0:
        return None
    return (va / vb) / (val / vbl) - 1.0


def log_mean(a: float, b: float) -> float:
    """Logarithmic mean L(a, b) = (a − b) / (ln a − ln b), with L(a, a) = a (a, b > 0)."""
    if a == b:
        return float(a)
    # (a − b) is exact for close values and log1p keeps ln(a/b) accurate, so
    # L stays accurate when a and b are nearly equal.
    return (a - b) / math.log1p((a - b) / b)


def lmdi(before: dict, after: dict) -> dict:
    """Additive LMDI-I split of ΔV = V_after − V_before into the four factors of V = N × A × W ÷ C: part_x = L(V_after, V_before) × ln(x_after / x_before), and −L × ln(C_after / C_before) for the cycle.

    Returns ``{opportunities_created, avg_deal_size, win_rate,
    sales_cycle_days, total, reason}``. The four parts add up to ``total`` =
    ΔV (to float precision); a factor that did not change contributes exactly
    0; a shorter cycle gives a positive part. LMDI takes logarithms, so it
    needs every factor positive in both windows: otherwise the four parts are
    None and ``reason`` says which factor is 0 or null where (``total`` is
    still ΔV when both velocities are known). ``reason`` is None when the
    split was made.
    """
    out: dict = {key: None for key in FACTORS}
    vb, va = _velocity_of(before), _velocity_of(after)
    out["total"] = None if (va is None or vb is None) else va - vb
    out["reason"] = None
    problems = []
    for key in FACTORS:
        for name, metrics in (("before", before), ("after", after)):
            value = _num(metrics.get(key)) if metrics else None
            if value is None:
                problems.append(f"{key} is unknown in the {name} window")
            elif value <= 0:
                problems.append(f"{key} is {value:g} in the {name} window")
    if problems:
        out["reason"] = "LMDI needs every factor positive in both windows: " + "; ".join(problems) + "."
        return out
    if va is None or vb is None or va <= 0 or vb <= 0:   # cannot happen with positive factors; defensive
        out["reason"] = "LMDI needs a positive velocity in both windows."
        return out
    weight = log_mean(va, vb)
    for key in FACTORS:
        ratio = float(after[key]) / float(before[key])
        part = 0.0 if ratio == 1.0 else weight * math.log(ratio)
        out[key] = -part if key == "sales_cycle_days" else part
    return out


# --------------------------------------------------------------------------- bootstrap
def _factors_from_sums(sums: np.ndarray) -> dict:
    """Vectorised pipeline factors from per-resample sums [N, won, lost, won amount, cycle days]."""
    n_created, won, lost, amount, cycle = (sums[:, i] for i in range(5))
    closed = won + lost
    with np.errstate(divide="ignore", invalid="ignore"):
        win_rate = np.where(closed > 0, won / closed, np.nan)
        avg = np.where(won > 0, amount / won, np.nan)
        days = np.where(won > 0, cycle / won, np.nan)
        vel = np.where(days > 0, n_created * avg * win_rate / days, np.nan)
    return {"opportunities_created": n_created, "avg_deal_size": avg, "win_rate": win_rate,
            "sales_cycle_days": days, "sales_velocity": vel}


def _ratio_change(after: np.ndarray, before: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(after) & np.isfinite(before) & (before != 0), after / before - 1.0, np.nan)


def _lmdi_vectorised(b: dict, a: dict) -> dict:
    vb, va = b["sales_velocity"], a["sales_velocity"]
    ok = np.ones(len(vb), dtype=bool)
    for key in FACTORS:
        ok &= np.isfinite(b[key]) & np.isfinite(a[key]) & (b[key] > 0) & (a[key] > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(va == vb, va, (va - vb) / np.log1p((va - vb) / vb))
        out = {}
        for key in FACTORS:
            part = weight * np.log(a[key] / b[key])
            if key == "sales_cycle_days":
                part = -part
            out[key] = np.where(ok, part, np.nan)
    return out


def _interval(samples: np.ndarray, n: int) -> dict:
    """95% percentile interval over the finite samples; None when fewer than half of the n resamples are valid."""
    valid = samples[np.isfinite(samples)]
    out = {"low": None, "high": None, "valid_resamples": int(valid.size)}
    if valid.size and valid.size * 2 >= n:
        alpha = (1.0 - LEVEL) / 2.0
        low, high = np.quantile(valid, [alpha, 1.0 - alpha])
        out["low"], out["high"] = float(low), float(high)
    return out


def bootstrap(opps: pd.DataFrame, win: dict, as_of, n: int = 2000, seed: int = DEFAULT_SEED, source=None) -> dict:
    """95% percentile bootstrap intervals from resampling opportunities: each resample draws, with replacement, as many opportunities as are relevant to the four windows (created in one, or won/lost in one) and recomputes every window from that draw.

    ``win`` is a :func:`windows` result. One draw feeds all four windows, so a
    deal that matters to two windows (created before S, closed after it)
    stays one deal. A resample where a quantity is undefined (no won deal:
    null velocity; a zero divisor in a change) is *degenerate* for that
    quantity; each interval is computed over the valid resamples only, and is
    None when fewer than half of the n resamples are valid.

    Returns ``{method, level, resamples, seed, relevant_opportunities,
    before, after, before_last_year, after_last_year, change,
    seasonally_adjusted_change, contributions}``; every interval is
    ``{low, high, valid_resamples}``. Windows hold opportunities_created,
    avg_deal_size, win_rate, sales_cycle_days and sales_velocity; ``change``
    the change (after / before − 1) of the same keys; ``contributions`` the
    four LMDI parts.

    The deals are read from `source` (a :class:`helpers.metrics.source.Source`, default the frame `opps`): only
    those relevant to the windows are fetched (helpers.metrics.velocity_engine.window_features), in the source's
    row order.
    """
    n = int(n)
    if n < 1:
        raise WorkbookError(f"velocity.bootstrap_samples must be at least 1, got {n!r}",
                            fix="Set velocity.bootstrap_samples in the config, for example 2000.")
    from helpers.metrics.source import FrameSource
    from helpers.metrics.velocity_engine import window_features

    source = source or FrameSource(None, opps)
    table = window_features(source, [(win[name]["start"], win[name]["end"]) for name in WINDOW_NAMES], as_of)
    m = table.shape[0]

    rng = np.random.default_rng(seed)
    sums = np.zeros((n, table.shape[1]))
    if m:
        # Count how often each row is drawn (bincount over flattened draws), then one
        # matrix product gives every window's sums; chunks keep memory bounded.
        chunk = max(1, 2_000_000 // m)
        for first in range(0, n, chunk):
            k = min(chunk, n - first)
            draws = rng.integers(0, m, size=(k, m))
            flat = (draws + (np.arange(k) * m)[:, None]).ravel()
            counts = np.bincount(flat, minlength=k * m).reshape(k, m).astype("float64")
            sums[first:first + k] = counts @ table

    per_window = {name: _factors_from_sums(sums[:, 5 * i:5 * i + 5]) for i, name in enumerate(WINDOW_NAMES)}
    out: dict = {"method": "percentile", "level": LEVEL, "resamples": n, "seed": seed,
                 "relevant_opportunities": int(m)}
    for name in WINDOW_NAMES:
        out[name] = {key: _interval(per_window[name][key], n) for key in INTERVAL_KEYS}
    b, a = per_window["before"], per_window["after"]
    bl, al = per_window["before_last_year"], per_window["after_last_year"]
    out["change"] = {key: _interval(_ratio_change(a[key], b[key]), n) for key in INTERVAL_KEYS}
    out["change_points"] = {key: _interval(a[key] - b[key], n) for key in POINT_KEYS}
    with np.errstate(divide="ignore", invalid="ignore"):
        adjusted = np.where(
            np.isfinite(a["sales_velocity"]) & (b["sales_velocity"] > 0)
            & (al["sales_velocity"] > 0) & (bl["sales_velocity"] > 0),
            (a["sales_velocity"] / b["sales_velocity"]) / (al["sales_velocity"] / bl["sales_velocity"]) - 1.0,
            np.nan)
    out["seasonally_adjusted_change"] = _interval(adjusted, n)
    parts = _lmdi_vectorised(b, a)
    out["contributions"] = {key: _interval(parts[key], n) for key in FACTORS}
    return out


def includes_no_change(interval: dict | None) -> bool | None:
    """True when the interval of a change includes 0 (low <= 0 <= high); None when there is no interval."""
    if not interval:
        return None
    low, high = _num(interval.get("low")), _num(interval.get("high"))
    if low is None or high is None:
        return None
    return low <= 0.0 <= high


# --------------------------------------------------------------------------- seasonality
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


# --------------------------------------------------------------------------- initiatives
def _items(value) -> list[int]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    out = []
    for part in re.split(r"[;,、\s]+", str(value)):
        if part.strip().isdigit():
            out.append(int(part))
    return out


def _text_or_none(value):
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def select_initiative(initiatives: pd.DataFrame | None, period_end, name_or_date: str | None = None) -> dict | None:
    """The initiative to evaluate: the one named `name_or_date`, else a nameless initiative on that date ('YYYY-MM-DD'), else (no choice given) the most recent one started on or before period_end; None when there is none.

    Returns ``{name, started_on, items, note}`` (items as a list of item
    numbers; a date choice has name None). A name wins over a date of the
    same spelling; names are compared trimmed. Among rows with the chosen
    name, or tied on the latest start, the one listed last wins. A named
    choice is honoured even if it started after period_end. An unknown name
    (not a date either) is an error.
    """
    frame = initiatives if initiatives is not None else pd.DataFrame(columns=["name", "started_on"])
    if len(frame) and "started_on" in frame.columns:
        started = pd.to_datetime(frame["started_on"], errors="coerce").dt.normalize()
        frame = frame.assign(_start=started)[started.notna()]
    else:
        frame = frame.assign(_start=pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"))

    def as_dict(row) -> dict:
        return {"name": _text_or_none(row.get("name")), "started_on": pd.Timestamp(row["_start"]),
                "items": _items(row.get("items")), "note": _text_or_none(row.get("note"))}

    if name_or_date is not None and str(name_or_date).strip():
        choice = str(name_or_date).strip()
        if len(frame) and "name" in frame.columns:
            named = frame[frame["name"].astype("string").str.strip() == choice]
            if len(named):
                return as_dict(named.iloc[-1])
        if _DATE.match(choice):
            try:
                when = pd.Timestamp(choice)
            except ValueError as exc:
                raise WorkbookError(f"'{choice}' is not a valid date", fix="Write the date as YYYY-MM-DD.") from exc
            return {"name": None, "started_on": when, "items": [], "note": None}
        names = sorted(frame["name"].dropna().astype(str).unique()) if "name" in frame.columns else []
        raise WorkbookError(f"No initiative named '{choice}'",
                            fix="Use a name from initiatives.csv (" + (", ".join(names) or "none listed")
                                + ") or a start date written YYYY-MM-DD.")
    if not len(frame):
        return None
    eligible = frame[frame["_start"] <= day(period_end)]
    if not len(eligible):
        return None
    latest = eligible["_start"].max()
    return as_dict(eligible[eligible["_start"] == latest].iloc[-1])


# --------------------------------------------------------------------------- caveats
def _midpoint(window: dict) -> pd.Timestamp:
    length = (window["end"] - window["start"]).days
    return window["start"] + pd.Timedelta(days=length // 2)


def _mix_shifts(source, wins: dict, as_of) -> list[dict]:
    """The values of :data:`MIX_COLUMNS` (channel always, the others when they hold a value) whose share of the
    opportunities created in the after window moved by more than :data:`MIX_SHIFT_THRESHOLD` from the before window's:
    ``[{column, value, before_share, after_share, shift}]`` (none when either window has no opportunity); the counts
    are one grouped query of `source` (helpers.metrics.velocity_engine.mix_counts)."""
    from helpers.metrics.velocity_engine import mix_counts

    columns = [c for c in MIX_COLUMNS if source.has_column("opportunities", c)
               and (c == "channel" or source.has_values("opportunities", c))]
    counts = mix_counts(source, {name: (wins[name]["start"], wins[name]["end"]) for name in ("before", "after")},
                        as_of, columns)
    shifts = []
    for column in columns:
        before, after = counts[("before", column)], counts[("after", column)]
        n_before, n_after = sum(before.values()), sum(after.values())
        if not (n_before and n_after):
            return []
        for value in sorted(set(before) | set(after)):
            share_b, share_a = before.get(value, 0) / n_before, after.get(value, 0) / n_after
            if abs(share_a - share_b) > MIX_SHIFT_THRESHOLD + 1e-12:
                shifts.append({"column": column, "value": str(value), "before_share": share_b,
                               "after_share": share_a, "shift": share_a - share_b})
    return shifts


def caveats(opps: pd.DataFrame, wins: dict, before: dict, after: dict, before_ly: dict, after_ly: dict, as_of,
            initiatives: pd.DataFrame | None, initiative_name, min_closed_deals: int, intervals: dict | None,
            fiscal_year_start_month: int = 1, profile: dict | None = None, source=None) -> list[dict]:
    """The written caveats of a before/after comparison, each only when it applies: ``{code, text, values}`` with a machine-readable code, an English sentence and the numbers used.

    Codes, in this order: too_few_closed_deals, different_seasons,
    no_prior_year_data, right_censoring, mix_shift, other_initiatives,
    after_window_incomplete (other initiatives: started in [before start,
    min(after end, as_of)], the chosen name excluded). ``wins`` is the
    :func:`windows` result;
    ``profile`` an optional :func:`seasonal_profile` result (computed from
    ``opps`` when not given) used to quote the seasonal ratios. The opportunities are read from `source` (a
    :class:`helpers.metrics.source.Source`, default the frame `opps`) as aggregates
    (helpers.metrics.velocity_engine).
    """
    from helpers.metrics.source import FrameSource
    from helpers.metrics.velocity_engine import censoring_counts

    source = source or FrameSource(None, opps)
    out: list[dict] = []
    metrics = {"before": before, "after": after, "before_last_year": before_ly, "after_last_year": after_ly}
    as_of = day(as_of)
    w = wins["window_days"]

    # too few closed deals -------------------------------------------------------------------
    closed = {name: int((m or {}).get("won_count") or 0) + int((m or {}).get("lost_count") or 0)
              for name, m in metrics.items()}
    short = [name for name in WINDOW_NAMES if closed[name] < min_closed_deals]
    if short:
        widths = {}
        parts = []
        for name in short:
            iv = ((intervals or {}).get(name) or {}).get("sales_velocity") or {}
            low, high = _num(iv.get("low")), _num(iv.get("high"))
            point = _velocity_of(metrics[name])
            width = None if low is None or high is None else high - low
            widths[name] = {"low": low, "high": high, "width": width, "velocity": point}
            label = name.replace("_", " ")
            if width is None:
                parts.append(f"{closed[name]} in the {label} window (no velocity interval could be computed)")
            else:
                parts.append(f"{closed[name]} in the {label} window (velocity {_money(point)} per day, "
                             f"95% interval {_money(low)} to {_money(high)}, {_money(width)} wide)")
        out.append({
            "code": "too_few_closed_deals",
            "text": (f"Few deals closed (won + lost, fewer than {min_closed_deals}): " + "; ".join(parts)
                     + ". With so few deals the win rate, deal size and cycle move a lot from deal to deal; "
                       "read the interval widths, not the point values."),
            "values": {"min_closed_deals": int(min_closed_deals), "closed_deals": closed, "windows": short,
                       "velocity_intervals": widths},
        })

    # different seasons ----------------------------------------------------------------------
    mid_b, mid_a = _midpoint(wins["before"]), _midpoint(wins["after"])
    q_b, q_a = period_of(mid_b, fiscal_year_start_month), period_of(mid_a, fiscal_year_start_month)
    if q_b.quarter != q_a.quarter or mid_b.month != mid_a.month:
        if profile is None:
            profile = seasonal_profile(quarterly_velocity_of(source, as_of, fiscal_year_start_month))
        ratio_b = (profile.get("profile") or {}).get(q_b.quarter)
        ratio_a = (profile.get("profile") or {}).get(q_a.quarter)
        text = (f"The before window (centred on {_date(mid_b)}, fiscal Q{q_b.quarter}) and the after window "
                f"(centred on {_date(mid_a)}, fiscal Q{q_a.quarter}) fall in different seasons, so part of the raw "
                "change may be seasonal; the seasonally adjusted change compares it with the same windows one "
                "year earlier.")
        if q_b.quarter != q_a.quarter and ratio_b is not None and ratio_a is not None:
            text += (f" Over {profile.get('years_used')} full fiscal year(s), Q{q_b.quarter} velocity averaged "
                     f"{ratio_b:.2f}× and Q{q_a.quarter} {ratio_a:.2f}× the year's mean.")
        out.append({
            "code": "different_seasons", "text": text,
            "values": {"before_midpoint": mid_b, "after_midpoint": mid_a,
                       "before_quarter": q_b.quarter, "after_quarter": q_a.quarter,
                       "before_month": int(mid_b.month), "after_month": int(mid_a.month),
                       "profile_before": ratio_b, "profile_after": ratio_a,
                       "profile_years": profile.get("years_used") if profile else None},
        })

    # no prior-year data ---------------------------------------------------------------------
    a_start, a_end = wins["after"]["start"], wins["after"]["end"]
    counts = censoring_counts(source, a_start, a_end, as_of)
    first = pd.NaT if counts["first"] is None else counts["first"]
    ly_start = wins["before_last_year"]["start"]
    no_history = pd.isna(first) or first >= ly_start
    ly_empty = [name for name in ("before_last_year", "after_last_year") if closed[name] == 0]
    if no_history or ly_empty:
        reasons = []
        if no_history:
            reasons.append("the data start on " + ("(no opportunity)" if pd.isna(first) else _date(first))
                           + f", not before the last-year before window starts ({_date(ly_start)})")
        if ly_empty:
            reasons.append("no deal closed in the " + " and ".join(n.replace("_", " ") for n in ly_empty)
                           + " window")
        out.append({
            "code": "no_prior_year_data",
            "text": ("There is no usable prior-year baseline: " + "; ".join(reasons)
                     + ". The seasonally adjusted change is unknown or unreliable, and the raw change cannot be "
                       "separated from seasonality."),
            "values": {"first_created": None if pd.isna(first) else pd.Timestamp(first),
                       "before_last_year_start": ly_start,
                       "closed_deals_last_year": {n: closed[n] for n in ("before_last_year", "after_last_year")}},
        })

    # right-censoring ------------------------------------------------------------------------
    cutoff = last_day(a_end, as_of)
    n_open = int(counts["open_at_end"])
    if n_open:
        median_age = counts["median_age"]
        n_created = int(counts["created"])
        still = int(counts["open_now"])
        known = (f"{still} of them are still open on {_date(as_of)}: their outcome is not known yet"
                 if still else f"all of them have closed by {_date(as_of)}, after the window")
        out.append({
            "code": "right_censoring",
            "text": (f"{n_open} of the {n_created} opportunities created in the after window were still open at its "
                     f"end ({_date(cutoff)}), median age {median_age:g} days; {known}. A window's win rate, deal size "
                     "and cycle count only the deals closed inside it, so these deals are left out of the after "
                     "window: this shortens the measured sales cycle (only the quick deals had closed) and can "
                     "inflate the win rate (quick wins are recorded before slow losses)."),
            "values": {"created_in_after": n_created, "open_at_window_end": n_open,
                       "open_at_as_of": still, "median_age_days": median_age,
                       "window_end": cutoff, "as_of": as_of},
        })

    # mix shift ------------------------------------------------------------------------------
    shifts = _mix_shifts(source, wins, as_of)
    if shifts:
        shifts.sort(key=lambda s: (-abs(s["shift"]), s["column"], s["value"]))
        top = shifts[0]
        out.append({
            "code": "mix_shift",
            "text": (f"The mix of opportunities changed: the share of {top['column']} '{top['value']}' went from "
                     f"{_pct(top['before_share'], False)} before to {_pct(top['after_share'], False)} after "
                     f"({(top['shift']) * 100:+.0f} points)"
                     + (f", and {len(shifts) - 1} other share(s) moved by more than 10 points" if len(shifts) > 1 else "")
                     + ". Part of the change may come from a different mix of deals, not from the initiative."),
            "values": {"threshold": MIX_SHIFT_THRESHOLD, "biggest": top, "shifts": shifts},
        })

    # other initiatives ----------------------------------------------------------------------
    if initiatives is not None and len(initiatives) and "started_on" in initiatives.columns:
        started = pd.to_datetime(initiatives["started_on"], errors="coerce").dt.normalize()
        span_start, span_end = wins["before"]["start"], wins["after"]["end"]
        names = initiatives["name"].astype("string").str.strip() if "name" in initiatives.columns \
            else pd.Series(pd.NA, index=initiatives.index, dtype="string")
        chosen = None if initiative_name is None else str(initiative_name).strip()
        others = []
        for name, when in zip(names, started):
            if pd.isna(when) or not span_start <= when <= min(span_end, as_of):
                continue   # outside the windows, or after as_of (it cannot have touched the data)
            name = None if pd.isna(name) else str(name)
            if chosen is not None and name == chosen:
                continue
            window = "before" if when < wins["after"]["start"] else "after"
            others.append({"name": name, "started_on": pd.Timestamp(when), "window": window})
        if others:
            listed = ", ".join(f"'{o['name']}' ({_date(o['started_on'])}, {o['window']} window)" for o in others)
            out.append({
                "code": "other_initiatives",
                "text": (f"Other initiatives started during the compared windows: {listed}. The change cannot be "
                         "credited to one initiative alone."),
                "values": {"initiatives": others},
            })

    # after window incomplete ----------------------------------------------------------------
    if a_end > as_of:
        observed = max(0, (as_of - a_start).days + 1)
        out.append({
            "code": "after_window_incomplete",
            "text": (f"The after window runs to {_date(a_end)}, after the data snapshot ({_date(as_of)}): only "
                     f"{observed} of its {w} days are observed, so its opportunity count and velocity are "
                     "still incomplete."),
            "values": {"after_end": a_end, "as_of": as_of, "days_observed": observed, "window_days": w},
        })
    return out


# --------------------------------------------------------------------------- conclusion
def conclusion(result: dict) -> dict:
    """The one-sentence verdict: 'improved' / 'worsened' only when the 95% interval of the seasonally adjusted change excludes 0, 'no_clear_change' when it includes 0, 'not_measurable' when a velocity is null.

    Codes, first match wins: ``too_early`` (the after window ends after
    as_of), ``not_measurable`` (before or after velocity null, or the change
    undefined), ``improved`` / ``worsened`` (adjusted change interval above /
    below 0), ``rose_unadjusted`` / ``fell_unadjusted`` (no seasonal baseline,
    but the raw change interval excludes 0: said to be not separable from
    seasonality), ``no_clear_change`` (the interval includes 0 or could not be
    computed). Returns ``{code, text, values}``; the text never says the
    initiative *caused* a change.
    """
    label = _label(result.get("initiative"), result.get("start"))
    before, after = result.get("before") or {}, result.get("after") or {}
    vb, va = _velocity_of(before), _velocity_of(after)
    raw = (result.get("change") or {}).get("sales_velocity")
    adjusted = result.get("seasonally_adjusted_change")
    intervals = result.get("intervals") or {}
    adj_iv = intervals.get("seasonally_adjusted_change") or {}
    raw_iv = (intervals.get("change") or {}).get("sales_velocity") or {}
    codes = [c.get("code") for c in result.get("caveats") or []]
    values = {"velocity_before": vb, "velocity_after": va, "change": raw, "seasonally_adjusted_change": adjusted,
              "interval_low": None, "interval_high": None, "caveats": codes}

    def iv_text(iv) -> str:
        return f"95% interval {_pct(_num(iv.get('low')))} to {_pct(_num(iv.get('high')))}"

    tail = ""  # the caveats are named by the view, with their titles in the report language (velocity_views.conclusion_text)
    incomplete = next((c for c in result.get("caveats") or [] if c.get("code") == "after_window_incomplete"), None)
    if incomplete is not None:
        v = incomplete["values"]
        return {"code": "too_early", "values": values,
                "text": (f"Too early to judge {label}: the after window is not over ({v['days_observed']} of "
                         f"{v['window_days']} days observed by {_date(v['as_of'])}), so its opportunity count "
                         "and velocity are incomplete." + tail)}
    if vb is None or va is None or raw is None:
        which = [n for n, v in (("before", vb), ("after", va)) if v is None] or ["before"]
        return {"code": "not_measurable", "values": values,
                "text": (f"The effect of {label} cannot be measured: sales velocity is "
                         + ("unknown" if (vb is None or va is None) else "0")
                         + f" in the {' and '.join(which)} window (it needs won deals with a known cycle and "
                           "a positive before value)." + tail)}
    if adjusted is not None:
        values["interval_low"], values["interval_high"] = _num(adj_iv.get("low")), _num(adj_iv.get("high"))
        verdict = includes_no_change(adj_iv)
        if verdict is False:
            up = values["interval_low"] > 0
            return {"code": "improved" if up else "worsened", "values": values,
                    "text": (f"After seasonal adjustment, sales velocity after {label} was {_pct(adjusted)} "
                             f"{'higher' if up else 'lower'} than before ({iv_text(adj_iv)}, which excludes no "
                             f"change). This shows a change at the time of the initiative, not proof that it "
                             f"caused it." + tail)}
        why = ("the 95% interval could not be computed (too many degenerate resamples)" if verdict is None
               else f"{iv_text(adj_iv)} includes no change")
        return {"code": "no_clear_change", "values": values,
                "text": (f"No clear change after {label}: the seasonally adjusted change in sales velocity is "
                         f"{_pct(adjusted)}, but {why}." + tail)}
    values["interval_low"], values["interval_high"] = _num(raw_iv.get("low")), _num(raw_iv.get("high"))
    verdict = includes_no_change(raw_iv)
    if verdict is False:
        up = values["interval_low"] > 0
        return {"code": "rose_unadjusted" if up else "fell_unadjusted", "values": values,
                "text": (f"Sales velocity {'rose' if up else 'fell'} by {_pct(raw)} after {label} "
                         f"({iv_text(raw_iv)}), but without a prior-year baseline this cannot be separated "
                         f"from seasonality." + tail)}
    why = ("the 95% interval could not be computed" if verdict is None else f"{iv_text(raw_iv)} includes no change")
    return {"code": "no_clear_change", "values": values,
            "text": (f"No clear change after {label}: sales velocity changed by {_pct(raw)} (not seasonally "
                     f"adjusted: no prior-year baseline), but {why}." + tail)}


# --------------------------------------------------------------------------- the metrics.json section
def velocity_comparison(opps: pd.DataFrame, initiatives: pd.DataFrame | None, as_of, period_end,
                        config_velocity: dict, fiscal_year_start_month: int = 1, initiative: str | None = None,
                        source=None) -> dict | None:
    """The ``velocity_comparison`` section of metrics.json: the pipeline metrics of the W days before and after an initiative and of the same windows a year earlier, their change, the seasonally adjusted change, the LMDI split, bootstrap intervals, caveats and the conclusion.

    ``initiative`` picks the initiative (:func:`select_initiative`: a name or
    'YYYY-MM-DD'); by default the most recent one started on or before
    min(period_end, as_of). ``config_velocity`` holds window_days,
    bootstrap_samples, seed and min_closed_deals. None when there is no
    initiative. The opportunities are read from `source` (a :class:`helpers.metrics.source.Source`; notebook 03
    passes ``s.source``), default the frame `opps`: windows and quarters as aggregates, the bootstrap's deals of
    the four windows only.
    """
    from helpers.metrics.source import FrameSource

    source = source or FrameSource(None, opps)
    # An initiative started after as_of does not exist yet for the default choice.
    chosen = select_initiative(initiatives, min(day(period_end), day(as_of)), initiative)
    if chosen is None:
        return None
    cfg = config_velocity or {}
    w = cfg.get("window_days", 90)
    n = cfg.get("bootstrap_samples", 2000)
    seed = cfg.get("seed", DEFAULT_SEED)
    min_closed = cfg.get("min_closed_deals", 20)
    as_of = day(as_of)
    win = windows(chosen["started_on"], w)
    m = dict(zip(WINDOW_NAMES, pipeline_metrics_windows_of(source, [(win[n]["start"], win[n]["end"]) for n in WINDOW_NAMES],
                                                           as_of)))   # the four windows in one engine query
    changes = change(m["before"], m["after"])
    adjusted = seasonally_adjusted_change(*(_velocity_of(m[k]) for k in ("after", "before", "after_last_year",
                                                                          "before_last_year")))
    parts = lmdi(m["before"], m["after"])
    intervals = bootstrap(opps, win, as_of, n=n, seed=seed, source=source)
    profile = seasonal_profile(quarterly_velocity_of(source, as_of, fiscal_year_start_month))
    notes = caveats(opps, win, m["before"], m["after"], m["before_last_year"], m["after_last_year"], as_of,
                    initiatives, chosen["name"], min_closed, intervals, fiscal_year_start_month, profile=profile,
                    source=source)
    result = {
        "initiative": chosen["name"],
        "items": chosen["items"],
        "start": win["start"],
        "start_last_year": win["start_last_year"],
        "window_days": win["window_days"],
        "windows": {name: dict(win[name]) for name in WINDOW_NAMES},
        "before": m["before"],
        "after": m["after"],
        "before_last_year": m["before_last_year"],
        "after_last_year": m["after_last_year"],
        "change": changes,
        "change_points": change_points(m["before"], m["after"]),
        "seasonally_adjusted_change": adjusted,
        "contributions": {key: parts[key] for key in FACTORS},
        "velocity_difference": parts["total"],
        "contributions_note": parts["reason"],
        "intervals": intervals,
        "seasonal_profile": {"profile": {str(q): r for q, r in profile["profile"].items()},
                             "years_used": profile["years_used"], "reason": profile["reason"]},
        "caveats": notes,
    }
    result["conclusion"] = conclusion(result)
    return result
