"""Views for notebook 05 (lead quality): the MQL rule audit, conditions of leads that become deals (table and
forest plot), the leakage guard, the lead score (deciles, reliability curve, scorecard, same-size rule) and
sales' feedback.

Figures come from helpers.metrics.lead_section; this module only formats, labels (helpers/labels.yaml) and draws.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from helpers.labels import label_or_value, t
from helpers.metrics import lead_section, lead_source, limits
from helpers.metrics.lead_conditions import EMPTY, OTHER
from helpers.metrics.lead_quality import AUDIT_RATES, audit_unknown
from helpers.views import display, fmt
from helpers.views.common import channel_label, reason_text
from helpers.views.theme import MARKETING, NEUTRAL, SALES, finish

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session
    from helpers.metrics.lead_section import LeadQuality


def compute(s: Session) -> LeadQuality:
    """The lead-quality section of the session's period (once per notebook run), computed on the session's source
    (helpers.metrics.lead_source.lead_quality_of: the folder's frames in DuckDB, or the warehouse; aggregates only)."""
    codes = [f"{w['code']}:leads" for w in limits.ingest_warnings(s.wb.data_dir) if limits.about_leads(w)]
    return lead_source.lead_quality_of(s.source, s.config.lead_quality, s.period.start, s.period.end, s.as_of, codes)


def _value(value: str, lang: str, names: dict | None = None) -> str:
    """A data value as shown: (empty) and other in the report language, else its display name in `names` (a
    channel's, :func:`_names`), its label or the value."""
    return {EMPTY: t("lq_empty_value", lang), OTHER: t("lq_other_value", lang)}.get(value, label_or_value(value, lang, names))


def _names(s: Session, attribute: str) -> dict | None:
    """The display names of an attribute's values: the channels' (setting labels.channels), None for the others."""
    return s.config.channel_names if attribute == "channel" else None


def _attribute(name: str, lang: str) -> str:
    return label_or_value(name, lang)


OP_SIGNS = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "==": "="}


def rule_words(rule: dict | None, lang: str, channel_names: dict | None = None) -> str | None:
    """The rule as one line in the report language: attribute and value labels (a channel's display name from
    `channel_names`, helpers.config.Config.channel_names), ≥/≤/= signs, or/and as words (または/かつ); None without a
    rule. metrics.json keeps the rule's own text (helpers.metrics.lead_quality.rule_text)."""
    if rule is None:
        return None
    if "any" in rule or "all" in rule:
        joiner = t("lq_rule_or" if "any" in rule else "lq_rule_and", lang)
        inner = [(rule_words(p, lang, channel_names), "any" in p or "all" in p) for p in rule.get("any", rule.get("all"))]
        return joiner.join(f"({x})" if nested else x for x, nested in inner)
    column, value = _attribute(rule["column"], lang), rule["value"]
    names = channel_names if rule["column"] == "channel" else None
    if rule["op"] == "in":
        shown = ", ".join(_value(str(v), lang, names) for v in (value if isinstance(value, list) else [value]))
        return t("lq_rule_in", lang).format(column=column, values=shown)
    shown = _value(str(value), lang, names) if isinstance(value, str) else fmt.number(value, lang, 2 if value % 1 else 0)
    return f"{column} {OP_SIGNS[rule['op']]} {shown}"


def _iv(value, low, high, lang: str) -> str:
    if value is None:
        return t("not_available", lang)
    return t("lq_interval", lang).format(value=fmt.rate(value, lang), low=fmt.rate(low, lang), high=fmt.rate(high, lang))


def _no_section(s: Session, lq: LeadQuality):
    reason = (lq.section.get("null_reasons") or {}).get("lead_quality")
    return display.note(reason_text(reason, s.lang), warn=True) if reason else None


