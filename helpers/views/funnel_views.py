"""Views for notebook 02 (funnel breakdown): shared KPIs, funnel, breakdowns with intervals, SLA, ROI.

Figures come from helpers.metrics.pipeline / funnel / breakdown / funnel_analysis; this module only
formats, labels and draws them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import replace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.data.periods import parse_period
from helpers.labels import scoped, t
from helpers.metrics import funnel_analysis as fa
from helpers.metrics.core import has_target
from helpers.metrics.limits import workbook_facts
from helpers.metrics.pipeline import dates
from helpers.metrics.roi import roi_rows
from helpers.views import display, drawing, fmt, common as views
from helpers.views.order import order_rows, ordered
from helpers.views.theme import MARKETING, NEUTRAL, SALES, finish, legend_outside, money_axis, percent_axis

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session

STAGES = ("leads", "mql", "sql", "opportunity", "won")
SMALL_MARK = "●"  # beside a rate from fewer than MIN_GROUP observations (its own rule: leads, closed deals or MQLs)
#: The funnel's null reasons said under its table (the whole-data ones; a zero denominator shows as n/a alone).
TABLE_REASONS = ("no_mql_dates", "no_sql_dates", "no_opportunities")

STEP_RATES = {"mql": "mql_rate", "sql": "sql_rate", "opportunity": "opportunity_rate", "won": "won_rate"}


def dimensions(s: Session) -> list[str]:
    """Breakdown dimensions present in the data: channel, the segment columns, target fit (when a target is set), owner."""
    def present(col):
        return any(s.source.has_values(table, col) for table in ("leads", "opportunities")
                   if table == "opportunities" or s.source.has_leads)

    dims = ["channel", *(col for col in ("industry", "company_size") if present(col))]
    if has_target(s.wb):
        dims.append("target_fit")
    if present("owner"):
        dims.append("owner")
    return dims


#: The rate tables of the workbook last shown: {(dimension, period, as_of, settings): table}, for the Workbook held in
#: _RATES_OF (notebook 02's table and its two charts of one dimension share one computation).
_RATES: dict = {}
_RATES_OF: list = [None]


def rates(s: Session, dimension: str, rank_by: str):
    """:func:`helpers.metrics.funnel_analysis.rate_table` of the session's period by `dimension`, ranked by `rank_by`:
    computed once per workbook, period and dimension (another rank_by re-ranks it, fa.reranked), and for every
    dimension of :func:`dimensions` at once (fa.rate_tables_of: the page shows them all); the caller gets a copy."""
    if _RATES_OF[0] is not s.wb:
        _RATES.clear()
        _RATES_OF[0] = s.wb
    at = (s.period.label, s.as_of, repr(s.config))
    if (dimension, *at) not in _RATES:
        every = dimensions(s)
        tables = fa.rate_tables_of(s.source, every if dimension in every else [dimension], s.period.start, s.period.end,
                                   s.as_of, facts=workbook_facts(s.wb, s.source))
        _RATES.update({(d, *at): table for d, table in tables.items()})
    return fa.reranked(_RATES[(dimension, *at)], dimension, rank_by)


def _cohort_why(core: dict, key: str, lang: str) -> str | None:
    """Why a cohort figure is empty: no leads table at all, or the cohort's own null reason."""
    if core.get("funnel") is None:
        return views.reason_text((core.get("null_reasons") or {}).get("funnel", "no_leads"), lang)
    return views.why(core["funnel"].get("cohort"), key, lang)


def shared_kpis(s: Session, core: dict):
    """The article's shared KPIs for the period: CVR, 商談化率, 受注率, 受注金額 (plus sales velocity), each empty one with its reason."""
    cohort = (core.get("funnel") or {}).get("cohort") or {}
    pipe = core["pipeline"]
    return display.kpis([
        (scoped("conversion_rate", "period_leads", s.lang), fmt.rate(cohort.get("mql_rate"), s.lang),
         _cohort_why(core, "mql_rate", s.lang)),
        (scoped("lead_to_opportunity_rate", "period_leads", s.lang), fmt.rate(cohort.get("lead_to_opportunity_rate"), s.lang),
         _cohort_why(core, "lead_to_opportunity_rate", s.lang)),
        (scoped("win_rate", "this_period", s.lang), fmt.rate(pipe["win_rate"], s.lang), views.why(pipe, "win_rate", s.lang)),
        (scoped("won_revenue", "this_period", s.lang), fmt.money(pipe["won_revenue"], s.config),
         views.why(pipe, "won_revenue", s.lang)),
        (scoped("sales_velocity", "this_period", s.lang), fmt.money(pipe["sales_velocity"], s.config),
         views.why(pipe, "sales_velocity", s.lang)),
    ])


