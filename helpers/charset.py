"""Which encoding a text file's bytes are in: one rule for the data files, the settings files and the mappings.

A byte order mark settles UTF-8 and UTF-16; valid UTF-8 is UTF-8; else charset-normalizer
(https://charset-normalizer.readthedocs.io) chooses among the code pages Excel and Windows editors write in
Japanese and Western locales, and a short file it gives no verdict on is the one candidate that decodes every
byte (the cp932 rule). Foundation layer: used by helpers.config, helpers.data.load and helpers.data.mapping.
"""
from __future__ import annotations

import codecs

from helpers.errors import Phrase, coded_error

# Encodings charset-normalizer chooses among when a file is not UTF-8: what Excel's "CSV" and "Unicode text" write
# in Japanese and Western locales. (A BOM settles UTF-8 and UTF-16 first; valid UTF-8 is UTF-8.)
DETECT_CANDIDATES = ("cp932", "cp1252", "utf_16", "euc_jp")
MAX_CHAOS = 0.2   # charset-normalizer's mess ratio above which the decoded text is refused as garbled
#: A codec's name as a message says it (the ones said in words are Phrases: English as they are, Japanese from the labels).
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": Phrase("part_encoding_name_utf8_bom"), "cp932": "cp932 (Shift_JIS)", "utf-16": "UTF-16",
                  "cp1252": Phrase("part_encoding_name_cp1252"), "euc_jp": "EUC-JP", "cp1250": Phrase("part_encoding_name_cp1250")}
FIX_ENCODING = ("Export the file again as UTF-8 (Excel: Save As > \"CSV UTF-8\"), or state its encoding in the mapping "
                "(encoding: cp1252, cp932, utf-16, ...).")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def detect_encoding(data: bytes, name: str = "the file") -> tuple[str, str]:
    """The codec a text file's bytes are in (a CSV export, a settings or mapping file), and how that is known: a byte
    order mark (UTF-8, UTF-16), valid UTF-8, else charset-normalizer's best guess among DETECT_CANDIDATES (how: a Phrase,
    said in either language in a message). Raises
    WorkbookError when no candidate decodes the bytes cleanly (the guess's mess ratio is over MAX_CHAOS)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", Phrase("part_encoding_bom")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", Phrase("part_encoding_bom")
    try:
        data.decode("utf-8")
        return "utf-8", Phrase("part_encoding_valid_utf8")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(data, cp_isolation=list(DETECT_CANDIDATES)).best()
    if best is None:
        # charset-normalizer gives no verdict on some short files (a few Japanese headers and dates): a candidate
        # that alone decodes every byte is the encoding (cp1252 decodes nearly anything, so it rarely stands alone).
        # UTF-16 is not one of them here: without its byte order mark (settled above) the reader refuses it anyway.
        clean = [enc for enc in DETECT_CANDIDATES if enc != "utf_16" and _decodes(data, enc)]
        if len(clean) == 1:
            return codecs.lookup(clean[0]).name, Phrase("part_encoding_only_candidate")
    if best is None or best.chaos > MAX_CHAOS:
        raise coded_error("encoding_unknown", name, candidates=", ".join(DETECT_CANDIDATES))
    return codecs.lookup(best.encoding).name, Phrase("part_encoding_detected")
