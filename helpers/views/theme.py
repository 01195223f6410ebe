"""Chart theme: one explicit `set_theme()`; Japanese glyphs come from matplotlib-fontja (IPAexGothic).

Nothing changes at import time; notebooks call `set_theme()` once.
"""
from __future__ import annotations

import math
import textwrap

import matplotlib
import matplotlib.ticker
from cycler import cycler
from matplotlib.colors import to_rgb
from matplotlib.ticker import Formatter

# Palette constants (colour-blind safe, from seaborn's "colorblind").
MARKETING = "#0173b2"
SALES = "#de8f05"
NEUTRAL = "#949494"
POSITIVE = "#029e73"
NEGATIVE = "#d55e00"
PALETTE = [MARKETING, SALES, POSITIVE, NEGATIVE, "#cc78bc", "#ca9161", "#56b4e9", NEUTRAL]
STYLES = ("report", "notebook")
JAPANESE_FONT = "IPAexGothic"


#: seaborn 0.13's "notebook" plotting context (``seaborn.plotting_context("notebook")``); "paper" is it times 0.8.
SEABORN_NOTEBOOK_CONTEXT = {
    "axes.linewidth": 1.25, "grid.linewidth": 1, "lines.linewidth": 1.5, "lines.markersize": 6, "patch.linewidth": 1,
    "xtick.major.width": 1.25, "ytick.major.width": 1.25, "xtick.minor.width": 1, "ytick.minor.width": 1,
    "xtick.major.size": 6, "ytick.major.size": 6, "xtick.minor.size": 4, "ytick.minor.size": 4,
    "font.size": 12, "axes.labelsize": 12, "axes.titlesize": 12, "xtick.labelsize": 11, "ytick.labelsize": 11,
    "legend.fontsize": 11, "legend.title_fontsize": 12,
}
#: seaborn 0.13's "whitegrid" axes style (``seaborn.axes_style("whitegrid")``) but its ``image.cmap``, "rocket", a
#: colormap that only importing seaborn registers: matplotlib's default stays (every chart names its colormap).
SEABORN_WHITEGRID = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out", "ytick.direction": "out",
    "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True, "grid.linestyle": "-", "text.color": ".15",
    "font.family": ["sans-serif"], "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans",
                                                       "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True, "xtick.top": False,
    "ytick.right": False, "axes.grid": True, "axes.facecolor": "white", "axes.edgecolor": ".8", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True, "axes.spines.top": True,
    "xtick.bottom": False, "ytick.left": False,
}


