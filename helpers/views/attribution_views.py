"""Views for notebook 06 (attribution: from marketing work to won revenue) and the touch coverage of notebook 00.

Figures come from helpers.metrics.attribution and helpers.metrics.attribution_paths; this module only formats
and labels them (helpers/labels.yaml, en + ja).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from helpers.data.channels import check_marketing_channels
from helpers.errors import warning_text
from helpers.labels import t
from helpers.metrics import attribution as A
from helpers.metrics.attribution_paths import attribution_of, coverage_of
from helpers.metrics.health_engine import touch_channels_of
from helpers.views import display, fmt
from helpers.metrics.limits import workbook_facts
from helpers.views.common import channel_label, reason_text

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session


@dataclass
class AttributionResult:
    """What notebook 06 shows: the metrics.json section ``attribution``."""

    section: dict


def compute(s: Session) -> AttributionResult:
    """The attribution section of the session's period (every model, data-driven shares with intervals, sourced/influenced),
    computed on the session's source (``s.source``: the folder's frames in DuckDB, or the warehouse, which returns only
    aggregates and the distinct paths); the ingest's warnings about the leads (a bulk-load created_at) decide which
    leads are observed, as in notebook 05."""
    from helpers.metrics import limits

    codes = [f"{w['code']}:leads" for w in limits.ingest_warnings(s.wb.data_dir) if limits.about_leads(w)]
    return AttributionResult(attribution_of(s.source, s.config, s.as_of, s.period.start, s.period.end, warning_codes=codes))


def _channel(s: Session, name: str) -> str:
    """A channel's display name (setting labels.channels), the row of deals without touches named as such."""
    return t("no_touches_recorded", s.lang) if name == A.NO_TOUCHES else channel_label(s.config, name, s.lang)


def missing_note(s: Session, a: AttributionResult):
    """Without touches.csv: what to export from Salesforce or HubSpot to fill it (else nothing)."""
    reason = (a.section.get("null_reasons") or {}).get("attribution")
    if reason is None:
        return None
    return display.lines([t(f"reason_{reason}", s.lang), t("touches_export_salesforce", s.lang),
                          t("touches_export_hubspot", s.lang)], warn=True)


def weights_table(s: Session, a: AttributionResult):
    """Every position model with its milestone weights and the weight of "the rest" (contract section 6)."""
    if a.section.get("null_reasons", {}).get("attribution"):
        return None
    rows = []
    for model in A.POSITION_MODELS:
        if model in A.MILESTONE_WEIGHTS:
            weights, rest = A.MILESTONE_WEIGHTS[model]
            text = ", ".join(f"{m} {w:g}" for m, w in weights.items()) + (f", {t('attribution_rest', s.lang)} {rest:g}" if rest else "")
        elif model == "linear":
            text = t("attribution_weights_linear", s.lang)
        else:
            text = t("attribution_weights_time_decay", s.lang).format(days=f"{a.section['half_life_days']:g}")
        rows.append({t("attribution_model", s.lang): t(f"model_{model}", s.lang), t("attribution_weights", s.lang): text})
    lines = [t("attribution_milestones", s.lang),
             t("attribution_window", s.lang).format(days=a.section["lookback_days"])]
    if (a.section.get("data_driven") or {}).get("bulk_created_at"):
        lines.append(t("attribution_lc_bulk", s.lang))
    return display.stack(display.table(pd.DataFrame(rows)), display.bullets(lines))


#: The reason the models table's Total is n/a when no deal of the period has an amount (by kind).
UNPRICED_TOTAL = {"won": "won_amounts_missing", "pipeline": "created_amounts_missing"}