def funnel_table(s: Session, core: dict):
    """Both funnel readings side by side: period view counts, cohort counts, step and cumulative rates."""
    f = core.get("funnel")
    if not f:
        return display.note(t("health_no_leads", s.lang), warn=True)
    p, c = f["period"], f["cohort"]
    period_keys = {"leads": "leads", "mql": "mqls", "sql": "sqls", "opportunity": "opportunities", "won": "won"}
    rows = []
    for stage in STAGES:
        rows.append({
            t("funnel_stage", s.lang): t(stage, s.lang),
            t("funnel_period_view", s.lang): fmt.number(p[period_keys[stage]], s.lang),
            t("funnel_cohort_view", s.lang): fmt.number(c[stage], s.lang),
            t("funnel_step_rate", s.lang): fmt.rate(c[STEP_RATES[stage]], s.lang) if stage in STEP_RATES else "",
            t("funnel_cumulative_rate", s.lang): (fmt.rate(c[stage] / c["leads"], s.lang) if c["leads"] and c[stage] is not None
                                                  else t("not_available", s.lang)),
        })
    # the opportunity counts of a leads-only folder (no_opportunities) and a stage without dates (no_mql_dates,
    # no_sql_dates) are unknown: said under the table
    codes = dict.fromkeys(code for part in (p, c) for code in (part.get("null_reasons") or {}).values()
                          if code in TABLE_REASONS)
    if not codes:
        return display.table(pd.DataFrame(rows))
    return display.HTML(display.table_html(pd.DataFrame(rows))
                        + display.bullets([views.reason_text(code, s.lang) for code in codes]).data)


def cohort_age_days(s: Session) -> tuple[int, int, int]:
    """How long the period's leads have had by the snapshot date, in days: (newest lead, lead created mid-period, oldest lead)."""
    as_of = pd.Timestamp(s.as_of)
    start, end = pd.Timestamp(s.period.start), min(pd.Timestamp(s.period.end), as_of)
    middle = start + (end - start) / 2
    return (as_of - end).days, (as_of - middle).days, (as_of - start).days


def maturity_note(s: Session, core: dict):
    """How long the cohort's leads have had to convert (newest, mid-period, oldest lead), against the time this
    data's wins take (and which measure that is); a warning when the cohort is still young (its rates will rise),
    so it is never compared silently; a sentence when maturity cannot be judged; nothing without leads."""
    c = ((core.get("funnel") or {}).get("cohort")) or {}
    if not c or c.get("leads") == 0:   # no lead created in the period: nothing is maturing (the funnel says why)
        return None
    if c.get("immature") is None or c.get("maturity_days") is None:
        return display.note(t("funnel_maturity_unknown", s.lang), warn=True)
    newest, middle, oldest = cohort_age_days(s)
    text = t("funnel_immature" if c["immature"] else "funnel_mature", s.lang).format(
        newest=newest, middle=middle, oldest=oldest, typical=fmt.number(c["maturity_days"], s.lang),
        measure=t(f"maturity_{c['maturity_measure']}", s.lang))
    return display.note(text, warn=bool(c["immature"]))


def funnel_chart(s: Session, core: dict):
    """Horizontal funnel of the cohort: counts per stage with the step rate beside each bar (nothing without leads: never an empty chart;
    a stage whose count is unknown, the opportunities of a leads-only folder, is left out: never a bar of 0)."""
    c = ((core.get("funnel") or {}).get("cohort")) or {}
    if not c or not c.get("leads"):
        return None
    fig, ax = plt.subplots()
    if c:
        stages = [k for k in STAGES if c[k] is not None]
        counts = [c[k] for k in stages]
        labels = [t(k, s.lang) for k in stages]
        ax.barh(labels[::-1], counts[::-1], color=MARKETING)
        for i, stage in enumerate(stages[::-1]):
            text = (t("funnel_chart_step", s.lang).format(n=f"{c[stage]:,}", rate=fmt.rate(c[STEP_RATES[stage]], s.lang))
                    if stage in STEP_RATES else f"{c[stage]:,}")
            ax.text(c[stage], i, f" {text}", va="center")
        ax.set_xlim(0, max(counts) * 1.3 if max(counts) else 1)
    ax.set_title(t("funnel_cohort_title", s.lang).format(period=s.period.label))
    return finish(fig, t("alt_funnel", s.lang).format(leads=fmt.number(c["leads"], s.lang), won=fmt.number(c["won"], s.lang),
                                                      rate_name=t("lead_to_opportunity_rate", s.lang),
                                                      rate=fmt.rate(c["lead_to_opportunity_rate"], s.lang)))


def _rank_by(s: Session, rank_by: str) -> str:
    """Without a leads table there is no lead-to-opportunity rate to rank or to call small: rank by win rate."""
    return "win_rate" if not s.source.has_leads else rank_by


