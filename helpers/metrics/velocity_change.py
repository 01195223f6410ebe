"""Before/after velocity, the change between windows and its uncertainty (contract section 3, "Before/after velocity").

The four windows of a comparison (:func:`windows`), each window's pipeline metrics (:func:`window_metrics`), the
change between two windows (:func:`change`, :func:`change_points`), the seasonally adjusted change, the exact LMDI
split of the velocity difference into its four factors (:func:`lmdi`) and the bootstrap intervals
(:func:`bootstrap`, :func:`includes_no_change`). Conventions as in helpers.metrics.velocity, which puts the section
together and still exports every public name of this module.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.errors import coded_error
from helpers.metrics.pipeline import day, pipeline_metrics


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

#: Default bootstrap seed (the config's ``velocity.seed``).
DEFAULT_SEED = 20240401

#: Confidence level of the bootstrap intervals.
LEVEL = 0.95


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


def _date(value) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


# --------------------------------------------------------------------------- windows
def windows(start, window_days: int = 90) -> dict:
    """The comparison windows of an initiative started on S: before = [S − W, S − 1], after = [S, S + W − 1], and the same two windows from S' = S minus one calendar year.

    Returns ``{start, start_last_year, window_days, before, after,
    before_last_year, after_last_year}``; each window is ``{start, end}``
    (Timestamps, both days inclusive) and exactly W days long. S' uses
    ``pd.DateOffset(years=1)``, so a start on 29 February maps to 28 February.
    """
    if isinstance(window_days, bool) or not isinstance(window_days, (int, np.integer)) or window_days < 1:
        raise coded_error("velocity_setting", None, "window_days", got=repr(window_days))
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


def outside_data(win: dict, first, data_end) -> dict:
    """{window name: reason code} of the windows of `win` (:func:`windows`) the data does not reach: ``before_data``
    when the window ends before the data's first date `first`, ``after_data`` when it starts after the data's end
    `data_end` (helpers.metrics.limits.data_end_of; None: not known). Such a window's figures are unknown, not 0 (the
    rule of period over period: helpers.views.funnel_views, label pop_no_data)."""
    out = {}
    for name in WINDOW_NAMES:
        if first is not None and not pd.isna(first) and win[name]["end"] < day(first):
            out[name] = "before_data"
        elif data_end is not None and not pd.isna(data_end) and win[name]["start"] > day(data_end):
            out[name] = "after_data"
    return out


def unknown_window(metrics: dict, code: str) -> dict:
    """A window's pipeline metrics (`metrics`, :func:`window_metrics`' keys) all None with reason `code` in
    ``null_reasons`` (the open pipeline's count and amount too)."""
    out = {key: None for key in metrics}
    if "open_pipeline" in metrics:
        out["open_pipeline"] = None
    out["null_reasons"] = {key: code for key in metrics if key != "null_reasons"}
    return out


def unknown_intervals(intervals: dict, outside: dict) -> dict:
    """:func:`bootstrap`'s `intervals` with every interval of a window outside the data (`outside`,
    :func:`outside_data`) empty, and those of the changes, the seasonally adjusted change and the contributions that
    read such a window: resamples of no deal give 0, not an interval of an unknown figure."""
    empty = {"low": None, "high": None, "valid_resamples": 0}
    out = dict(intervals)
    for name in outside:
        out[name] = {key: dict(empty) for key in out.get(name, {})}
    if {"before", "after"} & set(outside):
        for part in ("change", "change_points", "contributions"):
            out[part] = {key: dict(empty) for key in out.get(part, {})}
    if outside:
        out["seasonally_adjusted_change"] = dict(empty)
    return out


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
        raise coded_error("velocity_setting", None, "bootstrap_samples", got=repr(n))
    from helpers.metrics.source import FrameSource
    from helpers.metrics.velocity_engine import window_features

    source = source or FrameSource(None, opps)
    table = window_features(source, [(win[name]["start"], win[name]["end"]) for name in WINDOW_NAMES], as_of)
    m = table.shape[0]

    sums = _resampled_sums(table, n, np.random.default_rng(seed))
    per_window = {name: _factors_from_sums(sums[:, 5 * i:5 * i + 5]) for i, name in enumerate(WINDOW_NAMES)}
    out: dict = {"method": "percentile", "level": LEVEL, "resamples": n, "seed": seed,
                 "relevant_opportunities": int(m)}
    return out | _bootstrap_intervals(per_window, n)


#: The counts :func:`_resampled_sums` holds at once (8M float64 counts, 64 MB): resamples per block = this // rows.
SUM_BLOCK_COUNTS = 8_000_000


def _resampled_sums(table: np.ndarray, n: int, rng) -> np.ndarray:
    """The column sums of `n` resamples of `table`'s rows (each drawn with replacement, as many rows as it has), an
    (n, columns) array (zeros without rows): how often each row is drawn (``np.bincount`` of one resample's draws)
    times `table`, one matrix product per block of resamples.

    The draws are `rng`'s stream in order, one resample after the other (the same integers however they are split).
    A block holds at most :data:`SUM_BLOCK_COUNTS` counts and is multiplied once, so `table` (the relevant deals × 20 features)
    is read once a block instead of once per resample or two: at 10M leads (822k deals) the old chunks of 2M draws
    read its 131 MB once per 2 resamples, and the counts of all k resamples of a chunk were one bincount over k × m
    bins (a scatter over 13 MB). Exactly the per-resample sums where `table` holds whole numbers; otherwise a sum's
    last bit can differ from a product over other blocks (the matrix product's order of addition)."""
    m = table.shape[0]
    sums = np.zeros((n, table.shape[1]))
    if m:
        block = max(1, min(n, SUM_BLOCK_COUNTS // m))
        counts = np.empty((block, m))
        for first in range(0, n, block):
            k = min(block, n - first)
            for j in range(k):
                counts[j] = np.bincount(rng.integers(0, m, size=m), minlength=m)
            np.matmul(counts[:k], table, out=sums[first:first + k])
    return sums


def _bootstrap_intervals(per_window: dict, n: int) -> dict:
    """:func:`bootstrap`'s intervals from the resampled factors of each window (`per_window`, n values a key): each
    window's figures, their change and change in points (after against before), the seasonally adjusted change and
    the four LMDI contributions."""
    out: dict = {}
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
