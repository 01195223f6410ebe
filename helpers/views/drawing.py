"""Cheaper chart drawing: text measured once per process, ticks made once per pass, one draw per PNG.

A chart is laid out once (tight_layout) and drawn once (:func:`chart_png`: the figure's own canvas cut to savefig's
tight box, measured in the same pass, and written as PNG at zlib level 3). matplotlib keeps the size of each text per
Agg renderer: :func:`share_text_metrics` keeps the sizes per process instead, and the font's line metrics (ascent,
descent, line gap) too: matplotlib 3.11 looks the font up and reads two of its tables each time it lays a text out.
Inside :func:`one_pass` (a layout or a draw) each axis asks its locator and measures its tick labels once per state,
not three or four times. :func:`heatmap` is ``seaborn.heatmap`` whose check for overlapping tick labels lays the
figure out without rasterizing it. The text, tick and heatmap changes leave every PNG byte for byte as before
(tests/test_drawing.py); the single draw gives the same picture but for where the box's edge falls inside a pixel.
"""
from __future__ import annotations

import contextlib
import functools
import math
import threading

import matplotlib
import matplotlib.axis
import numpy as np
import matplotlib.text
from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import RenderMode

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


@functools.lru_cache(maxsize=64)
def _glyph_matrix(cos: float, sin: float, extend: float, slant: float) -> np.ndarray:
    """The 16.16 fixed-point matrix FreeType draws a glyph with (rotation by the text's angle, the font's extend and
    slant), as matplotlib 3.11's ``RendererAgg._draw_text_glyphs_and_boxes`` computes it; read-only (one per process)."""
    matrix = (0x10000 * np.array([[cos, -sin], [sin, cos]]) @ [[extend, extend * slant], [0, 1]]).round().astype(int)
    matrix.setflags(write=False)
    return matrix


def draw_text_glyphs(self, gc, x, y, angle, glyphs, boxes):
    """matplotlib 3.11's ``RendererAgg._draw_text_glyphs_and_boxes`` (every text Agg draws goes through it) with each
    glyph's transform matrix made once per angle, extend and slant instead of once per glyph (a 2×2 NumPy product,
    about 6 µs a glyph, tens of thousands of glyphs a period): the same FreeType calls with the same values, so the
    same pixels. The boxes (mathtext's rules; none in plain text) are drawn by matplotlib's own code."""
    cos = math.cos(math.radians(angle))
    sin = math.sin(math.radians(angle))
    load_flags = get_hinting_flag()
    antialiased = gc.get_antialiased()
    mode = RenderMode.NORMAL if antialiased else RenderMode.MONO
    height = self.height
    for font, size, glyph_index, slant, extend, dx, dy in glyphs:  # dy is upwards.
        font.set_size(size, self.dpi)
        font._set_transform(_glyph_matrix(cos, sin, extend, slant),
                            [round(0x40 * (x + dx * cos - dy * sin)), round(0x40 * (height - y + dx * sin + dy * cos))])
        bitmap = font._render_glyph(glyph_index, load_flags, mode)
        buffer = bitmap.buffer
        if not antialiased:
            buffer *= 0xff
        self._renderer.draw_text_image(buffer, bitmap.left, int(height) - bitmap.top + buffer.shape[0], 0, gc)
    _MATPLOTLIB_GLYPHS(self, gc, x, y, angle, (), boxes)


@functools.lru_cache(maxsize=4096)
def _text_layout(text: str, fontprop, dpi: float, flags, features, language, rc: tuple, thread: int) -> tuple:
    """The glyphs (FreeType's layout items: font, glyph index, position) of `text` with `fontprop` (a copy: the key)
    at `dpi`, as matplotlib 3.11's ``RendererAgg.draw_text`` lays them out (its ``_prepare_font``, then the font's
    ``_layout``); `rc` the :data:`METRIC_RC` and :data:`FONT_RC` values, which choose the font file and object;
    `thread` the drawing thread (matplotlib's font objects are one per thread)."""
    font = get_font(fontManager._find_fonts_by_props(fontprop))
    font.clear()
    font.set_size(fontprop.get_size_in_points(), dpi)
    return tuple(font._layout(text, flags=flags, features=features, language=language))


