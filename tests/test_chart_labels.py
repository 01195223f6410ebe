"""Chart labels a reader can read (issue 24): the checklist's category names stand clear of each other, no label is
cut with '…' (the English item heatmap cut six of fifteen items), and percent ticks sit at round steps and say
exactly where they are (the cumulative-conversion axis had 2.5-point steps labelled 2%, 5%, 8%).

Overlap is measured on the drawn boxes of the tick labels (matplotlib's renderer), on the sample's latest period.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import seaborn as sns
from matplotlib.backends.backend_agg import FigureCanvasAgg

from helpers.labels import t
from helpers.paths import SAMPLE_DATA_DIR
from helpers.views.theme import overlapping_labels, percent_decimals, short_label

CATEGORIES = ("strategy", "lead_management", "feedback", "data_kpis", "content")


@pytest.fixture(scope="module", params=("en", "ja"))
def sample(request):
    """(session, checklist metrics) of the sample's latest period in one language."""
    from helpers.metrics import checklist
    from helpers.report.session import open_session

    s = open_session(str(SAMPLE_DATA_DIR), lang=request.param)
    ck = checklist.checklist_metrics(s.wb.checklist, s.wb.leads, s.wb.opportunities, s.period, s.as_of, s.config)
    assert ck is not None
    return s, ck


def test_the_overlap_check_can_fail():
    """The old layout: five category names under vertical bars in a narrow chart run together."""
    frame = pd.DataFrame({"category": [t(f"category_{c}", "en") for c in CATEGORIES], "score": [50.0] * 5})
    fig, ax = plt.subplots(figsize=(3, 2))
    sns.barplot(frame, x="category", y="score", ax=ax)
    found = overlapping_labels(fig)
    plt.close(fig)
    assert ("Lead management", "Feedback and review") in found


def test_checklist_category_labels_do_not_overlap(sample):
    from helpers.views import checklist_views

    s, ck = sample
    chart = checklist_views.category_chart(s, ck)
    assert overlapping_labels(chart.fig) == []
    ax = chart.fig.axes[0]
    assert [x.get_text() for x in ax.get_yticklabels()] == [t(f"category_{c}", s.lang) for c in CATEGORIES]
    assert ax.get_xlim() == (0.0, 100.0)
    plt.close(chart.fig)


def test_item_heatmap_shows_every_item_in_full(sample):
    """Each of the 15 items' text is on the heatmap whole (wrapped over lines, never cut with '…')."""
    from helpers.views import checklist_views

    s, _ = sample
    chart = checklist_views.item_heatmap(s)
    FigureCanvasAgg(chart.fig).draw()
    labels = [x.get_text() for x in chart.fig.axes[0].get_yticklabels()]
    plt.close(chart.fig)
    # English lines break at spaces; Japanese ones anywhere (a space at a break is dropped): compare without them
    joined = (lambda text: " ".join(text.split())) if s.lang == "en" else (lambda text: "".join(text.split()))
    assert [joined(label) for label in labels] == [joined(f"{i}. {s.config.checklist_items[i][s.lang]}") for i in range(1, 16)]
    assert not any("…" in label for label in labels)


def test_a_long_label_is_wrapped_and_only_a_huge_one_cut():
    text = "3. Lead definitions (MQL/SQL criteria) are written down"         # 56 characters: two lines, whole
    assert short_label(text) == "3. Lead definitions (MQL/SQL criteria)\nare written down"
    ja = "ターゲット企業の定義(業種・規模・課題)が両部門で共有されているかどうかを確認する項目です"   # 46 characters, no space
    assert short_label(ja).replace("\n", "") == ja and short_label(ja).count("\n") == 1
    huge = short_label("word " * 1000)
    assert huge.count("\n") == 3 and huge.endswith(" …")


def test_percent_ticks_are_written_exactly():
    assert percent_decimals([0.0, 0.05, 0.10, 0.15]) == 0
    assert percent_decimals([0.0, 0.025, 0.05, 0.075]) == 1               # 2.5%, never "2%" / "8%"
    assert percent_decimals([0.0, 0.002, 0.004]) == 1 and percent_decimals([0.0, 0.0005]) == 2


def test_cumulative_conversion_axis_has_round_ticks_labelled_exactly(sample):
    from helpers.views import goals_views

    s, _ = sample
    chart = goals_views.conversion_chart(s)
    ax = chart.fig.axes[0]
    FigureCanvasAgg(chart.fig).draw()
    low, high = ax.get_ylim()
    ticks = [(loc, x.get_text()) for loc, x in zip(ax.get_yticks(), ax.get_yticklabels()) if low <= loc <= high]
    plt.close(chart.fig)
    assert len(ticks) >= 3
    for loc, label in ticks:                                               # each label is its tick, to the digit
        assert label.endswith("%") and float(label[:-1]) == pytest.approx(loc * 100, abs=1e-9), (loc, label)
    steps = {round((b - a) * 100, 9) for (a, _), (b, _) in zip(ticks, ticks[1:])}
    assert len(steps) == 1
    step = steps.pop()                                                     # 1, 2 or 5 times a power of ten
    assert any(step == pytest.approx(m * 10 ** k) for m in (1, 2, 5) for k in range(-2, 3)), step


def test_funnel_chart_says_its_rates_are_step_rates(sample):
    """Issue 24: the funnel chart's "Won 7 (14.6%)" read like a win rate beside the 32.5% card: each bar now says its
    rate is of the stage before. FY2026Q2's cohort: 48 of its leads became opportunities, 7 of those were won
    (7 / 48 = 14.6%; counted from the CSV files in tests/test_report_language.py::sample_figures)."""
    from helpers.metrics.core import core_metrics
    from helpers.views import funnel_views

    s, _ = sample
    chart = funnel_views.funnel_chart(s, core_metrics(s.wb, s.period))
    texts = [x.get_text().strip() for x in chart.fig.axes[0].texts]
    plt.close(chart.fig)
    assert t("funnel_chart_step", s.lang).format(n="7", rate="14.6%") in texts
    assert {"en": "7 (14.6% of the stage before)", "ja": "7(前段階から14.6%)"}[s.lang] in texts


def test_a_log_axis_shows_plain_numbers():
    """Chart text is drawn as typed (never parsed as mathtext): a log axis's ticks would read '$\\mathdefault{10^{-1}}$'
    (notebook 05's forest plot did); they read 0.1, 1, 10."""
    from helpers.views.theme import axes_text, finish

    fig, ax = plt.subplots()
    ax.plot([0.1, 10], [0, 1])
    ax.set_xscale("log")
    ax.set_xlim(0.1, 10)
    chart = finish(fig)
    FigureCanvasAgg(chart.fig).draw()
    ticks = axes_text(chart.fig)[0]["xticks"]
    assert {"0.1", "1", "10"} <= set(ticks) and not [x for x in ticks if "$" in x or "mathdefault" in x], ticks


def test_the_velocity_trend_says_its_unit_is_revenue_a_day(sample):
    """Notebook 03's sales velocity per quarter is revenue a day (docs/glossary.md, Sales velocity): its y axis says
    so, as the waterfall's does ("Sales velocity (revenue/day)", 「セールスベロシティ(売上/日)」)."""
    from helpers.views import velocity_views

    s, _ = sample
    chart = velocity_views.trend_chart(s, None)
    label = chart.fig.axes[0].get_ylabel()
    plt.close(chart.fig)
    assert label == {"en": "Sales velocity (revenue/day)", "ja": "セールスベロシティ(売上/日)"}[s.lang]