def _facts_note(s: Session, keys) -> list[str]:
    """Lines saying why the figures `keys` are empty in every row (the data-wide facts), for under a table."""
    from helpers.metrics.limits import explain_pipeline

    probe = explain_pipeline({"opportunities_created": 0, "won_count": 1, "lost_count": 1, "win_rate": 0.5,
                              "win_rate_by_amount": 0.5, "won_revenue": 1.0, "avg_deal_size": 1.0,
                              "sales_cycle_days": 1.0, "sales_velocity": 1.0}, workbook_facts(s.wb, s.source))
    facts = workbook_facts(s.wb, s.source)
    reasons = {k: v for k, v in (probe.get("null_reasons") or {}).items() if k in keys}
    if not s.source.has_opportunities:   # the cohort's lead-to-opportunity figures too (no deals table)
        reasons = {k: "no_opportunities" for k in keys if k != "mql_rate"}
    if "mql_rate" in keys and "mql_at" in facts.stage_codes:   # no lead has an mql_at: the CVR is unknown
        reasons["mql_rate"] = facts.stage_codes["mql_at"]
    return views.reasons_lines(reasons, s.lang)


def _missing_column_lines(s: Session, dimension: str) -> list[str]:
    """Why a breakdown's deal (or lead) figures are n/a in every row: the opportunities (the leads) have no column
    `dimension` (metrics.json: by_segment rows' null_reasons segment_not_in_opportunities / segment_not_in_leads)."""
    if dimension == "target_fit":   # computed from industry and company size on both sides
        return []
    column = dimension   # the canonical column's name, as the file would hold it
    lines = []
    if not s.source.has_column("opportunities", dimension):
        lines.append(t("segment_not_in_opportunities_line", s.lang).format(column=column))
    if s.source.has_leads and not s.source.has_column("leads", dimension):
        lines.append(t("segment_not_in_leads_line", s.lang).format(column=column))
    return lines


def rate_view(s: Session, dimension: str, rank_by: str = "lead_to_opportunity_rate", caption: str | None = None):
    """Rates by a dimension with counts beside them, 95% Wilson intervals, small groups marked; total from all rows.
    Figures the data cannot support are n/a in every row, with the reason under the table. `caption` (the
    explorer's selection, :func:`selection_text`) names the table."""
    from IPython.display import HTML

    rank_by = _rank_by(s, rank_by)
    table = order_rows(rates(s, dimension, rank_by), dimension, s.config)

    def interval(row, key, small_key):
        if pd.isna(row[key]):
            return t("not_available", s.lang)
        mark = f" {SMALL_MARK}" if row[small_key] else ""
        return f"{fmt.rate(row[key], s.lang)} [{fmt.rate(row[key + '_low'], s.lang)}–{fmt.rate(row[key + '_high'], s.lang)}]{mark}"

    shown = pd.DataFrame({
        t(dimension, s.lang): [t("total", s.lang) if r.is_total else views.value_label(s.config, dimension, getattr(r, dimension), s.lang) for r in table.itertuples()],
        t("breakdown_leads", s.lang): [fmt.number(v, s.lang) for v in table["leads"]],
        t("breakdown_opportunity", s.lang): [fmt.number(v, s.lang) for v in table["opportunity"]],
        t("lead_to_opportunity_rate", s.lang) + " [95%]": [interval(r, "lead_to_opportunity_rate", "small_lead_to_opportunity")
                                                            for _, r in table.iterrows()],
        t("opportunities_created", s.lang): [fmt.number(v, s.lang) for v in table["opportunities_created"]],
        t("won_count", s.lang): [fmt.number(v, s.lang) for v in table["won_count"]],
        t("lost_count", s.lang): [fmt.number(v, s.lang) for v in table["lost_count"]],
        t("win_rate", s.lang) + " [95%]": [interval(r, "win_rate", "small_win_rate") for _, r in table.iterrows()],
        t("won_revenue", s.lang): [fmt.money(v, s.config) for v in table["won_revenue"]],
    })
    lines = _facts_note(s, ("lead_to_opportunity_rate", "win_rate", "won_revenue"))
    unowned = table[(table[dimension] == "unknown") & ~table["is_total"]] if dimension == "owner" else table.iloc[0:0]
    if len(unowned) and (unowned["leads"].fillna(0) > 0).any():   # the leads nobody owns yet: no owner's result
        row = unowned.iloc[0]
        if pd.isna(row["opportunity"]):   # a leads-only folder: how many became an opportunity is unknown, not "n/a"
            lines.append(t("owner_unknown_leads_no_opportunities", s.lang).format(n=fmt.number(row["leads"], s.lang)))
        else:
            lines.append(t("owner_unknown_leads", s.lang).format(n=fmt.number(row["leads"], s.lang),
                                                                opps=fmt.number(row["opportunity"], s.lang)))
    if not s.source.has_leads:
        lines.append(f"{t('lead_to_opportunity_rate', s.lang)}: {views.reason_text('no_leads', s.lang)}")
    lines += _missing_column_lines(s, dimension)
    return HTML(display.table_html(shown, caption=caption) + (display.bullets(lines).data if lines else ""))


