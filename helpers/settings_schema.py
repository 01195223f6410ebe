"""The settings schema: the type of every key of helpers/default_config.yaml, checked at load (jsonschema).

`load_config` merges the settings layers and validates the merged mapping against
`SCHEMA` (JSON Schema draft 2020-12, checked with the `jsonschema` library). Every
problem is reported at once, as the workbook's own ConfigError naming the key,
the file that set it, the value, what is expected and a fix; nothing is checked
field by field in the notebooks.

How to add a setting (one local edit here, plus its default):
1. Add the key with its documented default to helpers/default_config.yaml.
2. Add one entry to `SETTINGS` below, under the same top-level key: a JSON Schema
   for its value. Give each leaf `x-expect` (what a valid value is, read as
   "'key' must be <x-expect>") and `x-fix` (an example that works). Use the small
   builders (`integer`, `number`, `string`, `boolean`, `enum`, `array`, `obj`,
   `mapping_of`, `nullable`) so messages stay uniform. Keep one top-level entry per
   key, in the order of default_config.yaml, so parallel edits touch different lines.
3. tests/test_config.py checks that every key of default_config.yaml has a schema
   entry and that the defaults validate, so a forgotten step 2 fails there, by name.
Nested mappings are closed (`obj` sets additionalProperties: false), so a typo in a
nested key is an error too; the unknown-key message for top-level keys comes from
helpers.config (it lists the known keys).
"""
from __future__ import annotations

import sys
from typing import Any

# jsonschema registers optional format checkers at import, each importing its library if installed: the one for
# "iri" imports rfc3987_syntax, which builds its lark grammars there (about 1 CPU-second in every process that loads a
# workbook); the others (arrow through isoduration, webcolors, rfc3986_validator, ...) 0.04 CPU s more. This schema
# asserts no formats (no validator here is given a format checker), so those libraries are hidden while jsonschema is
# imported (only those not loaded yet, and only when jsonschema is not; later imports of them work as usual).
FORMAT_LIBRARIES = ("rfc3987_syntax", "rfc3987", "rfc3986_validator", "rfc3339_validator", "fqdn", "idna", "webcolors",
                    "jsonpointer", "uri_template", "isoduration")
_HIDDEN = [] if "jsonschema" in sys.modules else [name for name in FORMAT_LIBRARIES if name not in sys.modules]
for _name in _HIDDEN:
    sys.modules[_name] = None  # type: ignore[assignment]  # an ImportError, which jsonschema tolerates
try:
    import jsonschema
finally:
    for _name in _HIDDEN:
        del sys.modules[_name]

Schema = dict[str, Any]


# --------------------------------------------------------------------------- builders
def integer(minimum: int | None = None, maximum: int | None = None, fix: str = "") -> Schema:
    """A whole number (YAML 5, not 5.0 or "5"), optionally bounded (inclusive)."""
    s: Schema = {"type": "integer"}
    rng = ""
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    if minimum is not None and maximum is not None:
        rng = f" from {minimum} to {maximum}"
    elif minimum is not None:
        rng = f" of at least {minimum}"
    return s | {"x-expect": f"a whole number{rng}", "x-fix": fix}


def number(exclusive_minimum: float | None = None, fix: str = "") -> Schema:
    """A finite number (whole or decimal)."""
    s: Schema = {"type": "number"}
    if exclusive_minimum is not None:
        s["exclusiveMinimum"] = exclusive_minimum
    more = f" greater than {exclusive_minimum:g}" if exclusive_minimum is not None else ""
    return s | {"x-expect": f"a number{more}", "x-fix": fix}


def string(min_length: int = 0, fix: str = "", expect: str = "text") -> Schema:
    """Text (quote it in YAML if it could be read as something else)."""
    return {"type": "string", "minLength": min_length, "x-expect": expect, "x-fix": fix}


def boolean(fix: str = "Write true or false.") -> Schema:
    return {"type": "boolean", "x-expect": "true or false", "x-fix": fix}


