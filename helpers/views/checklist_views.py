"""Views for notebook 01 (checklist diagnostic): the answer form, score cards, charts and tables.

Figures come from helpers.metrics.checklist; this module only formats, labels and draws them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as dt
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from helpers.data.load import find_table_file
from helpers.data.periods import periods_between
from helpers.labels import t
from helpers.metrics import checklist
from helpers.views import display, drawing, fmt
from helpers.views.display import is_static
from helpers.views.theme import MARKETING, SALES, finish, legend_outside, wrap_label

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session

DEPT_COLORS = {"marketing": MARKETING, "sales": SALES}
ANSWERS = ("yes", "partial", "no")


def item_text(s: Session, item: int) -> str:
    """The checklist item's text in the session language."""
    return s.config.checklist_items[item][s.lang]


def score(value, lang: str | None = None) -> str:
    """A 0-100 score with one decimal; null shows as the language's n/a label (plain "n/a" in the nbval-checked text)."""
    if value is None:
        return "n/a" if lang is None else t("not_available", lang)
    return f"{value:.1f}"


def missing_view(s: Session):
    """What the absent checklist table prevents and how to enable it."""
    return display.note(t("checklist_missing", s.lang), warn=True)


def answer_set_view(s: Session, ck: dict):
    """Which answers were used for the period, a warning when they come from before it, and how many
    answers were left out for being dated after the data's as_of (and why): under the report runner the advice is
    the command line's --as-of, in JupyterLab and the app the control panel's snapshot date (no command inside the lab)."""
    from IPython.display import HTML

    info = ck["answer_set"]
    if info["rule"] == "none":
        shown = display.note(t("checklist_no_answers", s.lang), warn=True)
    else:
        text = t(f"checklist_rule_{info['rule']}", s.lang).format(
            respondents=info["respondents"], start=_day(info["from"]), end=_day(info["to"]), period=s.period.label)
        shown = display.note(text, warn=info["rule"] != "in_period")
    if not info.get("after_as_of"):
        return shown
    # the runner's reader can pass --as-of; in JupyterLab and the app the panel's snapshot-date control does it
    key = "checklist_left_out" if is_static() else "checklist_left_out_lab"
    late = display.note(t(key, s.lang).format(count=info["after_as_of"], as_of=f"{s.as_of:%Y-%m-%d}",
                                              control=t("panel_as_of", s.lang)), warn=True)
    return HTML(shown.data + late.data)


def answer_date_problem(answered_on, as_of, today=None, lang: str = "en") -> tuple[str, str] | None:
    """Check the form's answer date: ("error", text) for a date in the future (refused), ("warning", text)
    for a date after the data's as_of (saved, but left out of reports until the data reaches it), else None."""
    today = pd.Timestamp(today or dt.date.today()).normalize()
    when = pd.Timestamp(answered_on).normalize()
    if when > today:
        return "error", t("checklist_date_in_future", lang).format(date=f"{when:%Y-%m-%d}")
    if when > pd.Timestamp(as_of).normalize():
        return "warning", t("checklist_date_after_as_of", lang).format(date=f"{when:%Y-%m-%d}", as_of=f"{pd.Timestamp(as_of):%Y-%m-%d}")
    return None


def _day(value) -> str:
    return "" if value is None else pd.Timestamp(value).strftime("%Y-%m-%d")


def score_cards(s: Session, ck: dict):
    """Overall and department scores, respondents, as headline cards; when only one of sales and marketing answered,
    a line beside them says the overall score is that department's alone (the other's view is missing)."""
    items = [(t("checklist_overall", s.lang), score(ck["overall_score"], s.lang))]
    for dept in ("marketing", "sales"):
        if dept in ck["by_department"]:
            n = ck["respondents_by_department"].get(dept, 0)
            items.append((t("checklist_dept_card", s.lang).format(dept=t(dept, s.lang), n=n), score(ck["by_department"][dept], s.lang)))
    answered = [d for d in ("marketing", "sales") if ck["by_department"].get(d) is not None]
    if len(answered) != 1:
        return display.kpis(items)
    missing = "sales" if answered == ["marketing"] else "marketing"
    return display.stack(display.kpis(items), display.note(t("checklist_one_department", s.lang).format(
        dept=t(answered[0], s.lang), missing=t(missing, s.lang)), warn=True))