# --------------------------------------------------------------------------- horizon and the rule
def horizon_view(s: Session, lq: LeadQuality):
    """H, how many leads are observed and how many are still in play (all history and this period)."""
    missing = _no_section(s, lq)
    if missing:
        return missing
    sec = lq.section
    text = t("lq_horizon_bulk", s.lang) if sec["bulk_created_at"] else t("lq_horizon", s.lang).format(days=sec["horizon_days"])
    items = [(t("lq_observed", s.lang) + " — " + t("lq_all_history", s.lang), fmt.number(sec["observed_leads"], s.lang)),
             (t("lq_still_in_play", s.lang) + " — " + t("lq_all_history", s.lang), fmt.number(sec["still_in_play"], s.lang)),
             (t("lq_observed", s.lang) + " — " + s.period.label, fmt.number(sec["period_observed_leads"], s.lang)),
             (t("lq_still_in_play", s.lang) + " — " + s.period.label, fmt.number(sec["period_still_in_play"], s.lang))]
    return display.stack(display.note(text, warn=sec["bulk_created_at"]), display.kpis(items))


def rule_view(s: Session, lq: LeadQuality):
    """The rule as written (or the rule in use), a warning when it uses after-contact columns, then the audit's
    figures for the period's observed cohort and all history, each with its Wilson interval or null reason."""
    if _no_section(s, lq):
        return None
    audit = lq.section["mql_audit"]
    head = (t("lq_rule_written", s.lang).format(rule=rule_words(lq.rule, s.lang, s.config.channel_names)) if audit["rule"]
            else t("lq_rule_in_use", s.lang).format(days=lq.section["horizon_days"] or "—"))
    parts = [display.note(head)]
    if lq.late_rule_columns:
        parts.append(display.note(t("lq_rule_late", s.lang).format(columns=", ".join(lq.late_rule_columns)), warn=True))
    rows = [_audit_row(t("lq_period_cohort", s.lang).format(period=s.period.label), audit["period"], s),
            _audit_row(t("lq_all_history", s.lang), audit["all_history"], s)]
    parts.append(display.table(pd.DataFrame(rows)))
    notes = _reason_lines(audit["period"], s) + _reason_lines(audit["all_history"], s)
    if notes:
        parts.append(display.bullets(list(dict.fromkeys(notes))))
    return display.stack(*parts)


def _audit_row(scope: str, a: dict, s: Session) -> dict:
    lang = s.lang
    return {t("lq_scope", lang): scope, t("lq_observed", lang): fmt.number(a["observed"], lang),
            t("lq_flagged", lang): fmt.number(a["flagged"], lang), t("lq_converted", lang): fmt.number(a["converted"], lang),
            t("precision", lang): _iv(a["precision"], a["precision_low"], a["precision_high"], lang),
            t("recall", lang): _iv(a["recall"], a["recall_low"], a["recall_high"], lang),
            t("base_rate", lang): fmt.rate(a["base_rate"], lang),
            t("lift", lang): fmt.number(a["lift"], lang, 2),
            t("lq_missed", lang): fmt.number(a["missed"]["count"], lang),
            t("lq_missed_revenue", lang): fmt.money(a["missed"]["won_revenue"], s.config)}


#: The label of an audit figure's column where it is not the figure's own name (:func:`_reason_lines`).
REASON_LABELS = {"converted": "lq_converted", "missed": "lq_missed"}


def _reason_lines(a: dict, s: Session) -> list[str]:
    """'figure, figure: reason' for each distinct reason of the audit's null figures, in order (one line per reason:
    recall and lift null for all_flagged say it once, beside the row in the channel tables)."""
    by = {}
    for key, code in (a.get("null_reasons") or {}).items():
        if key in REASON_LABELS or key in AUDIT_RATES:   # flagged_converted has no column of its own
            by.setdefault(code, []).append(t(REASON_LABELS.get(key, key), s.lang))
    return [f"{t('list_separator', s.lang).join(keys)}: {reason_text(code, s.lang)}" for code, keys in by.items()]


