"""The scan's shortcut past the mojibake search (helpers.data.fastcsv._may_hold_mojibake) never skips text MOJIBAKE matches.

The search (RE2 over each block) runs only on blocks the shortcut says may hold mojibake; these tests check the
shortcut says so for every alternative of the pattern, that text it clears has no match (hypothesis over mixed
Latin, Japanese and half-width text). tests/test_fastcsv.py checks the files with mojibake (in a first or a later
block) are still refused.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.data.fastcsv import MOJIBAKE, _may_hold_mojibake

#: One example of each alternative of MOJIBAKE (UTF-8 read as Latin-1 / cp1252, or as cp932, and U+FFFD).
EXAMPLES = ("Ã©", "Â\u00a0", "Â°", "â€™", "ï»¿", "ã‚", "ã\u0081", "縺ｮ", "繧ｯ", "譁ｰ", "蜿ｯ", "縺繧", "繝繝", "\ufffd")


def shortcut(text: str) -> bool:
    data = bytearray(text.encode("utf-8"))
    return _may_hold_mojibake(data, 0, len(data))


def test_every_alternative_is_searched():
    for example in EXAMPLES:
        assert MOJIBAKE.search(example), example
        assert shortcut(f"lead,{example},x\n"), example


def test_clean_japanese_text_skips_the_search():
    assert not shortcut("L00001,2023-04-01,ホワイトペーパー: MA比較表,IT・通信,組織,続く,縦\n")
    assert shortcut("L00001,縺\n")   # one of the three characters alone: searched (the search says no match)
    assert not MOJIBAKE.search("L00001,縺\n")


ALPHABET = st.sampled_from(list("aZ09,. \n'\"éÃÂâïã€™»¿‚ｮｯ｡ﾟ縺繧繝譁蜿組織縦続の日本語ー・") + ["\ufffd", "\u0080", "\u00a0"])


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=40))
def test_cleared_text_has_no_match(text):
    if not shortcut(text):
        assert MOJIBAKE.search(text) is None

