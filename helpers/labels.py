"""The one label table (helpers/labels.yaml): every user-facing string in en and ja."""
from __future__ import annotations

import re
from functools import lru_cache

import yaml

from helpers.paths import LABELS_FILE

LANGUAGES = ("en", "ja")


class _LabelLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """LibYAML's safe loader (when PyYAML has it: about 7x faster than the pure-Python one; the table is read in
    every notebook's kernel) with YAML 1.2 booleans, as helpers.yamlfile.Yaml12Loader: a text such as `Yes`, `no`
    or `off` stays text, never becomes True/False."""


_LabelLoader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:bool"] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_LabelLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


@lru_cache(maxsize=1)
def label_table() -> dict[str, dict[str, str]]:
    """All labels: {key: {"en": ..., "ja": ...}} (read once from labels.yaml; YAML 1.2 booleans)."""
    with open(LABELS_FILE, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LabelLoader)  # noqa: S506 - a safe loader (CSafeLoader / SafeLoader)


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


#: An owner's pseudonym as the loader writes it (helpers.data.load: 'Owner 01', ...).
_OWNER_PSEUDONYM = re.compile(r"Owner (\d+)")


def label_or_value(value: str, lang: str = "en", names: dict[str, dict[str, str]] | None = None) -> str:
    """The label for a data value that has one, else the value itself: its display name in `lang` from `names`
    ({value: {lang: name}}, e.g. the setting labels.channels as helpers.config.Config.channel_names), else the label
    table's (e.g. 'unknown', 'sales'; an owner's pseudonym 'Owner 01' in the report's language, 担当者01)."""
    if names and isinstance(value, str) and lang in names.get(value, {}):
        return names[value][lang]
    if isinstance(value, str):
        pseudonym = _OWNER_PSEUDONYM.fullmatch(value)
        if pseudonym:
            return t("owner_pseudonym", lang).format(n=pseudonym.group(1))
        if has_label(value):
            return t(value, lang)
    return value


def scoped(key: str, scope: str, lang: str = "en") -> str:
    """The label of `key` with its scope (label ``scoped_<scope>``: this_period, period_leads, last_365_days,
    mature_cohorts, all_history), e.g. "Win rate, last 365 days": one label, one definition (docs/glossary.md)."""
    own = f"{key}_{scope}"   # a label whose unit must stay last: "Mean cycle of won deals, this period (days)"
    return t(own, lang) if has_label(own) else t(f"scoped_{scope}", lang).format(label=t(key, lang))
