"""Views for notebook 04 (shared goals and plan): targets and progress, forecast (着地見込み), backtest,
pipeline coverage and the reverse funnel (逆算).

Figures come from helpers.metrics.goals; this module only formats, labels (helpers/labels.yaml) and draws them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass

import matplotlib.pyplot as plt
import pandas as pd

from helpers.labels import scoped, t
from helpers.metrics import goals, limits, season
from helpers.metrics.pipeline import STAGE_DATE_REASONS
from helpers.views import display, fmt
from helpers.views.common import channel_label, open_amount_text, reason_text
from helpers.views.theme import MARKETING, POSITIVE, SALES, finish, legend_outside, money_axis, percent_axis

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session

MONEY_METRICS = {"won_revenue"}


def _join(*parts):
    """Several escaped HTML blocks shown as one cell output."""
    from IPython.display import HTML

    return HTML("".join(p.data for p in parts))


@dataclass
class GoalsResult:
    """Everything notebook 04 shows: the metrics.json section and the pieces behind it."""

    section: dict           # metrics.json `goals`
    forecast: dict | None   # goals.forecast (with its parts)
    rates: dict             # goals.funnel_rates
    plan: dict              # goals.plan
    backtest: dict          # backtest_summary of section["backtest"]


def compute(s: Session) -> GoalsResult:
    """Compute the goals section of the session's period once (forecast, backtest, rates, plan) from the session's
    source (``s.source``: the workbook's frames in DuckDB, or the warehouse; aggregates only, never the lead or deal
    rows of ``s.wb``); the engine tables of a folder's frames are built once for every query."""
    from helpers.metrics.engine import reusing_tables

    with reusing_tables():
        return _compute(s)


def _compute(s: Session) -> GoalsResult:
    wb, period = s.wb, s.period
    got = goals.goals_of(s.source, period, s.as_of, wb.targets, wb.spend, s.config, limits.warning_codes(wb))
    section, f = limits.explain_goals(got["section"], got["forecast"], got["facts"])
    target = goals.main_goal(section["targets"])
    plan = goals.plan_of(got["data"], period, target, got["rates"], section["reverse_funnel"])
    return GoalsResult(section, f, got["rates"], plan, goals.backtest_summary(section["backtest"]))


def _reason(s: Session, code: str) -> str:
    """The sentence of a null reason code (label ``reason_<code>``)."""
    return t(f"reason_{code}", s.lang)


def _value(metric: str, value, s: Session) -> str:
    if metric in MONEY_METRICS:
        return fmt.money(value, s.config)
    return fmt.number(value, s.lang)


def targets_note(s: Session, g: GoalsResult):
    """Where the goals come from: targets.csv, or the same period a year earlier (said plainly); then a warning for
    each goal that looks typed in another unit (goals.target_notes)."""
    sources = {row["source"] for row in g.section["targets"]}
    last = s.period.shift(-4).label
    if sources == {"targets.csv"}:
        source = display.note(t("goals_source_file", s.lang).format(period=s.period.label))
    elif "targets.csv" in sources:
        source = display.note(t("goals_source_mixed", s.lang).format(period=s.period.label, last=last), warn=True)
    else:
        source = display.note(t("goals_source_last_year", s.lang).format(period=s.period.label, last=last), warn=True)
    return _join(source, *[display.lines(unit_note(s, n), warn=True) for n in g.section.get("target_notes") or []])


def unit_note(s: Session, n: dict) -> list[str]:
    """A goal's plausibility note (code target_unit_suspect) in the report's language: the goal named, the sentence, the fix."""
    from helpers.errors import warning_text

    params = {"variant": n["variant"], "target": fmt.money(n["target"], s.config), "last_year": fmt.money(n["last_year"], s.config),
              "ratio": fmt.number(n["ratio"], s.lang), "scaled": fmt.money(n["scaled"], s.config)}
    sentence, fix = warning_text(n["code"], params, s.lang)
    channel = t("all_channels", s.lang) if n["channel"] is None else channel_label(s.config, n["channel"], s.lang)
    return [f"{t(n['metric'], s.lang)} · {channel}: {sentence}", t("fix", s.lang) + ": " + fix]


