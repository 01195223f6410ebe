"""The label table, display formats and the chart theme (Japanese glyphs without warnings)."""
import warnings

import matplotlib
import matplotlib.pyplot as plt
import pytest

from helpers.config import load_config
from helpers.labels import label_or_value, label_table, t
from helpers.views import fmt
from helpers.views.theme import set_theme


def test_every_label_has_both_languages():
    table = label_table()
    assert len(table) > 40
    for key, texts in table.items():
        assert set(texts) == {"en", "ja"}, key
        assert texts["en"].strip() and texts["ja"].strip(), key


def test_the_label_table_has_no_key_written_twice():
    # yaml.safe_load (which labels.py uses: helpers.yamlfile imports the label table through helpers.errors) keeps the
    # last of two equal keys silently; the settings reader refuses them, so reading the table with it proves none
    from helpers.paths import LABELS_FILE
    from helpers.yamlfile import read_yaml

    assert read_yaml(LABELS_FILE) == label_table()


def test_key_terms():
    assert t("lead_to_opportunity_rate", "ja") == "商談化率"
    assert t("win_rate", "ja") == "受注率"
    assert t("won_revenue", "ja") == "受注金額"
    assert t("sales_velocity", "ja").startswith("セールスベロシティ")
    assert label_or_value("unknown", "ja") == "不明" and label_or_value("web", "ja") == "web"
    with pytest.raises(KeyError, match="no label 'nope'"):
        t("nope")
    with pytest.raises(KeyError, match="unknown language"):
        t("win_rate", "fr")


def test_formats():
    c = load_config()
    assert fmt.money(1654853.4, c) == "¥1,654,853"
    assert fmt.money(-1500, c) == "-¥1,500"
    assert fmt.money(None, c) == "n/a"
    assert fmt.rate(0.1774) == "17.7%" and fmt.rate(None, "ja") == "該当なし"
    assert fmt.number(1234.6) == "1,235" and fmt.number(float("nan")) == "n/a"


def test_japanese_renders_without_missing_glyph_warnings(tmp_path):
    set_theme("report")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would fail the test
        fig, ax = plt.subplots()
        ax.bar(["商談化率", "受注率", "受注金額"], [0.15, 0.25, -0.1])
        ax.set_title("セールスベロシティ(円/日)・展示会・お盆")
        fig.savefig(tmp_path / "ja.png")
        plt.close(fig)
    assert (tmp_path / "ja.png").stat().st_size > 1000


def test_missing_glyph_would_be_caught(tmp_path):
    # The check above can fail: DejaVu Sans has no Japanese glyphs and warns.
    with plt.rc_context({"font.family": "DejaVu Sans"}):
        with pytest.warns(UserWarning, match="missing from"):
            fig, ax = plt.subplots()
            ax.set_title("受注率")
            fig.savefig(tmp_path / "x.png")
            plt.close(fig)


def test_unknown_theme_style():
    with pytest.raises(ValueError, match="unknown theme style"):
        set_theme("dark")


@pytest.mark.parametrize("style,context", [("report", "paper"), ("notebook", "notebook")])
def test_the_theme_is_seaborns_without_importing_it(style, context):
    # set_theme writes seaborn's theme itself (seaborn's import costs a kernel about 1.1 CPU s): every rcParam must be
    # the one seaborn.set_theme gives, but image.cmap, seaborn's "rocket", which stays matplotlib's default.
    import matplotlib_fontja
    import seaborn as sns

    from helpers.views.theme import JAPANESE_FONT, PALETTE, theme_rc

    with matplotlib.rc_context():
        set_theme(style)
        ours = dict(matplotlib.rcParams)
    with matplotlib.rc_context():
        matplotlib_fontja.japanize()
        sns.set_theme(context=context, style="whitegrid", palette=PALETTE, font=JAPANESE_FONT, rc=theme_rc(style))
        matplotlib.rcParams["svg.fonttype"] = "none"
        matplotlib.rcParams["text.parse_math"] = False
        seaborns = dict(matplotlib.rcParams)
    assert seaborns.pop("image.cmap") == "rocket" and ours.pop("image.cmap") == "viridis"
    assert sorted(ours) == sorted(seaborns)
    assert {k: v for k, v in ours.items() if v != seaborns[k]} == {}
    assert ours["font.size"] == {"report": 12 * 0.8, "notebook": 12}[style] and ours["font.family"] == [JAPANESE_FONT]