def models_table(s: Session, a: AttributionResult, kind: str = "won"):
    """Every position model side by side per channel: won revenue (`kind` "won") or pipeline created ("pipeline"),
    the row 'no touches recorded' and the total (each column adds up to the period's figure exactly; n/a with the
    reason under the table when no deal of the period has an amount: won_amounts_missing / created_amounts_missing)."""
    models = a.section.get("models") or {}
    if not models:
        return None
    key = "revenue" if kind == "won" else "amount"
    money = (a.section.get("null_reasons") or {}).get("revenue") is None
    if (a.section.get("null_reasons") or {}).get("models.deals"):   # no opportunities table: no credit to show, its reason
        return display.note(reason_text(a.section["null_reasons"]["models.deals"], s.lang), warn=True)
    channels = list(models[A.POSITION_MODELS[0]][kind])
    rows, unpriced = [], False
    for ch in channels + ["__total__"]:
        row = {t("channel", s.lang): t("total", s.lang) if ch == "__total__" else _channel(s, ch)}
        for model in A.POSITION_MODELS:
            cells = models[model][kind]
            if ch == "__total__" and money:
                # the known amounts (an unpriced no-touch row is None: it adds nothing, said under the table); none
                # known at all (every deal of the period without an amount): n/a with its reason, never 0
                known = [c[key] for c in cells.values() if c[key] is not None]
                value = sum(known) if known else None
                unpriced = unpriced or (not known and bool(cells))
            elif ch == "__total__":
                value = sum(c["deals"] for c in cells.values())
            else:
                value = cells[ch][key] if money else cells[ch]["deals"]
            row[t(f"model_{model}", s.lang)] = fmt.money(value, s.config) if money else fmt.number(value, s.lang, 2)
        rows.append(row)
    parts = [display.table(pd.DataFrame(rows))]
    if unpriced:   # the period's deals exist and none has an amount: unknown, not 0
        parts.append(display.bullets([reason_text(UNPRICED_TOTAL[kind], s.lang)]))
    bare = models[A.POSITION_MODELS[0]][kind].get(A.NO_TOUCHES)
    if money and not unpriced and bare is not None and bare[key] is None:   # its deals exist, none has an amount: unknown, not 0
        parts.append(display.bullets([unpriced_no_touches(s)]))
    if not money:   # no amounts: credits in deals; no deals at all (no_opportunities): its reason
        reason = a.section["null_reasons"]["revenue"]
        parts.append(display.note(t("attribution_deals_only", s.lang) if reason == "no_amounts"
                                  else reason_text(reason, s.lang), warn=True))
    return display.stack(*parts)


#: The models drawn side by side in the chart (the table shows all of them).
CHART_MODELS = ("first_touch", "lead_creation", "w_shaped", "time_decay")


def models_chart(s: Session, a: AttributionResult):
    """Won revenue by channel under four models side by side (first touch, lead creation, W-shaped, time decay):
    horizontal bars per channel, the row 'no touches recorded' last; deals when there are no amounts."""
    import matplotlib.pyplot as plt
    import numpy as np

    from helpers.views.theme import PALETTE, finish, legend_outside, money_axis

    models = a.section.get("models") or {}
    if not models:
        return None   # missing_note said why
    money = (a.section.get("null_reasons") or {}).get("revenue") is None
    if (a.section.get("null_reasons") or {}).get("models.deals"):
        return None   # no opportunities table: models_table says why
    key = "revenue" if money else "deals"
    channels = list(models[CHART_MODELS[0]]["won"])
    if not any(models[m]["won"][c][key] for m in CHART_MODELS for c in channels):   # a sentence, never an empty chart
        from helpers.views import display

        return display.note(t("attribution_chart_empty", s.lang).format(period=s.period.label))
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(channels) * 1.2))
    y = np.arange(len(channels))
    height = 0.8 / len(CHART_MODELS)
    for i, (model, color) in enumerate(zip(CHART_MODELS, PALETTE)):
        values = [models[model]["won"][c][key] or 0 for c in channels]
        ax.barh(y + (i - (len(CHART_MODELS) - 1) / 2) * height, values, height=height, color=color, label=t(f"model_{model}", s.lang))
    ax.set_yticks(y, [_channel(s, c) for c in channels])
    ax.invert_yaxis()
    if money:
        money_axis(ax, s.config, "x")
    legend_outside(ax, fontsize=8)
    ax.set_title(t("attribution_chart_title", s.lang).format(period=s.period.label))
    first = models[CHART_MODELS[0]]["won"]
    top = max(channels, key=lambda c: first[c][key] or 0)
    value = fmt.money(first[top][key], s.config) if money else fmt.number(first[top][key], s.lang, 2)   # as its table
    return finish(fig, t("alt_attribution", s.lang).format(model=t(f"model_{CHART_MODELS[0]}", s.lang),
                                                           channel=_channel(s, top), value=value))


def _share(r: dict | None, lang: str) -> str:
    if r is None:
        return t("not_available", lang)
    return f"{fmt.rate(r['share'], lang)} [{fmt.rate(r['low'], lang)} – {fmt.rate(r['high'], lang)}]"