def key_text(ck: dict) -> str:
    """Plain-text scores (checked by nbval)."""
    depts = ", ".join(f"{d} {score(v)}" for d, v in ck["by_department"].items())
    gaps = ", ".join(f"item {g['item']} gap {g['gap']:+.3f}" for g in ck["largest_gaps"])
    return (f"answer_set: {ck['answer_set']['rule']}, respondents {ck['respondent_count']}\n"
            f"overall_score: {score(ck['overall_score'])}\nby_department: {depts}\nlargest gaps: {gaps}\n"
            f"contradictions: {[c['item'] for c in ck['contradictions']]}\nunmet_items: {ck['unmet_items']}")


def category_chart(s: Session, ck: dict):
    """Grouped horizontal bars: each category's score by department (0-100), one row per category, so the
    category names stand one under the other and never run together (issue 24)."""
    rows = [{"category": t(f"category_{cat}", s.lang), "department": t(d, s.lang), "score": v, "dept": d}
            for cat, by in ck["by_category"].items() for d, v in by.items() if d in DEPT_COLORS and v is not None]
    if not rows:   # no answer of sales or marketing in the set: the score cards said so; no empty chart
        return None
    import seaborn as sns   # seaborn (and scipy.stats) only where a chart needs it

    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.6 * max(1, len(ck["by_category"]))))
    palette = {t(d, s.lang): c for d, c in DEPT_COLORS.items()}
    sns.barplot(pd.DataFrame(rows), y="category", x="score", hue="department", palette=palette, orient="h", ax=ax)
    ax.set_xlim(0, 100)
    ax.set_ylabel("")
    ax.set_xlabel(t("checklist_score", s.lang))
    ax.set_title(t("checklist_by_category", s.lang))
    legend_outside(ax)
    scores = ", ".join(f"{t(d, s.lang)} {score(v, s.lang)}" for d, v in ck["by_department"].items() if d in DEPT_COLORS)
    return finish(fig, t("alt_checklist_departments", s.lang).format(scores=scores) if scores else None)


def item_heatmap(s: Session):
    """Heatmap of the mean answer (0 = no, 1 = yes) per item and department."""
    answers, _ = checklist.answer_set(s.wb.checklist, s.period, as_of=s.as_of)
    items = checklist.item_table(answers).set_index("item")[["marketing", "sales"]].astype("float64")
    if items.isna().all().all():   # no answer in the set: gap_sentences says so; no empty heatmap
        return None
    items.index = [wrap_label(f"{i}. {item_text(s, i)}", s.lang, 56) for i in items.index]
    items.columns = [t(c, s.lang) for c in items.columns]
    fig, ax = plt.subplots(figsize=(7.5, 9.5))
    drawing.heatmap(items, vmin=0, vmax=1, cmap="RdYlGn", annot=True, fmt=".2f", cbar=False, ax=ax)
    ax.set_title(t("checklist_heatmap", s.lang))
    return finish(fig, _largest_gap_alt(s, answers))


def _largest_gap_alt(s: Session, answers) -> str | None:
    """The item heatmap's main figure: the item the departments disagree on most, both means as the gap table shows them."""
    table = checklist.item_table(answers).dropna(subset=["gap"])
    if table.empty:
        return None
    row = table.loc[table["gap"].abs().idxmax()]
    return t("alt_checklist_gap", s.lang).format(item=int(row["item"]), mktg=fmt.number(row["marketing"], s.lang, 2),
                                                 sales=fmt.number(row["sales"], s.lang, 2))


def gap_table(s: Session):
    """Items sorted by perception gap (marketing − sales), largest disagreement first."""
    answers, _ = checklist.answer_set(s.wb.checklist, s.period, as_of=s.as_of)
    items = checklist.item_table(answers)
    if items[["marketing", "sales"]].isna().all().all():   # no answer in the set: not 15 rows of n/a
        return None
    items = items.assign(abs_gap=items["gap"].abs()).sort_values(["abs_gap", "item"], ascending=[False, True], na_position="last")
    shown = pd.DataFrame({
        "#": items["item"],
        t("checklist_item", s.lang): [item_text(s, i) for i in items["item"]],
        t("marketing", s.lang): [fmt.number(v, s.lang, 2) for v in items["marketing"]],
        t("sales", s.lang): [fmt.number(v, s.lang, 2) for v in items["sales"]],
        t("checklist_gap", s.lang): [(t("not_available", s.lang) if pd.isna(v) else f"{v:+.2f}") for v in items["gap"]],
    })
    return display.table(shown)


