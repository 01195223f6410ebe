"""Views for notebook 03 (before/after velocity): headline, factor table, LMDI waterfall, trend, caveats.

Figures come from helpers.metrics.velocity; this module only formats, labels and draws them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import pandas as pd

from helpers.labels import label_or_value, t
from helpers.metrics import velocity as vel
from helpers.views import display, fmt
from helpers.views.display import is_static
from helpers.views.theme import MARKETING, NEGATIVE, NEUTRAL, POSITIVE, SALES, finish, legend_outside, money_axis, money_label

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session

FACTOR_KEYS = ("opportunities_created", "avg_deal_size", "win_rate", "sales_cycle_days", "sales_velocity")


def blocked(s: Session) -> str | None:
    """The reason code when the data cannot give a sales velocity at all (no opportunities table, no lost deals, no
    amounts, a bulk-load created_at: :class:`helpers.metrics.limits.DataFacts`), else None."""
    from helpers.metrics.limits import workbook_facts

    facts = workbook_facts(s.wb, s.source)
    for code in ("no_opportunities", "no_lost_deals", "no_amounts", "one_created_at", "nothing_closed"):
        if getattr(facts, code):
            return code
    return None


def section(s: Session, vc: dict | None) -> dict | None:
    """The velocity_comparison section of metrics.json: the comparison; or, when the data cannot give a
    velocity, ``{"sales_velocity": None, "null_reasons": {"sales_velocity": code}}``; None without an initiative."""
    code = blocked(s)
    if vc is None and code:
        return {"sales_velocity": None, "null_reasons": {"sales_velocity": code}}
    return vc


def comparison(s: Session, initiative: str = "", window_days: int = 0) -> dict | None:
    """The velocity_comparison section for the session's period (initiative "" = the default rule);
    None without an initiative or when the data cannot give a velocity (:func:`blocked`)."""
    if blocked(s):
        return None
    settings = dict(s.config.velocity, window_days=window_days or s.config.velocity["window_days"])
    return vel.velocity_comparison(s.wb.opportunities, s.wb.initiatives, s.as_of, s.period.end, settings,
                                   s.config.fiscal_year_start_month, initiative=initiative or None, source=s.source)


def later_initiative(s: Session) -> dict | None:
    """The first declared initiative that starts after this period (or after the snapshot date): {name, started_on}; None when there is none."""
    frame = s.wb.initiatives
    if frame is None or not len(frame) or "started_on" not in frame.columns:
        return None
    cutoff = min(pd.Timestamp(s.period.end), pd.Timestamp(s.as_of))
    started = pd.to_datetime(frame["started_on"], errors="coerce")
    later = frame.assign(_start=started)[started > cutoff].sort_values("_start", kind="stable")
    if not len(later):
        return None
    row = later.iloc[0]
    return {"name": row.get("name"), "started_on": row["_start"]}


def no_initiative_view(s: Session):
    """Why there is no before/after comparison in this period: the data cannot give a velocity (that reason), no
    initiative declared (how to declare one), or the declared initiative starts after this period (which period's
    report compares it); the trend below needs neither."""
    code = blocked(s)
    if code:
        return display.note(t("reason_velocity_blocked", s.lang).format(reason=t(f"reason_{code}", s.lang)), warn=True)
    later = later_initiative(s)
    if later is None:
        return display.note(t("velocity_no_initiative", s.lang), warn=True)
    from helpers.data.periods import period_of

    name = later["name"] if isinstance(later["name"], str) and later["name"].strip() else t("initiative", s.lang)
    return display.note(t("velocity_initiative_later", s.lang).format(
        name=name, start=_day(later["started_on"]), period=s.period.label,
        end=_day(min(pd.Timestamp(s.period.end), pd.Timestamp(s.as_of))),
        first=period_of(later["started_on"], s.config.fiscal_year_start_month).label))


def no_comparison_note(s: Session):
    """One line in a section that has nothing to show without a comparison (the reason is given above)."""
    return display.note(t("velocity_no_comparison_here", s.lang))


def _value(key: str, value, s: Session) -> str:
    if key in ("avg_deal_size", "sales_velocity", "won_revenue"):
        return fmt.money(value, s.config)
    if key.endswith("rate"):
        return fmt.rate(value, s.lang)
    return fmt.number(value, s.lang, 1 if key == "sales_cycle_days" else 0)


def _pct(value, lang: str = "en") -> str:
    return t("not_available", lang) if value is None else f"{value:+.1%}"


def _interval(iv: dict | None, lang: str = "en") -> str:
    if not iv or iv.get("low") is None:
        return t("not_available", lang)
    return f"[{iv['low']:+.1%}, {iv['high']:+.1%}]"


def initiative_name(vc: dict, lang: str) -> str:
    """The initiative's name as shown; an initiative chosen by its start date alone (no name) is "A start date chosen"."""
    name = vc.get("initiative")
    return name.strip() if isinstance(name, str) and name.strip() else t("velocity_unnamed_initiative", lang)