def test_a_kernels_imports_leave_seaborn_and_scipy_stats_unloaded():
    # Notebook 00's imports and the theme (what a kernel running it alone loads before its first chart) import neither
    # seaborn nor scipy.stats: a chart that needs them imports them (helpers.views.drawing.heatmap, the checklist bars).
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys\n"
            "from helpers.report.panel import control_panel\n"
            "from helpers.metrics import health, health_engine\n"
            "from helpers.metrics.core import core_metrics\n"
            "from helpers.report.session import open_session\n"
            "from helpers.views.definitions import definitions_view\n"
            "from helpers.views import attribution_views, checklist_views, funnel_views, display, health_views\n"
            "from helpers.views.theme import set_theme\n"
            "set_theme('report')\n"
            "print(sorted(m for m in ('seaborn', 'scipy.stats', 'statsmodels') if m in sys.modules))\n")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_finished_chart_shows_once_as_png_with_its_title_as_alt_text():
    from helpers.views.theme import finish

    set_theme("report")
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    ax.set_title("受注率の推移")
    chart = finish(fig)
    assert fig.number not in plt.get_fignums()  # detached: the inline backend will not show it a second time
    data, meta = chart._repr_png_()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and meta["alt"] == "受注率の推移"
    assert meta["axes"] == [{"title": "受注率の推移", "xlabel": "", "ylabel": "", "yoffset": "",
                             "xticks": ["-0.2", "0.0", "0.2", "0.4", "0.6", "0.8", "1.0", "1.2"],
                             "yticks": ["0.8", "1.0", "1.2", "1.4", "1.6", "1.8", "2.0", "2.2"]}]