def progress_table(s: Session, g: GoalsResult):
    """Every goal against the actual to date, both departments in one table, with the share of the period elapsed."""
    rows = []
    for r, goal in zip(g.section["progress"], g.section["targets"]):
        reason = goal["null_reason"]
        rows.append({
            t("goal_metric", s.lang): t(r["metric"], s.lang),
            t("goal_department", s.lang): t(r["department"], s.lang),
            t("channel", s.lang): t("all_channels", s.lang) if r["channel"] is None else channel_label(s.config, r["channel"], s.lang),
            t("goal", s.lang): _value(r["metric"], r["target"], s) if reason is None else t(f"goal_null_{reason}", s.lang),
            t("goal_source", s.lang): t(f"goal_source_{r['source'].replace('.', '_')}", s.lang),
            t("goal_actual", s.lang): (_value(r["metric"], r["actual"], s) if not r.get("null_reasons")
                                       else t(f"goal_null_{r['null_reasons']['actual']}", s.lang)),
            t("goal_attainment", s.lang): fmt.rate(r["attainment"], s.lang),
            t("goal_elapsed", s.lang): fmt.rate(r["elapsed_share"], s.lang),
        })
    return display.table(pd.DataFrame(rows))


def _interval_text(iv: dict | None, money: bool, s: Session, level: int = 95) -> str:
    if iv is None or iv.get("expected") is None:
        return t("not_available", s.lang)
    show = (lambda v: fmt.money(v, s.config)) if money else (lambda v: fmt.number(v, s.lang))   # deals: whole numbers
    why = (iv.get("null_reasons") or {}).get(f"low_{level}")
    if why:   # too few finite simulated values: the point without an interval, and why
        colon = ": " if s.lang == "en" else ":"
        return f"{show(iv['expected'])} [{t('not_available', s.lang)}{colon}{_reason(s, why)}]"
    return f"{show(iv['expected'])} [{show(iv[f'low_{level}'])} – {show(iv[f'high_{level}'])}]"


def forecast_view(s: Session, g: GoalsResult):
    """The forecast to the period's end: expected with 80% and 95% intervals, and what it is made of (deals won so far
    and open deals as whole numbers, expected deals to one decimal: an expected 0.2 deals never reads "0 deals" beside
    a revenue that is not 0); once the period is over on as_of, the actual won revenue and deals instead, said plainly."""
    f = g.forecast
    whole = (g.section["forecast"].get("null_reasons") or {}).get("won_count")
    if whole:
        return display.note(_reason(s, whole), warn=True)
    if f is None:
        return display.note(t("forecast_none", s.lang), warn=True)
    p = f["parts"]
    if p["remaining_days"] == 0:   # the period is over: the actual, not a forecast with an interval of no width
        items = [(t("forecast_actual_count", s.lang), fmt.number(p["won_so_far_count"], s.lang))]
        if p["won_so_far_revenue"] is not None:
            items.insert(0, (t("forecast_actual_revenue", s.lang), fmt.money(p["won_so_far_revenue"], s.config)))
            items.append((t("goal", s.lang) + " — " + t("won_revenue", s.lang),
                          fmt.money(goals.main_goal(g.section["targets"]), s.config)))
        return _join(display.kpis(items), display.note(t("forecast_period_over", s.lang)))
    if p["won_so_far_revenue"] is None:   # no amounts: the count only, and why
        items = [(t("forecast_count", s.lang) + " (80%)", _interval_text(f["won_count"], False, s, 80)),
                 (t("forecast_count", s.lang) + " (95%)", _interval_text(f["won_count"], False, s, 95))]
        return _join(display.kpis(items), display.note(t("forecast_revenue", s.lang) + ": "
                                                       + _reason(s, g.section["forecast"]["null_reasons"]["won_revenue"]), warn=True))
    items = [
        (t("forecast_revenue", s.lang) + " (80%)", _interval_text(f["won_revenue"], True, s, 80)),
        (t("forecast_revenue", s.lang) + " (95%)", _interval_text(f["won_revenue"], True, s, 95)),
        (t("forecast_count", s.lang) + " (95%)", _interval_text(f["won_count"], False, s, 95)),
        (t("goal", s.lang) + " — " + t("won_revenue", s.lang), fmt.money(goals.main_goal(g.section["targets"]), s.config)),
    ]
    lines = [t("forecast_parts", s.lang).format(
        so_far=fmt.money(p["won_so_far_revenue"], s.config), so_far_n=p["won_so_far_count"],
        open=fmt.money(p["open_expected_revenue"], s.config), open_n=fmt.number(p["open_expected_count"], s.lang, 1),
        deals=p["open_deals"], new=fmt.money(p["new_expected_revenue"], s.config),
        new_n=fmt.number(p["new_expected_count"], s.lang, 1), days=p["remaining_days"])]
    if p.get("open_deals_unpriced"):   # beside the figure: the open deals without an amount count at the mean won amount
        lines.append(t("forecast_unpriced_open", s.lang).format(
            n=p["open_deals_unpriced"], deals=p["open_deals"], mean=fmt.money(p.get("mean_won_amount"), s.config)))
    lines.append(season_line(s, p))
    return _join(display.kpis(items), display.bullets(lines))