def data_driven_table(s: Session, a: AttributionResult):
    """Markov and Shapley shares with 95% intervals per channel, next to the linear model's share of the period's
    credited won revenue; the reason when they are empty; the channels folded into 'other'."""
    dd = a.section.get("data_driven") or {}
    reasons = a.section.get("null_reasons") or {}
    if not dd:
        return None
    counts = {"paths": fmt.number(dd["paths"], s.lang), "converted": fmt.number(dd["converted_paths"], s.lang)}
    if dd.get("bulk_created_at"):
        lines = [t("attribution_paths_line_bulk", s.lang).format(**counts)]
    else:
        lines = [t("attribution_paths_line", s.lang).format(**counts, start=f"{dd['window_start']:%Y-%m-%d}",
                                                            end=f"{dd['window_end']:%Y-%m-%d}", h=a.section["horizon_days"])]
    why = reasons.get("data_driven.markov") or reasons.get("data_driven.shapley")
    if why:
        lines.append(t(f"reason_{why}", s.lang).format(n=30))
        return display.lines(lines, warn=True)
    if dd.get("folded"):
        lines.append(t("attribution_folded", s.lang).format(channels=", ".join(_channel(s, c) for c in dd["folded"])))
    linear = {c: r["revenue"] for c, r in a.section["models"]["linear"]["won"].items() if c != A.NO_TOUCHES}
    total = sum(v for v in linear.values() if v is not None)
    rows = []
    for ch in sorted(set(dd["markov"]) | set(dd["shapley"])):
        rows.append({t("channel", s.lang): _channel(s, ch),
                     t("model_linear", s.lang): fmt.rate(linear.get(ch, 0.0) / total, s.lang) if total else t("not_available", s.lang),
                     t("model_markov", s.lang) + " [95%]": _share(dd["markov"].get(ch), s.lang),
                     t("model_shapley", s.lang) + " [95%]": _share(dd["shapley"].get(ch), s.lang),
                     t("attribution_shapley_revenue", s.lang): fmt.money((dd["shapley"].get(ch) or {}).get("revenue"), s.config)})
    return display.stack(display.bullets(lines), display.table(pd.DataFrame(rows)))


def sourced_table(s: Session, a: AttributionResult):
    """Marketing-sourced and marketing-influenced pipeline created and won revenue, and by the first touch's department."""
    if not a.section.get("sourced"):
        return None
    sec = a.section
    rows = []
    for label, fig in ((t("marketing_sourced", s.lang), sec["sourced"]), (t("marketing_influenced", s.lang), sec["influenced"]),
                       (t("sourced_by_other", s.lang), sec["by_department"]["other"]),
                       (t("no_touches_recorded", s.lang), sec["by_department"][A.NO_TOUCHES])):
        rows.append({t("measure", s.lang): label,
                     t("pipeline_created_count", s.lang): fmt.number(fig["pipeline"]["count"], s.lang),
                     t("pipeline_created_amount", s.lang): fmt.money(fig["pipeline"]["amount"], s.config),
                     t("won_count", s.lang): fmt.number(fig["won"]["count"], s.lang),
                     t("won_revenue", s.lang): fmt.money(fig["won"]["revenue"], s.config)})
    channels = ", ".join(channel_label(s.config, c, s.lang) for c in sec["marketing_channels"]) or t("none_listed", s.lang)
    listed, touched = set(sec["marketing_channels"]), touch_channels_of(s.source)   # the touches' other channels, as the
    others = [c for c in touched if c not in listed]   # data spells them: what counts as another department's
    items = [(t("marketing_channels_label", s.lang), channels)]
    if others:
        items.append((t("other_touch_channels_label", s.lang), ", ".join(channel_label(s.config, c, s.lang) for c in others)))
    said = [" ".join(warning_text(w.code, w.params, s.lang, w.count, w.file, w.column))   # data health's warning, here too
            for w in check_marketing_channels(sec["marketing_channels"], touched, s.config.channel_names)]
    bare = sec["by_department"][A.NO_TOUCHES]   # its deals exist, none has an amount (the data has some): unknown, not 0
    unpriced = [unpriced_no_touches(s)] if (bare["pipeline"]["count"] and bare["pipeline"]["amount"] is None
                                           and (sec.get("null_reasons") or {}).get("revenue") is None) else []
    return display.stack(display.table(pd.DataFrame(rows)), *([display.bullets(unpriced)] if unpriced else []),
                         display.kpis(items), *(display.note(x, warn=True) for x in said))


def unpriced_no_touches(s: Session) -> str:
    """Why the row 'no touches recorded' reads n/a in money: its deals exist and none has an amount (unknown, not 0)."""
    return t("attribution_unpriced_no_touches", s.lang).format(zero=fmt.money(0, s.config))


