"""Each explorer names its selection (period, channel, segment, initiative, rule) in its chart title and table caption,
in the page's language (issue 25)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from helpers.paths import SAMPLE_DATA_DIR
from helpers.report.session import open_session
from helpers.views import funnel_views, lead_views, velocity_views


@pytest.fixture(scope="module")
def sample():
    return open_session(str(SAMPLE_DATA_DIR), period="FY2026Q1", theme=False)


def captions(parts) -> list[str]:
    html = "".join(getattr(p, "data", "") or "" for p in parts if p is not None and isinstance(getattr(p, "data", None), str))
    return [c.split("</caption>")[0] for c in html.split("<caption>")[1:]]


def titles(parts) -> list[str]:
    """The chart titles (each chart's alt text starts with its title, then its main figure)."""
    from helpers.views.theme import chart_title

    out = [chart_title(p.fig) for p in parts if hasattr(p, "fig")]
    assert all(p.alt.startswith(title + " — ") for p, title in zip([p for p in parts if hasattr(p, "fig")], out))
    return out


@pytest.mark.parametrize(("lang", "caption"), [
    ("en", "Win rate by Industry — FY2025Q4, Channel: Web"),
    ("ja", "業種別の受注率 — FY2025Q4、チャネル: Web"),
])
def test_funnel_explorer_names_period_segment_and_channel(sample, lang, caption):
    s = replace(sample, lang=lang)
    channel = "web"
    parts = funnel_views.explore_view(s, "FY2025Q4", "industry", "win_rate", channel)
    shown = funnel_views.views.channel_label(s.config, channel, lang)
    caption = caption.replace("Web", shown)
    assert captions(parts) == [caption]
    assert titles(parts) == [f"{caption} (95%)"]


@pytest.mark.parametrize(("lang", "words"), [("en", "{name} (start {start}), windows of 60 days"),
                                              ("ja", "{name}(開始 {start})、比較期間 60日")])
def test_velocity_explorer_names_the_initiative_and_window(sample, lang, words):
    s = replace(sample, lang=lang)
    first = s.wb.initiatives.iloc[0]
    name, start = str(first["name"]).strip(), f"{first['started_on']:%Y-%m-%d}"
    parts = velocity_views.explore_view(s, name, 60)
    selection = words.format(name=name, start=start)
    assert captions(parts) == [selection]
    assert titles(parts) == [f"{velocity_views.t('velocity_waterfall', lang)} — {selection}"]


@pytest.mark.parametrize(("lang", "head"), [("en", "Rule tried: "), ("ja", "試したルール: ")])
def test_lead_rule_explorer_names_the_rule_tried(sample, lang, head):
    s = replace(sample, lang=lang)
    lq = lead_views.compute(s)
    number = next(k for k, (_, numeric) in lq.attrs.items() if numeric and lq.known[k] == "before_contact")
    rule = lead_views.explorer_rule(lq, number, 0.2, None, "any")
    parts = lead_views.explorer_view(s, lq, number, 0.2, None, "any")
    (caption,) = captions(parts)
    assert caption == head + lead_views.display.esc(lead_views.rule_words(rule, lang))


@pytest.mark.parametrize(("lang", "figure"), [("en", "{leads} leads, {won} won; Lead-to-opportunity rate {rate}"),
                                              ("ja", "リード {leads}件、受注 {won}件、商談化率 {rate}")])
def test_a_charts_alt_text_states_its_figure_in_the_report_and_in_the_notebook(sample, monkeypatch, lang, figure):
    from IPython.core.formatters import format_display_data

    from helpers.metrics.core import core_metrics

    s = replace(sample, lang=lang)
    c = core_metrics(s.wb, s.period)["funnel"]["cohort"]
    want = figure.format(leads=f"{c['leads']:,}", won=f"{c['won']:,}", rate=f"{c['lead_to_opportunity_rate'] * 100:.1f}%")
    chart = funnel_views.funnel_chart(s, core_metrics(s.wb, s.period))
    assert chart.alt.endswith(" — " + want)
    data, meta = format_display_data(chart)   # the report: a PNG whose metadata alt the template writes as <img alt>
    assert meta["image/png"]["alt"] == chart.alt and data["text/plain"] == chart.alt and "text/html" not in data
    monkeypatch.delenv("WORKBOOK_STATIC")
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)
    data, _ = format_display_data(chart)   # JupyterLab draws a PNG without alt: the HTML <img> carries the same text
    alt = funnel_views.display.esc(chart.alt)
    assert data["text/html"].startswith('<img src="data:image/png;base64,') and data["text/html"].endswith(f' alt="{alt}">')