def season_line(s: Session, parts: dict) -> str:
    """The forecast's seasonal term in one sentence (helpers.metrics.season): applied with its index and interval, read
    but not clear, or not possible (no past year covered: the non-seasonal interval, said so)."""
    if not parts.get("seasonal_years"):
        return t("forecast_season_short", s.lang).format(warmup=season.WARMUP_DAYS)
    index = (lambda v: f"{v:.2f}")
    values = {"days": parts["seasonal_days"], "years": parts["seasonal_years"],
              "index": index(parts["seasonal_count_index"]), "low": index(parts["seasonal_count_low"]),
              "high": index(parts["seasonal_count_high"])}
    if parts["seasonal_clear"]:
        return t("forecast_season_applied", s.lang).format(deal=index(parts["seasonal_deal_index"]), **values)
    return t("forecast_season_not_clear", s.lang).format(**values)


def forecast_chart(s: Session, g: GoalsResult):
    """Won so far, expected from open deals and from new deals (stacked), the 80%/95% intervals and the goal."""
    f = g.forecast
    reasons = g.section["forecast"].get("null_reasons") or {}
    if "won_count" in reasons:
        return None   # forecast_view said why; no empty chart
    if "won_revenue" in reasons:
        return display.note(t("forecast_chart_none", s.lang).format(reason=_reason(s, reasons["won_revenue"])), warn=True)
    if f is None:
        return display.note(t("forecast_none", s.lang), warn=True)
    if f["parts"]["remaining_days"] == 0:
        return None   # the period is over: forecast_view shows the actuals, there is no forecast to draw
    fig, ax = plt.subplots(figsize=(7, 2.4))
    p, rev = f["parts"], f["won_revenue"]
    left = 0.0
    for key, color in (("won_so_far_revenue", POSITIVE), ("open_expected_revenue", SALES), ("new_expected_revenue", MARKETING)):
        ax.barh([0], [p[key]], left=left, color=color, label=t(key, s.lang), height=0.5)
        left += p[key]
    for level, width in ((95, 1), (80, 4)):   # an interval too few simulated values support is not drawn
        if rev[f"low_{level}"] is not None:
            ax.plot([rev[f"low_{level}"], rev[f"high_{level}"]], [0.45, 0.45], color="#333333", linewidth=width)
    target = goals.main_goal(g.section["targets"])
    if target is not None:
        ax.axvline(target, color="#d55e00", linestyle="--", label=t("goal", s.lang))
    legend_outside(ax, fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.5, 0.8)
    money_axis(ax, s.config, "x")
    ax.set_title(t("forecast_chart_title", s.lang).format(period=s.period.label))
    return finish(fig, t("alt_forecast", s.lang).format(forecast=_interval_text(rev, True, s, 95), goal=fmt.money(target, s.config)))


