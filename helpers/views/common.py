"""Formatted views of figures for notebooks and reports (labels from the label table, en/ja)."""
from __future__ import annotations

import pandas as pd

from helpers.config import Config
from helpers.labels import label_or_value, scoped, t
from helpers.views import fmt

MONEY_KEYS = {"won_revenue", "avg_deal_size", "sales_velocity", "amount", "stale_amount", "open_pipeline_amount"}
DAYS_KEYS = {"sales_cycle_days"}


def format_value(key: str, value, config: Config, lang: str) -> str:
    """A figure formatted by its kind: money, rate (key ends in rate/share), days, or a count."""
    if key in MONEY_KEYS:
        return fmt.money(value, config)
    if key.endswith("rate") or key.endswith("share"):
        return fmt.rate(value, lang)
    if key in DAYS_KEYS:
        return fmt.number(value, lang, 1)
    return fmt.number(value, lang)


def reason_text(code: str | None, lang: str) -> str | None:
    """The sentence of a null reason code (label ``reason_<code>``); None for no code."""
    return None if not code else t(f"reason_{code}", lang)


def why(section: dict | None, key: str, lang: str) -> str | None:
    """Why `section[key]` is empty: the sentence of ``section["null_reasons"][key]`` (None when it is not empty)."""
    reasons = (section or {}).get("null_reasons") or {}
    return reason_text(reasons.get(key), lang)


def pipeline_kpis(pipeline: dict, config: Config, lang: str) -> list[tuple[str, str, str | None]]:
    """Headline pipeline figures of the period as (label with its scope, formatted value, why it is empty or None),
    in the contract's order."""
    keys = ("opportunities_created", "won_count", "lost_count", "win_rate", "won_revenue",
            "avg_deal_size", "sales_cycle_days", "sales_velocity")
    items = [(scoped(k, "this_period", lang), format_value(k, pipeline[k], config, lang), why(pipeline, k, lang)) for k in keys]
    items.append((t("open_pipeline_count", lang), fmt.number(pipeline["open_pipeline"]["count"], lang),
                  why(pipeline, "open_pipeline_count", lang)))
    items.append((t("open_pipeline_amount", lang), open_amount_text(pipeline["open_pipeline"]["amount"],
                                                                    pipeline["open_pipeline"].get("amount_unknown_count"),
                                                                    config, lang),
                  why(pipeline, "open_pipeline_amount", lang)))
    return items


def open_amount_text(amount, unknown: int | None, config: Config, lang: str) -> str:
    """An open pipeline amount (the known amounts' sum) with the open deals it leaves out beside it: "$5,250.50 (+2
    deals without an amount)" (docs/glossary.md: a missing amount is not 0, the reader sees how much is unpriced);
    the amount alone when every open deal has one; n/a when the amount is null (its reason says why)."""
    text = fmt.money(amount, config)
    if amount is None or not unknown:
        return text
    return f"{text} " + t("open_amount_unpriced_one" if unknown == 1 else "open_amount_unpriced_many", lang).format(n=unknown)


def reasons_lines(reasons: dict | None, lang: str) -> list[str]:
    """'Label: why it is empty' for every figure of a ``null_reasons`` dict, one line per distinct reason."""
    by_code: dict[str, list[str]] = {}
    for key, code in (reasons or {}).items():
        by_code.setdefault(code, []).append(t(key, lang))
    sep = "、" if lang == "ja" else ", "
    colon = ": " if lang == "en" else ":"
    return [f"{sep.join(keys)}{colon}{reason_text(code, lang)}" for code, keys in by_code.items()]


def key_figures_text(core: dict) -> str:
    """The period's key figures as plain text lines (stable; what nbval checks in the notebooks)."""
    def show(value):
        if value is None:
            return "null"
        if isinstance(value, float):
            return str(int(value)) if value.is_integer() else f"{value:.4f}"
        return str(value)

    pipe = core["pipeline"]
    lines = [f"period {core['period']} ({core['start']:%Y-%m-%d} .. {core['end']:%Y-%m-%d}), as_of {core['as_of']:%Y-%m-%d}"]
    for key in ("opportunities_created", "won_count", "lost_count", "win_rate", "won_revenue", "avg_deal_size",
                "sales_cycle_days", "sales_velocity"):
        lines.append(f"{key}: {show(pipe[key])}")
    lines.append(f"open_pipeline: {pipe['open_pipeline']['count']} deals, {show(pipe['open_pipeline']['amount'])}")
    if core.get("funnel"):
        p, c = core["funnel"]["period"], core["funnel"]["cohort"]
        lines.append("funnel.period: " + ", ".join(f"{k} {p[k]}" for k in ("leads", "mqls", "sqls", "opportunities", "won")))
        lines.append("funnel.cohort: " + ", ".join(f"{k} {c[k]}" for k in ("leads", "mql", "sql", "opportunity", "won"))
                     + f", lead_to_opportunity_rate {show(c['lead_to_opportunity_rate'])}, immature {c['immature']}")
    return "\n".join(lines)


def labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The frame with column names replaced by their labels where the label table has them."""
    from helpers.labels import has_label

    return frame.rename(columns={c: t(c, lang) for c in frame.columns if has_label(c)})


def value_label(config: Config, column: str, value, lang: str) -> str:
    """A data value of `column` as a reader sees it: for the channel its display name in `lang` (setting
    labels.channels, :attr:`Config.channel_names`), else the label table's word (unknown, an owner's pseudonym),
    else the value as text. Display only: the data, metrics.json and the explorers' choices keep the value."""
    names = config.channel_names if column == "channel" else None
    return str(label_or_value(value, lang, names))


def channel_label(config: Config, value, lang: str) -> str:
    """A channel as a reader sees it (:func:`value_label` of the column channel)."""
    return value_label(config, "channel", value, lang)