def gap_sentences(s: Session, ck: dict) -> list[str]:
    """One sentence per item where the departments disagree most; the no-answers sentence when the set is empty."""
    if ck.get("respondent_count") == 0:   # an answer set without answers (a partial dict: as answered)
        return [t("checklist_no_answers", s.lang)]
    out = []
    for g in ck["largest_gaps"]:
        if g["gap"] is None or abs(g["gap"]) < 0.25:
            continue
        key = "checklist_gap_mktg_higher" if g["gap"] > 0 else "checklist_gap_sales_higher"
        out.append(t(key, s.lang).format(item=g["item"], text=item_text(s, g["item"]),
                                         mktg=g["marketing"], sales=g["sales"]))
    if out:
        return out
    if not any(row.get("gap") is not None for row in (ck.get("by_item") or {}).values()):
        return [t("checklist_gap_not_computable", s.lang)]  # no item answered by both: no conclusion either way
    return [t("checklist_no_big_gap", s.lang)]


def trend_chart(s: Session):
    """Overall and department scores across the periods that have answers, up to this period."""
    fy = s.config.fiscal_year_start_month
    first = s.wb.checklist["answered_on"].min()
    periods = periods_between(first, s.period.end, fy) if first <= s.period.end else []
    trend = checklist.score_trend(s.wb.checklist, periods, as_of=s.as_of, source=s.source)
    drawn = [c for c in ("marketing", "sales", "overall") if c in trend.columns and trend[c].notna().any()]
    if not drawn:   # no period up to this one has answers: a sentence, not empty axes
        return display.note(t("checklist_trend_none", s.lang))
    fig, ax = plt.subplots()
    for col, color in (("marketing", MARKETING), ("sales", SALES), ("overall", "#444444")):
        if col in trend.columns and len(trend):
            ax.plot(trend["period"], trend[col], marker="o", color=color,
                    label=t(col if col != "overall" else "checklist_overall", s.lang))
    ax.set_ylim(0, 100)
    ax.set_ylabel(t("checklist_score", s.lang))
    ax.set_title(t("checklist_trend", s.lang))
    ax.tick_params(axis="x", rotation=45)
    legend_outside(ax)
    last = trend.dropna(subset=["overall"]).tail(1) if "overall" in trend.columns else trend.iloc[0:0]
    figure = None if last.empty else t("alt_checklist_trend", s.lang).format(period=last["period"].iloc[0],
                                                                               score=score(last["overall"].iloc[0], s.lang))
    return finish(fig, figure)


def evidence_table(s: Session, ck: dict):
    """Claimed (mean answer by department) beside what the CRM data shows, per item the data can speak to."""
    flagged = {(c["item"], c["department"]) for c in ck["contradictions"]}
    seen_label = t("evidence_seen", s.lang).format(as_of=pd.Timestamp(s.as_of).strftime("%Y-%m-%d"))
    rows = []
    for item, ev in ck["evidence"].items():
        item = int(item)
        by = ck["by_item"].get(item) or ck["by_item"].get(str(item)) or {}
        seen = fmt.rate(ev["value"], s.lang)
        verdict = {True: t("evidence_supports", s.lang), False: t("evidence_contradicts", s.lang),
                   None: t("not_available", s.lang)}[ev["supports"]]
        flags = [t(d, s.lang) for d in ("marketing", "sales") if (item, d) in flagged]
        rows.append({
            "#": item,
            t("checklist_item", s.lang): item_text(s, item),
            t("marketing", s.lang): fmt.number(by.get("marketing"), s.lang, 2),
            t("sales", s.lang): fmt.number(by.get("sales"), s.lang, 2),
            t("evidence_measure", s.lang): t(f"evidence_{ev['measure']}", s.lang),
            seen_label: f"{seen} ({t('evidence_threshold', s.lang)} {fmt.rate(ev['threshold'], s.lang, 0)})",
            t("evidence_verdict", s.lang): verdict,
            t("evidence_contradiction", s.lang): ", ".join(flags) if flags else "",
        })
    frame = pd.DataFrame(rows)
    why = evidence_reasons(ck["evidence"], s.lang)
    if not flagged:  # nobody claims what the data contradicts: say so instead of an empty column
        parts = [display.table(frame.drop(columns=[t("evidence_contradiction", s.lang)])),
                 display.note(t("evidence_no_contradiction", s.lang))]
    else:
        parts = [display.table(frame)]
    return display.stack(*parts, display.bullets(why)) if why else display.stack(*parts)