def _points_interval(vc: dict, key: str) -> dict | None:
    """The 95% interval of a rate's change in points (None for a key changed in percent, or an older result)."""
    return ((vc["intervals"].get("change_points") or {}).get(key)) if key in vel.POINT_KEYS else None


def _change(vc: dict, key: str, lang: str) -> str:
    """A factor's change: a rate in points (+2.1 pt), everything else in percent (+12.0%)."""
    if key in vel.POINT_KEYS:
        return fmt.points((vc.get("change_points") or {}).get(key), lang)
    return _pct(vc["change"].get(key), lang)


def _change_interval(vc: dict, key: str, lang: str) -> str:
    """The 95% interval of a factor's change, in the unit of :func:`_change`."""
    if key in vel.POINT_KEYS:
        iv = _points_interval(vc, key)
        if not iv or iv.get("low") is None:
            return t("not_available", lang)
        unit = t("unit_points", lang)
        return f"[{iv['low'] * 100:+.1f}, {iv['high'] * 100:+.1f}] {unit}"
    return _interval(vc["intervals"]["change"].get(key), lang)


def headline(s: Session, vc: dict):
    """Velocity before and after, the naive change and the seasonally adjusted change (with 95% intervals)."""
    iv = vc["intervals"]
    return display.kpis([
        (t("initiative", s.lang), f"{initiative_name(vc, s.lang)} ({pd.Timestamp(vc['start']):%Y-%m-%d})"),
        (t("velocity_before", s.lang), fmt.money(vc["before"]["sales_velocity"], s.config)),
        (t("velocity_after", s.lang), fmt.money(vc["after"]["sales_velocity"], s.config)),
        (t("velocity_naive_change", s.lang),
         f"{_pct(vc['change']['sales_velocity'], s.lang)} {_interval(iv['change']['sales_velocity'], s.lang)}"),
        _adjusted_card(vc, s.lang),
    ])


def _adjusted_card(vc: dict, lang: str) -> tuple:
    """The seasonally adjusted change's card: the change and its 95% interval, or n/a with the reason beside it (the
    windows whose velocity is unknown or 0, and the data's first date when they lie before the data)."""
    adjusted = vc["seasonally_adjusted_change"]
    label = t("velocity_adjusted_change", lang)
    if adjusted is not None:
        return label, f"{_pct(adjusted, lang)} {_interval(vc['intervals']['seasonally_adjusted_change'], lang)}"
    # the formula's divisors (before, both last-year windows) cannot be 0; the after window only unknown
    missing = [name for name in ("before", "after", "before_last_year", "after_last_year")
               if (vc[name] or {}).get("sales_velocity") is None or (name != "after" and vc[name]["sales_velocity"] == 0)]
    windows = ("と" if lang == "ja" else " and ").join(
        (f"「{t(WINDOW_LABELS[n], lang)}」" if lang == "ja" else f"'{t(WINDOW_LABELS[n], lang)}'") for n in missing)
    prior = next((c["values"] for c in vc.get("caveats") or [] if c.get("code") == "no_prior_year_data"), {})
    before_data = [n for n in missing if ((vc[n] or {}).get("null_reasons") or {}).get("sales_velocity") == "before_data"]
    if before_data and prior.get("first_created") is not None:
        why = t("velocity_adjusted_why_before_data", lang).format(first=_day(prior["first_created"]), windows=windows)
    else:
        why = t("velocity_adjusted_why_unknown", lang).format(windows=windows)
    return label, t("not_available", lang), why


def windows_note(s: Session, vc: dict):
    """The four windows' dates, in one sentence."""
    w = vc["windows"]

    def span(name):
        return f"{pd.Timestamp(w[name]['start']):%Y-%m-%d} – {pd.Timestamp(w[name]['end']):%Y-%m-%d}"

    return display.note(t("velocity_windows", s.lang).format(
        days=vc["window_days"], before=span("before"), after=span("after"),
        before_ly=span("before_last_year"), after_ly=span("after_last_year")))


