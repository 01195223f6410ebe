"""Notebook 04's what-if explorer (JupyterLab and the app): try a won-revenue goal, a win rate and an average deal
size, see the reverse funnel move, and write the goals into the data folder's targets.csv.

The arithmetic is the page's reverse funnel (helpers.metrics.goals.reverse_arithmetic) with the three what-if
inputs in place of the data's; the step rates below opportunities stay the data's (goals.funnel_rates). Saving goes
through helpers.data.targets_file.save_goals (the checklist form's safe path: lock, backup, atomic replace, the
shipped sample refused).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from helpers.data.targets_file import TargetsExistError, count_goal, save_goals, targets_path
from helpers.labels import t
from helpers.metrics import goals
from helpers.views import display, fmt

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session

#: The reverse funnel's stages and the targets.csv metric each one is saved as.
STAGE_METRIC = {"won_count": "won_count", "opportunities": "opportunities_created", "sqls": "sqls", "mqls": "mqls",
                "leads": "leads"}
#: The win rate the slider starts at when the data has none (no deal closed in the last 365 days).
FALLBACK_WIN_RATE = 0.2


def whatif_funnel(revenue, win_rate, deal_size, rates: dict) -> dict:
    """The reverse funnel for what-if inputs: {won_count, opportunities, sqls, mqls, leads} as exact figures (None
    where a divisor is missing or 0, as goals.reverse_arithmetic).

    `revenue` (money, workbook currency), `win_rate` (fraction 0-1) and `deal_size` (money) replace the data's
    goal, win rate and average deal; `rates` (goals.funnel_rates) gives the rest: the step rates of mature lead
    cohorts and the share of opportunities that come from leads (1 when unknown).
    """
    share = rates.get("lead_sourced_share")
    return goals.reverse_arithmetic(revenue, deal_size, win_rate, rates.get("opportunity_rate"), rates.get("sql_rate"),
                                    rates.get("mql_rate"), 1.0 if share is None else share)


def whatif_goals(revenue, funnel: dict) -> dict[str, float | int | None]:
    """The goals a save writes: {won_revenue: `revenue`, won_count, opportunities_created, sqls, mqls, leads}, each
    count the funnel's figure rounded up (helpers.data.targets_file.count_goal); None where the funnel has none."""
    out: dict[str, float | int | None] = {"won_revenue": None if revenue is None else float(revenue)}
    out.update({metric: count_goal(funnel.get(stage)) for stage, metric in STAGE_METRIC.items()})
    return out


def input_problem(revenue, win_rate, deal_size, lang: str) -> str | None:
    """Why the what-if inputs give no funnel (a sentence in `lang`), or None: the goal must be a number >= 0, the
    win rate above 0 and at most 1, the deal size above 0."""
    def bad(v):
        return v is None or not math.isfinite(float(v))

    if bad(revenue) or float(revenue) < 0:
        return t("whatif_bad_revenue", lang)
    if bad(win_rate) or not 0 < float(win_rate) <= 1:
        return t("whatif_bad_win_rate", lang)
    if bad(deal_size) or float(deal_size) <= 0:
        return t("whatif_bad_deal_size", lang)
    return None


def selection_text(s: Session, period_label: str, revenue, win_rate, deal_size) -> str:
    """The selection in words, for the table's caption: period, goal, win rate and deal size in the page's language."""
    return t("whatif_caption", s.lang).format(period=period_label, goal=fmt.money(revenue, s.config),
                                              win=fmt.rate(win_rate, s.lang), deal=fmt.money(deal_size, s.config))


def whatif_view(s: Session, rates: dict, period_label: str, revenue, win_rate, deal_size):
    """The what-if reverse funnel as a table captioned with the selection: each stage's goal to save (whole number),
    the exact figure and what it is divided by; a warning instead when an input is out of range."""
    problem = input_problem(revenue, win_rate, deal_size, s.lang)
    if problem:
        return display.note(problem, warn=True)
    funnel = whatif_funnel(revenue, win_rate, deal_size, rates)
    share = rates.get("lead_sourced_share")
    used = {"won_count": f"{t('avg_deal_size', s.lang)} {fmt.money(deal_size, s.config)}",
            "opportunities": f"{t('win_rate', s.lang)} {fmt.rate(win_rate, s.lang)}",
            "sqls": f"{t('opportunity_rate', s.lang)} {fmt.rate(rates.get('opportunity_rate'), s.lang)}"
                    + ("" if share is None else f" × {t('lead_sourced_share', s.lang)} {fmt.rate(share, s.lang)}"),
            "mqls": f"{t('sql_rate', s.lang)} {fmt.rate(rates.get('sql_rate'), s.lang)}",
            "leads": f"{t('mql_rate', s.lang)} {fmt.rate(rates.get('mql_rate'), s.lang)}"}
    rows = [{t("funnel_stage", s.lang): t(stage, s.lang),
             t("whatif_goal_to_save", s.lang): fmt.number(count_goal(funnel[stage]), s.lang),
             t("whatif_exact", s.lang): fmt.number(funnel[stage], s.lang, 1),
             t("reverse_divided_by", s.lang): used[stage]} for stage in goals.FUNNEL_STEPS]
    missing = [t(stage, s.lang) for stage in goals.FUNNEL_STEPS if funnel[stage] is None]
    lines = [t("whatif_assumptions", s.lang)]
    if missing:
        lines.append(t("whatif_not_written", s.lang).format(stages=", ".join(missing)))
    caption = selection_text(s, period_label, revenue, win_rate, deal_size)
    return display.stack(display.table(pd.DataFrame(rows), caption=caption), display.bullets(lines))