def missed_text(s: Session, lq: LeadQuality):
    """One sentence: the period's converted leads the rule missed and their won revenue."""
    if _no_section(s, lq):
        return None
    period = lq.section["mql_audit"]["period"]
    return None if period["missed"]["count"] is None else missed_note(period, s)   # unknown: the table says why


def channel_table(s: Session, lq: LeadQuality, history: bool = False):
    """The audit by channel (the period's observed cohort, or all history), its first header naming the scope."""
    if _no_section(s, lq):
        return None
    key = "by_channel_all_history" if history else "by_channel"
    audits = lq.section["mql_audit"][key]
    rows = [_audit_row(channel_label(s.config, ch, s.lang), a, s) for ch, a in audits.items()]
    if any(a.get("null_reasons") for a in audits.values()):   # a null figure's reason beside it, on its row
        rows = [r | {t("lq_null_why", s.lang): " ".join(_reason_lines(a, s))} for r, a in zip(rows, audits.values())]
    if not rows:   # no observed lead: the period's own reason (no lead created in it, or none old enough yet)
        period = None if history else (lq.section["mql_audit"]["period"].get("null_reasons") or {}).get("base_rate")
        return display.note(reason_text(period or "no_observed_leads", s.lang))
    scope = t("lq_all_history", s.lang) if history else t("lq_period_cohort", s.lang).format(period=s.period.label)
    # the two tables share their columns: the first header says the scope (one label, one number; issue 24)
    frame = pd.DataFrame(rows).rename(columns={t("lq_scope", s.lang): f"{t('channel', s.lang)} — {scope}"})
    return display.table(frame)


# --------------------------------------------------------------------------- conditions
def conditions_table(s: Session, lq: LeadQuality):
    """Per attribute value: leads, converted rate, odds ratio with its 95% interval, Fisher p and BH q (sorted by
    odds ratio)."""
    if _no_section(s, lq):
        return None
    reason = lq.section["null_reasons"].get("conditions")
    if reason:
        return display.note(reason_text(reason, s.lang), warn=True)
    rows = lq.section["conditions"]
    if not rows:
        return display.note(t("lq_conditions_none", s.lang).format(min=lq.section.get("min_leads", lead_section.MIN_LEADS)))
    lang = s.lang
    frame = pd.DataFrame([{
        t("lq_attribute", lang): _attribute(r["attribute"], lang), t("lq_value", lang): _value(r["value"], lang, _names(s, r["attribute"])),
        t("lq_n", lang): fmt.number(r["n"], lang), t("lq_rate", lang): fmt.rate(r["rate"], lang),
        t("odds_ratio", lang): f"{r['odds_ratio']:.2f} [{r['low']:.2f} – {r['high']:.2f}]",
        t("lq_p", lang): _p(r["p"]), t("lq_q", lang): _p(r["q"])} for r in rows])
    return display.stack(display.note(t("lq_conditions_note", lang).format(tests=len(rows))), display.table(frame))