def evidence_reasons(evidence: dict, lang: str) -> list[str]:
    """Why the evidence of some items is empty, one line per reason ("Items 6, 7, 8, 9, 10: <the reason's sentence>"),
    from each entry's ``null_reasons`` (its value's); [] when none says."""
    from helpers.views.common import reason_text

    by_code: dict[str, list[str]] = {}
    for item, ev in evidence.items():
        code = (ev.get("null_reasons") or {}).get("value")
        if code:
            by_code.setdefault(code, []).append(str(int(item)))
    sep = "、" if lang == "ja" else ", "
    return [t("evidence_items_null", lang).format(items=sep.join(items), reason=reason_text(code, lang))
            for code, items in by_code.items()]


def recommendations_table(s: Session, ck: dict):
    """The seven initiatives that address unmet items, easiest and most impactful first; without answers, a sentence
    that nothing is recommended from them (not "every item is met")."""
    if ck.get("respondent_count") == 0:
        return display.note(t("checklist_no_answers_no_recommendation", s.lang))
    if not ck["recommendations"]:
        return display.note(t("checklist_all_met", s.lang))
    marks = {0: "-", 1: "○", 2: "◎"}
    rows = [{
        t("initiative", s.lang): r[s.lang],
        t("checklist_items_addressed", s.lang): ", ".join(map(str, r["items_addressed"])),
        t("opportunities_created", s.lang): marks.get(r["impacts"]["opportunities"], "?"),
        t("win_rate", s.lang): marks.get(r["impacts"]["win_rate"], "?"),
        t("sales_cycle_days", s.lang): marks.get(r["impacts"]["cycle"], "?"),
        t("difficulty", s.lang): "★" * int(r["difficulty"]),
    } for r in ck["recommendations"]]
    return display.table(pd.DataFrame(rows))


# ---- the answer form (JupyterLab only) ---------------------------------------------------------

def checklist_path(s: Session):
    """Where the form saves: the data folder's checklist file (checklist.csv when there is none yet)."""
    return find_table_file(s.wb.data_dir, "checklist") or s.wb.data_dir / "checklist.csv"


def target_note(s: Session):
    """Where the form saves, shown before the first save; a warning (and no saving) for the shipped sample."""
    from helpers.paths import is_tracked_sample

    link = Path(checklist_path(s))
    path = link.resolve()
    if is_tracked_sample(path):
        return display.note(t("form_sample_refused", s.lang).format(path=path), warn=True)
    if link.is_symlink():  # a team's shared file: the answers go there (helpers.storage.save_target)
        if not path.exists():
            return display.note(t("form_target_dangling", s.lang).format(path=link.absolute(), target=path), warn=True)
        return display.note(t("form_target_link", s.lang).format(path=path, link=link.absolute()))
    return display.note(t("form_target", s.lang).format(path=path))


def _form_refusal(s: Session, path, who: str, answered_on) -> list[str] | None:
    """Why the form cannot write (the shipped sample, no respondent, no date); None when it can."""
    from helpers.paths import is_tracked_sample

    if is_tracked_sample(path):
        return [t("form_sample_refused", s.lang).format(path=Path(path).resolve())]
    if not who:
        return [t("form_need_respondent", s.lang)]
    if not answered_on:
        return [t("form_need_date", s.lang)]
    return None


