"""attribution.marketing_channels against the touches' channels (helpers.data.channels.check_marketing_channels): a
data set that spells its channels in Japanese ('セミナー') counts no touch as marketing's under the shipped codes
(seminar): data health warns, names each spelling and the setting to write; notebook 06 lists the other channels.
Input: tests/fixtures/newuser3/touches-ja-channels (a new user's folder, round 3)."""
import shutil
from pathlib import Path

from helpers.config import load_config
from helpers.data.channels import check_marketing_channels
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.metrics.attribution_paths import attribution_section
from helpers.metrics.limits import warning_sentences, workbook_warnings

CASE = Path(__file__).parent / "fixtures" / "newuser3" / "touches-ja-channels"
NAMES = {"seminar": {"en": "seminar", "ja": "セミナー"}, "web": {"en": "web", "ja": "Webサイト"}}


def test_japanese_spellings_of_listed_channels_are_named_with_the_setting_to_write():
    wb = load_workbook(CASE, load_config(CASE))
    found = [w for w in workbook_warnings(wb) if w["code"] == "marketing_channels_unmatched"]
    assert len(found) == 1 and found[0]["count"] == 2
    assert warning_sentences(found[0], "en") == (
        "the touches' channels 'セミナー' (seminar), '展示会' (exhibition) are channels attribution.marketing_channels lists, "
        "spelled another way (a display name, or another case, width or spacing): attribution compares the spellings as "
        "written, so their touches count as another department's, not marketing's",
        "Write them as the data spells them in workbook.yaml: attribution: marketing_channels: [セミナー, 展示会] (and any "
        "other marketing channel of the data), or spell the touches' channel column with the codes.")
    assert warning_sentences(found[0], "ja")[0].startswith("タッチのチャネル 'セミナー' (seminar), '展示会' (exhibition) は")
    period = parse_period("FY2024Q1", 4)   # as the setting reads them: no touch is marketing's (T1..T5)
    sec = attribution_section(wb, period.start, period.end, samples=10)
    assert sec["sourced"]["pipeline"]["count"] == 0 and sec["by_department"]["other"]["pipeline"]["count"] == 3


def test_the_fix_works(tmp_path):
    """The setting the warning suggests, with ウェブ added: no warning; D-001 (R-001: セミナー 03-20), D-002 (R-002:
    ウェブ) and D-003 (R-003: 展示会) sourced by marketing: 3 deals, ¥12,000,000 + ¥880,000 + ¥3,500,000."""
    folder = tmp_path / "d"
    shutil.copytree(CASE, folder)
    with open(folder / "workbook.yaml", "a", encoding="utf-8") as fh:
        fh.write("attribution:\n  marketing_channels: [セミナー, 展示会, ウェブ]\n")
    wb = load_workbook(folder, load_config(folder))
    assert "marketing_channels_unmatched" not in [w["code"] for w in workbook_warnings(wb)]
    period = parse_period("FY2024Q1", 4)
    sec = attribution_section(wb, period.start, period.end, samples=10)
    assert sec["sourced"]["pipeline"] == {"count": 3, "amount": 16380000.0}
    assert sec["sourced"]["won"] == {"count": 2, "revenue": 15500000.0}


def test_the_rule_case_by_case():
    assert check_marketing_channels(["seminar", "web"], [], NAMES) == []   # no touches: nothing to compare
    assert check_marketing_channels(["seminar", "web"], ["seminar", "partner"], NAMES) == []   # one listed is used
    none = check_marketing_channels(["seminar", "web"], ["partner", "sales"], NAMES)
    assert [(w.code, w.count, w.params) for w in none] == [
        ("marketing_channels_unmatched", 2, {"listed": "seminar, web", "channels": "'partner', 'sales'"})]
    assert none[0].message.startswith("attribution.marketing_channels lists seminar, web, and no touch has one of those "
                                      "channels (the touches' channels: 'partner', 'sales')")
    mixed = check_marketing_channels(["seminar", "web"], ["web", "ｾﾐﾅｰ", "partner"], NAMES)   # folded like the data's
    assert mixed[0].params == {"variant": "names", "pairs": "'ｾﾐﾅｰ' (seminar)", "suggest": "web, ｾﾐﾅｰ"}
    code = check_marketing_channels(["paid_search", "web"], ["Paid Search", "web"], {})   # the code spelled otherwise
    assert code[0].params == {"variant": "names", "pairs": "'Paid Search' (paid_search)", "suggest": "Paid Search, web"}


def test_notebook_06_lists_the_other_channels_and_says_the_warning():
    from helpers.report.session import open_session
    from helpers.views import attribution_views as av

    s = open_session(str(CASE), period="FY2024Q1", lang="ja")
    html = av.sourced_table(s, av.compute(s)).data
    assert "ほかの部門のチャネル(上記以外のタッチのチャネル)" in html
    assert "ウェブ, セミナー, 営業, 展示会" in html   # every touch channel: none is listed (sorted by code point)
    assert "workbook.yaml にデータの表記で書いてください: attribution: marketing_channels: [セミナー, 展示会]" in html


def test_a_crms_internal_value_and_its_label_are_one_channel():
    """HubSpot's deals carry ORGANIC_SEARCH, its contacts 'Organic Search': one channel key, so the loader folds them
    (channel_variants) as it folds case and width (a new user's hubspot-en-tz export, round 3)."""
    from helpers.data.channels import channel_key, fold_variants

    assert channel_key("ORGANIC_SEARCH") == channel_key("Organic  Search") == "organic search"
    mapping, (w,) = fold_variants({"organic search": {"ORGANIC_SEARCH": 2, "Organic Search": 5}}, True)
    assert mapping == {"ORGANIC_SEARCH": "Organic Search", "Organic Search": "Organic Search"}
    assert w.message == ("channel labels that differ only in case, width or underscores for spaces: 'Organic Search' "
                         "(5), 'ORGANIC_SEARCH' (2); counted as one channel 'Organic Search'")
