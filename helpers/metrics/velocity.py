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

The parts live by concern, every public name still importable from here: helpers.metrics.velocity_change (windows,
changes, LMDI, bootstrap), helpers.metrics.velocity_seasons (quarters, seasonal profile) and
helpers.metrics.velocity_caveats (caveats, conclusion); this module picks the initiative and puts the section
together.
"""
from __future__ import annotations

import math
import re

import pandas as pd

from helpers.errors import coded_error
from helpers.metrics.pipeline import day, pipeline_metrics_windows_of
from helpers.metrics.velocity_caveats import MIX_COLUMNS, MIX_SHIFT_THRESHOLD, caveats, conclusion  # noqa: F401 (public here too)
from helpers.metrics.velocity_change import (CHANGE_KEYS, DEFAULT_SEED, FACTORS, INTERVAL_KEYS, LEVEL,  # noqa: F401 (public here too)
                                             POINT_KEYS, WINDOW_NAMES, _date, _velocity_of, bootstrap, change,
                                             change_points, includes_no_change, lmdi, log_mean,
                                             outside_data, seasonally_adjusted_change, unknown_intervals,
                                             unknown_window, window_metrics, windows)
from helpers.metrics.velocity_seasons import quarterly_velocity, quarterly_velocity_of, seasonal_profile  # noqa: F401 (public here too)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
                raise coded_error("initiative_choice", None, "date", choice=choice) from exc
            return {"name": None, "started_on": when, "items": [], "note": None}
        names = sorted(frame["name"].dropna().astype(str).unique()) if "name" in frame.columns else []
        raise coded_error("initiative_choice", None, "" if names else "none", choice=choice, names=", ".join(names))
    if not len(frame):
        return None
    eligible = frame[frame["_start"] <= day(period_end)]
    if not len(eligible):
        return None
    latest = eligible["_start"].max()
    return as_dict(eligible[eligible["_start"] == latest].iloc[-1])



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
    outside = outside_data(win, *_data_extent(source, as_of))   # windows the data does not reach: unknown, not 0
    m = {name: unknown_window(m[name], outside[name]) if name in outside else m[name] for name in WINDOW_NAMES}
    intervals = unknown_intervals(bootstrap(opps, win, as_of, n=n, seed=seed, source=source), outside)
    profile = seasonal_profile(quarterly_velocity_of(source, as_of, fiscal_year_start_month))
    notes = caveats(opps, win, m["before"], m["after"], m["before_last_year"], m["after_last_year"], as_of,
                    initiatives, chosen["name"], min_closed, intervals, fiscal_year_start_month, profile=profile,
                    source=source)
    result = _comparison_section(chosen, win, m, intervals, profile, notes)
    result["conclusion"] = conclusion(result)
    return result


def _data_extent(source, as_of) -> tuple:
    """(the data's first date, the data's end) of `source`, as a period's coverage reads them
    (helpers.metrics.limits: source_dates, data_end_of of source_last_date)."""
    from helpers.metrics.limits import data_end_of, source_dates, source_last_date

    return source_dates(source)[0], data_end_of(as_of, source_last_date(source))


def _comparison_section(chosen: dict, win: dict, m: dict, intervals: dict, profile: dict, notes: list) -> dict:
    """The velocity_comparison section but its conclusion, from the chosen initiative, its windows (:func:`windows`),
    the pipeline metrics of each window `m`, the bootstrap `intervals`, the seasonal `profile` and the caveats: the
    change after / before, the seasonally adjusted change and the LMDI split computed here."""
    changes = change(m["before"], m["after"])
    adjusted = seasonally_adjusted_change(*(_velocity_of(m[k]) for k in ("after", "before", "after_last_year",
                                                                          "before_last_year")))
    parts = lmdi(m["before"], m["after"])
    return {
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
