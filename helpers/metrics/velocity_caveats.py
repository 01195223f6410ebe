"""The written caveats and the conclusion of a before/after velocity comparison (contract section 3).

:func:`caveats`: each caveat that applies (too few closed deals, different seasons, no prior-year data,
right-censoring, a mix shift, other initiatives, an after window not over), with a code, an English sentence and
the numbers used; :func:`conclusion`: the one-sentence verdict, never more than the intervals support.
helpers.metrics.velocity still exports every public name.
"""
from __future__ import annotations

import math

import pandas as pd

from helpers.data.periods import period_of
from helpers.metrics.pipeline import day, last_day
from helpers.metrics.velocity_change import WINDOW_NAMES, _date, _num, _velocity_of, includes_no_change
from helpers.metrics.velocity_seasons import quarterly_velocity_of, seasonal_profile


#: Segment columns whose mix is compared between the windows (channel always; the others when present).
MIX_COLUMNS = ("channel", "industry", "company_size")

#: A share of opportunities moving by more than this (10 percentage points) is a mix shift.
MIX_SHIFT_THRESHOLD = 0.10


# --------------------------------------------------------------------------- sentences
def _pct(value: float | None, signed: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.0%}" if signed else f"{value:.0%}"


def _money(value: float | None) -> str:
    """A money figure for sentences: whole units from 100 up, else 3 significant digits."""
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _label(name, start) -> str:
    """How the initiative is named in English sentences."""
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return f"the change on {_date(start)}"
    return f"'{name}' (started {_date(start)})"


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
    metrics = {"before": before, "after": after, "before_last_year": before_ly, "after_last_year": after_ly}
    as_of = day(as_of)
    closed = {name: int((m or {}).get("won_count") or 0) + int((m or {}).get("lost_count") or 0)
              for name, m in metrics.items()}
    counts = censoring_counts(source, wins["after"]["start"], wins["after"]["end"], as_of)
    found = [_too_few_closed_deals(metrics, closed, min_closed_deals, intervals),
             _different_seasons(source, wins, as_of, fiscal_year_start_month, profile),
             _no_prior_year_data(wins, closed, counts),
             _right_censoring(wins, as_of, counts),
             _mix_shift(source, wins, as_of),
             _other_initiatives(wins, as_of, initiatives, initiative_name),
             _after_window_incomplete(wins, as_of)]
    return [c for c in found if c is not None]


def _too_few_closed_deals(metrics: dict, closed: dict, min_closed_deals: int, intervals: dict | None) -> dict | None:
    """too_few_closed_deals: the windows with fewer than `min_closed_deals` won + lost deals, with their velocity
    intervals' widths."""
    short = [name for name in WINDOW_NAMES if closed[name] < min_closed_deals]
    if not short:
        return None
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
    return {
        "code": "too_few_closed_deals",
        "text": (f"Few deals closed (won + lost, fewer than {min_closed_deals}): " + "; ".join(parts)
                 + ". With so few deals the win rate, deal size and cycle move a lot from deal to deal; "
                   "read the interval widths, not the point values."),
        "values": {"min_closed_deals": int(min_closed_deals), "closed_deals": closed, "windows": short,
                   "velocity_intervals": widths},
    }


def _different_seasons(source, wins: dict, as_of, fiscal_year_start_month: int, profile: dict | None) -> dict | None:
    """different_seasons: the before and after windows' midpoints fall in different fiscal quarters or months (the
    seasonal profile, computed here when not given, quoted when the quarters differ)."""
    mid_b, mid_a = _midpoint(wins["before"]), _midpoint(wins["after"])
    q_b, q_a = period_of(mid_b, fiscal_year_start_month), period_of(mid_a, fiscal_year_start_month)
    if q_b.quarter == q_a.quarter and mid_b.month == mid_a.month:
        return None
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
    return {
        "code": "different_seasons", "text": text,
        "values": {"before_midpoint": mid_b, "after_midpoint": mid_a,
                   "before_quarter": q_b.quarter, "after_quarter": q_a.quarter,
                   "before_month": int(mid_b.month), "after_month": int(mid_a.month),
                   "profile_before": ratio_b, "profile_after": ratio_a,
                   "profile_years": profile.get("years_used") if profile else None},
    }


