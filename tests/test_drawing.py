"""helpers.views.drawing: the shared text sizes and the heatmap's layout-only check leave every chart's pixels as they were."""
import contextlib
import io

import matplotlib
import matplotlib.axis
import matplotlib.pyplot as plt
import matplotlib.text
import pytest
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties

from helpers.views import drawing
from helpers.views.theme import finish, legend_outside, percent_axis, set_theme

TEXTS = ["Lead-to-opportunity rate", "0%", "12.5%", " ", "Ωmega ½"]
JAPANESE = ["受注率の推移", "¥1.2億"]


@pytest.fixture()
def own_metrics():
    """Matplotlib's own per-renderer text sizes during the test, the shared ones again after it."""
    set_theme("report")
    drawing.own_text_metrics()
    yield
    drawing.share_text_metrics()


def test_shared_sizes_are_the_renderers_own():
    set_theme("report")
    assert matplotlib.text._get_text_metrics_with_cache is drawing.shared_text_metrics
    for dpi in (72, 100, 200):
        renderer = RendererAgg(640, 480, dpi)   # its pixel size does not matter, only the dpi
        for family, size, weight in (("IPAexGothic", 10, "normal"), ("DejaVu Sans", 7.5, "bold"), ("IPAexGothic", 14, "bold")):
            prop = FontProperties(family=family, size=size, weight=weight)
            for text in TEXTS + (JAPANESE if family == "IPAexGothic" else []):
                shared = drawing.shared_text_metrics(renderer, text, prop, False, dpi)
                assert shared == renderer.get_text_width_height_descent(text, prop, False), (dpi, family, text)


def test_a_changed_font_property_is_measured_again():
    set_theme("report")
    renderer = RendererAgg(10, 10, 100)
    prop = FontProperties(family="IPAexGothic", size=10)
    small = drawing.shared_text_metrics(renderer, "受注率", prop, False, 100)
    prop.set_size(20)   # FontProperties is mutable: the key is a copy taken at the call
    large = drawing.shared_text_metrics(renderer, "受注率", prop, False, 100)
    assert large[0] > 1.8 * small[0]
    assert large == renderer.get_text_width_height_descent("受注率", prop, False)


def test_other_renderers_and_dpis_use_matplotlibs_own_cache(monkeypatch):
    calls = []
    monkeypatch.setattr(drawing, "_MATPLOTLIB_METRICS", lambda *args: calls.append(args) or (1.0, 2.0, 0.5))
    renderer = RendererAgg(10, 10, 100)
    prop = FontProperties(size=10)
    assert drawing.shared_text_metrics(renderer, "x", prop, False, 72) == (1.0, 2.0, 0.5)   # the renderer's dpi is not 72
    assert drawing.shared_text_metrics(renderer, "x", prop, "TeX", 100) == (1.0, 2.0, 0.5)
    assert len(calls) == 2


def _chart():
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2, 3], [0.02, 0.11, 0.07, 0.16], label="リード→商談化率 — 過去2年")
    ax.plot([0, 1, 2], [0.01, 0.05, 0.04], label="Lead-to-won rate — FY2025Q3", linestyle="--")
    ax.set_xlabel("days since lead creation")
    percent_axis(ax)
    legend_outside(ax, fontsize=8)
    ax.set_title("累積コンバージョン (censoring-aware)")
    return finish(fig, "a chart")


def _heatmap(labels):
    import pandas as pd

    fig, ax = plt.subplots(figsize=(7, 3.8))
    row = [0.1, 0.25, None, 0.3, 0.05, 0.5, 0.2, 0.4][: len(labels)]
    table = pd.DataFrame([row, row[::-1]], index=["web", "展示会"], columns=labels)
    drawing.heatmap(table, annot=True, fmt=".0%", cmap="Blues", cbar=False, ax=ax, mask=table.isna())
    ax.set_title("Lead-to-opportunity rate")
    return fig


def test_charts_are_the_same_png_with_shared_or_own_text_sizes(own_metrics):
    own = _chart().png()
    drawing.share_text_metrics()
    _chart().png()   # the sizes now come from the shared cache
    assert _chart().png() == own


