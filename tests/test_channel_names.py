"""Display names of channels (setting labels.channels, issue 24): shown in tables, charts, sentences and explorers,
never in the data or metrics.json; a name for a channel no row has is a warning with close matches (en and ja).

The sample's reports (Japanese names in data/sample/workbook.yaml) are checked in tests/test_report_language.py.
"""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.config import load_config
from helpers.errors import ConfigError
from helpers.labels import label_or_value
from helpers.views.common import channel_label, value_label

NAMES = """labels:
  channels:
    seminar: {en: Seminar, ja: セミナー}
    web: Web
    outbound: {ja: アウトバウンド}
"""


@pytest.fixture
def folder(tmp_path):
    return write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV, "workbook.yaml": NAMES})


#: The shipped names of the default channel codes (attribution.marketing_channels), written out here: the Japanese
#: names a reader of the sample's Japanese reports sees; English keeps the code.
SHIPPED_JA = {"web": "Webサイト", "ad": "広告", "email": "メール", "seminar": "セミナー", "webinar": "ウェビナー",
              "exhibition": "展示会", "whitepaper": "ホワイトペーパー", "content": "コンテンツ", "social": "ソーシャル"}
SHIPPED = {code: {"en": code, "ja": ja} for code, ja in SHIPPED_JA.items()}


def test_a_name_for_both_languages_or_one_per_language(folder):
    config = load_config(folder)
    assert config.settings_channel_names == {"seminar": {"en": "Seminar", "ja": "セミナー"}, "web": {"en": "Web", "ja": "Web"},
                                             "outbound": {"ja": "アウトバウンド"}}
    assert config.channel_names == {**SHIPPED, "seminar": {"en": "Seminar", "ja": "セミナー"}, "web": {"en": "Web", "ja": "Web"},
                                    "outbound": {"ja": "アウトバウンド"}}
    assert channel_label(config, "seminar", "ja") == "セミナー" and channel_label(config, "seminar", "en") == "Seminar"
    assert channel_label(config, "outbound", "ja") == "アウトバウンド"
    assert channel_label(config, "outbound", "en") == "outbound"     # no English name: the data's spelling
    assert channel_label(config, "referral", "ja") == "referral"     # not named: the data's spelling
    assert channel_label(config, "unknown", "ja") == "不明"           # the label table's word, unless named
    assert value_label(config, "industry", "web", "ja") == "web"     # only the channel column is renamed
    assert label_or_value("seminar", "ja") == "seminar"              # without the names nothing changes
    assert channel_label(config, "webinar", "ja") == "ウェビナー"     # not named here: the shipped name


def test_a_settings_file_given_later_replaces_the_names(folder, tmp_path):
    other = tmp_path / "mine.yaml"
    other.write_text("labels: {channels: {web: {ja: ウェブ}, outbound: {en: Outbound}}}\n", encoding="utf-8")
    config = load_config(folder, other)
    assert config.settings_channel_names == {"web": {"ja": "ウェブ"}, "outbound": {"en": "Outbound"}}
    assert config.channel_names == {**SHIPPED, "web": {"en": "web", "ja": "ウェブ"}, "outbound": {"en": "Outbound"}}
    other.write_text("labels: {channels: {}}\n", encoding="utf-8")
    config = load_config(folder, other)
    assert config.settings_channel_names == {} and config.channel_names == SHIPPED   # the shipped names stay


def test_the_default_channel_codes_have_shipped_names_in_both_languages():
    """Every channel code the default settings list (attribution.marketing_channels) has a display name in both
    languages without any setting (the label table's default_channel_<code>): in Japanese its own word, in English
    the code; nothing else is named."""
    from helpers.config import shipped_channel_names

    config = load_config()
    assert config.settings_channel_names == {} and config.channel_names_from == {}
    assert sorted(config.channel_names) == sorted(config.attribution["marketing_channels"]) == sorted(SHIPPED)
    assert shipped_channel_names() == config.channel_names == SHIPPED
    assert [channel_label(config, c, "ja") for c in config.attribution["marketing_channels"]] == [
        "Webサイト", "広告", "メール", "セミナー", "ウェビナー", "展示会", "ホワイトペーパー", "コンテンツ", "ソーシャル"]
    assert [channel_label(config, c, "en") for c in config.attribution["marketing_channels"]] == config.attribution["marketing_channels"]
    assert channel_label(config, "Webinar", "ja") == "Webinar"   # names go by the data's exact spelling


def test_a_shipped_name_is_no_warning_a_name_the_settings_give_is(tmp_path):
    """The data (web, seminar, outbound) lacks most default channel codes: their shipped names warn of nothing; a name
    the user's settings give for a default code the data lacks (webinar) still warns, naming the file, and shows."""
    from helpers.data.load import load_workbook
    from helpers.metrics.limits import workbook_warnings

    plain = write_folder(tmp_path / "plain", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    wb = load_workbook(plain, load_config(plain))
    assert "webinar" in wb.config.channel_names and "webinar" not in set(wb.leads["channel"].astype(str))
    assert [w for w in workbook_warnings(wb) if w["code"] == "channel_name_unknown"] == []
    named = write_folder(tmp_path / "named", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                              "workbook.yaml": "labels: {channels: {webinar: {ja: オンラインセミナー}}}\n"})
    wb = load_workbook(named, load_config(named))
    found = [w for w in workbook_warnings(wb) if w["code"] == "channel_name_unknown"]
    assert [(w["file"], w["column"], w["params"]["channel"]) for w in found] == [
        ("workbook.yaml", "labels.channels.webinar", "webinar")]
    assert channel_label(wb.config, "webinar", "ja") == "オンラインセミナー"
    assert channel_label(wb.config, "webinar", "en") == "webinar"   # the shipped English name under the user's Japanese one