def backtest_view(s: Session, g: GoalsResult):
    """The backtest in plain words (interval coverage, and plainly when the 95% intervals held the actual less often than
    goals.COVERAGE_AIM; mean absolute error; against last year's same-period figure) and its table."""
    b = g.backtest
    blocked = (g.section["backtest"].get("null_reasons") or {}).get("backtest")
    if blocked:
        return display.note(t("backtest_blocked", s.lang).format(reason=_reason(s, blocked)), warn=True)
    if not b["forecasts"]:
        return display.note(t("backtest_none", s.lang).format(days=goals.MIN_HISTORY_DAYS), warn=True)
    lines = [t("backtest_coverage", s.lang).format(n=b["forecasts"], c80=fmt.rate(b["interval_coverage_80"], s.lang),
                                                  c95=fmt.rate(b["interval_coverage_95"], s.lang)),
             t("backtest_mae", s.lang).format(mae=fmt.money(b["mean_absolute_error"], s.config))]
    if b["interval_coverage_95"] is not None and b["interval_coverage_95"] < goals.COVERAGE_AIM:
        lines.insert(1, t("backtest_below_aim", s.lang).format(c95=fmt.rate(b["interval_coverage_95"], s.lang),
                                                               aim=fmt.rate(goals.COVERAGE_AIM, s.lang, 0)))
    if b["better_than_last_year"] is None:
        lines.append(t("backtest_no_last_year", s.lang))
    else:
        key = "backtest_better" if b["better_than_last_year"] else "backtest_not_better"
        lines.append(t(key, s.lang).format(f=fmt.money(b["forecast_mean_absolute_error_same_rows"], s.config),
                                           ly=fmt.money(b["last_year_mean_absolute_error"], s.config)))
    rows = [{t("period", s.lang): r["period"], t("backtest_days_into", s.lang): r["days_into"],
             t("forecast_revenue", s.lang) + " [95%]": _interval_text(r, True, s, 95),
             t("goal_actual", s.lang): fmt.money(r["actual"], s.config),
             t("backtest_inside", s.lang): (t("not_available", s.lang) if r["low_95"] is None
                                             else "✓" if r["low_95"] <= r["actual"] <= r["high_95"] else "✗"),
             t("last_year_figure", s.lang): fmt.money(r["last_year"], s.config)}
            for r in g.section["backtest"]["periods"]]
    return _join(display.bullets(lines), display.table(pd.DataFrame(rows)))


def backtest_chart(s: Session, g: GoalsResult):
    """Each backtest forecast (point and 95% interval) against what happened, per period and horizon."""
    rows = g.section["backtest"]["periods"]
    if g.section["backtest"].get("null_reasons") or not rows:
        return None   # backtest_view said why (blocked, or no past period to test); no empty chart, no second note
    fig, ax = plt.subplots()
    labels = sorted({r["period"] for r in rows}, key=[r["period"] for r in rows].index)
    x = {p: i for i, p in enumerate(labels)}
    for k, color, shift in zip(goals.BACKTEST_DAYS, (MARKETING, SALES), (-0.15, 0.15)):
        mine = [r for r in rows if r["days_into"] == k and r["low_95"] is not None]   # a point needs its interval
        if mine:
            ax.errorbar([x[r["period"]] + shift for r in mine], [r["expected"] for r in mine],
                        yerr=[[r["expected"] - r["low_95"] for r in mine], [r["high_95"] - r["expected"] for r in mine]],
                        fmt="o", color=color, capsize=3, label=t("backtest_at_days", s.lang).format(days=k))
    actual = {r["period"]: r["actual"] for r in rows}
    ax.scatter([x[p] for p in labels], [actual[p] for p in labels], marker="D", color="#333333", zorder=3, label=t("goal_actual", s.lang))
    legend_outside(ax, fontsize=8)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    money_axis(ax, s.config)
    ax.set_title(t("backtest_chart_title", s.lang))
    return finish(fig, t("alt_backtest", s.lang).format(c95=fmt.rate(g.backtest["interval_coverage_95"], s.lang)))