def rate_chart(s: Session, dimension: str, rate: str = "lead_to_opportunity_rate", selection: str | None = None):
    """Point and 95% interval of a rate per value of the dimension; small groups drawn grey, the total as a line.
    Nothing when no row has the rate (the table above says why): never an empty chart. The title is the rate and
    the dimension, or `selection` (the explorer's, :func:`selection_text`)."""
    if rate == "lead_to_opportunity_rate" and not s.source.has_leads:
        return None
    table = order_rows(rates(s, dimension, rate), dimension, s.config)
    rows = table[~table["is_total"]].dropna(subset=[rate])
    if rows.empty:
        return None
    fig, ax = plt.subplots()
    small_key = "small_lead_to_opportunity" if rate == "lead_to_opportunity_rate" else "small_win_rate"
    for i, r in enumerate(rows.itertuples()):
        color = NEUTRAL if getattr(r, small_key) else MARKETING
        value, low, high = getattr(r, rate), getattr(r, rate + "_low"), getattr(r, rate + "_high")
        ax.errorbar(i, value, yerr=[[max(0.0, value - low)], [max(0.0, high - value)]], fmt="o", color=color, capsize=4)
    total = table[table["is_total"]][rate]
    if len(total) and pd.notna(total.iloc[0]):
        ax.axhline(total.iloc[0], color=SALES, linestyle="--", label=t("total", s.lang))
        legend_outside(ax)
    ax.set_xticks(range(len(rows)), [views.value_label(s.config, dimension, v, s.lang) for v in rows[dimension]], rotation=30, ha="right")
    percent_axis(ax)
    ax.set_title(f"{selection or f'{t(rate, s.lang)} — {t(dimension, s.lang)}'} (95%)")
    overall = total.iloc[0] if len(total) and pd.notna(total.iloc[0]) else None
    return finish(fig, None if overall is None else t("alt_total_rate", s.lang).format(rate=fmt.rate(overall, s.lang)))


def target_fit_view(s: Session):
    """Rates inside vs outside the target profile (ICP), or how to configure one when none is set."""
    if "target_fit" in dimensions(s):
        return rate_view(s, "target_fit")
    return display.note(t("funnel_no_target", s.lang))


def heatmap(s: Session, row: str = "channel", col: str = "industry"):
    """Channel × segment heatmap of the lead-to-opportunity rate (cells with too few leads left blank)."""
    if not (s.source.has_leads and s.source.has_values("leads", col)):
        return display.note(t("funnel_no_segment", s.lang).format(column=t(col, s.lang)))
    if not s.source.has_opportunities:   # a leads-only folder: no rate to colour (unknown, not 0%)
        return display.bullets(_facts_note(s, ("lead_to_opportunity_rate",)))
    table = fa.heatmap_table_of(s.source, row, col, s.period.start, s.period.end, s.as_of)
    if table is None or table.empty or table.isna().all().all():
        return display.note(t("funnel_heatmap_empty", s.lang))
    table = table.loc[ordered(table.index, row, s.config), ordered(table.columns, col, s.config)]
    table = table.rename(index=lambda v: views.value_label(s.config, row, v, s.lang),
                         columns=lambda v: views.value_label(s.config, col, v, s.lang)).astype("float64")
    fig, ax = plt.subplots(figsize=(7, 3.8))
    drawing.heatmap(table, annot=True, fmt=".0%", cmap="Blues", cbar=False, ax=ax, mask=table.isna())
    ax.set_xlabel(t(col, s.lang))
    ax.set_ylabel(t(row, s.lang))
    ax.set_title(t("funnel_heatmap_title", s.lang).format(min_group=fa.MIN_GROUP))
    best = table.stack().idxmax()   # the cell drawn darkest, its rate as the cell shows it (0 decimals)
    return finish(fig, t("alt_heatmap", s.lang).format(row=best[0], col=best[1], rate=fmt.rate(table.loc[best], s.lang, 0)))


def stage_time_view(s: Session):
    """Median and 90th percentile days between stages (transitions whose later event is in the period)."""
    table = fa.stage_times_of(s.source, s.as_of, s.period.start, s.period.end)
    facts = workbook_facts(s.wb, s.source)
    bulk = facts.one_created_at
    if bulk:   # a bulk-load created_at makes the days from opportunity to close meaningless
        table.loc[table["transition"] == "opportunity_to_close", ["median_days", "p90_days"]] = np.nan
    undated = [(x, code) for column, code in facts.stage_codes.items() for x in fa.STAGE_TRANSITIONS[column]]
    for transition, _ in undated:   # no lead has that stage's date: how many moved, and how fast, is unknown (not 0)
        table.loc[table["transition"] == transition, ["n", "median_days", "p90_days"]] = np.nan
    shown = pd.DataFrame({
        t("funnel_transition", s.lang): [t(f"transition_{x}", s.lang) for x in table["transition"]],
        t("pairs", s.lang): [fmt.number(v, s.lang) for v in table["n"]],
        t("median_days", s.lang): [fmt.number(v, s.lang, 1) for v in table["median_days"]],
        t("p90_days", s.lang): [fmt.number(v, s.lang, 1) for v in table["p90_days"]],
    })
    why = {}
    for transition, code in undated:   # mql_to_sql says the MQL reason (the first)
        why.setdefault(transition, code)
    if bulk:
        why["opportunity_to_close"] = "one_created_at"
    if not why:
        return display.table(shown)
    from IPython.display import HTML

    lines = [f"{t('transition_' + x, s.lang)}: {views.reason_text(code, s.lang)}" for x, code in why.items()]
    return HTML(display.table_html(shown) + display.bullets(lines).data)