def selection_text(s: Session, vc: dict) -> str:
    """The velocity explorer's selection in the page's language (its table caption and chart title): the initiative,
    its start date and the window length."""
    return t("explore_selection_velocity", s.lang).format(initiative=initiative_name(vc, s.lang),
                                                          start=f"{pd.Timestamp(vc['start']):%Y-%m-%d}", days=vc["window_days"])


def factor_table(s: Session, vc: dict, caption: str | None = None):
    """Velocity and its four factors in each window, with the change and its 95% interval; `caption` names the table
    (the explorer's selection)."""
    iv = vc["intervals"]
    rows = []
    for key in FACTOR_KEYS:
        rows.append({
            t("measure", s.lang): t(key, s.lang),
            t("velocity_before", s.lang): _value(key, vc["before"][key], s),
            t("velocity_after", s.lang): _value(key, vc["after"][key], s),
            t("change", s.lang): _change(vc, key, s.lang),
            "95%": _change_interval(vc, key, s.lang),
            t("velocity_before_ly", s.lang): _value(key, vc["before_last_year"][key], s),
            t("velocity_after_ly", s.lang): _value(key, vc["after_last_year"][key], s),
        })
    lines = window_notes(vc, s.lang)
    if not lines:
        return display.table(pd.DataFrame(rows), caption=caption)
    return display.HTML(display.table_html(pd.DataFrame(rows), caption=caption) + display.bullets(lines).data)


#: The reason code of a window the data does not reach (helpers.metrics.velocity_change.outside_data) -> the line
#: said under the factor table: period over period's sentence (label pop_no_data) and its mirror after the data.
OUTSIDE_LINES = {"before_data": "pop_no_data", "after_data": "pop_after_data"}
#: The column label of each window.
WINDOW_LABELS = {"before": "velocity_before", "after": "velocity_after", "before_last_year": "velocity_before_ly",
                 "after_last_year": "velocity_after_ly"}


def window_notes(vc: dict, lang: str) -> list[str]:
    """"⚠ <window> is before the data starts: its figures are unknown, not zero, ..." for each window of `vc` whose
    figures are null because the data does not reach it (its null_reasons), in the window order."""
    lines = []
    for name, label in WINDOW_LABELS.items():
        code = next(iter(((vc.get(name) or {}).get("null_reasons") or {}).values()), None)
        if code in OUTSIDE_LINES:
            lines.append("⚠ " + t(OUTSIDE_LINES[code], lang).format(period=t(label, lang)))
    return lines


def interval_sentences(s: Session, vc: dict) -> list[str]:
    """Plain statements of which changes the data can and cannot distinguish from no change."""
    out = []
    iv = vc["intervals"]
    for key in FACTOR_KEYS:
        interval = _points_interval(vc, key) or iv["change"].get(key)
        includes = vel.includes_no_change(interval)
        if includes is None:
            continue
        out.append(t("velocity_includes_zero" if includes else "velocity_excludes_zero", s.lang).format(
            measure=t(key, s.lang), interval=_change_interval(vc, key, s.lang)))
    adj = iv.get("seasonally_adjusted_change")
    includes = vel.includes_no_change(adj)
    if includes is not None:
        out.append(t("velocity_includes_zero" if includes else "velocity_excludes_zero", s.lang).format(
            measure=t("velocity_adjusted_change", s.lang), interval=_interval(adj, s.lang)))
    return out