def coverage_view(s: Session, g: GoalsResult):
    """Pipeline coverage against the coverage the data's win rate implies, with the reason when it is undefined."""
    c = g.section["coverage"]
    left = c["remaining_target"]
    remaining = (t("target_exceeded_by", s.lang).format(amount=fmt.money(-left, s.config)) if left is not None and left < 0
                 else fmt.money(left, s.config))
    on = pd.Timestamp(s.as_of).strftime("%Y-%m-%d")   # the snapshot date: data health's open pipeline is the period end's
    items = [(t("open_pipeline_on", s.lang).format(date=on),
              open_amount_text(c["open_pipeline_amount"], c.get("open_amount_unknown_count"), s.config, s.lang)),
             (t("remaining_target", s.lang), remaining),
             (t("pipeline_coverage", s.lang), t("not_available", s.lang) if c["coverage"] is None else f"{c['coverage']:.2f}×"),
             (t("implied_coverage", s.lang), t("not_available", s.lang) if c["implied_coverage"] is None else f"{c['implied_coverage']:.2f}×")]
    # money in the workbook's currency ($1 ... $1.50), never a hardcoded yen
    lines = [] if c["implied_coverage"] is None else [t("coverage_rule", s.lang).format(
        win=fmt.rate(c["win_rate"], s.lang), one=f"{s.config.currency_symbol}1",
        implied=f"{s.config.currency_symbol}{c['implied_coverage']:.2f}")]
    for reason in dict.fromkeys(c["null_reasons"].values()):
        lines.append(t(f"coverage_null_{reason}", s.lang).format(zero=fmt.money(0, s.config)))
    if c["sufficient"] is not None:
        lines.append(t("coverage_enough" if c["sufficient"] else "coverage_short", s.lang).format(
            cov=f"{c['coverage']:.2f}", implied=f"{c['implied_coverage']:.2f}", win=fmt.rate(c["win_rate"], s.lang)))
    return _join(display.kpis(items), display.bullets(lines)) if lines else display.kpis(items)


def reverse_funnel_view(s: Session, g: GoalsResult):
    """The reverse funnel from the revenue goal: each stage's count needed, its 95% interval, the rate used and by when."""
    rf, rates, windows = g.section["reverse_funnel"], g.rates, g.plan["windows"]
    target = goals.main_goal(g.section["targets"])
    blocked = (rf.get("null_reasons") or {}).get("won_count")
    if blocked:
        return display.note(t("reverse_blocked", s.lang).format(reason=_reason(s, blocked)), warn=True)
    if target is None or rf["won_count"]["expected"] is None:
        return display.note(t("reverse_no_target" if target is None else "reverse_no_deal_size", s.lang), warn=True)
    used = {"won_count": ("avg_deal_size", fmt.money(rates["avg_deal_size"], s.config)),
            "opportunities": ("win_rate", fmt.rate(rates["win_rate"], s.lang)),
            "sqls": ("opportunity_rate", fmt.rate(rates["opportunity_rate"], s.lang)),
            "mqls": ("sql_rate", fmt.rate(rates["sql_rate"], s.lang)),
            "leads": ("mql_rate", fmt.rate(rates["mql_rate"], s.lang))}
    scopes = {"won_count": "last_365_days", "opportunities": "last_365_days", "sqls": "mature_cohorts",
              "mqls": "mature_cohorts", "leads": "mature_cohorts"}
    stage_of = {"opportunities": "opportunity", "sqls": "sql", "mqls": "mql", "leads": "lead"}
    rows, stage_reasons = [], {}
    for key in goals.FUNNEL_STEPS:
        iv = rf[key]
        w = windows.get(stage_of.get(key)) if key in stage_of else None
        why = (rf.get("null_reasons") or {}).get(key)
        if why in STAGE_DATE_REASONS.values():   # the stage is not recorded: n/a in the cell, its reason once under the table
            stage_reasons[why] = None
            needed = t("not_available", s.lang)
        else:
            needed = _reason(s, why) if why else _interval_text(iv, False, s)
        rows.append({t("funnel_stage", s.lang): t(key, s.lang),
                     t("reverse_needed", s.lang): needed,
                     t("reverse_divided_by", s.lang): f"{scoped(used[key][0], scopes[key], s.lang)} {used[key][1]}",
                     t("reverse_by_when", s.lang): "" if w is None else f"{w['start']:%Y-%m-%d} – {w['end']:%Y-%m-%d}"})
    table = display.table(pd.DataFrame(rows))
    if not stage_reasons:
        return table
    return _join(table, display.bullets([reason_text(code, s.lang) for code in stage_reasons]))