def stage_time_chart(s: Session):
    """Box plots of days between stages (whole history up to as_of, so the shape is stable); nothing without any pair.

    The boxes are drawn from the engine's statistics (fa.stage_time_boxes: four rows fetched, not every pair)."""
    boxes = fa.stage_time_boxes_of(s.source, s.as_of)
    if workbook_facts(s.wb, s.source).one_created_at:
        boxes = boxes[boxes["transition"] != "opportunity_to_close"]   # a bulk-load created_at measures nothing
    if not len(boxes):
        return None
    stats = [{"label": t(f"transition_{r.transition}", s.lang), "q1": r.q1, "med": r.median, "q3": r.q3,
              "whislo": r.whislo, "whishi": r.whishi, "fliers": []} for r in boxes.itertuples()]
    from seaborn import desaturate   # seaborn (and scipy.stats) only where a chart needs it

    fig, ax = plt.subplots()
    line = {"color": "0.25"}
    ax.bxp(stats, positions=range(len(stats)), orientation="horizontal", widths=0.8, patch_artist=True,
           showfliers=False, boxprops={"facecolor": desaturate(MARKETING, 0.75), "edgecolor": "0.25"},
           whiskerprops=line, capprops=line, medianprops=line)
    ax.invert_yaxis()   # funnel order from the top, as the table lists them
    ax.grid(False, axis="y")
    ax.set_ylabel("")
    ax.set_xlabel(t("days", s.lang))
    ax.set_title(t("funnel_stage_time_title", s.lang))
    top = stats[0]   # the top box: its median as the table writes days
    return finish(fig, t("alt_stage_time", s.lang).format(transition=top["label"], days=fmt.number(top["med"], s.lang, 1)))


def sla_view(s: Session, extra: dict):
    """The follow-up SLA for the period's MQLs: hit rate with its interval, late, untouched (後回し); when some of the
    period's MQLs are not due yet, a sentence saying how many (the funnel's MQL count includes them)."""
    sla = extra["sla"]
    if sla is None:
        return display.note(t("funnel_no_sla", s.lang), warn=True)
    hit = f"{fmt.rate(sla['hit_rate'], s.lang)} [{fmt.rate(sla['hit_rate_low'], s.lang)}–{fmt.rate(sla['hit_rate_high'], s.lang)}]"
    cards = display.kpis([
        (t("sla_hit_rate", s.lang).format(hours=fmt.number(sla["sla_hours"], s.lang)), hit),
        (t("sla_mqls_due", s.lang), fmt.number(sla["mqls"], s.lang)),
        (t("sla_touched_late", s.lang), fmt.number(sla["touched_late"], s.lang)),
        (t("sla_untouched", s.lang), f"{fmt.number(sla['untouched'], s.lang)} ({fmt.rate(sla['untouched_share'], s.lang)})"),
        (t("sla_median_hours", s.lang), fmt.number(sla["median_hours_to_touch"], s.lang, 1)),
    ])
    if not sla.get("not_yet_due"):
        return cards
    return display.stack(cards, display.note(t("sla_not_yet_due", s.lang).format(
        due=fmt.number(sla["mqls"], s.lang), mqls=fmt.number(sla["mqls"] + sla["not_yet_due"], s.lang),
        n=fmt.number(sla["not_yet_due"], s.lang), hours=fmt.number(sla["sla_hours"], s.lang))))


def sla_by_view(s: Session, by: str):
    """The follow-up SLA per value of a column (channel, owner); small groups marked. Nothing when the SLA
    cannot be measured or the leads lack the column (sla_view says so once)."""
    if not (s.source.has_leads and s.source.has_column("leads", by)):
        return None
    table = fa.follow_up_sla_of(s.source, s.as_of, s.config.sla_hours, s.period.start, s.period.end, by=by)
    if table is None or by not in table.columns:
        return None
    shown = pd.DataFrame({
        t(by, s.lang): [t("total", s.lang) if r.is_total else views.value_label(s.config, by, getattr(r, by), s.lang) for r in table.itertuples()],
        t("sla_mqls_due", s.lang): [fmt.number(v, s.lang) for v in table["mqls"]],
        t("sla_within", s.lang): [fmt.number(v, s.lang) for v in table["touched_within_sla"]],
        t("sla_hit_rate_short", s.lang): [fmt.rate(v, s.lang) + (f" {SMALL_MARK}" if small and pd.notna(v) else "")
                                          for v, small in zip(table["hit_rate"], table["small_group"])],
        t("sla_untouched", s.lang): [fmt.number(v, s.lang) for v in table["untouched"]],
    })
    return display.table(shown)