def save_form(s: Session, respondent: str, department: str, answered_on, answers: dict, notes: dict,
              replace_same_day: bool = False) -> tuple[str, list[str]]:
    """Save the form's answers to checklist_path(s); return (outcome, messages) for people, in the report language.

    `answers` maps item (1-15) to yes/partial/no or None (unanswered); `notes` item to text.
    Outcome: "saved", "refused" (nothing to save or a field missing: one message), "duplicate"
    (the respondent already answered that day; tick replace), or "error" (the save failed; the
    file is unchanged). Each message appears once. Raises nothing for the analyst's input.
    """
    from helpers.errors import WorkbookError

    lang, path, who = s.lang, checklist_path(s), (respondent or "").strip()
    refusal = _form_refusal(s, path, who, answered_on)
    if refusal:
        return "refused", refusal
    date_problem = answer_date_problem(answered_on, s.as_of, lang=lang)
    if date_problem and date_problem[0] == "error":
        return "refused", [date_problem[1]]
    given = {i: a for i, a in answers.items() if a}
    if not given:
        return "refused", [t("form_nothing_answered", lang)]
    day = pd.Timestamp(answered_on).strftime("%Y-%m-%d")
    rows = pd.DataFrame([{"respondent": who, "department": department, "answered_on": day, "item": i,
                          "answer": a, "note": (notes.get(i) or "").strip()} for i, a in sorted(given.items())])
    replace_label = t("checklist_replace_same_day", lang)
    try:
        result = checklist.append_answers(path, rows, replace_same_day=replace_same_day)
    except checklist.DuplicateAnswersError:
        return "duplicate", [t("form_duplicate", lang).format(respondent=who, date=day, replace=replace_label)]
    except (WorkbookError, OSError) as exc:
        return "error", [save_error_text(exc, lang)]
    messages = [t("form_saved", lang).format(n=result["written"], respondent=who, department=t(department, lang), date=day)]
    if result["replaced"]:
        messages.append(t("form_replaced", lang).format(n=result["replaced"]))
    missing = sorted(i for i in answers if not answers[i])
    if missing:
        messages.append(t("form_unanswered", lang).format(items=", ".join(map(str, missing)), n=len(missing),
                                                          total=len(answers), replace=replace_label))
    else:
        messages.append(t("form_all_answered", lang).format(total=len(answers)))
    if date_problem:
        messages.append(date_problem[1])
    messages.append(t("form_rerun", lang))
    return "saved", messages


def remove_form(s: Session, respondent: str, answered_on) -> tuple[str, list[str]]:
    """Remove the respondent's answers of that day from checklist_path(s) (helpers.metrics.checklist.remove_answers).

    Returns (outcome, messages) in the report language: "removed", "refused" (no respondent or
    date, or the shipped sample), "none" (no answers of that day) or "error" (file unchanged).
    """
    from helpers.errors import WorkbookError

    lang, path, who = s.lang, checklist_path(s), (respondent or "").strip()
    refusal = _form_refusal(s, path, who, answered_on)
    if refusal:
        return "refused", refusal
    day = pd.Timestamp(answered_on).strftime("%Y-%m-%d")
    try:
        result = checklist.remove_answers(path, who, day)
    except (WorkbookError, OSError) as exc:
        return "error", [save_error_text(exc, lang)]
    if not result["removed"]:
        return "none", [t("form_remove_none", lang).format(respondent=who, date=day)]
    return "removed", [t("form_removed", lang).format(n=result["removed"], respondent=who, date=day,
                                                      backup=Path(result["backup"]).name), t("form_rerun", lang)]


def save_error_text(exc: Exception, lang: str) -> str:
    """A failed save said once, in `lang`, with its fix: a coded error (helpers.errors.ERROR_CODES: a link to nothing,
    a full disk ...) from the label table; another WorkbookError or OSError behind "Could not save; nothing was written"."""
    from helpers.errors import WorkbookError, error_text, said

    if getattr(exc, "code", None) is not None:
        message, fix = error_text(exc.code, exc.params, lang)
        file = said(exc.params.get("file"), lang)
        message = message if file is None else f"{file}: {message}"
    else:
        message = t("form_error", lang).format(message=getattr(exc, "message", None) or str(exc))
        fix = getattr(exc, "fix", None) or "" if isinstance(exc, WorkbookError) else ""
    return t("form_error_fix", lang).format(message=message, fix=fix) if fix else message