def test_chart_png_is_savefigs_tight_picture():
    # Chart.png draws the figure once and cuts the image to the tight box measured in the same pass (drawing.chart_png):
    # exactly savefig's picture of that box with its edges on whole pixels (each within half a pixel of the tight
    # box's), or, when the padded box reaches past the figure's edge (a note below the axes, a suptitle within the pad
    # of the top), bbox_inches="tight"'s own pixels: a legend outside, a suptitle, long wrapped tick labels, Japanese.
    import io

    import numpy as np
    import seaborn as sns
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.transforms import Bbox
    from PIL import Image

    from helpers.views.theme import PLAIN_TEXT, finish, legend_outside, money_axis

    set_theme("report")
    config = load_config()

    def legend_and_money(size=(7, 3.6)):
        fig, ax = plt.subplots(figsize=size)
        ax.bar(["web", "展示会", "a very long channel name that the theme wraps over two lines"], [3.2e6, 8.9e7, 4e5], label="won")
        money_axis(ax, config)
        legend_outside(ax)
        fig.suptitle("受注金額の推移")
        return fig

    def heatmap_and_note():
        fig, ax = plt.subplots()
        sns.heatmap([[0.1, 0.25], [0.3, 0.05]], annot=True, fmt=".0%", ax=ax, xticklabels=["x", "y"], yticklabels=["p", "q"])
        fig.text(0.01, -0.05, "n = 12 leads; cells under 5 leads are blank", fontsize=8)
        return fig

    def pixels(png):
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)

    def saved(fig, bbox):
        buf = io.BytesIO()
        with matplotlib.rc_context(PLAIN_TEXT):
            fig.savefig(buf, format="png", bbox_inches=bbox)
        return pixels(buf.getvalue())

    cut = 0
    for build in (legend_and_money, lambda: legend_and_money((7, 5)), heatmap_and_note):
        fig = build()
        finish(fig)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        box = fig.get_tightbbox(canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
        width, height = fig.get_size_inches()
        ours = pixels(finish(build()).png())
        if box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height:
            top, left = round((height - box.y1) * 100), round(box.x0 * 100)
            rows, cols = ours.shape[:2]
            snapped = Bbox([[left / 100, height - (top + rows) / 100], [(left + cols) / 100, height - top / 100]])
            assert all(abs(a - b) * 100 <= 0.5 + 1e-9 for a, b in ((snapped.x0, box.x0), (snapped.y1, box.y1)))
            assert (rows, cols) == (int(box.height * 100), int(box.width * 100))
            assert (ours == saved(fig, snapped)).all()
            cut += 1
        else:
            assert (ours == saved(fig, "tight")).all()
    assert cut >= 1   # the cut itself is tested, not only savefig


# ---- issue 13: one money-axis formatter, legends off the data, labels never cut ------------------------

def test_money_ticks_carry_the_currency_in_the_readers_units():
    from helpers.views.theme import MoneyFormatter

    ja, en = MoneyFormatter("¥", "ja"), MoneyFormatter("¥", "en")
    assert ja.format_ticks([0, 2e7, 4e7, 6e7]) == ["¥0", "¥2,000万", "¥4,000万", "¥6,000万"]
    assert ja.format_ticks([0, 1e8, 1.5e8]) == ["¥0", "¥1.0億", "¥1.5億"]
    assert ja.format_ticks([-2e5, 0, 2e5]) == ["-¥20万", "¥0", "¥20万"]
    assert ja.format_ticks([0, 250, 500]) == ["¥0", "¥250", "¥500"]
    assert en.format_ticks([0, 5e5, 1e6, 1.5e6]) == ["¥0", "¥0.5M", "¥1.0M", "¥1.5M"]
    assert en.format_ticks([0, 2e5, 4e5]) == ["¥0", "¥200K", "¥400K"]
    assert MoneyFormatter("$", "en").format_ticks([0, 2e9, 4e9]) == ["$0", "$2B", "$4B"]
    with pytest.raises(ValueError, match="unknown language"):
        MoneyFormatter("¥", "fr")


def test_money_axis_on_a_drawn_chart_has_no_bare_exponent():
    from helpers.views.theme import axes_text, money_axis

    set_theme("report")
    config = load_config()
    fig, ax = plt.subplots()
    ax.bar(["a", "b"], [3.2e6, 8.9e7])
    money_axis(ax, config)
    fig.canvas.draw()
    text = axes_text(fig)[0]
    plt.close(fig)
    assert text["yoffset"] == "" and all(tick.startswith("¥") for tick in text["yticks"]), text


def test_legend_outside_covers_no_data():
    from helpers.views.theme import legend_outside

    fig, ax = plt.subplots()
    ax.plot(range(10), range(10), label="a")
    legend_outside(ax)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legend, plot = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
    plt.close(fig)
    assert legend.x0 >= plot.x1  # entirely to the right of the plot area


def test_long_labels_wrap_without_cutting_words():
    from helpers.views.theme import wrap_label

    text = "11. Regular meetings review the strategy and the shared targets of both departments"
    wrapped = wrap_label(text, "en", 40)
    assert wrapped.replace("\n", " ") == text and max(len(line) for line in wrapped.splitlines()) <= 40
    ja = wrap_label("1. ターゲット企業の定義(業種・規模・課題)が両部門で共有されている", "ja", 40)
    assert ja.replace("\n", "") == "1. ターゲット企業の定義(業種・規模・課題)が両部門で共有されている" and "\n" in ja


def test_index_trend_chart_money_axis_and_single_period_width():
    import pandas as pd

    from helpers.report.index_page import trend_chart
    from helpers.views.theme import axes_text

    config = load_config()
    one = trend_chart(pd.DataFrame({"period": ["2025Q3"], "sales_velocity": [840008.0]}), config)
    many = trend_chart(pd.DataFrame({"period": [f"2025Q{q}" for q in (1, 2, 3, 4)] * 3, "sales_velocity": [8e5] * 12}), config)
    one.canvas.draw()
    ticks = axes_text(one)[0]["yticks"]
    assert ticks and all("¥" in tick for tick in ticks)
    assert one.get_figwidth() < 3.0 < many.get_figwidth()  # one bar does not fill the page
    plt.close(one)
    plt.close(many)


def test_rate_changes_read_in_points_with_enough_precision():
    """Issue 24: a change of a rate is in points; a real change never reads +0.0 pt, an exact 0 reads no change."""
    from helpers.views.fmt import points

    assert points(0.325 - 0.284) == "+4.1 pt"
    assert points(-0.021) == "-2.1 pt"
    assert points(0.17463 - 0.17441) == "+0.02 pt"        # 17.5% vs 17.4% in the report: not "+0.0 pt"
    assert points(0.0) == "no change" and points(0.0, "ja") == "変化なし"
    assert points(None) == "n/a" and points(float("nan"), "ja") == "該当なし"


def test_scoped_labels_say_their_scope_in_both_languages():
    from helpers.labels import scoped

    assert scoped("win_rate", "last_365_days") == "Win rate, last 365 days"
    assert scoped("win_rate", "this_period", "ja") == "受注率(当期)"
    assert scoped("avg_deal_size", "last_365_days", "ja") == "平均受注単価(直近365日)"


def test_percent_axis_ticks_at_clean_steps():
    """Issue 24: the cumulative-conversion axis had 2.5-point ticks rounded to 2%, 5%, 8%: clean steps instead."""
    import matplotlib.pyplot as plt

    from helpers.views.theme import percent_axis

    for top, expected in ((0.2, ["0%", "5%", "10%", "15%", "20%"]), (0.012, ["0.0%", "0.2%", "0.4%", "0.6%", "0.8%", "1.0%", "1.2%"])):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, top])
        ax.set_ylim(0, top)
        percent_axis(ax)
        fig.canvas.draw()
        labels = [x.get_text() for x in ax.get_yticklabels() if x.get_text()]
        plt.close(fig)
        assert labels == expected, labels