def content_table(s: Session, a: AttributionResult):
    """The assets used on the deals won or lost in the period: won and lost deals with it, their win rate, and
    its touches before and after the deal was created."""
    rows = a.section.get("content") or []
    if a.section.get("null_reasons", {}).get("attribution"):
        return None
    if not rows:
        return display.note(t("content_none", s.lang))
    frame = pd.DataFrame([{t("content_asset", s.lang): r["content"], t("content_won_deals", s.lang): r["won_deals"],
                           t("content_lost_deals", s.lang): r["lost_deals"], t("win_rate", s.lang): fmt.rate(r["win_rate"], s.lang),
                           t("content_before", s.lang): r["touches_before_created"],
                           t("content_after", s.lang): r["touches_after_created"]} for r in rows])
    return display.table(frame)


def coverage_figures(s: Session) -> dict | None:
    """Touch coverage of the session's period (helpers.metrics.attribution.coverage) computed on the session's source
    (aggregates only); None without touches or without a touch row."""
    return coverage_of(s.source, s.config, s.as_of, s.period.start, s.period.end)


def coverage_view(s: Session, c: dict | None = None):
    """How much of the period's won revenue has touches at all, and the touches left out (data health)."""
    c = coverage_figures(s) if c is None else c
    if c is None:
        return display.note(t("reason_no_touch_rows" if s.source.has_touches else "reason_no_touches_table", s.lang), warn=True)
    with_, without = c["won_deals_with_touches"], c["won_deals_without_touches"]
    deals = (fmt.number(None, s.lang) if with_ is None   # no opportunities table: unknown, not 0 / 0
             else f"{fmt.number(with_, s.lang)} / {fmt.number(with_ + without, s.lang)}")
    items = [(t("coverage_won_revenue_touched", s.lang), fmt.rate(c["won_revenue_share_with_touches"], s.lang)),
             (t("coverage_won_deals_touched", s.lang), deals),
             (t("coverage_won_revenue_untouched", s.lang), fmt.money(c["won_revenue_without_touches"], s.config))]
    lines = [t("coverage_left_out", s.lang).format(touches=fmt.number(c["touches"], s.lang),
                                                  unknown=fmt.number(c["touches_unknown_lead"], s.lang),
                                                  after=fmt.number(c["touches_after_close"], s.lang))]
    whole = "no_opportunities" if with_ is None else workbook_facts(s.wb, s.source).amounts_code
    if whole:   # the data-wide reason of the empty figures (no deals, or no amounts)
        lines.append(reason_text(whole, s.lang))
    return display.stack(display.kpis(items), display.bullets(lines))


def key_text(a: AttributionResult) -> str:
    """The attribution figures as stable plain text (what nbval checks)."""
    sec = a.section

    def show(v):
        if v is None:
            return "null"
        return f"{v:.4f}" if isinstance(v, float) and abs(v) < 10 else (f"{v:.0f}" if isinstance(v, float) else str(v))

    lines = [f"lookback_days {sec['lookback_days']}, half_life_days {show(sec['half_life_days'])}, horizon_days {show(sec['horizon_days'])}",
             "null_reasons: " + (", ".join(f"{k} {v}" for k, v in sec["null_reasons"].items()) or "none")]
    for model, figs in (sec.get("models") or {}).items():
        lines.append(f"{model}.won: " + ", ".join(f"{c} {show(r['revenue'])}" for c, r in figs["won"].items() if r["deals"]))
    dd = sec.get("data_driven") or {}
    for name in ("markov", "shapley"):
        if dd.get(name):
            lines.append(f"{name}: " + ", ".join(f"{c} {r['share']:.3f} [{r['low']:.3f}, {r['high']:.3f}]" for c, r in dd[name].items()))
    for name in ("sourced", "influenced"):
        if sec.get(name):
            f = sec[name]
            lines.append(f"{name}: pipeline {show(f['pipeline']['count'])} {show(f['pipeline']['amount'])}, "
                         f"won {show(f['won']['count'])} {show(f['won']['revenue'])}")
    if sec.get("coverage"):
        c = sec["coverage"]
        with_, without = c["won_deals_with_touches"], c["won_deals_without_touches"]
        lines.append(f"coverage: won_revenue_share_with_touches {show(c['won_revenue_share_with_touches'])}, "
                     f"won_deals {'null' if with_ is None else f'{with_}/{with_ + without}'}")
    return "\n".join(lines)