def _no_prior_year_data(wins: dict, closed: dict, counts: dict) -> dict | None:
    """no_prior_year_data: the data start after the last-year before window starts, or no deal closed in a last-year
    window (`counts`: helpers.metrics.velocity_engine.censoring_counts of the after window)."""
    first = pd.NaT if counts["first"] is None else counts["first"]
    ly_start = wins["before_last_year"]["start"]
    no_history = pd.isna(first) or first >= ly_start
    ly_empty = [name for name in ("before_last_year", "after_last_year") if closed[name] == 0]
    if not (no_history or ly_empty):
        return None
    reasons = []
    if no_history:
        reasons.append("the data start on " + ("(no opportunity)" if pd.isna(first) else _date(first))
                       + f", not before the last-year before window starts ({_date(ly_start)})")
    if ly_empty:
        reasons.append("no deal closed in the " + " and ".join(n.replace("_", " ") for n in ly_empty)
                       + " window")
    return {
        "code": "no_prior_year_data",
        "text": ("There is no usable prior-year baseline: " + "; ".join(reasons)
                 + ". The seasonally adjusted change is unknown or unreliable, and the raw change cannot be "
                   "separated from seasonality."),
        "values": {"first_created": None if pd.isna(first) else pd.Timestamp(first),
                   "before_last_year_start": ly_start,
                   "closed_deals_last_year": {n: closed[n] for n in ("before_last_year", "after_last_year")}},
    }


def _right_censoring(wins: dict, as_of, counts: dict) -> dict | None:
    """right_censoring: opportunities created in the after window still open at its end (`counts`:
    helpers.metrics.velocity_engine.censoring_counts of the after window)."""
    cutoff = last_day(wins["after"]["end"], as_of)
    n_open = int(counts["open_at_end"])
    if not n_open:
        return None
    median_age = counts["median_age"]
    n_created = int(counts["created"])
    still = int(counts["open_now"])
    known = (f"{still} of them are still open on {_date(as_of)}: their outcome is not known yet"
             if still else f"all of them have closed by {_date(as_of)}, after the window")
    return {
        "code": "right_censoring",
        "text": (f"{n_open} of the {n_created} opportunities created in the after window were still open at its "
                 f"end ({_date(cutoff)}), median age {median_age:g} days; {known}. A window's win rate, deal size "
                 "and cycle count only the deals closed inside it, so these deals are left out of the after "
                 "window: this shortens the measured sales cycle (only the quick deals had closed) and can "
                 "inflate the win rate (quick wins are recorded before slow losses)."),
        "values": {"created_in_after": n_created, "open_at_window_end": n_open,
                   "open_at_as_of": still, "median_age_days": median_age,
                   "window_end": cutoff, "as_of": as_of},
    }


def _mix_shift(source, wins: dict, as_of) -> dict | None:
    """mix_shift: the shares of opportunities that moved by more than MIX_SHIFT_THRESHOLD (:func:`_mix_shifts`),
    the biggest named."""
    shifts = _mix_shifts(source, wins, as_of)
    if not shifts:
        return None
    shifts.sort(key=lambda s: (-abs(s["shift"]), s["column"], s["value"]))
    top = shifts[0]
    return {
        "code": "mix_shift",
        "text": (f"The mix of opportunities changed: the share of {top['column']} '{top['value']}' went from "
                 f"{_pct(top['before_share'], False)} before to {_pct(top['after_share'], False)} after "
                 f"({(top['shift']) * 100:+.0f} points)"
                 + (f", and {len(shifts) - 1} other share(s) moved by more than 10 points" if len(shifts) > 1 else "")
                 + ". Part of the change may come from a different mix of deals, not from the initiative."),
        "values": {"threshold": MIX_SHIFT_THRESHOLD, "biggest": top, "shifts": shifts},
    }


def _other_initiatives(wins: dict, as_of, initiatives: pd.DataFrame | None, initiative_name) -> dict | None:
    """other_initiatives: initiatives other than the chosen one started in [before start, min(after end, as_of)]."""
    if initiatives is None or not len(initiatives) or "started_on" not in initiatives.columns:
        return None
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
    if not others:
        return None
    listed = ", ".join(f"'{o['name']}' ({_date(o['started_on'])}, {o['window']} window)" for o in others)
    return {
        "code": "other_initiatives",
        "text": (f"Other initiatives started during the compared windows: {listed}. The change cannot be "
                 "credited to one initiative alone."),
        "values": {"initiatives": others},
    }