@pytest.mark.parametrize("text, expect", [
    ("labels: {channels: {web: }}", "setting 'labels.channels.web' must be a display name, or {en: name, ja: name}, got null"),
    ("labels: {channels: {web: {fr: Toile}}}", "setting 'labels.channels.web' must be a display name, or {en: name, ja: name}, got a mapping"),
    ("labels: {channels: {web: {}}}", "setting 'labels.channels.web' must be a display name, or {en: name, ja: name}, got a mapping"),
    ("labels: {channels: [web]}", "setting 'labels.channels' must be a mapping of channels (as the data spells them) to display names, got a list"),
    ("labels: {chanels: {web: Web}}", "unknown setting 'labels.chanels'"),
])
def test_a_malformed_name_is_refused_naming_the_key(tmp_path, text, expect):
    path = tmp_path / "bad.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path=path)
    assert expect in err.value.message and "bad.yaml" in err.value.message
    assert err.value.fix


def test_a_name_for_a_channel_no_row_has_is_a_warning_with_close_matches(tmp_path):
    from helpers.data.load import load_workbook
    from helpers.metrics.limits import warning_sentences, workbook_warnings

    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV,
                                            "workbook.yaml": "labels: {channels: {Seminar: セミナー, zzz: Z, web: Web}}\n"})
    wb = load_workbook(data, load_config(data))
    found = [w for w in workbook_warnings(wb) if w["code"] == "channel_name_unknown"]
    assert [(w["file"], w["column"]) for w in found] == [("workbook.yaml", "labels.channels.Seminar"),
                                                         ("workbook.yaml", "labels.channels.zzz")]
    assert found[0]["message"] == ("labels.channels gives a display name for the channel 'Seminar', which no lead, "
                                   "opportunity, spend or touch row has (close matches: 'seminar'); the name is not used")
    # the data's channels: web, seminar (leads), outbound (O2), unknown (O3 has no channel and no lead)
    assert "(the data's channels: 'outbound', 'seminar', 'unknown', 'web')" in found[1]["message"]
    sentence, fix = warning_sentences(found[0], "ja")
    assert sentence == ("labels.channels にチャネル「Seminar」の表示名がありますが、このチャネルのリード・商談・費用・タッチの行は"
                        "ありません(近い表記: 'seminar')。この表示名は使われません")
    assert fix.startswith("チャネル名をデータの表記")
    assert wb.leads["channel"].astype(str).tolist() == ["web", "seminar", "web"]   # the data keeps its spelling


def test_tables_charts_and_explorer_show_the_names_and_filter_by_the_data(folder, monkeypatch):
    from helpers.report.session import open_session
    from helpers.views import funnel_views, health_views
    from helpers.views.theme import axes_text

    s = open_session(str(folder), lang="ja")   # the theme draws Japanese glyphs
    table = funnel_views.rate_view(s, "channel").data
    assert ">セミナー<" in table and ">Web<" in table and ">アウトバウンド<" in table and ">seminar<" not in table
    chart = funnel_views.rate_chart(s, "channel", "win_rate")
    chart.fig.canvas.draw()
    assert "アウトバウンド" in axes_text(chart.fig)[0]["xticks"]
    counts = health_views.value_counts_view(s.wb, "channel", "ja").data
    assert ">セミナー<" in counts and ">不明<" in counts
    assert set(funnel_views.filtered(s, "seminar").wb.leads["channel"].astype(str)) == {"seminar"}
    monkeypatch.delenv("WORKBOOK_STATIC", raising=False)
    monkeypatch.delenv("PAPERMILL_EXECUTION", raising=False)
    channel = funnel_views.explore_breakdown(s).widget.children[0].children[3]
    assert ("セミナー", "seminar") in channel.options and ("Web", "web") in channel.options


def test_a_sentence_names_the_channel_by_its_display_name():
    from helpers.views.velocity_views import caveat_text

    biggest = {"column": "channel", "value": "seminar", "before_share": 0.2, "after_share": 0.35, "shift": 0.15}
    caveat = {"code": "mix_shift", "values": {"threshold": 0.1, "biggest": biggest, "shifts": [biggest]},
              "text": "The mix of opportunities changed: the share of channel 'seminar' went from 20% before to 35% after "
                      "(+15 points). Part of the change may come from a different mix of deals, not from the initiative."}
    names = {"seminar": {"en": "Seminar", "ja": "セミナー"}}
    assert caveat_text(caveat, "ja", names).startswith("商談の構成が変わりました: チャネル「セミナー」の割合が20%から35%へ(+15ポイント)")
    assert "the share of channel 'Seminar' went from 20%" in caveat_text(caveat, "en", names)
    assert "the share of channel 'seminar' went from 20%" in caveat_text(caveat, "en")
    assert caveat["values"]["biggest"]["value"] == "seminar"     # the caveat itself (metrics.json) is unchanged
