"""Views for notebook 00 (data health): the figures of helpers.metrics.health formatted, labelled (en/ja) and escaped."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from helpers.data.load import Workbook
from helpers.labels import scoped, t
from helpers.metrics.health import table_overview, value_counts
from helpers.views import fmt
from helpers.views.theme import finish, legend_outside

if TYPE_CHECKING:   # the notebook's context object, made by the report layer (type only)
    from helpers.report.session import Session


def overview_view(wb: Workbook, lang: str, source=None):
    """The table overview, labelled, as an escaped HTML table (the leads, opportunities and touches counted on `source`,
    a helpers.metrics.source.Source: a notebook passes ``s.source``; default the workbook's frames). A table the data
    lacks (a leads-only folder's opportunities) reads "none in the data", its reason under the table, never 0 rows."""
    from helpers.views import display
    from helpers.views.common import labelled, reason_text

    frame = table_overview(wb, lang, source)
    missing = frame[frame["null_reason"].notna()]
    frame = frame.drop(columns="null_reason").rename(columns={"table": "table_name", "first": "first_date",
                                                              "last": "last_date", "file": "file_format"})
    frame["rows"] = [t("none_in_data", lang) if n is None else fmt.number(n, lang)   # 4,400 as in every other table
                     for n in frame["rows"]]
    table = display.table(labelled(frame, lang))
    if not len(missing):
        return table
    colon = ": " if lang == "en" else ":"
    return display.stack(table, display.bullets([f"{r.table}{colon}{reason_text(r.null_reason, lang)}"
                                                 for r in missing.itertuples()]))


def rows_per_period_chart(frame: pd.DataFrame, lang: str):
    """Grouped bars: leads, opportunities created and deals closed per period; a sentence instead, never an empty
    chart, when no period up to this one has a row (a period before the data starts: `frame` has no rows or only 0s)."""
    import matplotlib.pyplot as plt

    cols = [c for c in ("leads", "opportunities_created", "closed") if c in frame.columns]
    if not len(frame) or not pd.to_numeric(frame[cols].stack(), errors="coerce").fillna(0).any():
        from helpers.views import display

        return display.note(t("health_rows_per_period_empty", lang))
    fig, ax = plt.subplots()
    frame.set_index("period")[cols].rename(columns=lambda c: t(c, lang)).plot.bar(ax=ax, width=0.8)
    ax.set_xlabel("")
    ax.set_title(t("health_rows_per_period", lang))
    legend_outside(ax)
    ax.tick_params(axis="x", rotation=60)
    last = frame.iloc[-1]
    counts = ", ".join(f"{t(c, lang)} {fmt.number(last[c], lang)}" for c in cols)
    return finish(fig, t("alt_rows_per_period", lang).format(period=last["period"], counts=counts))


def file_label(file: str, lang: str) -> str:
    """The file column of a warning: a file name as it is; canonical table names ("leads / opportunities") labelled."""
    from helpers.data.schema import TABLES
    from helpers.labels import has_label

    parts = file.split(" / ")
    if all(p in TABLES for p in parts):
        return " / ".join(t(f"table_{p}", lang) if has_label(f"table_{p}") else p for p in parts)
    return file


def findings_view(wb: Workbook, lang: str, source=None):
    """Every ingest and load warning (data-wide limits first) as an escaped table in `lang` (each sentence and fix
    from the label table by its code), or a sentence saying there are none. The code itself stays in metrics.json.
    The warnings counted over the rows (helpers.metrics.limits.workbook_warnings) are engine queries on `source`
    (default the workbook's frames)."""
    from helpers.metrics.limits import warning_sentences, workbook_warnings
    from helpers.views import display

    items = workbook_warnings(wb, source)
    if not items:
        return display.note(t("health_no_warnings", lang))
    rows = []
    for w in items:
        message, fix = warning_sentences(w, lang)
        rows.append({t("source", lang): t(f"source_{w['source']}", lang), t("file_format", lang): file_label(w["file"], lang),
                     t("rows_at", lang): w["rows"], t("count", lang): f"{w['count']:,}" if w["count"] else "",
                     t("column", lang): w["column"], t("message", lang): message, t("fix", lang): fix})
    return display.table(pd.DataFrame(rows))


def dict_view(values: dict, config, lang: str):
    """A {key: figure} dict as an escaped table with labels and formats; an empty figure shows why (its null_reasons)."""
    from helpers.views import display
    from helpers.views.common import format_value, why

    rows = [{t("measure", lang): t(k, lang), t("value", lang): format_value(k, v, config, lang),
             "why": why(values, k, lang) or ""} for k, v in values.items() if k != "null_reasons"]
    frame = pd.DataFrame(rows)
    if not frame["why"].str.len().any():
        frame = frame.drop(columns="why")
    return display.table(frame.rename(columns={"why": t("why_empty", lang)}))


def limits_view(s: Session):
    """The top of the data health report: partial coverage of the period, a leads table ending early,
    and what the data cannot tell (no lost deals first), each a sentence; nothing when all is well."""
    from helpers.views import display
    from helpers.metrics.limits import workbook_facts
    from helpers.metrics.core import period_coverage
    from helpers.views.common import reason_text

    parts = []
    partial = coverage_note(s)
    if partial is not None:
        parts.append(partial.data)
    cov = period_coverage(s.wb, s.period, s.source)
    if cov["leads_partial"]:
        parts.append(display.note(t("health_leads_partial", s.lang).format(end=f"{cov['leads_end']:%Y-%m-%d}"), warn=True).data)
    codes = workbook_facts(s.wb, s.source).codes()
    if codes:
        parts.append(display.note(t("health_limits", s.lang), warn=True).data)
        parts.append(display.bullets([reason_text(c, s.lang) for c in codes]).data)
    if not parts:
        return None
    from IPython.display import HTML

    return HTML("".join(parts))


def negative_intervals_view(s: Session):
    """Linked lead/opportunity pairs whose dates run backwards (left out of every time-to-convert measure), counted on
    ``s.source``; nothing without leads."""
    from helpers.metrics.health_engine import negative_intervals_of

    from IPython.display import HTML

    from helpers.views import display

    if not s.source.has_leads:
        return None
    heading = HTML(f"<h3>{display.esc(t('negative_intervals', s.lang))}</h3>")
    return display.stack(heading, display.note(t("negative_intervals_note", s.lang)),
                         dict_view(negative_intervals_of(s.source, s.as_of), s.config, s.lang))


TRACE_BOTH = ("won_count", "won_revenue", "revenue_traceable_share", "revenue_linked_to_lead_share")


TRACE_ALL_ONLY = ("opportunities_without_lead", "opportunities_unknown_channel")


def traceability_view(s: Session, trace_all: dict, trace_period: dict):
    """Traceability over all history and in the period, side by side, each column headed by its scope.

    The counts of opportunities without a lead or a channel are all-history figures; their rows say so. Under the
    table, why the empty figures are empty (their null_reasons, once per reason).
    """
    from helpers.views import display
    from helpers.views.common import format_value, reasons_lines

    cfg, lang = s.config, s.lang
    all_label = t("scope_all_history", lang).format(as_of=pd.Timestamp(s.as_of).strftime("%Y-%m-%d"))
    period_label = t("scope_period", lang).format(period=s.period.label)
    rows = [{t("measure", lang): t(k, lang), all_label: format_value(k, trace_all[k], cfg, lang),
             period_label: format_value(k, trace_period[k], cfg, lang)} for k in TRACE_BOTH]
    rows += [{t("measure", lang): t(k, lang), all_label: format_value(k, trace_all[k], cfg, lang),
              period_label: t("scope_all_history_only", lang)} for k in TRACE_ALL_ONLY]
    lines = reasons_lines(trace_all.get("null_reasons"), lang)
    lines += [line for line in reasons_lines(trace_period.get("null_reasons"), lang) if line not in lines]
    table = display.table(pd.DataFrame(rows))
    return display.stack(table, display.bullets(lines)) if lines else table


def no_leads_text(lang: str) -> str:
    """What the missing leads table prevents, and how to enable it."""
    return t("health_no_leads", lang)


def traceability_text(trace_all: dict, trace_period: dict) -> str:
    """Plain-text traceability figures (checked by nbval)."""
    def pct(v):
        return "null" if v is None else f"{v:.4f}"

    def count(v):
        return "null" if v is None else v

    return (f"all history: won {count(trace_all['won_count'])}, revenue_traceable_share {pct(trace_all['revenue_traceable_share'])}, "
            f"linked_to_lead {pct(trace_all['revenue_linked_to_lead_share'])}\n"
            f"period: won {count(trace_period['won_count'])}, revenue_traceable_share {pct(trace_period['revenue_traceable_share'])}\n"
            f"opportunities_without_lead {count(trace_all['opportunities_without_lead'])}, "
            f"unknown_channel {count(trace_all['opportunities_unknown_channel'])}")


def value_counts_view(wb: Workbook, column: str, lang: str, source=None):
    """Values of a segment column with their row counts (counted on `source`, default the workbook's frames), labelled;
    for the channel, a sentence from the data: the spelling variants the loader found (warning ``channel_variants``),
    or that it found none. Without an opportunities table (a leads-only folder) the leads' counts alone, and a sentence
    saying there are no opportunities to count (never a column of 0s)."""
    from helpers.views import display

    from helpers.views.order import configured_order, ordered

    frame = value_counts(wb, column, source)
    if configured_order(wb.config, column) and len(frame):  # an ordinal segment (company size) in its own order
        frame = frame.set_index("value").loc[ordered(frame["value"], column, wb.config)].reset_index()
    from helpers.views.common import value_label

    frame["value"] = frame["value"].map(lambda v: value_label(wb.config, column, v, lang))   # a channel's display name
    frame = frame.rename(columns={"value": t(column, lang), "leads": scoped("table_leads", "all_history", lang),
                                  "opportunities": scoped("table_opportunities", "all_history", lang)})
    parts = [display.table(frame)]
    if not (source.has_opportunities if source is not None else wb.has_opportunities):
        parts.append(display.note(t("health_value_counts_no_opportunities", lang)))
    if column == "channel":
        variants = [f for f in wb.findings if f.code == "channel_variants"]
        parts.append(display.note(t("health_channel_variants" if variants else "health_no_channel_variants", lang),
                                  warn=bool(variants)))
    return display.stack(*parts)


def coverage_note(s: Session):
    """A warning when the data covers the period only in part (it starts after the period starts, or as_of or the
    data's last record date falls inside it: helpers.metrics.core.period_coverage, one aggregate row a table of
    ``s.source``)."""
    from helpers.views import display
    from helpers.metrics.core import period_coverage

    cov = period_coverage(s.wb, s.period, s.source)
    if not cov["partial"]:
        return None
    if cov["data_start"] > cov["data_end"]:   # outside the data (the runner refuses it; the lab may open it)
        from helpers.metrics.limits import source_dates, source_last_date

        last = source_last_date(s.source)
        last = s.as_of if last is None else min(s.as_of, last)
        return display.note(t("health_period_outside_data", s.lang).format(
            period=s.period.label, first=f"{source_dates(s.source)[0]:%Y-%m-%d}", last=f"{last:%Y-%m-%d}"), warn=True)
    return display.note(t("health_partial_period", s.lang).format(
        period=s.period.label, start=cov["data_start"].strftime("%Y-%m-%d"), end=cov["data_end"].strftime("%Y-%m-%d")),
        warn=True)