@pytest.mark.parametrize("labels", [["IT", "製造", "retail"],
                                    [f"industry number {i} of the long list" for i in range(8)]])
def test_heatmap_is_seaborns_own_without_its_test_draw(labels, monkeypatch):
    import seaborn as sns

    set_theme("report")
    draws = []
    monkeypatch.setattr(drawing, "_layout_only", lambda fig, real=drawing._layout_only: draws.append(fig) or real(fig))
    fig = _heatmap(labels)
    assert len(draws) == 1   # seaborn's overlap test ran, as a layout
    rotations = [t.get_rotation() for t in fig.axes[0].get_xticklabels()]
    ours = finish(fig).png()
    monkeypatch.setattr(drawing, "heatmap", sns.heatmap)   # seaborn's own draw for the test
    expected = _heatmap(labels)
    assert [t.get_rotation() for t in expected.axes[0].get_xticklabels()] == rotations
    assert finish(expected).png() == ours
    if len(labels[0]) > 20:
        assert rotations == [90.0] * 8   # the long labels overlapped: turned, as seaborn does


def test_heatmap_leaves_seaborns_hook_as_it_was(monkeypatch):
    import seaborn
    import seaborn.matrix

    before = seaborn.matrix._draw_figure

    def failing(data, **kwargs):
        assert seaborn.matrix._draw_figure is drawing._layout_only
        raise ValueError("seaborn refused the data")

    monkeypatch.setattr(seaborn, "heatmap", failing)
    with pytest.raises(ValueError, match="refused"):
        drawing.heatmap([[0.1, 0.2]])
    assert seaborn.matrix._draw_figure is before


def test_percent_ticks_find_their_decimals_once_per_tick_set():
    set_theme("report")
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 0.012])
    ax.set_ylim(0, 0.012)
    percent_axis(ax)
    formatter = ax.yaxis.get_major_formatter()
    assert formatter(0.004) == "0.4%"   # before any tick set: the axis's ticks
    fig.canvas.draw()
    assert [x.get_text() for x in ax.get_yticklabels() if x.get_text()] == ["0.0%", "0.2%", "0.4%", "0.6%", "0.8%", "1.0%", "1.2%"]
    ax.set_ylim(0, 0.4)
    fig.canvas.draw()
    assert [x.get_text() for x in ax.get_yticklabels() if x.get_text()][:3] == ["0%", "5%", "10%"]
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)