def _item_widgets(s: Session, wide: dict) -> tuple[dict, dict, list]:
    """The form's widgets of the checklist items, by category: ({item: its Yes / Partial / No ChoiceButtons}, {item:
    its note box}, [one VBox per category: its heading, then a row per item])."""
    import ipywidgets as w

    from helpers.views.choice_buttons import ChoiceButtons

    lang = s.lang
    answers, notes, groups = {}, {}, []
    for cat, items in s.config.checklist_categories.items():
        rows = [w.HTML(f"<b>{display.esc(t(f'category_{cat}', lang))}</b>")]
        for i in items:
            # buttons with a ✓, a filled colour and aria-pressed on the chosen one (ToggleButtons has no ARIA state)
            answers[i] = ChoiceButtons(options=[(t(f"answer_{a}", lang), a) for a in ANSWERS], value=None,
                                       label=t("form_answer_to_item", lang).format(item=i, text=item_text(s, i)))
            notes[i] = w.Text(description=t("form_note_for_item", lang).format(item=i), placeholder=t("note", lang), style=wide,
                              layout=w.Layout(width="300px"))
            rows.append(w.HBox([w.HTML(f"{i}. {display.esc(item_text(s, i))}", layout=w.Layout(width="420px")), answers[i], notes[i]],
                               layout=w.Layout(flex_flow="row wrap", align_items="center")))
        groups.append(w.VBox(rows))
    return answers, notes, groups


def form(s: Session):
    """An ipywidgets form to answer the 15 items (JupyterLab, the app); under the report runner, nothing.

    Every text box has its label (a description linked to the input); each item's Yes / Partial / No is a
    helpers.views.choice_buttons.ChoiceButtons group named after the item, the chosen answer marked by colour, a ✓
    and aria-pressed; pressing it again clears the answer."""
    if is_static():
        return None
    import ipywidgets as w

    from helpers.views.interactive import Live

    lang = s.lang
    wide = {"description_width": "initial"}
    respondent = w.Text(description=t("respondent", lang), placeholder="sales-01", style=wide)
    department = w.Dropdown(options=[(t("sales", lang), "sales"), (t("marketing", lang), "marketing"), (t("other", lang), "other")],
                            description=t("department", lang), style=wide, layout=w.Layout(width="auto"))
    answered_on = w.DatePicker(description=t("answered_on", lang), value=pd.Timestamp(s.as_of).date(), style=wide)
    answers, notes, groups = _item_widgets(s, wide)
    save = w.Button(description=t("save", lang), button_style="primary")
    replace = w.Checkbox(description=t("checklist_replace_same_day", lang), value=False, indent=False,
                         layout=w.Layout(width="auto"))
    remove = w.Button(description=t("form_remove_day", lang), button_style="warning")
    feedback = w.HTML()
    date_note = w.HTML()
    where = w.HTML(target_note(s).data)

    def on_date(_=None):
        problem = answered_on.value and answer_date_problem(answered_on.value, s.as_of, lang=lang)
        date_note.value = display.note(problem[1], warn=True).data if problem else ""

    def on_remove(_):
        remove.disabled = True
        try:
            outcome, messages = remove_form(s, respondent.value, answered_on.value)
        finally:
            remove.disabled = False
        feedback.value = display.lines(messages, warn=outcome != "removed").data

    def on_save(_):
        save.disabled = True
        feedback.value = display.note(t("form_saving", lang)).data
        try:
            outcome, messages = save_form(s, respondent.value, department.value, answered_on.value,
                                          {i: b.value for i, b in sorted(answers.items())},
                                          {i: n.value for i, n in notes.items()}, replace_same_day=replace.value)
        finally:
            save.disabled = False
        if outcome == "saved":
            replace.value = False  # a replace applies to one save only
        feedback.value = display.lines(messages, warn=outcome != "saved").data

    save.on_click(on_save)
    remove.on_click(on_remove)
    answered_on.observe(on_date, names="value")
    box = w.VBox([where, w.HBox([respondent, department, answered_on], layout=w.Layout(flex_flow="row wrap")), date_note, *groups,
                  w.HBox([save, replace, remove], layout=w.Layout(align_items="center", flex_flow="row wrap")), feedback])
    return Live(box, t("lab_run_form", lang))
