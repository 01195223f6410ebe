"""Cheaper chart drawing with the same pixels: text measured once per process, seaborn's heatmap without its test draw.

A chart is laid out and drawn on three Agg renderers (tight_layout's, the tight box's and savefig's, which has the
cropped size), and matplotlib keeps the size of each text per renderer, so every chart measured each of its texts
again on each of them (about 1,200 FreeType layouts a period on the sample, ~1-2 ms each). :func:`share_text_metrics`
keeps the sizes per process instead, and the font's line metrics (ascent, descent, line gap) too: matplotlib 3.11
looks the font up and reads two of its tables each time it lays a text out (about 4,000 times a period, a tenth of
the charts' CPU). :func:`heatmap` is ``seaborn.heatmap`` whose check for overlapping tick labels lays the figure out
without rasterizing it. All leave every PNG byte for byte as before (tests/test_drawing.py).
"""
from __future__ import annotations

import contextlib
import functools

import matplotlib
import matplotlib.text
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import fontManager, get_font

#: rcParams that change a text's size on an Agg renderer besides the text, its font properties and the dpi.
METRIC_RC = ("text.hinting", "text.hinting_factor", "text.kerning_factor")

_MATPLOTLIB_METRICS = matplotlib.text._get_text_metrics_with_cache


@functools.lru_cache(maxsize=8)
def _measurer(dpi: float) -> RendererAgg:
    """A 1×1 Agg renderer at `dpi`: Agg's text sizes depend on the dpi, never on the renderer's pixel size."""
    return RendererAgg(1, 1, dpi)


@functools.lru_cache(maxsize=8192)
def _agg_text_metrics(text: str, fontprop, ismath, dpi: float, rc: tuple) -> tuple[float, float, float]:
    """(width, height, descent) in pixels of `text` drawn by Agg at `dpi` with `fontprop` (a copy: the key)."""
    return _measurer(dpi).get_text_width_height_descent(text, fontprop, ismath)


def shared_text_metrics(renderer, text, fontprop, ismath, dpi):
    """matplotlib's ``text._get_text_metrics_with_cache`` with one cache for every Agg renderer of the process (matplotlib
    keeps one per renderer); any other renderer, TeX, or a renderer whose dpi is not `dpi` goes to matplotlib's own."""
    if type(renderer) is RendererAgg and ismath != "TeX" and renderer.dpi == dpi:
        rc = tuple(matplotlib.rcParams[k] for k in METRIC_RC)
        return _agg_text_metrics(text, fontprop.copy(), ismath, dpi, rc)
    return _MATPLOTLIB_METRICS(renderer, text, fontprop, ismath, dpi)


#: rcParams that choose the font file of a text's properties (matplotlib's findfont keys its own cache on the first
#: eleven) or the font object made from it (get_font).
FONT_RC = tuple(f"font.{key}" for key in ("family", "style", "variant", "weight", "stretch", "size", "serif", "sans-serif",
                                          "cursive", "fantasy", "monospace", "enable_last_resort")) + ("text.kerning_factor",)
#: The font tables matplotlib reads a text's line metrics from, in its order: (table, line gap, ascent, descent).
HEIGHT_TABLES = (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"), ("hhea", "lineGap", "ascent", "descent"))


@functools.lru_cache(maxsize=1024)
def _font_height_metrics(fontprop, dpi: float, rc: tuple) -> tuple:
    """(ascent, descent, line gap) in pixels of the font matplotlib picks for `fontprop` (a copy: the key) at `dpi`,
    computed as ``matplotlib.text.Text._get_layout`` does from the font's OS/2 or hhea table; (None, None, None)
    when the font has neither (matplotlib then measures "lp" itself)."""
    font = get_font(fontManager._find_fonts_by_props(fontprop))
    for table_name, gap_key, ascent_key, descent_key in HEIGHT_TABLES:
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
        scale = 1 / units_per_em * fontprop.get_size_in_points() * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
    return None, None, None


def font_height_metrics(renderer, fontprop) -> tuple:
    """``RendererAgg._get_font_height_metrics``, matplotlib's hook for a backend's line metrics (``Text._get_layout``
    asks a renderer that has it instead of reading the font's tables on every layout): the same numbers, found once
    per process, font properties, dpi and :data:`FONT_RC`. Measured at the renderer's dpi, which is the figure's
    whenever matplotlib lays a text out for a draw, a layout or a tight box (savefig draws on a renderer made at its
    dpi); a renderer kept from before the figure's dpi changed would measure at its own dpi, as the text sizes do."""
    rc = tuple(_hashable(dict.__getitem__(matplotlib.rcParams, key)) for key in FONT_RC)
    return _font_height_metrics(fontprop.copy(), renderer.dpi, rc)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def share_text_metrics() -> None:
    """Make matplotlib measure each text, and each font's line metrics, once per process on Agg (called by
    :func:`helpers.views.theme.set_theme`; calling it again changes nothing). Texts look the same: Agg's size of a text
    depends only on the text, its font properties, the dpi and :data:`METRIC_RC`, and a font's line metrics only on
    the font properties, the dpi and :data:`FONT_RC`, which are the caches' keys."""
    if matplotlib.text._get_text_metrics_with_cache is _MATPLOTLIB_METRICS:
        matplotlib.text._get_text_metrics_with_cache = shared_text_metrics
    RendererAgg._get_font_height_metrics = font_height_metrics


def own_text_metrics() -> None:
    """Give matplotlib its own per-renderer text measuring and font table reading back (tests compare both)."""
    matplotlib.text._get_text_metrics_with_cache = _MATPLOTLIB_METRICS
    if "_get_font_height_metrics" in vars(RendererAgg):
        del RendererAgg._get_font_height_metrics


def _layout_only(fig) -> None:
    """Lay `fig` out as a draw does (tick labels placed and sized), without rasterizing anything."""
    renderer = fig.canvas.get_renderer()
    with renderer._draw_disabled():
        fig.draw(renderer)


@contextlib.contextmanager
def _heatmap_layout_check():
    import seaborn.matrix

    drawn = getattr(seaborn.matrix, "_draw_figure", None)
    if drawn is None:   # a seaborn without the hook: its own draw
        yield
        return
    seaborn.matrix._draw_figure = _layout_only
    try:
        yield
    finally:
        seaborn.matrix._draw_figure = drawn


def heatmap(data, **kwargs):
    """``seaborn.heatmap(data, **kwargs)``, the same artists: seaborn draws the whole figure to test whether its tick
    labels overlap (and turns them if so); here that test lays the figure out without rasterizing it, which gives the
    same label boxes. Returns the Axes, as seaborn does."""
    import seaborn as sns

    with _heatmap_layout_check():
        return sns.heatmap(data, **kwargs)