@pytest.mark.parametrize("dpi", [72, 100, 200])
def test_font_line_metrics_lay_texts_out_as_matplotlibs_own(dpi):
    """The line metrics found once per process (the renderer's hook) lay out every text, one line or several, to the
    same boxes and line positions as matplotlib's own reading of the font's tables on each layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    set_theme("report")
    assert RendererAgg._get_font_height_metrics is drawing.font_height_metrics
    fig = Figure(dpi=dpi)
    renderer = FigureCanvasAgg(fig).get_renderer()
    texts = [fig.text(0.1, 0.5, value, family=family, size=size, weight=weight, rotation=rotation)
             for family, size, weight in (("IPAexGothic", 10, "normal"), ("DejaVu Sans", 7.5, "bold"), ("IPAexGothic", 14, "bold"))
             for value in TEXTS + ["Lead-to-opportunity rate\nby channel (FY2025Q3)"]
             + (JAPANESE + ["¥1.2億\n2行目\n3行目"] if family == "IPAexGothic" else [])
             for rotation in (0, 60)]
    shared = [t._get_layout(renderer) for t in texts]
    del RendererAgg._get_font_height_metrics   # matplotlib's own: the font's tables read on every layout
    try:
        own = [t._get_layout(renderer) for t in texts]
    finally:
        drawing.share_text_metrics()
    for (box, lines, corner), (box2, lines2, corner2) in zip(shared, own):
        assert (box.bounds, lines, corner) == (box2.bounds, lines2, corner2)


def test_font_line_metrics_follow_the_font_settings():
    """A changed font size or font rcParam gives the new font's metrics (both are in the cache's key). DejaVu Sans'
    OS/2 table: ascender 1556, descender -492, line gap 410 of 2048 units per em; 10 pt at 100 dpi is 13.89 pixels."""
    set_theme("report")
    renderer = RendererAgg(1, 1, 100)
    prop = FontProperties(family="sans-serif", size=10)
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans"]}):
        dejavu = drawing.font_height_metrics(renderer, prop)
        prop.set_size(20)
        assert drawing.font_height_metrics(renderer, prop)[0] == pytest.approx(2 * dejavu[0])
    prop.set_size(10)
    assert dejavu == pytest.approx((1556 / 2048 * 1000 / 72, 492 / 2048 * 1000 / 72, 410 / 2048 * 1000 / 72))
    with matplotlib.rc_context({"font.sans-serif": ["IPAexGothic"]}):
        assert drawing.font_height_metrics(renderer, prop) != dejavu


def test_plain_text_reaches_the_ticks_made_before_it_without_making_more():
    """Tick labels made while mathtext was on (before the theme) draw as typed; the walk makes no tick the locator would
    ask for (the draw makes them, as plain text), and finds every title, label, legend and figure text."""
    from helpers.views.theme import _artists, plain_text

    set_theme("report")
    with matplotlib.rc_context({"text.parse_math": True}):
        fig, ax = plt.subplots()
        ax.bar(["$x$ web", "展示会"], [3, 5], label="won $a$ deals")
        ax.set_title("$title")
        ax.legend()
        fig.text(0.01, 0.01, "$note")
        fig.canvas.draw()   # the tick labels are made here, with mathtext on
    made = len(ax.yaxis.majorTicks)
    ax.set_ylim(0, 17.5)   # the locator now wants 10 ticks
    plain_text(fig)
    assert len(ax.yaxis.majorTicks) == made
    texts = [a for a in fig.findobj(matplotlib.text.Text)]
    assert {id(t) for t in texts} <= {id(a) for a in _artists(fig)}
    assert not any(t.get_parse_math() for t in texts)
    png = finish(fig).png()
    assert png.startswith(b"\x89PNG")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["$x$ web", "展示会"]


def test_one_pass_asks_each_axis_for_its_ticks_once_per_state():
    """A draw asks an axis for its ticks three or four times (tight box, label position, title, draw); inside one_pass
    the locator is asked once per axis state, and an axis that moved (tight_layout) or changed limits is asked again."""
    import matplotlib.ticker

    set_theme("report")
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [0.1, 0.3, 0.2])
    ax.set_title("受注率")
    calls = []

    class Counting(matplotlib.ticker.MaxNLocator):
        def __call__(self):
            calls.append(1)
            return super().__call__()

    ax.yaxis.set_major_locator(Counting(nbins="auto"))
    fig.canvas.draw()
    plain = len(calls)
    assert plain >= 3
    calls.clear()
    with drawing.one_pass():
        fig.canvas.draw()
        assert len(calls) == 1
        fig.subplots_adjust(left=0.3)   # the axes moved: a new state
        fig.canvas.draw()
        assert len(calls) == 2
        ax.set_ylim(0, 5)
        fig.canvas.draw()
        assert len(calls) == 3
    fig.canvas.draw()   # outside the block: matplotlib's own asking
    assert len(calls) == 3 + plain
    plt.close(fig)


def test_charts_are_the_same_png_with_ticks_made_once_or_on_every_ask():
    set_theme("report")
    once = _chart().png()
    drawing.own_text_metrics()   # matplotlib's own: the text sizes, line metrics and ticks on every ask
    try:
        assert matplotlib.axis.Axis._update_ticks is drawing._MATPLOTLIB_TICKS
        own = _chart().png()
    finally:
        drawing.share_text_metrics()
    assert own == once


def test_chart_png_is_the_figure_drawn_once_and_cut_to_its_tight_box():
    """The PNG is the figure's own canvas cut to the tight box (savefig's pad), RGB, with the dpi and matplotlib's
    Software text; a chart with a transparent pixel stays RGBA."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    set_theme("report")
    chart = _chart()
    png = chart.png()
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGB" and image.info["Software"].startswith("Matplotlib version")
    assert image.info["dpi"] == pytest.approx((100, 100), abs=0.01)   # pixels per metre in the file
    canvas = FigureCanvasAgg(chart.fig)
    canvas.draw()
    box = chart.fig.get_tightbbox(canvas.get_renderer()).padded(matplotlib.rcParams["savefig.pad_inches"])
    width, height = chart.fig.get_size_inches()
    top, left = round((height - box.y1) * 100), round(box.x0 * 100)
    whole = np.asarray(canvas.buffer_rgba())[..., :3]
    assert image.size == (int(box.width * 100), int(box.height * 100))
    assert (np.asarray(image) == whole[top:top + image.size[1], left:left + image.size[0]]).all()
    assert 0 < left < 20 and 0 < top < 20   # cut: the box is inside the figure
    see_through = np.zeros((3, 4, 4), dtype=np.uint8)
    assert Image.open(io.BytesIO(drawing.png_bytes(see_through, 100))).mode == "RGBA"