def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
    """matplotlib 3.11's ``RendererAgg.draw_text`` with each text's layout (HarfBuzz's shaping, a few ms for a label
    with fallback fonts) kept per process (:func:`_text_layout`): a tick label, legend entry or axis title drawn in
    several charts is laid out once. The same glyphs at the same positions, so the same pixels; mathtext goes to
    matplotlib's own."""
    if ismath:
        return _MATPLOTLIB_DRAW_TEXT(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
    features = _hashable(mtext.get_fontfeatures()) if mtext is not None else None
    language = _hashable(mtext.get_language()) if mtext is not None else None
    rc = tuple(_hashable(dict.__getitem__(matplotlib.rcParams, key)) for key in METRIC_RC + FONT_RC)
    items = _text_layout(s, prop.copy(), self.dpi, get_hinting_flag(), features, language, rc, threading.get_ident())
    size = prop.get_size_in_points()
    self._draw_text_glyphs_and_boxes(
        gc, x, y, angle, ((item.ft_object, size, item.glyph_index, 0, 1, item.x, item.y) for item in items), [])


def share_text_metrics() -> None:
    """Make matplotlib measure each text, and each font's line metrics, once per process on Agg (called by
    :func:`helpers.views.theme.set_theme`; calling it again changes nothing). Texts look the same: Agg's size of a text
    depends only on the text, its font properties, the dpi and :data:`METRIC_RC`, and a font's line metrics only on
    the font properties, the dpi and :data:`FONT_RC`, which are the caches' keys."""
    if matplotlib.text._get_text_metrics_with_cache is _MATPLOTLIB_METRICS:
        matplotlib.text._get_text_metrics_with_cache = shared_text_metrics
    RendererAgg._get_font_height_metrics = font_height_metrics
    if _MATPLOTLIB_GLYPHS is not None:
        RendererAgg._draw_text_glyphs_and_boxes = draw_text_glyphs
        RendererAgg.draw_text = draw_text
    matplotlib.axis.Axis._update_ticks = _ticks_once
    matplotlib.axis.Axis._get_ticklabel_bboxes = _tick_label_boxes_once


def own_text_metrics() -> None:
    """Give matplotlib its own per-renderer text measuring, font table reading and tick making back (tests compare)."""
    matplotlib.text._get_text_metrics_with_cache = _MATPLOTLIB_METRICS
    if "_get_font_height_metrics" in vars(RendererAgg):
        del RendererAgg._get_font_height_metrics
    if _MATPLOTLIB_GLYPHS is not None:
        RendererAgg._draw_text_glyphs_and_boxes = _MATPLOTLIB_GLYPHS
        RendererAgg.draw_text = _MATPLOTLIB_DRAW_TEXT
    matplotlib.axis.Axis._update_ticks = _MATPLOTLIB_TICKS
    matplotlib.axis.Axis._get_ticklabel_bboxes = _MATPLOTLIB_TICK_BOXES


_MATPLOTLIB_TICKS = matplotlib.axis.Axis._update_ticks
#: matplotlib's glyph drawing, replaced by :func:`draw_text_glyphs` (only matplotlib 3.11's: another version's is kept).
_MATPLOTLIB_GLYPHS = (RendererAgg._draw_text_glyphs_and_boxes
                      if matplotlib.__version__.startswith("3.11.") and hasattr(RendererAgg, "_draw_text_glyphs_and_boxes")
                      else None)
_MATPLOTLIB_TICK_BOXES = matplotlib.axis.Axis._get_ticklabel_bboxes
#: matplotlib's text drawing, replaced by :func:`draw_text` with the glyph drawing (matplotlib 3.11 only).
_MATPLOTLIB_DRAW_TEXT = RendererAgg.draw_text
_PASS = threading.local()   # the memo of the layout or draw running in this thread (one_pass), else None


@contextlib.contextmanager
def one_pass():
    """One layout or draw of a figure in which each axis makes its ticks and measures their labels once.

    A layout or a draw asks an axis for its ticks three or four times (its tight box, its label's position beside
    the labels of the axes aligned with it, the title's position over the y axis's offset text, its draw), and each
    time matplotlib asks the locator again, formats every label, sets them and measures their boxes: a third of a
    chart's CPU. Inside this block the answer is kept for the axis's latest state (view interval, the axes' box in
    pixels, locators and formatters), so a layout that moves the axes, or goes back to an earlier state, asks again.
    Outside it nothing is kept."""
    outer = getattr(_PASS, "memo", None)
    _PASS.memo = {}
    try:
        yield
    finally:
        _PASS.memo = outer


def _axis_state(axis) -> tuple:
    """What an axis's ticks and their label boxes follow within one pass (:func:`one_pass`)."""
    return (id(axis), tuple(axis.get_view_interval()), axis.axes.bbox.bounds, id(axis.major.locator),
            id(axis.major.formatter), id(axis.minor.locator), id(axis.minor.formatter))


def _ticks_once(axis) -> list:
    """``Axis._update_ticks``: the ticks to draw, made once per axis state inside :func:`one_pass`."""
    memo = getattr(_PASS, "memo", None)
    if memo is None:
        return _MATPLOTLIB_TICKS(axis)
    key, state = ("ticks", id(axis)), _axis_state(axis)
    if key not in memo or memo[key][0] != state:   # only the axis's latest state: ticks are shared objects that
        memo[key] = state, _MATPLOTLIB_TICKS(axis)  # matplotlib sets again for each state (a return to an earlier one too)
    return list(memo[key][1])


def _tick_label_boxes_once(axis, ticks, renderer) -> tuple[list, list]:
    """``Axis._get_ticklabel_bboxes``: the boxes of the ticks' labels, measured once per axis state, ticks and
    renderer inside :func:`one_pass` (copies: callers may change a box)."""
    memo = getattr(_PASS, "memo", None)
    if memo is None:
        return _MATPLOTLIB_TICK_BOXES(axis, ticks, renderer)
    key, state = ("boxes", id(axis)), (id(renderer), tuple(map(id, ticks)), *_axis_state(axis))
    if key not in memo or memo[key][0] != state:   # the latest state only (see _ticks_once)
        memo[key] = state, _MATPLOTLIB_TICK_BOXES(axis, ticks, renderer)
    first, second = memo[key][1]
    return [box.frozen() for box in first], [box.frozen() for box in second]


def _layout_only(fig) -> None:
    """Lay `fig` out as a draw does (tick labels placed and sized), without rasterizing anything."""
    renderer = fig.canvas.get_renderer()
    with renderer._draw_disabled(), one_pass():
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


#: zlib level of a chart's PNG: 3 takes about half the CPU of Pillow's default 6 for 1-2% more bytes (a period's
#: 18 charts: 0.33 → 0.15 CPU s); an opaque chart is written as RGB, a quarter fewer bytes than RGBA before zlib.
PNG_COMPRESSION = 3


def chart_png(fig) -> bytes:
    """PNG bytes of the laid-out figure `fig` framed as ``savefig(bbox_inches="tight")`` frames it (every artist's box
    plus savefig.pad_inches), drawn once: the figure is drawn on its own canvas and the image is cut to that box,
    measured in the same pass (:func:`one_pass`: the draw's ticks and label boxes serve it) instead of a layout for
    the box and a second draw on a canvas of the box's size. The picture is the same but for where the box's edge
    falls inside a pixel (up to half a pixel of margin). A figure whose padded box reaches past its own edges (a note
    below the axes, a title within the pad of the top) or with savefig settings of its own (dpi, colours,
    transparency) goes to savefig with the box: bbox_inches="tight"'s own pixels."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rc = matplotlib.rcParams
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.set_layout_engine(None)   # laid out already (finish): the draw must not lay it out again
    pad = rc["savefig.pad_inches"]
    with one_pass():
        canvas.draw()
        content = fig.get_tightbbox(canvas.get_renderer())
    width, height = fig.get_size_inches()
    own_settings = (rc["savefig.dpi"] not in ("figure", fig.dpi) or rc["savefig.transparent"]
                    or rc["savefig.facecolor"] != "auto" or rc["savefig.edgecolor"] != "auto")
    box, dpi = content.padded(pad), fig.dpi
    if not own_settings and box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height:
        top, left = round((height - box.y1) * dpi), round(box.x0 * dpi)
        # savefig's canvas of the box: its size in whole pixels, cut down (int), as RendererAgg makes it
        rows, cols = int(box.height * dpi), int(box.width * dpi)
        cut = np.asarray(canvas.buffer_rgba())[top:top + rows, left:left + cols]
        if cut.shape[:2] == (rows, cols):
            return png_bytes(cut, dpi)
    buf = io.BytesIO()   # the padded box reaches past the figure's edge, or savefig settings of its own
    with one_pass():
        fig.savefig(buf, format="png", bbox_inches="tight" if own_settings else box,
                    pil_kwargs={"compress_level": PNG_COMPRESSION})
    return buf.getvalue()


def png_bytes(pixels, dpi: float) -> bytes:
    """An RGBA image (rows × columns × 4, uint8) as PNG bytes with matplotlib's metadata (Software, the dpi) at
    :data:`PNG_COMPRESSION`; RGB when every pixel is opaque."""
    import io

    from PIL import Image, PngImagePlugin

    opaque = bool((pixels[..., 3] == 255).all())
    image = Image.fromarray(np.ascontiguousarray(pixels[..., :3] if opaque else pixels))
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/")
    buf = io.BytesIO()
    image.save(buf, format="png", pnginfo=info, dpi=(dpi, dpi), compress_level=PNG_COMPRESSION)
    return buf.getvalue()