def _p(value: float) -> str:
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def forest_plot(s: Session, lq: LeadQuality):
    """The odds ratios with their 95% intervals on a log scale, largest at the top; 1 = no difference."""
    rows = [] if _no_section(s, lq) else lq.section["conditions"]
    if not rows:
        return None
    lang = s.lang
    labels = [f"{_attribute(r['attribute'], lang)}: {_value(r['value'], lang, _names(s, r['attribute']))}" for r in rows]
    y = np.arange(len(rows))[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(rows) + 1.2))
    colors = [MARKETING if r["q"] < 0.05 else NEUTRAL for r in rows]
    ax.hlines(y, [r["low"] for r in rows], [r["high"] for r in rows], colors=colors)
    ax.scatter([r["odds_ratio"] for r in rows], y, color=colors, zorder=3, s=18)
    ax.axvline(1.0, color=SALES, linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(y, labels)
    ax.set_title(t("lq_forest_title", lang))
    return finish(fig, t("alt_forest", lang).format(condition=labels[0], ratio=f"{rows[0]['odds_ratio']:.2f}"))


# --------------------------------------------------------------------------- leakage guard
def guard_view(s: Session, lq: LeadQuality):
    """The suspect attributes, each with its reason in plain words and whether it was left out."""
    if _no_section(s, lq):
        return None
    suspect = lq.section["suspect"]
    if not suspect:
        return display.note(t("lq_suspect_none", s.lang))
    explicit = {a["attribute"] for a in lq.section["attributes"] if a["explicit"] and a["known"] == "before_contact"}
    lang = s.lang
    rows = []
    for x in suspect:
        why = t(f"lq_reason_{x['reason']}", lang).format(auc=fmt.number(x["auc"], lang, 2),
                                                          empty=fmt.rate(x["empty_unconverted"], lang),
                                                          filled=fmt.rate(x["filled_converted"], lang))
        kept = x["attribute"] in explicit
        rows.append({t("lq_attribute", lang): _attribute(x["attribute"], lang), t("lq_suspect_reason", lang): why,
                     t("lq_suspect_use", lang): t("lq_suspect_kept", lang) if kept else "✓"})
    return display.table(pd.DataFrame(rows))


# --------------------------------------------------------------------------- score
def score_view(s: Session, lq: LeadQuality):
    """Test AUC with its 95% interval, Brier score and how the score was made (or why there is none)."""
    if _no_section(s, lq):
        return None
    sc, lang = lq.section["score"], s.lang
    reasons = sc["null_reasons"]
    if "points" in reasons:
        return display.note(t("lq_score_none", lang).format(reason=reason_text(reasons["points"], lang)), warn=True)
    names = ", ".join(_attribute(a, lang) for a in sc["points"])
    method = "lq_score_method_random" if sc["split"] == "random" else "lq_score_method"
    lines = [t(method, lang).format(attributes=names, train=fmt.number(sc["train_leads"], lang),
                                    test=fmt.number(sc["test_leads"], lang))]
    if sc["penalty"] is not None:
        lines.append(t("lq_score_penalty", lang).format(alpha=sc["penalty"]))
    auc = (t("not_available", lang) if sc["auc"] is None
           else f"{sc['auc']:.3f} [{sc['auc_low']:.3f} – {sc['auc_high']:.3f}]")
    items = [(t("lq_score_auc", lang), auc, reason_text(reasons.get("auc"), lang)),
             (t("lq_score_brier", lang), fmt.number(sc["brier"], lang, 3)),
             (t("lq_score_test", lang), f"{fmt.number(sc['test_leads'], lang)} ({fmt.number(sc['test_converted'], lang)})")]
    return display.stack(display.kpis(items), display.bullets(lines))


def decile_table(s: Session, lq: LeadQuality):
    """The test leads in ten groups by score: leads, predicted and observed conversion, lift."""
    if _no_section(s, lq) or not lq.section["score"]["deciles"]:
        return None
    lang = s.lang
    frame = pd.DataFrame([{t("lq_decile", lang): d["decile"], t("lq_n", lang): fmt.number(d["leads"], lang),
                           t("lq_predicted", lang): fmt.rate(d["predicted"], lang),
                           t("lq_observed_rate", lang): fmt.rate(d["observed"], lang),
                           t("lift", lang): fmt.number(d["lift"], lang, 2)} for d in lq.section["score"]["deciles"]])
    return display.table(frame)


def reliability_chart(s: Session, lq: LeadQuality):
    """Predicted against observed conversion per decile; the diagonal is a perfectly calibrated score."""
    deciles = [] if _no_section(s, lq) else lq.section["score"]["deciles"]
    if not deciles:
        return None
    pred = [d["predicted"] for d in deciles]
    obs = [d["observed"] for d in deciles]
    top = max(max(pred), max(obs)) * 1.1
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    ax.plot([0, top], [0, top], color=NEUTRAL, linestyle="--", label=t("lq_reliability_ideal", s.lang))
    ax.plot(pred, obs, marker="o", color=MARKETING)
    ax.set_xlabel(t("lq_predicted", s.lang))
    ax.set_ylabel(t("lq_observed_rate", s.lang))
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(loc="upper left")
    ax.set_title(t("lq_reliability_title", s.lang))
    return finish(fig, t("alt_reliability", s.lang).format(pred=fmt.rate(pred[-1], s.lang), obs=fmt.rate(obs[-1], s.lang)))


def scorecard(s: Session, lq: LeadQuality):
    """Points per attribute value (+20 points doubles the odds), a table a sales manager can read."""
    if _no_section(s, lq) or not lq.section["score"]["points"]:
        return None
    lang, rows = s.lang, []
    for name, card in lq.section["score"]["points"].items():
        if "per_unit" in card:
            rows.append((name, t("lq_points_per_unit", lang).format(step=fmt.number(card["step"], lang, 0 if card["step"] >= 1 else 2),
                                                                    mean=fmt.number(card["mean"], lang, 1)), card["per_step"]))
            if EMPTY in card:
                rows.append((name, _value(EMPTY, lang), card[EMPTY]))
            continue
        rows += [(name, _value(v, lang, _names(s, name)), p) for v, p in card.items()]
    frame = pd.DataFrame([{t("lq_attribute", lang): _attribute(n, lang), t("lq_value", lang): v,
                           t("lq_points", lang): f"{p:+.1f}"} for n, v, p in rows])
    parts = [display.note(t("lq_points_note", lang)), display.table(frame)]
    dropped = lq.section["score"].get("dropped") or []
    if dropped:
        parts.append(display.note(t("lq_points_dropped_title", lang), warn=True))
        parts.append(display.bullets([line for n in dropped for line in dropped_lines(n, lang)]))
    return display.stack(*parts)


def _term(attribute: str, value, lang: str) -> str:
    """One design column in words: ``Channel = exhibition``, or the attribute alone for a number."""
    return _attribute(attribute, lang) if value is None else f"{_attribute(attribute, lang)} = {_value(value, lang)}"


def dropped_lines(note: dict, lang: str) -> list[str]:
    """A column the score's fit left out (warning ``score_column_dropped``): its sentence and its fix, in `lang`."""
    from helpers.errors import warning_text

    others = t("list_separator", lang).join(_term(w["attribute"], w["value"], lang) for w in note["with"])
    params = {"variant": note["variant"], "attribute": _attribute(note["attribute"], lang),
              "term": _term(note["attribute"], note["value"], lang), "others": others}
    sentence, fix = warning_text(note["code"], params, lang)
    return [sentence, t("fix", lang) + ": " + fix]


def same_size_view(s: Session, lq: LeadQuality):
    """The rule in use next to the score's top leads of the same number, with what each catches (test leads)."""
    same = None if _no_section(s, lq) else lq.section.get("same_size")
    if not same:
        return None
    lang, r, c = s.lang, same["rule"], same["score"]
    text = t("lq_same_size_text", lang).format(
        test=fmt.number(same["test_leads"], lang), converted=fmt.number(same["test_converted"], lang),
        size=fmt.number(same["size"], lang), rule_hit=fmt.number(r["converted"], lang),
        rule_revenue=fmt.money(r["won_revenue"], s.config), score_hit=fmt.number(c["converted"], lang),
        score_revenue=fmt.money(c["won_revenue"], s.config))
    frame = pd.DataFrame([{"": name, t("lq_flagged", lang): fmt.number(x["flagged"], lang),
                           t("lq_converted", lang): fmt.number(x["converted"], lang),
                           t("precision", lang): fmt.rate(x["precision"], lang),
                           t("won_revenue", lang): fmt.money(x["won_revenue"], s.config)}
                          for name, x in ((t("lq_same_size_rule", lang), r),
                                          (t("lq_same_size_score", lang).format(size=fmt.number(same["size"], lang)), c))])
    return display.stack(display.note(text), display.table(frame))


# --------------------------------------------------------------------------- feedback
STATUS_LABELS = {"accepted": "lq_accepted", "disqualified": "lq_disqualified", "recycled": "lq_recycled", "pending": "lq_pending"}


def feedback_view(s: Session, lq: LeadQuality):
    """MQLs of the period by sales' first decision, per channel, with the disqualify reasons' shares and the median
    days to acceptance; the missing feedback columns named."""
    if _no_section(s, lq):
        return None
    fb, lang = lq.section["feedback"], s.lang
    parts = []
    if fb["columns_missing"]:
        parts.append(display.note(t("lq_feedback_missing", lang).format(columns=", ".join(fb["columns_missing"])), warn=True))
    if fb["period"] is None:
        parts.append(display.note(reason_text(fb["null_reasons"].get("period"), lang), warn=True))
        return display.stack(*parts)
    rows = [_feedback_row(t("all_channels", lang), fb["period"], s)]
    rows += [_feedback_row(channel_label(s.config, ch, lang), x, s) for ch, x in fb["by_channel"].items()]
    parts.append(display.table(pd.DataFrame(rows)))
    return display.stack(*parts)


def _feedback_row(name: str, x: dict, s: Session) -> dict:
    lang = s.lang
    row = {t("channel", lang): name, t("mqls", lang): fmt.number(x["mqls"], lang)}
    for status, key in STATUS_LABELS.items():
        row[t(key, lang)] = ("—" if x[status] is None
                             else f"{fmt.number(x[status], lang)} ({fmt.rate(x[f'{status}_share'], lang)})")
    reasons = x["disqualify_reasons"]
    row[t("lq_reasons", lang)] = t("list_separator", lang).join(
        f"{t('lq_no_reason', lang) if k == '(no reason)' else k} {fmt.rate(v, lang, 0)}" for k, v in reasons.items()) or "—"
    days = x["median_days_to_accept"]
    row[t("lq_median_days_to_accept", lang)] = (fmt.number(days, lang, 1) if days is not None
                                                else reason_text(x["null_reasons"].get("median_days_to_accept"), lang))
    return row


# --------------------------------------------------------------------------- stable text for nbval
def key_text(lq: LeadQuality) -> str:
    """The section's key figures as plain text lines (what nbval checks)."""
    sec = lq.section
    if sec.get("null_reasons", {}).get("lead_quality"):
        return f"lead_quality: null ({sec['null_reasons']['lead_quality']})"

    def show(v):
        return "null" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))
    lines = [f"horizon_days {sec['horizon_days']}, observed {show(sec['observed_leads'])}, still_in_play {show(sec['still_in_play'])}"]
    for key in ("period", "all_history"):
        a = sec["mql_audit"][key]
        lines.append(f"{key}: flagged {show(a['flagged'])}, converted {show(a['converted'])}, precision {show(a['precision'])}, "
                     f"recall {show(a['recall'])}, lift {show(a['lift'])}, missed {show(a['missed']['count'])}")
    lines.append("suspect: " + (", ".join(f"{x['attribute']} ({x['reason']})" for x in sec["suspect"]) or "none"))
    lines.append(f"conditions: {len(sec['conditions'])} values tested")
    sc = sec["score"]
    lines.append(f"score: auc {show(sc['auc'])}, brier {show(sc['brier'])}, split {sc['split']}, test {show(sc['test_leads'])}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the rule explorer (JupyterLab)
NONE = "—"
TOP_SHARES = (0.1, 0.2, 0.3, 0.4, 0.5)


def explorer_rule(lq: LeadQuality, number: str, top_share: float, pair: tuple | None, combine: str) -> dict | None:
    """The rule the explorer's choices make: `number` ≥ its top-`top_share` threshold, and/or `pair` (column,
    value) equal; None when nothing is chosen."""
    parts = []
    if number != NONE:
        cut = lead_source.threshold_of(lq.frame, number, top_share, lq.source.backend)
        if cut is not None:
            parts.append({"column": number, "op": ">=", "value": round(cut, 2)})
    if pair is not None:
        parts.append({"column": pair[0], "op": "==", "value": pair[1]})
    return {combine: parts} if parts else None


def explorer_view(s: Session, lq: LeadQuality, number: str, top_share: float, pair, combine: str) -> list:
    """One explorer choice: the rule in words, its audit over all observed leads (flagged, precision, recall,
    missed deals), next to the rule as written; the table's caption names the rule tried."""
    rule = explorer_rule(lq, number, top_share, pair, combine)
    a = lead_source.audit_of(lq.frame, rule, lq.columns, lq.source.backend)
    if not lq.source.has_opportunities:   # a leads-only folder: no outcome to audit the rule on
        a = audit_unknown(a)
    written = rule_words(lq.rule, s.lang, s.config.channel_names) if lq.section["mql_audit"]["rule"] else None
    rows = [_audit_row(rule_words(rule, s.lang, s.config.channel_names) or NONE, a, s),
            _audit_row(written or t("lq_same_size_rule", s.lang), lq.section["mql_audit"]["all_history"], s)]
    caption = t("explore_selection_rule", s.lang).format(rule=rule_words(rule, s.lang) or NONE)
    return [display.table(pd.DataFrame(rows), caption=caption), missed_note(a, s)]


def missed_note(a: dict, s: Session):
    """The audit's missed deals in a sentence; the reason when they are unknown (no opportunities table)."""
    if a["missed"]["count"] is None:
        return display.note(reason_text(a["null_reasons"]["missed"], s.lang), warn=True)
    return display.note(t("lq_missed_text", s.lang).format(
        count=fmt.number(a["missed"]["count"], s.lang), revenue=fmt.money(a["missed"]["won_revenue"], s.config)))


def _rule_columns(rule: dict) -> list[str]:
    from helpers.config import lead_quality_columns

    return lead_quality_columns({"mql_rule": rule})


def explorer(s: Session, lq: LeadQuality):
    """Try another MQL rule: a numeric attribute above a threshold (its top 10-50%) and/or one attribute value,
    combined with any/all; static under the report runner (the rule as written, all history)."""
    from helpers.views.interactive import explore

    if _no_section(s, lq) or lq.frame is None:
        return None
    in_rule = [] if not lq.rule else [c for c in _rule_columns(lq.rule)]
    numbers = sorted((k for k, (_, numeric) in lq.attrs.items() if numeric and lq.known[k] == "before_contact"),
                     key=lambda k: (k not in in_rule, list(lq.attrs).index(k)))   # the written rule's numbers first
    suspects = {x["attribute"] for x in lq.section["suspect"]}
    texts = [k for k, (_, numeric) in lq.attrs.items() if not numeric and k not in suspects]
    common = lead_source.common_values_of(lq.frame, texts, 12, lq.source.backend)
    pairs = [(f"{_attribute(k, s.lang)} = {_value(v, s.lang, _names(s, k))}", (k, v)) for k in texts for v in common[k]]
    lang = s.lang

    def view(number, top_share, pair, combine):
        return display.stack(*explorer_view(s, lq, number, top_share, pair, combine))
    return explore(view, labels={"number": t("explore_rule_numeric", lang), "top_share": t("explore_rule_threshold", lang),
                                 "pair": t("explore_rule_values", lang), "combine": t("explore_rule_combine", lang)},
                   busy=t("explore_busy", lang), hint=t("lab_run_explorer", lang),
                   number=[*numbers, NONE], top_share=[(t("explore_rule_top", lang).format(share=f"{int(x * 100)}%"), x) for x in TOP_SHARES],
                   pair=[(NONE, None), *pairs], combine=[(t("explore_rule_any", lang), "any"), (t("explore_rule_all", lang), "all")])