def department_lists(s: Session, g: GoalsResult):
    """Two short lists: what marketing must deliver (leads, MQLs, by channel) and what sales must deliver
    (opportunities, win rate, cycle), each with the gap to what the current flow and pipeline give."""
    rf, plan, rates, f = g.section["reverse_funnel"], g.plan, g.rates, g.forecast
    reasons = rf.get("null_reasons") or {}
    if reasons.get("won_count") or rf["won_count"]["expected"] is None:
        return None   # reverse_funnel_view, just above in the same section, says why there is nothing to split
    if reasons.get("opportunities"):
        return display.note(t("reverse_blocked", s.lang).format(reason=_reason(s, reasons["opportunities"])), warn=True)

    def need(stage, key):
        w = plan["windows"].get(stage)
        when = "" if w is None else t("reverse_window", s.lang).format(start=f"{w['start']:%Y-%m-%d}", end=f"{w['end']:%Y-%m-%d}")
        so_far = plan["so_far"].get(stage)
        gap = plan["gap"].get(stage)   # no stage date in the data (e.g. no mql_at): no gap for that stage
        if so_far is None:
            have = ""
        elif gap is not None and gap < 0:   # ahead of the plan: said so, not as a negative gap
            have = t("reverse_so_far_ahead", s.lang).format(n=fmt.number(so_far, s.lang), ahead=fmt.number(-gap, s.lang))
        else:
            have = t("reverse_so_far", s.lang).format(n=fmt.number(so_far, s.lang), gap=fmt.number(gap, s.lang))
        if reasons.get(key):   # the stage is not recorded (no mql_at / sql_at): n/a with its reason, not a made-up rate
            return f"{t(key, s.lang)}: {t('not_available', s.lang)} ({reason_text(reasons[key], s.lang)})"
        return t("reverse_need_line", s.lang).format(n=fmt.number(rf[key]["expected"], s.lang), what=t(key, s.lang),
                                                     low=fmt.number(rf[key]["low_95"], s.lang),
                                                     high=fmt.number(rf[key]["high_95"], s.lang), when=when, have=have)

    marketing = [need("lead", "leads"), need("mql", "mqls")]
    top = sorted(plan["by_channel"].items(), key=lambda kv: -(kv[1]["leads"] or 0))
    if any(v["leads"] is not None for _, v in top):   # none without the lead stages' rates: said in the lines above
        marketing.append(t("reverse_by_channel", s.lang) + ": " + ", ".join(
            f"{channel_label(s.config, ch, s.lang)} {fmt.number(v['leads'], s.lang)} / {fmt.number(v['mqls'], s.lang)}" for ch, v in top))
    sales = [need("opportunity", "opportunities"),
             t("reverse_win_rate_line", s.lang).format(win=fmt.rate(rates["win_rate"], s.lang), n=rates["closed_count"]),
             t("reverse_cycle_line", s.lang).format(days=fmt.number(rates["days_to_won"]["opportunity"], s.lang))]
    if f is not None and f["won_revenue"]["expected"] is not None:
        target = goals.main_goal(g.section["targets"])
        gap = None if target is None else target - f["won_revenue"]["expected"]
        if gap is not None and gap < 0:
            sales.append(t("reverse_forecast_ahead", s.lang).format(fc=fmt.money(f["won_revenue"]["expected"], s.config),
                                                                    ahead=fmt.money(-gap, s.config)))
        else:
            sales.append(t("reverse_forecast_gap", s.lang).format(fc=fmt.money(f["won_revenue"]["expected"], s.config),
                                                                  gap=fmt.money(gap, s.config)))
    return _join(display.note(t("reverse_marketing", s.lang)), display.bullets(marketing),
                 display.note(t("reverse_sales", s.lang)), display.bullets(sales))