def roi_view(s: Session):
    """Marketing ROI by channel for the period on a cohort basis: spend, cost per lead and opportunity, the won revenue
    of the period's leads to as_of and the return on spend, with the basis and the cohort's maturity said under it."""
    table = fa.roi_table(roi_rows(s.wb, s.period, s.source))  # one computation for the table and the chart
    if table is None:
        return display.note(t("funnel_no_spend", s.lang), warn=True)
    shown = pd.DataFrame({
        t("channel", s.lang): [t("total", s.lang) if r.is_total else views.channel_label(s.config, r.channel, s.lang) for r in table.itertuples()],
        t("spend", s.lang): [fmt.money(v, s.config) for v in table["spend"]],
        t("leads", s.lang): [fmt.number(v, s.lang) for v in table["leads"]],
        t("cost_per_lead", s.lang): [fmt.money(v, s.config) for v in table["cost_per_lead"]],
        t("opportunities_created", s.lang): [fmt.number(v, s.lang) for v in table["opportunities_created"]],
        t("cost_per_opportunity", s.lang): [fmt.money(v, s.config) for v in table["cost_per_opportunity"]],
        t("pipeline_amount", s.lang): [fmt.money(v, s.config) for v in table["pipeline_amount"]],
        t("cohort_won_revenue", s.lang): [fmt.money(v, s.config) for v in table["cohort_won_revenue"]],
        t("return_on_spend", s.lang): _roi_cells(s, table),
    })
    from IPython.display import HTML

    facts = workbook_facts(s.wb, s.source)
    if facts.amounts_code:
        money = ("opportunities_created", "cost_per_opportunity") if facts.no_opportunities else ()
        money += ("pipeline_amount", "cohort_won_revenue", "return_on_spend")
        lines = views.reasons_lines(dict.fromkeys(money, facts.amounts_code), s.lang)
    elif not s.source.has_leads:
        lines = views.reasons_lines({k: "no_leads" for k in ("cohort_won_revenue", "return_on_spend")}, s.lang)
    else:
        lines = [t("roi_basis", s.lang).format(as_of=pd.Timestamp(s.as_of).strftime("%Y-%m-%d"))] + _roi_maturity(s)
    return HTML(display.table_html(shown) + display.bullets(lines).data)


def _roi_cells(s: Session, table: pd.DataFrame) -> list[str]:
    """The return-on-spend column: "1.23×" or n/a; the total row's ratio counts only the revenue of channels with
    spend (helpers.metrics.roi.roi_by_channel), so when that differs from the total's won revenue the cell names its
    own basis ("10.36× (¥14,500,000 of channels with spend ÷ ¥1,400,000)") and the row adds up as read."""
    rows = table[~table["is_total"]]
    paid = pd.to_numeric(rows["cohort_won_revenue"], errors="coerce")[pd.to_numeric(rows["spend"], errors="coerce").fillna(0) > 0]
    cells = []
    for r in table.itertuples():
        if pd.isna(r.return_on_spend):
            cells.append(t("not_available", s.lang))
        elif r.is_total and paid.sum() != r.cohort_won_revenue:
            cells.append(t("roi_total_paid_basis", s.lang).format(ratio=f"{r.return_on_spend:.2f}×",
                                                                   paid=fmt.money(float(paid.sum()), s.config),
                                                                   spend=fmt.money(r.spend, s.config)))
        else:
            cells.append(f"{r.return_on_spend:.2f}×")
    return cells


def _roi_maturity(s: Session) -> list[str]:
    """How long the period's leads have had to bring revenue, against the time this data's wins take (the cohort
    note's yardstick): the return on spend of a young cohort will still grow."""
    from helpers.metrics.core import core_metrics

    c = ((core_metrics(s.wb, s.period, source=s.source).get("funnel") or {}).get("cohort")) or {}
    if c.get("immature") is None or c.get("maturity_days") is None:
        return []
    newest, _, oldest = cohort_age_days(s)
    return [t("roi_young" if c["immature"] else "roi_mature", s.lang).format(
        newest=newest, oldest=oldest, typical=fmt.number(c["maturity_days"], s.lang),
        measure=t(f"maturity_{c['maturity_measure']}", s.lang))]