def waterfall(s: Session, vc: dict, selection: str | None = None):
    """LMDI split of the velocity change into the four factors, as a waterfall (the parts add up to the total); the
    explorer's `selection` follows the title."""
    parts = vc["contributions"]
    fig, ax = plt.subplots()
    if any(parts.get(k) is None for k in vel.FACTORS):
        plt.close(fig)
        missing = [t(k, s.lang) for k in vel.FACTORS for w in ("before", "after")
                   if not ((vc[w].get(k) or 0) > 0)]
        return display.note(t("velocity_no_lmdi", s.lang).format(factors=", ".join(dict.fromkeys(missing))))
    before, after = vc["before"]["sales_velocity"], vc["after"]["sales_velocity"]
    labels = [t("velocity_before", s.lang)] + [t(k, s.lang) for k in vel.FACTORS] + [t("velocity_after", s.lang)]
    level = before
    ax.bar(0, before, color=NEUTRAL)
    for i, key in enumerate(vel.FACTORS, start=1):
        value = parts[key]
        ax.bar(i, value, bottom=level, color=POSITIVE if value >= 0 else NEGATIVE)
        ax.text(i, level + value, ("+" if value >= 0 else "") + money_label(value, s.config), ha="center", va="bottom" if value >= 0 else "top", fontsize=8)
        level += value
    ax.bar(len(labels) - 1, after, color=MARKETING)
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_ylabel(t("sales_velocity", s.lang))
    money_axis(ax, s.config)
    ax.set_title(t("velocity_waterfall", s.lang) + (f" — {selection}" if selection else ""))
    return finish(fig, t("alt_waterfall", s.lang).format(before=fmt.money(before, s.config), after=fmt.money(after, s.config)))


def trend_chart(s: Session, vc: dict | None):
    """Sales velocity per fiscal quarter across all history, with the initiative's start marked
    (nothing when the data cannot give a velocity or no quarter has one: never an empty chart)."""
    if blocked(s):
        return None
    quarterly = vel.quarterly_velocity_of(s.source, s.as_of, s.config.fiscal_year_start_month)
    if not pd.to_numeric(quarterly["sales_velocity"], errors="coerce").notna().any():
        return display.note(t("velocity_no_trend", s.lang))   # a sentence, never an empty chart
    fig, ax = plt.subplots()
    ax.plot(quarterly["label"], quarterly["sales_velocity"], marker="o", color=MARKETING)
    if vc is not None:
        start = pd.Timestamp(vc["start"])
        idx = [i for i, (a, b) in enumerate(zip(quarterly["start"], quarterly["end"])) if a <= start <= b]
        if idx:
            ax.axvline(idx[0], color=SALES, linestyle="--", label=t("velocity_initiative_start", s.lang))
            legend_outside(ax)
    ax.set_title(t("velocity_trend", s.lang))
    ax.set_ylabel(t("sales_velocity", s.lang))   # revenue a day: the unit the glossary defines
    ax.tick_params(axis="x", rotation=60)
    money_axis(ax, s.config)
    known = quarterly[pd.to_numeric(quarterly["sales_velocity"], errors="coerce").notna()].iloc[-1]
    return finish(fig, t("alt_velocity_trend", s.lang).format(period=known["label"], value=fmt.money(known["sales_velocity"], s.config)))


def seasonal_view(s: Session):
    """The seasonal profile (each fiscal quarter's velocity relative to its year's mean) and the STL note;
    (None, None) when the data cannot give a velocity or no quarter has a profile value."""
    if blocked(s):
        return None, None
    quarterly = vel.quarterly_velocity_of(s.source, s.as_of, s.config.fiscal_year_start_month)
    prof = vel.seasonal_profile(quarterly)
    fig, ax = plt.subplots(figsize=(5.5, 3))
    qs = [1, 2, 3, 4]
    values = [prof["profile"].get(q) for q in qs]
    if all(v is None for v in values):
        plt.close(fig)
        return None, prof
    ax.bar([f"Q{q}" for q in qs], [0 if v is None else v for v in values], color=MARKETING)
    ax.axhline(1.0, color=NEUTRAL, linestyle="--")
    ax.set_title(t("velocity_profile", s.lang).format(years=prof["years_used"]))
    high = max((q for q in qs if prof["profile"].get(q) is not None), key=lambda q: prof["profile"][q])
    return finish(fig, t("alt_profile", s.lang).format(q=high, factor=f"{prof['profile'][high]:.2f}")), prof