def key_text(g: GoalsResult) -> str:
    """The goals figures as stable plain text (what nbval checks)."""
    def show(v):
        if v is None:
            return "null"
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    sec = g.section
    lines = ["targets: " + ", ".join(f"{r['metric']} {show(r['target'])} ({r['source']})" for r in sec["targets"] if r["channel"] is None)]
    lines.append("progress: " + ", ".join(f"{r['metric']} {show(r['actual'])}" for r in sec["progress"] if r["channel"] is None)
                 + f", elapsed {show(sec['progress'][0]['elapsed_share']) if sec['progress'] else 'null'}")
    for k in ("won_revenue", "won_count"):
        iv = sec["forecast"][k]
        lines.append(f"forecast.{k}: " + ("null" if iv is None else ", ".join(f"{n} {show(iv[n])}" for n in goals.INTERVAL_KEYS)))
    c = sec["coverage"]
    lines.append(f"coverage: {show(c['coverage'])}, implied {show(c['implied_coverage'])}, win_rate {show(c['win_rate'])}")
    lines.append("reverse_funnel: " + ", ".join(f"{k} {show(v['expected'])} [{show(v['low_95'])}, {show(v['high_95'])}]"
                                                for k, v in sec["reverse_funnel"].items() if k != "null_reasons"))
    b = sec["backtest"]
    lines.append(f"backtest: {len(b['periods'])} forecasts, interval_coverage_95 {show(b['interval_coverage_95'])}, "
                 f"mean_absolute_error {show(b['mean_absolute_error'])}, better_than_last_year {g.backtest['better_than_last_year']}")
    return "\n".join(lines)


def conversion_chart(s: Session):
    """Censoring-aware cumulative conversion by days since lead creation (lead → opportunity, lead → won): the
    period's cohort against the leads of the last two years."""
    src = s.source   # counts per day come back (helpers.metrics.cohort_projection)
    leads, opps = (src.leads() if src.has_leads else None), src.opps()
    pooled = goals.conversion_curves(leads, opps, s.as_of, backend=src.backend)
    cohort = goals.conversion_curves(leads, opps, s.as_of, s.period.start, s.period.end, backend=src.backend)
    if pooled is None and cohort is None:
        return display.note(t("projection_none", s.lang), warn=True)
    curves = [c[["lead_to_opportunity", "lead_to_won"]].to_numpy() for c in (pooled, cohort) if c is not None]
    if not any(c.max() > 0 for c in curves):   # flat at 0%: a chart with nothing on it
        return display.note(t("conversion_none", s.lang), warn=True)
    fig, ax = plt.subplots()
    if pooled is not None:
        ax.plot(pooled["day"], pooled["lead_to_opportunity"], color=MARKETING, label=t("lead_to_opportunity_rate", s.lang) + " — " + t("curve_history", s.lang))
        ax.plot(pooled["day"], pooled["lead_to_won"], color=SALES, label=t("lead_to_won_rate", s.lang) + " — " + t("curve_history", s.lang))
    if cohort is not None:
        seen = int(min((s.as_of - s.period.start).days, goals.HORIZON_DAYS))
        c = cohort[cohort["day"] <= seen]
        ax.plot(c["day"], c["lead_to_opportunity"], color=MARKETING, linestyle="--", label=t("lead_to_opportunity_rate", s.lang) + " — " + s.period.label)
        ax.plot(c["day"], c["lead_to_won"], color=SALES, linestyle="--", label=t("lead_to_won_rate", s.lang) + " — " + s.period.label)
    legend_outside(ax, fontsize=8)
    ax.set_xlabel(t("days_since_lead", s.lang))
    percent_axis(ax)
    ax.set_title(t("conversion_curve_title", s.lang))
    base = pooled if pooled is not None else cohort
    return finish(fig, t("alt_conversion", s.lang).format(days=int(base["day"].iloc[-1]), rate_name=t("lead_to_won_rate", s.lang),
                                                          rate=fmt.rate(base["lead_to_won"].iloc[-1], s.lang)))