def save_whatif(s: Session, period_label: str, revenue, win_rate, deal_size, replace: bool = False,
                rates: dict | None = None) -> tuple[str, list[str]]:
    """Write the what-if goals of `period_label` into the data folder's targets file; (outcome, messages) in the
    page's language. Outcome "saved", "refused" (inputs out of range, or the shipped sample), "exists" (the period
    has all-channel goals for those metrics; tick replace) or "error" (the save failed; the file is unchanged).

    `rates`: the page's goals.funnel_rates (the explorer passes them); computed from the session's source when None."""
    from helpers.errors import WorkbookError
    from helpers.views.checklist_views import save_error_text

    lang = s.lang
    problem = input_problem(revenue, win_rate, deal_size, lang)
    if problem:
        return "refused", [problem]
    if rates is None:
        rates = goals.funnel_rates_of(goals.GoalData(s.source, s.as_of))
    chosen = whatif_goals(revenue, whatif_funnel(revenue, win_rate, deal_size, rates))
    replace_label = t("whatif_replace", lang)
    try:
        path = targets_path(s.wb.data_dir)
        result = save_goals(path, period_label, chosen, replace=replace)
    except TargetsExistError as exc:
        listed = ", ".join(f"{t(m, lang)} {v}" for m, v in exc.existing.items())
        return "exists", [t("whatif_exists", lang).format(file=path.name, period=period_label, listed=listed, replace=replace_label)]
    except (WorkbookError, OSError) as exc:
        refused = getattr(exc, "code", None) == "save_sample_refused"
        return "refused" if refused else "error", [save_error_text(exc, lang)]
    messages = [t("whatif_saved", lang).format(n=result["written"], period=period_label, path=result["path"])]
    if result["replaced"]:
        messages.append(t("whatif_replaced", lang).format(n=result["replaced"], period=period_label, backup=Path(result["backup"]).name))
    messages.append(t("whatif_rerun", lang))
    return "saved", messages


def target_note(s: Session):
    """Where the explorer saves, shown before the first save; a warning (the save is refused) for the shipped sample."""
    from helpers.paths import is_tracked_sample

    path = targets_path(s.wb.data_dir)
    if is_tracked_sample(path):
        return display.note(t("whatif_sample_refused", s.lang).format(path=path.resolve()), warn=True)
    return display.note(t("whatif_target", s.lang).format(path=path.resolve()))


def period_choices(s: Session) -> list[str]:
    """The periods the goals can be saved for: the page's period, then the one holding as_of and the next four."""
    from helpers.data.periods import period_of

    now = period_of(s.as_of, s.config.fiscal_year_start_month)
    labels = [s.period.label] + [now.shift(k).label for k in range(5)]
    return list(dict.fromkeys(labels))


def explorer(s: Session, g):
    """JupyterLab and the app: the what-if controls (period, won-revenue goal, win rate, average deal size), the reverse
    funnel they give, and a button writing them into targets.csv; nothing under the report runner.

    `g` is the page's goals_views.GoalsResult: its goal and rates are where the controls start.
    """
    if display.is_static():
        return None
    import ipywidgets as w

    from helpers.views.interactive import Live

    lang, rates, wide = s.lang, g.rates, {"description_width": "initial"}
    money_label = s.config.currency_code
    start_goal = goals.main_goal(g.section["targets"])
    period = w.Dropdown(options=period_choices(s), description=t("whatif_period", lang), style=wide, layout=w.Layout(width="auto"))
    whole = s.config.currency_decimals   # start values in the currency's units (¥2,402,159, not 2402159.0909)
    revenue = w.FloatText(value=round(float(start_goal or 0.0), whole), description=t("whatif_revenue", lang).format(currency=money_label), style=wide)
    win_rate = w.FloatSlider(value=float(rates["win_rate"] or FALLBACK_WIN_RATE), min=0.005, max=1.0, step=0.005,
                             readout_format=".1%", description=t("win_rate", lang), style=wide)
    deal = w.FloatText(value=round(float(rates["avg_deal_size"] or 0.0), whole), description=t("whatif_deal_size", lang).format(currency=money_label),
                       style=wide)
    table = w.HTML()
    save = w.Button(description=t("whatif_save", lang), button_style="primary", layout=w.Layout(width="auto"))
    replace = w.Checkbox(description=t("whatif_replace", lang), value=False, indent=False, layout=w.Layout(width="auto"))
    feedback = w.HTML()
    start_notes = [] if rates["win_rate"] is not None else [display.note(t("whatif_no_win_rate", lang).format(
        win=fmt.rate(FALLBACK_WIN_RATE, lang)), warn=True).data]

    def redraw(_=None):
        table.value = whatif_view(s, rates, period.value, revenue.value, win_rate.value, deal.value).data

    def on_save(_):
        save.disabled = True
        try:
            outcome, messages = save_whatif(s, period.value, revenue.value, win_rate.value, deal.value, replace=replace.value,
                                            rates=rates)
        finally:
            save.disabled = False
        if outcome == "saved":
            replace.value = False   # a replace applies to one save only
        feedback.value = display.lines(messages, warn=outcome != "saved").data

    for control in (period, revenue, win_rate, deal):
        control.observe(redraw, names="value")
    save.on_click(on_save)
    redraw()
    box = w.VBox([w.HTML(target_note(s).data + "".join(start_notes)),
                  w.HBox([period, revenue, win_rate, deal], layout=w.Layout(flex_flow="row wrap")), table,
                  w.HBox([save, replace], layout=w.Layout(align_items="center", flex_flow="row wrap")), feedback])
    box.add_class("wb-whatif")
    return Live(box, t("lab_run_explorer", lang))