def stl_chart(s: Session):
    """STL decomposition of quarterly velocity (trend, seasonal, remainder) when there are two full years, else a note
    (nothing when the data cannot give a velocity: the comparison above says why)."""
    if blocked(s):
        return None
    quarterly = vel.quarterly_velocity_of(s.source, s.as_of, s.config.fiscal_year_start_month)
    prof = vel.seasonal_profile(quarterly)
    stl = prof.get("stl")
    if stl is None or len(stl) == 0:
        have = t("quarters_count_one" if len(quarterly) == 1 else "quarters_count", s.lang).format(n=len(quarterly))
        return display.note(t("velocity_no_stl", s.lang).format(quarters=8, have=have))
    fig, axes = plt.subplots(3, 1, figsize=(7, 5), sharex=True)
    x = stl.index.astype(str) if "label" not in stl.columns else stl["label"]
    for ax, col in zip(axes, ("trend", "seasonal", "resid")):
        if col in stl.columns:
            ax.plot(list(x), stl[col], marker="o", color=MARKETING)
            ax.set_ylabel(t(f"stl_{col}", s.lang))
            money_axis(ax, s.config)
    axes[-1].tick_params(axis="x", rotation=60)
    fig.suptitle(t("velocity_stl", s.lang))
    trend = pd.to_numeric(stl["trend"], errors="coerce").dropna() if "trend" in stl.columns else pd.Series(dtype=float)
    figure = None if trend.empty else t("alt_stl", s.lang).format(period=list(x)[trend.index.get_loc(trend.index[-1])],
                                                                   value=fmt.money(trend.iloc[-1], s.config))
    return finish(fig, figure)


WINDOW_LABELS = {"before": "velocity_before", "after": "velocity_after",
                 "before_last_year": "velocity_before_ly", "after_last_year": "velocity_after_ly"}


def _day(value) -> str:
    return "" if value is None else pd.Timestamp(value).strftime("%Y-%m-%d")


def caveat_text(c: dict, lang: str, channel_names: dict | None = None) -> str:
    """A caveat's sentence in the report language: English as written by helpers.metrics.velocity, Japanese from its
    values; a channel by its display name (`channel_names`, helpers.config.Config.channel_names)."""
    if c["code"] == "mix_shift" and c["values"]["biggest"]["column"] == "channel":
        b = c["values"]["biggest"]
        shown = label_or_value(b["value"], lang, channel_names)
        c = {**c, "text": c["text"].replace(f"channel '{b['value']}'", f"channel '{shown}'", 1),
             "values": {**c["values"], "biggest": {**b, "value": shown}}}
    if lang == "en":
        return c["text"]
    v, key = c["values"], "caveat_text_" + c["code"]
    if c["code"] == "too_few_closed_deals":
        windows = "、".join(f"{t(WINDOW_LABELS[w], lang)} {v['closed_deals'][w]}件" for w in v["windows"])
        return t(key, lang).format(min=v["min_closed_deals"], windows=windows)
    if c["code"] == "different_seasons":
        text = t(key, lang).format(before=_day(v["before_midpoint"]), after=_day(v["after_midpoint"]),
                                   qb=v["before_quarter"], qa=v["after_quarter"])
        if v["before_quarter"] != v["after_quarter"] and v.get("profile_before") is not None and v.get("profile_after") is not None:
            text += t("caveat_text_season_factors", lang).format(   # the per-quarter factors the English sentence gives
                years=v["profile_years"], qb=v["before_quarter"], qa=v["after_quarter"],
                fb=f"{v['profile_before']:.2f}", fa=f"{v['profile_after']:.2f}")
        return text
    if c["code"] == "no_prior_year_data":
        return t(key, lang).format(first=_day(v["first_created"]), start=_day(v["before_last_year_start"]))
    if c["code"] == "right_censoring":
        key += "" if v["open_at_as_of"] else "_closed"
        return t(key, lang).format(as_of=_day(c["values"].get("as_of")),n=v["created_in_after"], open=v["open_at_window_end"], end=_day(v["window_end"]),
                                   still=v["open_at_as_of"], age=fmt.number(v["median_age_days"], lang))
    if c["code"] == "mix_shift":
        b = v["biggest"]
        return t(key, lang).format(column=t(b["column"], lang), value=b["value"], before=fmt.rate(b["before_share"], lang, 0),
                                   after=fmt.rate(b["after_share"], lang, 0), shift=f"{b['shift'] * 100:+.0f}")
    if c["code"] == "other_initiatives":
        return t(key, lang).format(names="、".join(f"{o['name']}({_day(o['started_on'])})" for o in v["initiatives"]))
    if c["code"] == "after_window_incomplete":
        return t(key, lang).format(end=_day(v["after_end"]), as_of=_day(v["as_of"]), observed=v["days_observed"], days=v["window_days"])
    return c["text"]