def projection_view(s: Session, core: dict):
    """The cohort's raw rates beside their projected final rates (95% interval); a young cohort is projected, not only flagged."""
    c = ((core.get("funnel") or {}).get("cohort")) or {}
    reasons = c.get("null_reasons") or {}
    keys = ("projected_lead_to_opportunity_rate", "projected_lead_to_won_rate")
    if all(c.get(k) is None and k not in reasons for k in keys):   # not computed (no leads table): no figure to explain
        return display.note(t("projection_none", s.lang), warn=True)
    rows = []
    for raw, proj in zip(("lead_to_opportunity_rate", "lead_to_won_rate"), keys):
        iv = c.get(proj)
        shown = t("not_available", s.lang) if iv is None else \
            f"{fmt.rate(iv['expected'], s.lang)} [{fmt.rate(iv['low_95'], s.lang)} – {fmt.rate(iv['high_95'], s.lang)}]"
        rows.append({t("measure", s.lang): t(raw, s.lang), t("projection_raw", s.lang): fmt.rate(c[raw], s.lang),
                     t("projection_projected", s.lang): shown,
                     t("why_empty", s.lang): _reason(s, reasons[proj]) if iv is None and proj in reasons else ""})
    frame = pd.DataFrame(rows)
    if not frame[t("why_empty", s.lang)].str.len().any():
        frame = frame.drop(columns=t("why_empty", s.lang))
    return display.table(frame)


def sales_cycle_view(s: Session, cycle: dict):
    """Today's mean cycle of the won deals closed in the period beside the censoring-aware (Kaplan-Meier) median of the period's deals."""
    untimed = (cycle.get("null_reasons") or {}).get("mean_won_days")
    median = (t("not_available", s.lang) if untimed else t(f"cycle_null_{cycle['null_reason']}", s.lang)) \
        if cycle["median_days"] is None else fmt.number(cycle["median_days"], s.lang, 1)
    cards = display.kpis([(scoped("sales_cycle_days", "this_period", s.lang), fmt.number(cycle["mean_won_days"], s.lang, 1)),
                          (t("sales_cycle_km_median", s.lang), median),
                          (t("sales_cycle_censored", s.lang), fmt.number(cycle["censored"], s.lang))])
    return _join(cards, display.note(_reason(s, untimed), warn=True)) if untimed else cards


def projection_text(core: dict, cycle: dict) -> str:
    """The projected cohort rates and the censoring-aware median cycle as stable plain text (what nbval checks)."""
    c = ((core.get("funnel") or {}).get("cohort")) or {}
    parts = []
    for key in ("projected_lead_to_opportunity_rate", "projected_lead_to_won_rate"):
        iv = c.get(key)
        parts.append(f"{key}: " + ("null" if iv is None else f"{iv['expected']:.4f} [{iv['low_95']:.4f}, {iv['high_95']:.4f}]"))
    median = "null" if cycle["median_days"] is None else f"{cycle['median_days']:.1f}"
    mean = "null" if cycle["mean_won_days"] is None else f"{cycle['mean_won_days']:.2f}"
    won, censored = ("null" if cycle[k] is None else cycle[k] for k in ("won", "censored"))   # null: no deals table
    parts.append(f"sales_cycle: km_median {median} (won {won}, censored {censored}), mean_won {mean}")
    return "\n".join(parts)