def roi_chart(s: Session):
    """Spend vs the won revenue of the period's leads to as_of, by channel (bars)."""
    table = fa.roi_table(roi_rows(s.wb, s.period, s.source))  # one computation for the table and the chart
    if table is None:
        return None  # roi_view already says what spend data would enable
    rows = table[~table["is_total"]]
    spend = pd.to_numeric(rows["spend"], errors="coerce").astype("float64")
    won = pd.to_numeric(rows["cohort_won_revenue"], errors="coerce").astype("float64")
    if not (spend.fillna(0).any() or won.fillna(0).any()):   # nothing but 0: a sentence, never an empty chart
        return display.note(t("funnel_roi_empty", s.lang).format(period=s.period.label))
    fig, ax = plt.subplots()
    x = np.arange(len(rows))
    ax.bar(x - 0.2, spend.fillna(0), width=0.4, color=SALES, label=t("spend", s.lang))
    if won.notna().any():   # unknown won revenue (no amounts, no leads) is not drawn as 0
        ax.bar(x + 0.2, won.fillna(0), width=0.4, color=MARKETING, label=t("cohort_won_revenue", s.lang))
    ax.set_xticks(x, [views.channel_label(s.config, v, s.lang) for v in rows["channel"]], rotation=30, ha="right")
    money_axis(ax, s.config)
    legend_outside(ax)
    ax.set_title(t("funnel_roi_title", s.lang))
    total = table[table["is_total"]]
    figure = None if total.empty else t("alt_roi", s.lang).format(spend=fmt.money(total["spend"].iloc[0], s.config),
                                                                  won=fmt.money(total["cohort_won_revenue"].iloc[0], s.config))
    return finish(fig, figure)


def pop_view(s: Session):
    """The shared KPIs this period, the previous period and a year earlier, with the changes; a partial
    period is flagged in its column and under the table (its change is not like for like)."""
    from IPython.display import HTML

    table = fa.period_over_period_of(s.source, s.period, s.as_of, facts=workbook_facts(s.wb, s.source))
    labels = table.attrs.get("periods", {})
    cov = table.attrs.get("coverage", {})

    def value(kpi, v, which="current"):
        if which in uncovered:
            return t("not_available", s.lang)
        if kpi in ("won_revenue", "avg_deal_size", "sales_velocity"):
            return fmt.money(v, s.config)
        if kpi.endswith("rate"):
            return fmt.rate(v, s.lang)
        return fmt.number(v, s.lang, 1 if kpi == "sales_cycle_days" else 0)

    def delta(r, which):
        if which in uncovered:
            return t("not_available", s.lang)
        if r.is_rate:
            d = getattr(r, f"diff_vs_{which}")
            return fmt.points(d, s.lang)
        c = getattr(r, f"change_vs_{which}")
        return t("not_available", s.lang) if c is None or pd.isna(c) else f"{c:+.1%}"

    names = [labels.get(k, k) for k in ("current", "previous", "year_ago")] if isinstance(labels, dict) else list(labels)
    partial_lines, uncovered = [], set()
    for i, key in enumerate(("current", "previous", "year_ago")):
        c = cov.get(key)
        if c and c["data_start"] > c["data_end"]:   # before the data starts: unknown, not zero
            partial_lines.append(t("pop_no_data", s.lang).format(period=names[i]))
            uncovered.add(key)
        elif c and c["partial"]:
            partial_lines.append(t("pop_partial", s.lang).format(period=names[i], start=f"{c['data_start']:%Y-%m-%d}",
                                                                  end=f"{c['data_end']:%Y-%m-%d}"))
            names[i] = f"{names[i]} ⚠"
    shown = pd.DataFrame({
        t("measure", s.lang): [t(k, s.lang) for k in table["kpi"]],
        str(names[0]): [value(r.kpi, r.current) for r in table.itertuples()],
        str(names[1]): [value(r.kpi, r.previous, "previous") for r in table.itertuples()],
        t("change", s.lang) + " ①": [delta(r, "previous") for r in table.itertuples()],
        str(names[2]): [value(r.kpi, r.year_ago, "year_ago") for r in table.itertuples()],
        t("change", s.lang) + " ②": [delta(r, "year_ago") for r in table.itertuples()],
    })
    facts = ("mql_rate", "win_rate", "won_revenue", "avg_deal_size", "sales_cycle_days", "sales_velocity")
    if not s.source.has_opportunities:   # a leads-only folder: the cohort's rate to an opportunity too
        facts = ("lead_to_opportunity_rate", "opportunities_created", *facts)
    lines = [f"⚠ {line}" for line in partial_lines] + _facts_note(s, facts)
    return HTML(display.table_html(shown) + (display.bullets(lines).data if lines else ""))


def filtered(s: Session, channel: str) -> Session:
    """The session restricted to one channel's leads and opportunities ("" = all channels)."""
    if not channel:
        return s
    from helpers.metrics.core import workbook_source

    wb = replace(s.wb, opportunities=s.wb.opportunities[s.wb.opportunities["channel"].astype("str") == channel],
                 leads=None if s.wb.leads is None else s.wb.leads[s.wb.leads["channel"].astype("str") == channel])
    sub = replace(s, wb=wb)
    sub._source = workbook_source(wb)   # the filtered frames, whatever the session's own source
    return sub


