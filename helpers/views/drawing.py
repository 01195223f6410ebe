"""Cheaper chart drawing with the same pixels: text measured once per process, seaborn's heatmap without its test draw.

A chart is laid out and drawn on three Agg renderers (tight_layout's, the tight box's and savefig's, which has the
cropped size), and matplotlib keeps the size of each text per renderer, so every chart measured each of its texts
again on each of them (about 1,200 FreeType layouts a period on the sample, ~1-2 ms each). :func:`share_text_metrics`
keeps the sizes per process instead. :func:`heatmap` is ``seaborn.heatmap`` whose check for overlapping tick labels
lays the figure out without rasterizing it. Both leave every PNG byte for byte as before (tests/test_drawing.py).
"""
from __future__ import annotations

import contextlib
import functools

import matplotlib
import matplotlib.text
from matplotlib.backends.backend_agg import RendererAgg

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


def share_text_metrics() -> None:
    """Make matplotlib measure each text once per process on Agg (called by :func:`helpers.views.theme.set_theme`;
    calling it again changes nothing). Texts look the same: Agg's size of a text depends only on the text, its font
    properties, the dpi and :data:`METRIC_RC`, which are the cache's key."""
    if matplotlib.text._get_text_metrics_with_cache is _MATPLOTLIB_METRICS:
        matplotlib.text._get_text_metrics_with_cache = shared_text_metrics


def own_text_metrics() -> None:
    """Give matplotlib its own per-renderer text measuring back (tests compare both)."""
    matplotlib.text._get_text_metrics_with_cache = _MATPLOTLIB_METRICS


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