def theme_rc(style: str = "report") -> dict:
    """The workbook's own rcParams over seaborn's theme for `style` ("report" or "notebook"): the font, sizes, spines."""
    return {
        "font.family": JAPANESE_FONT,
        "axes.unicode_minus": False,  # IPAexGothic has no U+2212 minus glyph
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (7.0, 3.6) if style == "report" else (9.0, 4.8),
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def set_theme(style: str = "report") -> None:
    """Apply the workbook theme ("report": compact, for HTML; "notebook": larger) with a Japanese-capable font, and let
    matplotlib measure each text once per process (helpers.views.drawing.share_text_metrics: the same pixels).

    The rcParams are those of ``seaborn.set_theme(context="paper" (report) or "notebook", style="whitegrid",
    palette=PALETTE, font=JAPANESE_FONT, rc=theme_rc(style))`` but ``image.cmap`` (SEABORN_WHITEGRID), set without
    importing seaborn: its import pulls in scipy.stats, about 1.1 CPU s of every kernel's start, which a notebook
    that draws no seaborn chart no longer pays (tests/test_labels_theme.py compares the two rcParams)."""
    if style not in STYLES:
        raise ValueError(f"unknown theme style {style!r}; use one of {STYLES}")
    import matplotlib_fontja

    matplotlib_fontja.japanize()  # registers IPAexGothic and makes it the sans-serif font
    scale = 1 if style == "notebook" else 0.8   # seaborn's "notebook" and "paper" contexts
    rc = {key: value * scale for key, value in SEABORN_NOTEBOOK_CONTEXT.items()}
    rc.update(SEABORN_WHITEGRID)
    rc["axes.prop_cycle"] = cycler("color", [to_rgb(c) for c in PALETTE])
    rc.update(theme_rc(style))
    matplotlib.rcParams.update(rc)
    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["text.parse_math"] = False  # text from data ("$x^{2$ web") is drawn as typed, never as mathtext
    from helpers.views.drawing import share_text_metrics

    share_text_metrics()  # each text measured once per process, not once per renderer (the same pixels)


# Money units per report language: Japanese counts in 万 (10^4) and 億 (10^8), English in K, M, B.
MONEY_UNITS = {"ja": ((1e8, "億"), (1e4, "万")), "en": ((1e9, "B"), (1e6, "M"), (1e3, "K"))}


class MoneyFormatter(Formatter):
    """Tick labels of a money axis in the workbook currency with the reader's units: ¥1.2億 / ¥5,000万 (ja), ¥1.2M / ¥500K (en).

    One unit per axis (chosen from the largest tick), and just enough decimals to tell neighbouring ticks apart.
    Never a bare 1e6: every label carries the currency symbol.
    """

    def __init__(self, symbol: str, lang: str = "en"):
        if lang not in MONEY_UNITS:
            raise ValueError(f"unknown language {lang!r} for money units; use one of {tuple(MONEY_UNITS)}")
        self.symbol, self.lang = symbol, lang
        self.ticks: list[float] = []

    def set_locs(self, locs) -> None:
        self.ticks = [float(v) for v in locs]

    def _scale(self) -> tuple[float, str, int]:
        finite = [abs(v) for v in self.ticks if math.isfinite(v)]
        top = max(finite, default=0.0)
        divisor, unit = next(((d, u) for d, u in MONEY_UNITS[self.lang] if top >= d), (1.0, ""))
        ordered = sorted(v for v in self.ticks if math.isfinite(v))
        steps = sorted({round(b - a, 9) for a, b in zip(ordered, ordered[1:]) if b > a})
        step = steps[0] / divisor if steps else 1.0
        decimals = 0 if step >= 1 or step <= 0 else min(2, math.ceil(-math.log10(step) - 1e-9))
        return divisor, unit, decimals

    def __call__(self, x, pos=None) -> str:
        divisor, unit, decimals = self._scale()
        value = x / divisor
        if round(value, decimals) == 0:
            return f"{self.symbol}0"
        sign = "-" if value < 0 else ""
        return f"{sign}{self.symbol}{abs(value):,.{decimals}f}{unit}"


def money_axis(ax, config, axis: str = "y") -> None:
    """Format `ax`'s y (or x) axis as money in the workbook currency and the report language's units (MoneyFormatter)."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(MoneyFormatter(config.currency_symbol, config.language))


def percent_axis(ax, axis: str = "y") -> None:
    """Format `ax`'s y (or x) axis of rates (fractions, never below 0) as percents at clean steps (1, 2, 5 or 10 × a
    power of ten: 0%, 5%, 10%, never 2.5-point steps rounded to 2%, 5%, 8%), with as many decimals as the step needs;
    the axis starts at 0 at the lowest (the plot's margin never shows a -10% tick). Call it after drawing the data."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if low < 0:
        (ax.set_ylim if axis == "y" else ax.set_xlim)(0.0, high)
    target.set_major_locator(matplotlib.ticker.MaxNLocator(nbins="auto", steps=[1, 2, 5, 10]))
    target.set_major_formatter(_PercentTicks())


class _PercentTicks(matplotlib.ticker.FuncFormatter):
    """percent_axis's tick labels: each tick as a percent with the decimals of :func:`percent_decimals` over the axis's
    major ticks, found once per set of ticks (``set_locs``, which matplotlib calls with them before labelling) rather
    than once per label. A FuncFormatter, so :func:`plain_text` wraps it as before."""

    def __init__(self):
        super().__init__(self._label)
        self._decimals: int | None = None

    def set_locs(self, locs) -> None:
        super().set_locs(locs)
        self._decimals = percent_decimals(locs)

    def _label(self, value, _pos=None) -> str:
        decimals = self._decimals if self._decimals is not None else percent_decimals(self.axis.get_majorticklocs())
        return f"{value * 100:.{decimals}f}%"


def percent_decimals(ticks) -> int:
    """The fewest decimals (0 to 4) that write every tick (a fraction) as its exact percent: 0.05 -> 5%, 0.025 ->
    2.5% (never 2%, 5%, 8% for 2.5-point steps)."""
    values = [float(v) * 100 for v in ticks if math.isfinite(v)]
    return next((d for d in range(5) if all(abs(round(v, d) - v) < 1e-9 * max(1.0, abs(v)) for v in values)), 4)


def money_label(value: float, config) -> str:
    """One money amount for a chart annotation, in the same units as the money axes: ¥84万, +¥1.2M."""
    formatter = MoneyFormatter(config.currency_symbol, config.language)
    formatter.set_locs([value])
    return formatter(value)


def legend_outside(ax, **kwargs) -> None:
    """A legend to the right of the plot area, where it covers no data (savefig's tight box keeps it in the image);
    none when no artist has a label (matplotlib would warn, and the warning would reach the page)."""
    if not ax.get_legend_handles_labels()[0] and "handles" not in kwargs:
        return
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, frameon=False, **kwargs)