def _after_window_incomplete(wins: dict, as_of) -> dict | None:
    """after_window_incomplete: the after window ends after as_of."""
    a_start, a_end, w = wins["after"]["start"], wins["after"]["end"], wins["window_days"]
    if a_end <= as_of:
        return None
    observed = max(0, (as_of - a_start).days + 1)
    return {
        "code": "after_window_incomplete",
        "text": (f"The after window runs to {_date(a_end)}, after the data snapshot ({_date(as_of)}): only "
                 f"{observed} of its {w} days are observed, so its opportunity count and velocity are "
                 "still incomplete."),
        "values": {"after_end": a_end, "as_of": as_of, "days_observed": observed, "window_days": w},
    }


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

    # the caveats are named by the view, with their titles in the report language (velocity_views.conclusion_text)
    incomplete = next((c for c in result.get("caveats") or [] if c.get("code") == "after_window_incomplete"), None)
    if incomplete is not None:
        v = incomplete["values"]
        return {"code": "too_early", "values": values,
                "text": (f"Too early to judge {label}: the after window is not over ({v['days_observed']} of "
                         f"{v['window_days']} days observed by {_date(v['as_of'])}), so its opportunity count "
                         "and velocity are incomplete.")}
    if vb is None or va is None or raw is None:
        which = [n for n, v in (("before", vb), ("after", va)) if v is None] or ["before"]
        return {"code": "not_measurable", "values": values,
                "text": (f"The effect of {label} cannot be measured: sales velocity is "
                         + ("unknown" if (vb is None or va is None) else "0")
                         + f" in the {' and '.join(which)} window (it needs won deals with a known cycle and "
                           "a positive before value).")}
    if adjusted is not None:
        return _adjusted_verdict(label, adjusted, adj_iv, values)
    return _unadjusted_verdict(label, raw, raw_iv, values)


def _interval_text(iv: dict) -> str:
    return f"95% interval {_pct(_num(iv.get('low')))} to {_pct(_num(iv.get('high')))}"


def _adjusted_verdict(label: str, adjusted: float, iv: dict, values: dict) -> dict:
    """The conclusion from the seasonally adjusted change and its interval `iv`: improved / worsened when the
    interval excludes 0, else no_clear_change (`values` gets the interval's bounds)."""
    values["interval_low"], values["interval_high"] = _num(iv.get("low")), _num(iv.get("high"))
    verdict = includes_no_change(iv)
    if verdict is False:
        up = values["interval_low"] > 0
        return {"code": "improved" if up else "worsened", "values": values,
                "text": (f"After seasonal adjustment, sales velocity after {label} was {_pct(adjusted)} "
                         f"{'higher' if up else 'lower'} than before ({_interval_text(iv)}, which excludes no "
                         f"change). This shows a change at the time of the initiative, not proof that it "
                         f"caused it.")}
    why = ("the 95% interval could not be computed (too many degenerate resamples)" if verdict is None
           else f"{_interval_text(iv)} includes no change")
    return {"code": "no_clear_change", "values": values,
            "text": (f"No clear change after {label}: the seasonally adjusted change in sales velocity is "
                     f"{_pct(adjusted)}, but {why}.")}


def _unadjusted_verdict(label: str, raw: float, iv: dict, values: dict) -> dict:
    """The conclusion without a prior-year baseline, from the raw change and its interval `iv`: rose_unadjusted /
    fell_unadjusted when the interval excludes 0 (said to be not separable from seasonality), else no_clear_change
    (`values` gets the interval's bounds)."""
    values["interval_low"], values["interval_high"] = _num(iv.get("low")), _num(iv.get("high"))
    verdict = includes_no_change(iv)
    if verdict is False:
        up = values["interval_low"] > 0
        return {"code": "rose_unadjusted" if up else "fell_unadjusted", "values": values,
                "text": (f"Sales velocity {'rose' if up else 'fell'} by {_pct(raw)} after {label} "
                         f"({_interval_text(iv)}), but without a prior-year baseline this cannot be separated "
                         f"from seasonality.")}
    why = ("the 95% interval could not be computed" if verdict is None else f"{_interval_text(iv)} includes no change")
    return {"code": "no_clear_change", "values": values,
            "text": (f"No clear change after {label}: sales velocity changed by {_pct(raw)} (not seasonally "
                     f"adjusted: no prior-year baseline), but {why}.")}
