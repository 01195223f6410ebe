"""Workbook settings: documented defaults (helpers/default_config.yaml) merged with user files."""
from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import zoneinfo
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.errors import ConfigError, Phrase, PhraseList, WorkbookError, coded_error
from helpers.paths import DEFAULT_CONFIG_FILE
from helpers.yamlfile import read_yaml

DATA_FOLDER_CONFIG = "workbook.yaml"
#: How a settings source names the data's currency layer (ingest_report.json (currency of the data)); a report shows
#: it in its language (label setting_data_currency, helpers.report.index_page.setting_value).
DATA_CURRENCY_NOTE = " (currency of the data)"
LANGUAGES = ("en", "ja")


@dataclass(frozen=True)
class Config:
    """Validated settings; `raw` keeps the merged mapping (for the run's settings record)."""

    fiscal_year_start_month: int
    language: str
    currency_code: str
    currency_symbol: str
    currency_decimals: int
    timezone: str
    as_of: pd.Timestamp | None
    target_industries: tuple[str, ...]
    target_company_sizes: tuple[str, ...]
    sla_hours: float
    pseudonymize_owners: bool
    stale_open_days: int
    velocity: dict[str, Any]
    checklist_categories: dict[str, tuple[int, ...]]
    checklist_items: dict[int, dict[str, str]]
    initiatives_catalog: dict[str, dict[str, Any]]
    normalize_channels: bool = True
    segment_order: dict[str, tuple[str, ...]] = field(default_factory=dict)
    lead_quality: dict[str, Any] = field(default_factory=dict)   # typed by helpers.settings_schema; columns checked against the data in helpers.metrics.lead_section
    sources: tuple[str, ...] = ()
    currency_rates: tuple[tuple[str, Any, Any], ...] = ()  # (code, Decimal rate to currency_code, valid_from date or None)
    #: Attribution settings (notebook 06): lookback_days, half_life_days, marketing_channels, bootstrap_samples.
    attribution: dict[str, Any] = field(default_factory=dict)
    #: Display names of channels the settings give (setting labels.channels): {data spelling: {"en": name, "ja":
    #: name}}, a language without a name left out. The names the warning about a channel no row has checks;
    #: :attr:`channel_names` adds the shipped names of the default channel codes.
    settings_channel_names: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The settings file that named each channel of `settings_channel_names` (for that warning).
    channel_names_from: dict[str, str] = field(default_factory=dict, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @functools.cached_property
    def channel_names(self) -> dict[str, dict[str, str]]:
        """Display names of channels, what every table, chart and sentence shows: {data spelling: {"en": name, "ja":
        name}}, the shipped names of the default channel codes (:func:`shipped_channel_names`) with
        `settings_channel_names` over them language by language; a channel or language without a name shows the
        data's spelling. Display only: data and metrics.json keep the spelling. (Read from the label table on first
        use, so a run that shows nothing does not parse it.)"""
        out = shipped_channel_names()
        for key, shown in self.settings_channel_names.items():
            out[key] = {**out.get(key, {}), **shown}
        return out

    def category_of_item(self, item: int) -> str | None:
        """The checklist category an item belongs to (None if it is in none)."""
        for name, items in self.checklist_categories.items():
            if item in items:
                return name
        return None


def lead_quality_columns(settings: dict | None) -> list[str]:
    """The lead columns the ``lead_quality`` settings name (attributes, then the MQL rule's columns), each once."""
    settings = settings or {}
    names = [a if isinstance(a, str) else a.get("column") for a in settings.get("attributes") or []]

    def walk(rule):
        if isinstance(rule, dict):
            if "column" in rule:
                names.append(rule["column"])
            for part in rule.get("any", []) + rule.get("all", []):
                walk(part)
    walk(settings.get("mql_rule"))
    return list(dict.fromkeys(str(n) for n in names if n))


def _read_yaml(path: Path) -> dict:
    """A settings file's mapping, read by helpers.yamlfile (size cap, encoding detection, no aliases, merge keys or
    duplicate keys); {} when it is empty. ConfigError naming the file, the line and a fix."""
    path = Path(path)
    if not path.exists():
        raise coded_error("settings_missing", None, cls=ConfigError, path=str(path))
    try:
        data = read_yaml(path, str(path))
    except WorkbookError as exc:   # the same error, as a settings error (its code kept: said in Japanese under --lang ja)
        raise ConfigError(exc.message, exc.fix, code=exc.code, params=exc.params) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise coded_error("settings_not_mapping", str(path), cls=ConfigError, kind=type(data).__name__)
    return data


def _defaults() -> dict:
    """The shipped defaults (helpers/default_config.yaml) as a new mapping: the file is parsed once per process and
    version of the file (its size and modification time), not once per notebook (~17 ms each)."""
    stat = DEFAULT_CONFIG_FILE.stat()
    return copy.deepcopy(_parsed_defaults(DEFAULT_CONFIG_FILE, stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=1)
def _parsed_defaults(path: Path, _mtime_ns: int, _size: int) -> dict:
    return _read_yaml(path)


def _merge(base: dict, override: dict, source: str, prefix: str = "") -> dict:
    """Merge `override` into a copy of `base` key by key; unknown keys are errors."""
    out = copy.deepcopy(base)
    free_form = {"checklist.items", "initiatives_catalog", "checklist.categories", "target", "labels.channels"}
    for key, value in override.items():
        dotted = f"{prefix}{key}"
        if key not in base and prefix.rstrip(".") not in free_form | {"segment_order"}:
            known = ", ".join(sorted(str(k) for k in base))
            raise coded_error("settings_unknown", str(source), cls=ConfigError, name=dotted, known=known)
        if isinstance(value, dict) and isinstance(base.get(key), dict) and dotted not in free_form:
            out[key] = _merge(base[key], value, source, f"{dotted}.")
        else:
            out[key] = value
    return out


DOLLARS = ("USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD", "MXN")  # currencies written with '$' alone


def currency_symbol(code: str) -> str:
    """The usual symbol of an ISO 4217 currency (USD $, JPY ¥, GBP £, EUR €; CLDR data via babel)."""
    from babel.numbers import get_currency_symbol

    return get_currency_symbol(code, locale="en")


def currency_decimals(code: str) -> int:
    """The decimals a currency's amounts are shown with (JPY 0, USD 2; ISO 4217 minor units via babel)."""
    from babel.numbers import get_currency_precision

    return int(get_currency_precision(code))


def _data_currency(data_dir) -> dict | None:
    """The currency a data folder's amounts are in, as helpers.data.ingest recorded it ({code, how}), or None."""
    import json

    if data_dir is None:
        return None
    path = Path(data_dir) / "ingest_report.json"
    if not path.is_file():
        return None
    try:
        cur = json.loads(path.read_text(encoding="utf-8")).get("currency")
    except (ValueError, AttributeError):
        return None
    return cur if isinstance(cur, dict) and cur.get("code") else None


def _currency_how(data_currency: dict):
    """How the ingest knew the data's currency, as its ingest_report.json says it (in either language when it recorded
    both: helpers.errors.recorded)."""
    from helpers.errors import recorded

    return recorded(data_currency, "how", "ingest_report.json")


def _require(cond: bool, source: str, code: str, variant: str = "", **params) -> None:
    """A coded ConfigError ``<source>: <sentence>`` (ERROR_CODES `code` and `variant`, said in the settings' language)
    unless `cond`."""
    if not cond:
        raise coded_error(code, source, variant, cls=ConfigError, **params)


def check_settings_path(path: str | Path | None) -> None:
    """ConfigError (coded settings_is_folder) when the settings path given with --config is a folder: it is the
    settings that are wrong, never the output folder the runner would otherwise blame."""
    if path is None or not Path(path).is_dir():
        return
    from helpers.errors import coded_error

    inside = Path(path) / DATA_FOLDER_CONFIG
    raise coded_error("settings_is_folder", str(path), cls=ConfigError,
                      example=str(inside) if inside.is_file() else "my_settings.yaml")


def data_folder_config(data_dir: str | Path | None) -> Path | None:
    """The data folder's settings file (workbook.yaml, in any case: WORKBOOK.YAML), or None; a coded WorkbookError
    (same_table_files) when two spellings are there."""
    from helpers.storage import one_file_named

    return None if data_dir is None else one_file_named(Path(data_dir), [DATA_FOLDER_CONFIG], DATA_FOLDER_CONFIG)


def stated_language(data_dir: str | Path | None, path: str | Path | None = None) -> str | None:
    """The language (en or ja) the settings state: the file given with --config (`path`), else the data folder's
    workbook.yaml, as :func:`load_config` takes them; None when neither states one (a file that cannot be read
    states none: its own error is then said in the locale's language). For the messages a command says before, or
    instead of, reading the settings: the rule is the report's (README, "Language")."""
    try:
        files = [Path(path)] if path else []
        folder = data_folder_config(data_dir) if data_dir is not None and Path(data_dir).is_dir() else None
        files += [folder] if folder is not None else []
        for f in files:
            settings = _read_yaml(f) if f.is_file() else None   # load_config's reader: a cp932 file states its language
            if isinstance(settings, dict) and settings.get("language") in LANGUAGES:
                return settings["language"]
    except Exception:  # noqa: BLE001 - any unreadable file: the locale decides, and the file's error is said
        return None
    return None


def load_config(data_dir: str | Path | None = None, path: str | Path | None = None,
                overrides: dict | None = None, data_currency: bool = True) -> Config:
    """Defaults, then the currency of the data (`data_dir/ingest_report.json`, unless `data_currency` is False),
    then `data_dir/workbook.yaml` if present, then `path`, then `overrides`. ConfigError when a settings file
    names another currency than the data's."""
    check_settings_path(path)
    merged = _defaults()
    sources = [str(DEFAULT_CONFIG_FILE)]
    layers: list[tuple[str, dict]] = []
    folder_settings = data_folder_config(data_dir)
    if folder_settings is not None:
        layers.append((str(folder_settings), _read_yaml(folder_settings)))
    if path is not None:
        layers.append((str(path), _read_yaml(Path(path))))
    if overrides:
        layers.append(("overrides", {k: v for k, v in overrides.items() if v is not None}))
    data_currency = _data_currency(data_dir) if data_currency else None
    if data_currency is not None:
        stated = [(src, layer["currency"]["code"]) for src, layer in layers
                  if isinstance(layer.get("currency"), dict) and layer["currency"].get("code")]
        code = data_currency["code"]
        if stated and data_currency.get("assumed") == "$" and str(stated[-1][1]).upper() in DOLLARS:
            code = str(stated[-1][1]).upper()  # '$' alone in the export: the settings say which dollar
        if stated and str(stated[-1][1]).upper() != code:
            raise coded_error("data_currency_differs", stated[-1][0], cls=ConfigError, stated=stated[-1][1],
                              folder=str(data_dir), data_code=code, how=_currency_how(data_currency))
        layers.insert(0, (f"{Path(data_dir) / 'ingest_report.json'}{DATA_CURRENCY_NOTE}",
                          {"currency": {"code": code, "symbol": currency_symbol(code), "decimals": currency_decimals(code)}}))
    for source, layer in layers:
        merged = _merge(merged, layer, source)
        sources.append(source)
    every = [(str(DEFAULT_CONFIG_FILE), {}), *layers]
    as_of_from = _setter("as_of", every)   # --as-of is said as the option it is, before the settings files' problems
    if as_of_from == "the command line":
        _as_of_setting(merged.get("as_of"), as_of_from)
    check_schema(merged, every)
    _as_of_setting(merged.get("as_of"), as_of_from, lambda: _typed("as_of", every))  # named by the file that set it
    config = _build(merged, " + ".join(Path(s).name for s in sources), tuple(sources))
    named_in = {str(k): (Path(src).name if src != "overrides" else Phrase("settings_from_command_line"))
                for src, layer in layers for k in ((layer.get("labels") or {}).get("channels") or {})}
    return replace(config, channel_names_from=named_in)


#: The label table's keys of the shipped channel names: default_channel_<code> (helpers/labels.yaml).
SHIPPED_CHANNEL_PREFIX = "default_channel_"


def shipped_channel_names() -> dict[str, dict[str, str]]:
    """The display names the workbook ships for the channel codes its default settings list
    (attribution.marketing_channels: web, ad, ..., webinar, content), as {code: {"en": name, "ja": name}} from the
    label table's ``default_channel_<code>`` labels (English keeps the code). Not the user's names: a data set without
    such a channel is no warning (helpers.data.channels.check_channel_names checks only the settings' names)."""
    from helpers.labels import label_table

    return {key[len(SHIPPED_CHANNEL_PREFIX):]: dict(names) for key, names in label_table().items()
            if key.startswith(SHIPPED_CHANNEL_PREFIX)}


def _channel_names(names: dict) -> dict[str, dict[str, str]]:
    """labels.channels as {data spelling: {lang: display name}}: a plain name serves both languages, a mapping
    names each language it lists (typed by helpers.settings_schema)."""
    out = {}
    for key, value in (names or {}).items():
        shown = {lang: value for lang in LANGUAGES} if isinstance(value, str) else \
            {lang: str(value[lang]) for lang in LANGUAGES if value.get(lang)}
        out[str(key)] = {lang: " ".join(str(text).split()) for lang, text in shown.items()}
    return out


def iso_currency_code(text: str) -> str | None:
    """`text` as the ISO 4217 code it spells, in any case and trimmed ('usd' -> 'USD': one reading only; CLDR's list
    via babel), else None ('円', 'Yen', the typo 'JYP'). The one rule of the settings (currency.code, currency.rates)
    and of the data's currency marks (helpers.data.values)."""
    from babel.numbers import list_currencies

    upper = text.strip().upper()
    return upper if upper in list_currencies() else None


def _iso_code(code: str, src: str) -> str:
    """currency.code as its ISO 4217 code (:func:`iso_currency_code`); ConfigError for anything else: the reports
    would name a currency no one has (the ingest refuses such a data cell too)."""
    iso = iso_currency_code(code)
    _require(iso is not None, src, "setting_value", "currency_code", got=repr(code))
    return iso


def _currency_rates(rows, code: str, src: str) -> tuple:
    """currency.rates as ((code, Decimal rate, valid_from date or None), ...); ConfigError on a malformed row."""
    import datetime as dt
    from decimal import Decimal

    _require(isinstance(rows, list), src, "currency_rates", "list")
    out = []
    for i, row in enumerate(rows):
        where = f"currency.rates[{i}]"
        _require(isinstance(row, dict) and set(row) <= {"currency", "rate", "valid_from"} and "currency" in row and "rate" in row,
                 src, "currency_rates", "row", where=where, got=repr(row))
        cur = iso_currency_code(str(row["currency"]))
        _require(cur is not None and cur != code, src, "currency_rates", "currency", where=where, settings_code=code,
                 got=repr(row["currency"]))
        rate = row["rate"]
        _require(isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0, src, "currency_rates", "rate",
                 where=where, got=repr(rate))
        since = row.get("valid_from")
        if since is not None:
            try:
                since = dt.date.fromisoformat(str(since))
            except ValueError:
                raise coded_error("currency_rates", src, "valid_from", cls=ConfigError, where=where, got=repr(since)) from None
        out.append((cur, Decimal(str(rate)), since))
    return tuple(out)


def _plain(value):
    """The settings as JSON Schema sees them: string keys, dates as ISO text, non-finite numbers as their YAML text."""
    import datetime as dt
    import math

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    return value


def _setter(key: str, layers: list[tuple[str, dict]]) -> str:
    """The settings file that set `key` (dotted): the last layer holding it, else the defaults."""
    parts = key.split(".")
    for source, layer in reversed(layers):
        node, found = layer, True
        for part in parts[:2]:  # top-level key and its first sub-key are enough to tell the file
            if isinstance(node, dict) and (part in node or (part.isdigit() and int(part) in node)):
                node = node[part] if part in node else node[int(part)]
            else:
                found = part != parts[0] and node is not layer
                break
        if found:
            return Path(source).name if source != "overrides" else "the command line"
    return Path(layers[0][0]).name


def _typed(key: str, layers: list[tuple[str, dict]]) -> str | None:
    """The value of `key` as written in the settings file that set it (helpers.yamlfile.typed_text), None for the
    command line and the defaults."""
    from helpers.yamlfile import typed_text

    name = _setter(key, layers)
    source = next((src for src, _ in reversed(layers) if Path(src).name == name and Path(src).is_file()), None)
    return None if source is None or len(layers) < 2 or source == layers[0][0] else typed_text(source, key)


def check_schema(merged: dict, layers: list[tuple[str, dict]]) -> None:
    """Validate the merged settings against helpers.settings_schema; one ConfigError listing every problem."""
    from helpers.settings_schema import describe, errors, key_of

    found = errors(_plain(merged))
    if not found:
        return
    said = []
    for err in found:
        key = key_of(err)
        what, fix = describe(err, _typed(key, layers))
        setter = _setter(key, layers)
        said.append({"setter": Phrase("settings_from_command_line") if setter == "the command line" else setter,
                     "key": key, "what": what, "fix": fix})
    if len(found) == 1:
        raise coded_error("setting_invalid", None, "" if said[0]["fix"] else "no_fix", cls=ConfigError, **said[0])
    lines = [Phrase("setting_invalid_line_fix" if one["fix"] else "setting_invalid_line", **one) for one in said]
    raise coded_error("settings_invalid", None, cls=ConfigError, count=len(found), lines=PhraseList(lines, "\n  - "))


def _iso_date(value) -> pd.Timestamp:
    """A snapshot date read only as ISO YYYY-MM-DD (or a YAML date): a day-first or month-first form such as
    15/01/2026 or 01/02/2026 is refused, never guessed; ValueError otherwise."""
    if isinstance(value, (dt.date, dt.datetime)):
        return pd.Timestamp(value).normalize()
    text = str(value).strip()
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return pd.Timestamp(text).normalize()


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _as_of_setting(as_of, src: str, typed=None) -> pd.Timestamp | None:
    """The as_of setting as a day (None: the latest date in the data); a coded ConfigError (as_of_invalid) naming `src`
    unless YYYY-MM-DD: set on the command line (`src` "the command line"), the fix is the option --as-of, else the
    setting as_of:; the value as typed (`typed`: a function giving it as the settings file has it, else None), and
    the ISO form of a year-first date such as 2026/09/30 or 令和8年9月30日 when there is one."""
    if as_of is not None:
        try:
            as_of = _iso_date(as_of)
        except (ValueError, TypeError):
            from helpers.errors import coded_error

            typed = (typed() if typed else None) or str(as_of).strip()
            variant = "command_line" if src == "the command line" else ""
            no_day = _no_such_day(typed)
            if no_day is not None:   # 2024-02-30: the form is right, the day does not exist
                raise coded_error("as_of_invalid", src, f"{variant}_no_day".lstrip("_"), cls=ConfigError, typed=typed,
                                  **no_day) from None
            raise coded_error("as_of_invalid", src, variant, cls=ConfigError,
                              typed=typed, example=_iso_example(typed)) from None
    return as_of


#: Year-first dates (2026/09/30, 2026.9.30, 2026年9月30日) and Japanese era dates (令和8年9月30日, 平成31年4月1日).
_YEAR_FIRST = re.compile(r"(\d{4})\s*[/.年-]\s*(\d{1,2})\s*[/.月-]\s*(\d{1,2})\s*日?")
_ERA_DATE = re.compile(r"(令和|平成)\s*(\d{1,2}|元)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_ERA_START = {"令和": 2018, "平成": 1988}   # year 1 of the era = this + 1


def _no_such_day(typed: str) -> dict | None:
    """For a date in the right form whose day its month does not have (2024-02-30, 2025/04/31): ``{month, days,
    last}`` (2024-02, 29, 2024-02-29); None otherwise."""
    import calendar

    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", typed.strip())
    if not m or not 1 <= int(m[2]) <= 12:
        return None
    year, month, day = map(int, m.groups())
    days = calendar.monthrange(year, month)[1]
    if 1 <= day <= days:
        return None
    return {"month": f"{year:04d}-{month:02d}", "days": days, "last": f"{year:04d}-{month:02d}-{days:02d}"}


def _iso_example(typed: str) -> str:
    """The ISO form of a date typed year-first or in a Japanese era (the example of a fix), else 2025-12-31."""
    parts = None
    if (m := _YEAR_FIRST.fullmatch(typed)):
        parts = tuple(map(int, m.groups()))
    elif (m := _ERA_DATE.fullmatch(typed)):
        parts = (_ERA_START[m[1]] + (1 if m[2] == "元" else int(m[2])), int(m[3]), int(m[4]))
    try:
        return dt.date(*parts).isoformat() if parts else "2025-12-31"
    except ValueError:
        return "2025-12-31"


def _check_timezone(name, src: str) -> None:
    """ConfigError naming `src` unless `name` is an IANA time zone this machine knows."""
    try:
        zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise coded_error("timezone_unknown", src, cls=ConfigError, name=repr(name)) from None


def _checklist_categories(cats: dict, src: str) -> dict[str, tuple[int, ...]]:
    """checklist.categories as {category: item numbers}; ConfigError naming `src` for a category that is not a list
    of item numbers 1-15 or an item in two categories."""
    categories: dict[str, tuple[int, ...]] = {}
    seen: set[int] = set()
    for name, items in cats.items():
        _require(isinstance(items, list) and all(isinstance(i, int) and 1 <= i <= 15 for i in items), src,
                 "setting_value", "categories_items", name=name)
        dup = seen.intersection(items)
        _require(not dup, src, "setting_value", "categories_twice", items=str(sorted(dup)))
        seen.update(items)
        categories[str(name)] = tuple(items)
    return categories


def _build(m: dict, src: str, sources: tuple[str, ...]) -> Config:
    """The Config of the merged settings `m` (`sources`: the files they came from), each value checked: ConfigError
    naming `src` and the fix for the first value that fails its check."""
    fy = m["fiscal_year_start_month"]
    _require(isinstance(fy, int) and not isinstance(fy, bool) and 1 <= fy <= 12, src, "setting_value", "fiscal_year", got=repr(fy))
    lang = m["language"]
    _require(lang in LANGUAGES, src, "setting_value", "language", languages=str(LANGUAGES), got=repr(lang))
    cur = m["currency"]
    dec = cur.get("decimals")
    _require(isinstance(dec, int) and not isinstance(dec, bool) and 0 <= dec <= 4, src, "setting_value", "decimals", got=repr(dec))
    code = _iso_code(str(cur.get("code", "")), src)
    rates = _currency_rates(cur.get("rates") or [], code, src)
    as_of = _as_of_setting(m.get("as_of"), src)
    _check_timezone(m["timezone"], src)
    target = m.get("target") or {}
    for key in ("industries", "company_sizes"):
        val = target.get(key) or []
        _require(isinstance(val, list), src, "setting_value", "target_list", key=key)
    hours = m["sla"]["follow_up_hours"]
    _require(isinstance(hours, (int, float)) and not isinstance(hours, bool) and hours > 0, src, "setting_value", "sla_hours",
             got=repr(hours))
    stale = m["stale_open_days"]
    _require(isinstance(stale, int) and stale > 0, src, "setting_value", "stale_days", got=repr(stale))
    vel = dict(m["velocity"])
    _require(isinstance(vel.get("window_days"), int) and vel["window_days"] > 0, src, "setting_value", "window_days",
             got=repr(vel.get("window_days")))
    categories = _checklist_categories(m["checklist"]["categories"], src)
    normalize = (m.get("channels") or {}).get("normalize", True)
    _require(isinstance(normalize, bool), src, "setting_value", "normalize", got=repr(normalize))
    order = m.get("segment_order") or {}  # typed by helpers.settings_schema
    items = {int(k): {"en": str(v.get("en", "")), "ja": str(v.get("ja", ""))} for k, v in m["checklist"]["items"].items()}
    _require(sorted(items) == list(range(1, 16)), src, "setting_value", "checklist_items")
    return Config(
        fiscal_year_start_month=fy, language=lang, currency_code=code,
        currency_symbol=str(cur.get("symbol", "")), currency_decimals=dec, timezone=str(m["timezone"]),
        as_of=as_of, target_industries=tuple(str(x) for x in target.get("industries") or []),
        target_company_sizes=tuple(str(x) for x in target.get("company_sizes") or []),
        sla_hours=float(hours), pseudonymize_owners=bool(m["privacy"]["pseudonymize_owners"]),
        stale_open_days=stale, velocity=vel, checklist_categories=categories, checklist_items=items,
        initiatives_catalog=dict(m["initiatives_catalog"]), normalize_channels=normalize, sources=sources,
        currency_rates=rates, raw=m, attribution=dict(m.get("attribution") or {}),
        segment_order={str(k): tuple(str(x) for x in v) for k, v in order.items()},
        lead_quality=dict(m.get("lead_quality") or {}),
        settings_channel_names=_channel_names((m.get("labels") or {}).get("channels")),
    )