def wrap_label(text: str, lang: str, width: int = 40) -> str:
    """A long axis label on several lines, broken between words in English and between characters in Japanese (never cut)."""
    return textwrap.fill(text, width=width // 2 if lang == "ja" else width, break_long_words=lang == "ja")


def overlapping_labels(fig) -> list[tuple[str, str]]:
    """Pairs of tick labels of one axis whose drawn boxes overlap (read from matplotlib's renderer after drawing):
    labels that run together. Empty when every label stands clear of its neighbours."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)   # a finished Chart's figure
    canvas.draw()
    renderer = canvas.get_renderer()
    out = []
    for ax in fig.axes:
        for labels in (ax.get_xticklabels(), ax.get_yticklabels()):
            shown = [(x.get_text(), x.get_window_extent(renderer)) for x in labels if x.get_visible() and x.get_text()]
            out += [(a, b) for i, (a, box) in enumerate(shown) for b, other in shown[i + 1:] if box.overlaps(other)]
    return out


def axes_text(fig) -> list[dict]:
    """Every axes' title, labels and visible tick labels (after drawing): what a reader sees on the axes; tests read it."""
    out = []
    for ax in fig.axes:
        if not ax.axison:
            continue
        out.append({"title": ax.get_title(), "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(),
                    "xticks": [tl.get_text() for tl in ax.get_xticklabels() if tl.get_text()],
                    "yticks": [tl.get_text() for tl in ax.get_yticklabels() if tl.get_text()],
                    "yoffset": ax.yaxis.get_offset_text().get_text()})
    return out


class Chart:
    """A finished figure for notebook output: shown once, as a PNG whose alt text states the chart's main figure.

    The PNG's metadata carries the alt text (the report template writes it as the <img> alt) and the figure's title
    and axes text (`axes_text`), so tests can read the tick labels of the charts in an executed notebook. Its plain
    text is the alt text too. In JupyterLab and the app (not static) it is also offered as an HTML <img> with that
    alt, since JupyterLab draws a PNG output without one.
    """

    def __init__(self, fig, alt: str):
        self.fig = fig
        self.alt = alt
        self._png = None

    def png(self) -> bytes:
        """The figure as PNG bytes (drawn once)."""
        if self._png is None:
            from helpers.views.drawing import chart_png

            with matplotlib.rc_context(PLAIN_TEXT):  # tick labels made while drawing are plain text too
                self._png = chart_png(self.fig)
        return self._png

    def _repr_png_(self):
        return self.png(), {"alt": self.alt, "axes": axes_text(self.fig)}

    def _repr_html_(self):
        from helpers.views.display import esc, is_static

        if is_static():
            return None   # the report template writes the <img> with its alt from the PNG's metadata
        import base64

        return f'<img src="data:image/png;base64,{base64.b64encode(self.png()).decode("ascii")}" alt="{esc(self.alt)}">'

    def __repr__(self) -> str:
        return self.alt


def chart_title(fig) -> str:
    """The figure's title: its suptitle, else the first axes title that is set."""
    if fig._suptitle is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    return next((ax.get_title() for ax in fig.axes if ax.get_title()), "")


#: Longest line of a category label (ticks, legend entries) drawn in a chart; longer ones are wrapped (short_label).
MAX_LABEL = 40
#: Longest other text (titles, notes) drawn in a chart.
MAX_TEXT = 400
PLAIN_TEXT = {"text.parse_math": False}


#: A label already broken into lines (wrap_label) keeps up to this many lines of up to MAX_LINE characters.
MAX_LINES, MAX_LINE = 4, 60


def short_label(text, limit: int = MAX_LABEL) -> str:
    """`text` made to fit a chart without losing it: a label line longer than `limit` (at most MAX_LINE) is wrapped
    into lines of at most `limit` characters (between words; a word or Japanese text without spaces anywhere), and only text past
    MAX_LINES lines (a label of hundreds of characters) keeps its start and ends with '…'. One line of other text
    (a title: `limit` MAX_TEXT) longer than `limit` keeps its start and ends with '…'.

    Text already broken into lines (wrap_label) keeps its lines: at most MAX_LINES lines of max(limit, MAX_LINE).
    """
    def cut(line: str, n: int) -> str:
        line = " ".join(line.split())
        return line if len(line) <= n else line[: n - 1] + "…"

    lines = str(text).split("\n")
    if len(lines) == 1:
        line = " ".join(lines[0].split())
        if len(line) <= limit or limit > MAX_LINE:   # a title or note (limit MAX_TEXT) is cut, not wrapped
            return cut(line, limit)
        lines = textwrap.wrap(line[: limit * (MAX_LINES + 1)], width=limit, break_long_words=True) or [line]
        if len(lines) == 1:
            return lines[0]
    kept = [cut(line, max(limit, MAX_LINE)) for line in lines[:MAX_LINES]]
    if len(lines) > MAX_LINES:
        kept[-1] = cut(kept[-1] + " …", max(limit, MAX_LINE))
    return "\n".join(kept)


class _ShortLabels(matplotlib.ticker.Formatter):
    """Wraps a text-label formatter (category, fixed or function labels): every tick label shortened with short_label."""

    def __init__(self, inner):
        self.inner = inner

    def __call__(self, x, pos=None):
        return short_label(self.inner(x, pos))

    def format_ticks(self, values):
        return [short_label(v) for v in self.inner.format_ticks(values)]

    def get_offset(self):
        return self.inner.get_offset()

    def format_data(self, value):
        return self.inner.format_data(value)

    def format_data_short(self, value):
        return self.inner.format_data_short(value)

    def set_axis(self, axis):
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs):
        self.inner.set_locs(locs)


