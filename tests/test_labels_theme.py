"""The label table, display formats and the chart theme (Japanese glyphs without warnings)."""
import warnings

import matplotlib.pyplot as plt
import pytest

from helpers import fmt
from helpers.config import load_config
from helpers.labels import label_or_value, label_table, t
from helpers.theme import set_theme


def test_every_label_has_both_languages():
    table = label_table()
    assert len(table) > 40
    for key, texts in table.items():
        assert set(texts) == {"en", "ja"}, key
        assert texts["en"].strip() and texts["ja"].strip(), key


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


def test_finished_chart_shows_once_as_png_with_its_title_as_alt_text():
    from helpers.theme import finish

    set_theme("report")
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    ax.set_title("受注率の推移")
    chart = finish(fig)
    assert fig.number not in plt.get_fignums()  # detached: the inline backend will not show it a second time
    data, meta = chart._repr_png_()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and meta == {"alt": "受注率の推移"}