def is_empty_selection(s: Session) -> bool:
    """True when the session's period has no lead created, no opportunity created and no deal closed in it."""
    start, end = s.period.start, s.period.end

    def any_in(frame, column):
        return frame is not None and column in frame.columns and bool(dates(frame, column).between(start, end).any())

    opps = s.wb.opportunities
    closed = opps[opps["outcome"].astype("str").isin(["won", "lost"])] if "outcome" in opps.columns else None
    return not (any_in(s.wb.leads, "created_at") or any_in(opps, "created_at") or any_in(closed, "closed_at"))


def selection_text(s: Session, period_label: str, dimension: str, rate: str, channel: str) -> str:
    """The funnel explorer's selection in the page's language, as its table caption and chart title: the rate, the
    breakdown (segment), the period and the channel ("All channels" for "")."""
    shown = t("all_channels", s.lang) if not channel else f"{t('channel', s.lang)}: {views.channel_label(s.config, channel, s.lang)}"
    return t("explore_selection_funnel", s.lang).format(rate=t(rate, s.lang), dimension=t(dimension, s.lang),
                                                        period=period_label, channel=shown)


def explore_view(s: Session, period: str, dimension: str, rate: str, channel: str) -> list:
    """One explorer selection: the cohort maturity caveat, the rate table and chart, both named by the selection
    (:func:`selection_text`); one message when the selection is empty."""
    from helpers.metrics.core import core_metrics

    sub = replace(filtered(s, channel), period=parse_period(period, s.config.fiscal_year_start_month))
    if is_empty_selection(sub):
        chosen = ", ".join([sub.period.label, views.channel_label(s.config, channel, s.lang) if channel else t("all_channels", s.lang)])
        return [display.note(t("explore_empty", s.lang).format(selection=chosen), warn=True)]
    selection = selection_text(s, sub.period.label, dimension, rate, channel)
    return [maturity_note(sub, core_metrics(sub.wb, sub.period)), rate_view(sub, dimension, rank_by=rate, caption=selection),
            rate_chart(sub, dimension, rate, selection=selection)]


def explore_breakdown(s: Session):
    """JupyterLab: pick the period, the breakdown, the rate and a channel filter (nothing in the report: its views are above)."""
    if display.is_static():
        return None
    from helpers.views.interactive import explore
    from helpers.data.periods import periods_between
    from helpers.data.load import first_data_date

    periods = [p.label for p in periods_between(first_data_date(s.wb), s.as_of, s.config.fiscal_year_start_month)][::-1]
    periods = [s.period.label] + [p for p in periods if p != s.period.label]
    channels = sorted(set(s.wb.opportunities["channel"].dropna().astype("str"))
                      | (set() if s.wb.leads is None else set(s.wb.leads["channel"].dropna().astype("str"))))

    def view(period: str, dimension: str, rate: str, channel: str):
        return explore_view(s, period, dimension, rate, channel)

    return explore(view, labels={"period": t("period", s.lang), "dimension": t("explore_dimension", s.lang),
                                 "rate": t("explore_rate", s.lang), "channel": t("channel", s.lang)},
                   busy=t("explore_busy", s.lang), hint=t("lab_run_explorer", s.lang),
                   period=periods, dimension=[(t(d, s.lang), d) for d in dimensions(s)],
                   rate=[(t("lead_to_opportunity_rate", s.lang), "lead_to_opportunity_rate"), (t("win_rate", s.lang), "win_rate")],
                   channel=[(t("all_channels", s.lang), "")] + [(views.channel_label(s.config, c, s.lang), c) for c in channels])


def key_text(core: dict, extra: dict) -> str:
    """Plain-text funnel figures (checked by nbval)."""
    c = (core.get("funnel") or {}).get("cohort") or {}
    sla = extra.get("sla") or {}

    def show(v):
        return "null" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    return (f"cohort: leads {c.get('leads')}, opportunity {c.get('opportunity')}, won {c.get('won')}, "
            f"lead_to_opportunity_rate {show(c.get('lead_to_opportunity_rate'))}, immature {c.get('immature')}\n"
            f"win_rate {show(core['pipeline']['win_rate'])}, won_revenue {show(core['pipeline']['won_revenue'])}\n"
            f"sla: mqls {sla.get('mqls')}, hit_rate {show(sla.get('hit_rate'))}, untouched {sla.get('untouched')}\n"
            f"revenue_traceable_share {show(extra.get('revenue_traceable_share'))}\n"
            f"roi_total: {show((extra.get('roi_total') or {}).get('return_on_spend'))}")


def segment_views(s: Session):
    """Rate tables for every segment column present (industry, company size, owner), one after another."""
    from IPython.display import HTML

    parts = []
    for d in dimensions(s):
        if d in ("industry", "company_size", "owner"):
            parts.append(f"<h3>{display.esc(t(d, s.lang))}</h3>{rate_view(s, d).data}")
    return HTML("".join(parts)) if parts else display.note(t("funnel_no_segments", s.lang))