def plain_text(fig) -> None:
    """Make every text of `fig` safe to draw: no mathtext parsing, long category labels and texts shortened.

    Values from the data (channel names, segments, owners) reach charts as tick labels, legend entries and
    titles; a `$` in them would be parsed as mathtext (and can crash drawing), and a huge one exhausts memory.
    """
    import matplotlib.category
    import matplotlib.legend
    import matplotlib.text

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), matplotlib.ticker.LogFormatterMathtext):
                # a log axis writes its ticks as mathtext ($\mathdefault{10^{-1}}$), drawn as typed here: plain numbers
                axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _pos=None: f"{value:g}"))
                axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            fmt = axis.get_major_formatter()
            if isinstance(fmt, (matplotlib.category.StrCategoryFormatter, matplotlib.ticker.FixedFormatter,
                                matplotlib.ticker.FuncFormatter)):  # set_xticks(ticks, labels) makes a FuncFormatter
                axis.set_major_formatter(_ShortLabels(fmt))
    found = [a for a in _artists(fig) if isinstance(a, (matplotlib.legend.Legend, matplotlib.text.Text))]
    legend_texts = {id(t) for leg in found if isinstance(leg, matplotlib.legend.Legend) for t in leg.get_texts()}
    for text in (a for a in found if isinstance(a, matplotlib.text.Text)):
        text.set_parse_math(False)
        value = text.get_text()
        limit = MAX_LABEL if id(text) in legend_texts else MAX_TEXT
        if id(text) in legend_texts and len(value) > limit and "\n" not in value:
            value = textwrap.fill(value, width=limit)   # a long legend entry is wrapped, not cut with "…"
            text.set_text(value)
        if max(len(line) for line in value.split("\n")) > max(limit, MAX_LINE) or value.count("\n") >= MAX_LINES:
            text.set_text(short_label(value, limit))


def _artists(fig) -> list:
    """Every artist of `fig`, as ``fig.findobj()`` finds them, but an axis gives its label, offset text and the ticks it
    has made so far (their lines and labels), not ``Axis.get_children``'s ticks for its locator's current positions:
    those ask the locator and make the missing ticks before the layout has sized the axes (a fifth of a chart's
    finishing), and the draw sets every tick label again from its formatter (wrapped by :class:`_ShortLabels`) and
    makes the ticks it needs under :data:`PLAIN_TEXT`."""
    import matplotlib.axis

    out, todo = [], [fig]
    while todo:
        artist = todo.pop()
        out.append(artist)
        if isinstance(artist, matplotlib.axis.Axis):
            ticks = [*artist.majorTicks, *artist.minorTicks]
            todo += [artist.label, artist.offsetText, *(child for tick in ticks for child in tick.get_children())]
        else:
            todo += artist.get_children()
    return out


def finish(fig, figure: str | None = None) -> Chart:
    """Lay out a figure and detach it from pyplot, so a notebook cell shows it exactly once (as its result).

    Every text is drawn as plain text and long labels are shortened (plain_text). The chart's alt text is its title
    and, after " — ", `figure`: the chart's main figure in words, formatted as the page shows it (the caller builds
    it from an ``alt_*`` label in the page's language). See :func:`alt_text`.
    """
    import matplotlib.pyplot as plt

    from helpers.views.drawing import one_pass

    plain_text(fig)
    with matplotlib.rc_context(PLAIN_TEXT), one_pass():
        fig.tight_layout()
    plt.close(fig)
    return Chart(fig, alt_text(chart_title(fig), figure))


def alt_text(title: str, figure: str | None) -> str:
    """A chart's alt text: its title, then " — " and its main figure (`figure`, already in the page's language and
    formats) when given; "chart" when there is neither."""
    parts = [p for p in (title, figure) if p]
    return " — ".join(parts) or "chart"