def test_one_pass_draws_an_axis_that_goes_back_to_an_earlier_state_as_matplotlib():
    """Inside one pass an axis drawn at y limits (0, 1), then (0, 50), then (0, 1) again is drawn as matplotlib draws
    it: its ticks were made again for the last state (they are shared objects), never the (0, 50) labels."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    def draws(memo: bool):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, 1])
        canvas = FigureCanvasAgg(fig)
        with drawing.one_pass() if memo else contextlib.nullcontext():
            for top in (1, 50, 1):
                ax.set_ylim(0, top)
                canvas.draw()
        out = np.asarray(canvas.buffer_rgba()).copy()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        plt.close(fig)
        return out, labels

    (plain, plain_labels), (once, once_labels) = draws(False), draws(True)
    assert once_labels == plain_labels and "50" not in "".join(once_labels)
    assert (once == plain).all()


def _rotated_texts(rotation):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(range(6), [3, 1, 4, 1, 5, 9])
    ax.set_xticks(range(6), [f"チャネル {i} web" for i in range(6)], rotation=rotation)
    ax.set_title("Lead-to-opportunity rate Ωmega ½")
    ax.text(0.5, 6, "$x^{2}$ mathtext", parse_math=True, rotation=rotation)
    ax.text(2, 7, "aliased 受注", antialiased=False, rotation=rotation)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


@pytest.mark.parametrize("rotation", [0, 33.3, 45, 90])
def test_glyphs_drawn_with_one_matrix_per_angle_are_matplotlibs_own_pixels(rotation):
    set_theme("report")
    if drawing._MATPLOTLIB_GLYPHS is None:
        pytest.skip("only matplotlib 3.11's glyph drawing is replaced")
    assert RendererAgg._draw_text_glyphs_and_boxes is drawing.draw_text_glyphs
    ours = _rotated_texts(rotation)
    RendererAgg._draw_text_glyphs_and_boxes = drawing._MATPLOTLIB_GLYPHS
    try:
        own = _rotated_texts(rotation)
    finally:
        drawing.share_text_metrics()
    assert ours == own


@pytest.mark.parametrize("rotation", [0, 45])
def test_texts_laid_out_once_per_process_are_matplotlibs_own_pixels(rotation):
    set_theme("report")
    if drawing._MATPLOTLIB_GLYPHS is None:
        pytest.skip("only matplotlib 3.11's text drawing is replaced")
    assert RendererAgg.draw_text is drawing.draw_text
    drawing._text_layout.cache_clear()
    first, again = _rotated_texts(rotation), _rotated_texts(rotation)   # laid out, then every text from the memo
    assert drawing._text_layout.cache_info().hits > 0
    RendererAgg.draw_text = drawing._MATPLOTLIB_DRAW_TEXT
    try:
        own = _rotated_texts(rotation)
    finally:
        drawing.share_text_metrics()
    assert first == own and again == own
