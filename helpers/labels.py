"""The one label table (helpers/labels.yaml): every user-facing string in en and ja."""
from __future__ import annotations

from functools import lru_cache

import yaml

from helpers.paths import LABELS_FILE

LANGUAGES = ("en", "ja")


@lru_cache(maxsize=1)
def label_table() -> dict[str, dict[str, str]]:
    """All labels: {key: {"en": ..., "ja": ...}} (read once from labels.yaml)."""
    with open(LABELS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def t(key: str, lang: str = "en") -> str:
    """The label for `key` in `lang`; an unknown key or language is an error, never a silent fallback."""
    if lang not in LANGUAGES:
        raise KeyError(f"unknown language {lang!r}; use one of {LANGUAGES}")
    table = label_table()
    if key not in table:
        raise KeyError(f"no label '{key}' in helpers/labels.yaml; add it with both en and ja texts")
    return table[key][lang]


def has_label(key: str) -> bool:
    """True when the label table has `key`."""
    return key in label_table()


def label_or_value(value: str, lang: str = "en") -> str:
    """The label for a data value that has one (e.g. 'unknown', 'sales'), else the value itself."""
    return t(value, lang) if isinstance(value, str) and has_label(value) else value