def test_percent_axis_of_rates_never_shows_a_negative_tick():
    """A rate chart whose interval reaches 0: matplotlib's margin put the axis at about -2% and a "-10%" tick under
    it; a rate axis starts at 0."""
    import matplotlib.pyplot as plt

    from helpers.views.theme import percent_axis

    fig, ax = plt.subplots()
    ax.errorbar([0, 1], [0.05, 0.40], yerr=[[0.05, 0.1], [0.1, 0.2]], fmt="o")
    assert ax.get_ylim()[0] < 0   # the margin matplotlib adds below the interval's 0
    percent_axis(ax)
    fig.canvas.draw()
    labels = [x.get_text() for x in ax.get_yticklabels() if x.get_text()]
    plt.close(fig)
    assert ax.get_ylim()[0] == 0.0 and labels[0] == "0%" and not any(x.startswith(("-", "−")) for x in labels), labels


def test_long_legend_entries_are_wrapped_not_cut():
    import matplotlib.pyplot as plt

    from helpers.views.theme import plain_text

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="Lead-to-opportunity rate — leads of the last two years")
    ax.legend()
    plain_text(fig)
    text = ax.get_legend().get_texts()[0].get_text()
    plt.close(fig)
    assert "…" not in text and text.replace("\n", " ") == "Lead-to-opportunity rate — leads of the last two years"


def test_the_label_table_reads_yaml_1_2_booleans_so_yes_and_no_stay_text():
    """labels.yaml is read with LibYAML's loader (fast, once per kernel) and YAML 1.2 booleans: a label `Yes`, `no`
    or `off` written plainly stays that text (YAML 1.1 would make it True/False), and every value is text."""
    import yaml

    from helpers.labels import _LabelLoader, label_table

    assert yaml.load("a: Yes\nb: no\nc: off\nd: true\n", Loader=_LabelLoader) == {"a": "Yes", "b": "no", "c": "off", "d": True}
    table = label_table()
    assert len(table) > 900
    assert all(isinstance(text, str) and text for entry in table.values() for text in (entry["en"], entry["ja"]))