def enum(values: list, fix: str = "") -> Schema:
    return {"enum": list(values), "x-expect": "one of " + ", ".join(map(str, values)), "x-fix": fix}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (YAML `null` or an empty value)."""
    return {"anyOf": [{"type": "null"}, schema], "x-expect": f"{schema.get('x-expect', 'a value')} or null",
            "x-fix": schema.get("x-fix", "")}


def array(items: Schema, fix: str = "", expect: str | None = None) -> Schema:
    return {"type": "array", "items": items, "x-expect": expect or f"a list of {items.get('x-expect', 'values')}", "x-fix": fix}


def obj(properties: dict[str, Schema], required: list[str] | None = None, fix: str = "", expect: str | None = None) -> Schema:
    """A mapping with exactly these keys (all optional unless `required`)."""
    keys = ", ".join(properties)
    return {"type": "object", "properties": properties, "additionalProperties": False, "required": list(required or []),
            "x-expect": expect or f"a mapping with the keys {keys}", "x-fix": fix}


def mapping_of(values: Schema, key_pattern: str | None = None, fix: str = "", expect: str | None = None,
               key_expect: str | None = None) -> Schema:
    """A mapping whose keys the user chooses (optionally matching `key_pattern`), each value of schema `values`."""
    s: Schema = {"type": "object", "additionalProperties": values, "x-expect": expect or f"a mapping of names to {values.get('x-expect')}",
                 "x-fix": fix}
    if key_pattern:
        s["propertyNames"] = {"pattern": key_pattern, "x-expect": key_expect or "a valid name", "x-fix": fix}
    return s


RULE_OPS = [">=", ">", "<=", "<", "==", "in"]
RULE_FIX = 'For example {column: web_visits, op: ">=", value: 5}, or {any: [...]} / {all: [...]} of such conditions.'


def rule(depth: int = 3) -> Schema:
    """An MQL rule: a condition {column, op, value}, or {any: [...]} / {all: [...]} of rules (nested `depth` deep)."""
    value = {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "array", "items": {"type": ["number", "string"]}}],
             "x-expect": "a number, a text or a list of them", "x-fix": RULE_FIX}
    condition = obj({"column": string(1, RULE_FIX, "a lead column name"), "op": enum(RULE_OPS, "Use one of: " + ", ".join(RULE_OPS) + "."),
                     "value": value}, required=["column", "op", "value"], fix=RULE_FIX,
                    expect="a condition {column, op, value}")
    if depth <= 1:
        return condition
    inner = rule(depth - 1)
    group = [obj({key: array(inner, RULE_FIX, "a list of rules")}, required=[key], fix=RULE_FIX, expect=f"{{{key}: [rules]}}")
             for key in ("any", "all")]
    return {"oneOf": [condition, *group], "x-expect": "a rule: {column, op, value}, {any: [...]} or {all: [...]}", "x-fix": RULE_FIX}


NAME_FIX = "For example channels: {web: Web, seminar: {en: Seminar, ja: セミナー}}."
ITEM = integer(1, 15, "Checklist items are numbered 1 to 15.")
IMPACT = integer(0, 2, "2 = large (◎), 1 = some (○), 0 = none.")

# --------------------------------------------------------------------------- the settings, one entry per top-level key
SETTINGS: dict[str, Schema] = {
    "fiscal_year_start_month": integer(1, 12, "Use 1 for calendar quarters or 4 for an April fiscal year."),
    "language": enum(["en", "ja"], "Set language: en or language: ja."),
    "currency": obj({
        "code": string(1, "An ISO code such as JPY or USD.", "a currency code such as JPY"),
        "symbol": string(0, 'For example symbol: "¥" (quoted).'),
        "decimals": integer(0, 4, "JPY uses 0, USD/EUR use 2."),
        "rates": nullable(array(obj({
            "currency": string(3, "A three-letter code such as USD.", "a three-letter currency code"),
            "rate": number(0, "How much of currency.code one unit is worth, e.g. 0.0066667."),
            "valid_from": nullable(string(10, "Write valid_from: 2025-01-01, or leave it out.", "a date YYYY-MM-DD")),
        }, required=["currency", "rate"], fix="For example {currency: EUR, rate: 1.08, valid_from: 2025-01-01}.",
            expect="an exchange rate {currency, rate, valid_from}"),
            "Write rates as a list such as [{currency: JPY, rate: 0.0066667}].", "a list of exchange rates")),
    }, fix="Write currency: {code: JPY, symbol: \"¥\", decimals: 0}."),
    "timezone": string(1, "An IANA zone name such as Asia/Tokyo or UTC.", "a time zone name"),
    "as_of": nullable(string(10, "Write as_of: 2025-12-31, or null for the latest date in the data.", "a date YYYY-MM-DD")),
    "target": obj({
        "industries": nullable(array(string(1), "Write industries: [製造, IT・通信]; [] means any.", "a list of industry names")),
        "company_sizes": nullable(array(string(1), "Write company_sizes: [50-299, 300-999]; [] means any.",
                                        "a list of company size bands")),
    }, fix="Write target: {industries: [製造], company_sizes: []}."),
    "segment_order": mapping_of(array(string(0), "For example company_size: [1-49, 50-299, 300-999, 1000+].",
                                      "a list of the column's values in display order"),
                                fix="For example segment_order: {company_size: [1-49, 50-299]}.",
                                expect="a mapping of segment columns to their values in display order"),
    "sla": obj({"follow_up_hours": number(0, "For example 48.")}, fix="Write sla: {follow_up_hours: 48}."),
    "channels": obj({"normalize": boolean("Write channels: {normalize: true} (the default) or false to keep every spelling apart.")},
                    fix="Write channels: {normalize: true}."),
    "labels": obj({"channels": mapping_of(
        {"anyOf": [string(1), obj({"en": string(1), "ja": string(1)}, fix=NAME_FIX, expect="{en: name, ja: name}")
                   | {"minProperties": 1}],
         "x-expect": "a display name, or {en: name, ja: name}", "x-fix": NAME_FIX},
        fix=NAME_FIX, expect="a mapping of channels (as the data spells them) to display names")},
        fix="Write labels: {channels: {seminar: セミナー}}."),
    "privacy": obj({"pseudonymize_owners": boolean("Write pseudonymize_owners: true (or false to show owners' names).")},
                   fix="Write privacy: {pseudonymize_owners: true}."),
    "stale_open_days": integer(1, None, "For example 180."),
    "velocity": obj({
        "window_days": integer(1, None, "For example 90."),
        "bootstrap_samples": integer(1, None, "For example 2000."),
        "seed": integer(0, None, "Any whole number, for example 20240401."),
        "min_closed_deals": integer(1, None, "For example 20."),
    }, fix="Write velocity: {window_days: 90, bootstrap_samples: 2000, seed: 20240401, min_closed_deals: 20}."),
    "attribution": obj({
        "lookback_days": integer(1, 3650, "For example 365 (a year before the deal was created)."),
        "half_life_days": number(0, "For example 7 (a touch a week before the close counts half)."),
        "marketing_channels": array(string(1, "A channel name as written in the data, e.g. seminar."),
                                    "Write marketing_channels: [web, seminar, whitepaper]; [] means no channel is marketing's.",
                                    "a list of channel names"),
        "bootstrap_samples": integer(10, 100000, "For example 1000."),
    }, fix="Write attribution: {lookback_days: 365, half_life_days: 7, marketing_channels: [web, seminar], bootstrap_samples: 1000}."),
    "checklist": obj({
        "categories": mapping_of(array(ITEM, "For example strategy: [1, 2].", "a list of item numbers 1-15"),
                                 fix="For example categories: {strategy: [1, 2], ...}."),
        "items": mapping_of(obj({"ja": string(), "en": string()}, fix='For example 1: {ja: "…", en: "…"}.',
                                expect="a mapping with the texts ja and en"),
                            key_pattern=r"^(1[0-5]|[1-9])$", key_expect="an item number 1-15", fix="Keep the item numbers 1-15; edit only their texts.",
                            expect="a mapping of item numbers 1-15 to their texts"),
    }, fix="See the checklist section of helpers/default_config.yaml."),
    "lead_quality": obj({
        "attributes": array({"anyOf": [string(1), obj({"column": string(1), "known": enum(["before_contact", "after_contact"],
                                                       "known is before_contact (the default) or after_contact.")},
                                                      required=["column"], fix="For example {column: rating, known: after_contact}.")],
                             "x-expect": "a column name or {column, known}", "x-fix": "For example web_visits or {column: rating, known: after_contact}."},
                            "For example attributes: [web_visits, {column: rating, known: after_contact}].",
                            "a list of lead columns"),
        "mql_rule": nullable(rule()),
        "horizon_days": nullable(integer(1, None, "For example 90, or null for the data's 90th percentile of lead -> opportunity days.")),
        "min_leads": integer(1, None, "For example 30."),
    }, fix="See lead_quality in helpers/default_config.yaml."),
    "initiatives_catalog": mapping_of(obj({
        "ja": string(1), "en": string(1),
        "items": array(ITEM, "For example items: [1, 2].", "a list of item numbers 1-15"),
        "opportunities": IMPACT, "win_rate": IMPACT, "cycle": IMPACT,
        "difficulty": integer(1, 3, "1 = easy .. 3 = hard."),
    }, required=["ja", "en", "items", "opportunities", "win_rate", "cycle", "difficulty"],
        fix="For example {ja: 名前, en: Name, items: [1], opportunities: 1, win_rate: 1, cycle: 0, difficulty: 1}.",
        expect="an initiative: {ja, en, items, opportunities, win_rate, cycle, difficulty}"),
        fix="See initiatives_catalog in helpers/default_config.yaml.", expect="a mapping of initiative names to initiatives"),
}

SCHEMA: Schema = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": SETTINGS,
    "additionalProperties": False,
}


def key_of(error: jsonschema.ValidationError) -> str:
    """The dotted settings key an error is about (`velocity.bootstrap_samples`, `initiatives_catalog.x.items.0`)."""
    path = [str(p) for p in error.absolute_path]
    if "propertyNames" in error.schema_path:
        path.append(str(error.instance))
    if error.validator == "required":
        missing = next((k for k in error.validator_value if k not in (error.instance or {})), "")
        path.append(str(missing))
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in known]
        if extra:
            path.append(str(extra[0]))
    return ".".join(path) or "(top level)"


def describe(error: jsonschema.ValidationError, typed: str | None = None) -> tuple[str, str]:
    """(what is wrong, how to fix it) for one schema error, in the workbook's words; `typed`: the value as written in
    the settings file, shown instead of a number YAML made of it (-5.00, not -5.0)."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "required":
        return "is missing", schema.get("x-fix", "")
    if error.validator == "additionalProperties":
        keys = ", ".join(schema.get("properties", {}))
        return "is not a known setting", f"Use one of: {keys} (see helpers/default_config.yaml)."
    if "propertyNames" in error.schema_path:
        return f"is not a valid name here: the names must be {schema.get('x-expect', 'valid')}", schema.get("x-fix", "")
    expect = schema.get("x-expect")
    got = error.instance
    if got is None or isinstance(got, bool):
        shown = {None: "null", True: "true", False: "false"}[got]
    elif isinstance(got, dict):
        shown = "a mapping"
    elif isinstance(got, list):
        shown = "a list"
    else:
        shown = repr(got)
    if typed is not None and isinstance(got, (int, float)) and not isinstance(got, bool):
        shown = typed   # a number as written (-5.00, 1.6e+1), not as YAML made it (-5.0, 16.0)
    if expect:
        return f"must be {expect}, got {shown}", schema.get("x-fix", "")
    return error.message, schema.get("x-fix", "")


def errors(settings: dict) -> list[jsonschema.ValidationError]:
    """Every schema error of the merged settings (JSON-compatible: string keys, dates as ISO text), in key order."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    found = list(validator.iter_errors(settings))
    # one message per key: the deepest error (anyOf / nullable produce a parent and children)
    flat: list[jsonschema.ValidationError] = []
    for err in found:
        if err.context:
            deepest = max(err.context, key=lambda e: len(e.absolute_path))
            flat.append(deepest if len(deepest.absolute_path) > len(err.absolute_path) else err)
        else:
            flat.append(err)
    return sorted(flat, key=lambda e: [str(p) for p in e.absolute_path])
