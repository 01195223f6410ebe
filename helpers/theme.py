"""Chart theme: one explicit `set_theme()`; Japanese glyphs come from matplotlib-fontja (IPAexGothic).

Nothing changes at import time; notebooks call `set_theme()` once.
"""
from __future__ import annotations

import matplotlib
import seaborn as sns

# Palette constants (colour-blind safe, from seaborn's "colorblind").
MARKETING = "#0173b2"
SALES = "#de8f05"
NEUTRAL = "#949494"
POSITIVE = "#029e73"
NEGATIVE = "#d55e00"
PALETTE = [MARKETING, SALES, POSITIVE, NEGATIVE, "#cc78bc", "#ca9161", "#56b4e9", NEUTRAL]
STYLES = ("report", "notebook")
JAPANESE_FONT = "IPAexGothic"


def set_theme(style: str = "report") -> None:
    """Apply the workbook theme ("report": compact, for HTML; "notebook": larger) with a Japanese-capable font."""
    if style not in STYLES:
        raise ValueError(f"unknown theme style {style!r}; use one of {STYLES}")
    import matplotlib_fontja

    matplotlib_fontja.japanize()  # registers IPAexGothic and makes it the sans-serif font
    context = "notebook" if style == "notebook" else "paper"
    sns.set_theme(context=context, style="whitegrid", palette=PALETTE, font=JAPANESE_FONT, rc={
        "font.family": JAPANESE_FONT,
        "axes.unicode_minus": False,  # IPAexGothic has no U+2212 minus glyph
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.figsize": (7.0, 3.6) if style == "report" else (9.0, 4.8),
        "axes.spines.top": False,
        "axes.spines.right": False,
    })
    matplotlib.rcParams["svg.fonttype"] = "none"


class Chart:
    """A finished figure for notebook output: shown once, as a PNG whose alt text is the chart's title."""

    def __init__(self, fig, alt: str):
        self.fig = fig
        self.alt = alt

    def _repr_png_(self):
        import io

        buf = io.BytesIO()
        self.fig.savefig(buf, format="png", bbox_inches="tight")
        return buf.getvalue(), {"alt": self.alt}


def chart_title(fig) -> str:
    """The figure's title: its suptitle, else the first axes title that is set."""
    if fig._suptitle is not None and fig._suptitle.get_text():
        return fig._suptitle.get_text()
    return next((ax.get_title() for ax in fig.axes if ax.get_title()), "")


def finish(fig) -> Chart:
    """Lay out a figure and detach it from pyplot, so a notebook cell shows it exactly once (as its result)."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    plt.close(fig)
    return Chart(fig, chart_title(fig) or "chart")