def caveats_view(s: Session, vc: dict):
    """Every caveat that applies, as a bullet: a short title, then the details, in the report language."""
    if not vc["caveats"]:
        return display.note(t("velocity_no_caveats", s.lang))
    return display.bullets([f"{t('caveat_' + c['code'], s.lang)}: {caveat_text(c, s.lang, s.config.channel_names)}" for c in vc["caveats"]])


def conclusion_text(vc: dict, lang: str) -> str:
    """The conclusion in the report language (Japanese built from the same values as the English sentence)."""
    c = vc["conclusion"]
    codes = [x["code"] for x in vc.get("caveats") or []]
    tail = (" " + t("conclusion_read_caveats", lang).format(caveats=("、" if lang == "ja" else "; ").join(t("caveat_" + code, lang) for code in codes))
            if codes else "")
    if lang == "en":
        return c["text"] + tail
    v = c["values"]
    title = t("conclusion_" + c["code"], lang)
    adjusted, low, high = v.get("seasonally_adjusted_change"), v.get("interval_low"), v.get("interval_high")
    detail = t("conclusion_detail", lang).format(name=initiative_name(vc, lang), start=_day(vc["start"]), change=_pct(v.get("change"), lang),
                                                 adjusted=_pct(adjusted, lang), interval=_interval({"low": low, "high": high}, lang))
    return f"{title} — {detail} {t('conclusion_never_causal', lang)}{tail}"


def conclusion_view(s: Session, vc: dict):
    """The plain-language conclusion, never claiming more than the intervals support."""
    return display.note(conclusion_text(vc, s.lang), warn=vc["conclusion"]["code"] not in ("improved",))


def key_text(vc: dict | None) -> str:
    """Plain-text comparison figures (checked by nbval)."""
    if vc is None:
        return "no initiative"

    def show(v):
        return "null" if v is None else f"{v:.4f}"

    parts = vc["contributions"]
    return (f"initiative {vc['initiative']} start {pd.Timestamp(vc['start']):%Y-%m-%d} window {vc['window_days']}\n"
            f"velocity before {show(vc['before']['sales_velocity'])} after {show(vc['after']['sales_velocity'])}\n"
            f"change {show(vc['change']['sales_velocity'])} seasonally_adjusted {show(vc['seasonally_adjusted_change'])}\n"
            "contributions " + ", ".join(f"{k} {show(parts.get(k))}" for k in vel.FACTORS) + "\n"
            f"caveats {[c['code'] for c in vc['caveats']]}\nconclusion {vc['conclusion']['code']}")


def explore_view(s: Session, initiative: str, window_days: int) -> list:
    """One explorer selection: the same headline, conclusion, windows, factor table, waterfall and caveats as the
    report, the table's caption and the chart's title naming the selection (:func:`selection_text`)."""
    vc = comparison(s, initiative, window_days)
    if vc is None:
        return [no_initiative_view(s)]
    selection = selection_text(s, vc)
    return [headline(s, vc), conclusion_view(s, vc), windows_note(s, vc), factor_table(s, vc, caption=selection),
            display.bullets(interval_sentences(s, vc)), waterfall(s, vc, selection=selection), caveats_view(s, vc)]


def explore(s: Session, initiative: str = "", window_days: int = 0):
    """JupyterLab: choose the initiative and the window length (nothing in the report: its views are above).

    Starts with the page's own choice (`initiative` and `window_days`, the notebook's parameters,
    as set by the control panel): a listed name, a start date YYYY-MM-DD, or "" (the latest one).
    """
    if is_static():
        return None
    from helpers.views.interactive import explore as _explore

    names = [] if s.wb.initiatives is None else list(dict.fromkeys(str(n).strip() for n in s.wb.initiatives["name"].dropna()))
    chosen = str(initiative or "").strip()
    first = (t("velocity_default_initiative", s.lang), "") if not chosen else (chosen, chosen)
    others = [(t("velocity_default_initiative", s.lang), "")] if chosen else []
    default_w = int(window_days or 0) or s.config.velocity["window_days"]

    def view(initiative: str, window_days: int):
        return explore_view(s, initiative, window_days)

    return _explore(view, labels={"initiative": t("initiative", s.lang), "window_days": t("explore_window_days", s.lang)},
                    busy=t("explore_busy", s.lang), hint=t("lab_run_explorer", s.lang),
                    initiative=[first] + others + [(n, n) for n in names if n != chosen],
                    window_days=[default_w] + [w for w in (60, 90, 120, 180) if w != default_w])
