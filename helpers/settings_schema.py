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
class Text:
    """A text of the label table (helpers/labels.yaml, key ``schema_<name>``) with its params, as an x-expect or x-fix
    holds it: said (a helpers.errors.Phrase, either language) only when a setting is refused, so building the schema
    reads no label. A param may be a Text."""

    __slots__ = ("key", "params")

    def __init__(self, name: str, /, **params):
        self.key, self.params = f"schema_{name}", params

    def phrase(self):
        """The text as a Phrase (English as str; :meth:`~helpers.errors.Phrase.in_language` for Japanese)."""
        from helpers.errors import Phrase

        return Phrase(self.key, **{k: v.phrase() if isinstance(v, Text) else v for k, v in self.params.items()})

    def __str__(self) -> str:
        return str(self.phrase())

    def __repr__(self) -> str:
        return f"Text({self.key!r}, {self.params!r})"


def label(key: str, **params) -> Text:
    """A :class:`Text` of the label `key` itself (a text the label table has under another name: an error's fix)."""
    text = Text("", **params)
    text.key = key
    return text


def example(text: str) -> Text:
    """The fix "For example <text>." (text the same in both languages)."""
    return Text("fix_example", example=text)


def write(text: str) -> Text:
    """The fix "Write <text>." (text the same in both languages)."""
    return Text("fix_write", example=text)


def integer(minimum: int | None = None, maximum: int | None = None, fix: Text | str = "") -> Schema:
    """A whole number (YAML 5, not 5.0 or "5"), optionally bounded (inclusive)."""
    s: Schema = {"type": "integer"}
    expect = Text("integer")
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    if minimum is not None and maximum is not None:
        expect = Text("integer_range", minimum=minimum, maximum=maximum)
    elif minimum is not None:
        expect = Text("integer_min", minimum=minimum)
    return s | {"x-expect": expect, "x-fix": fix}


def number(exclusive_minimum: float | None = None, fix: Text | str = "") -> Schema:
    """A finite number (whole or decimal)."""
    s: Schema = {"type": "number"}
    expect = Text("number")
    if exclusive_minimum is not None:
        s["exclusiveMinimum"] = exclusive_minimum
        expect = Text("number_above", minimum=f"{exclusive_minimum:g}")
    return s | {"x-expect": expect, "x-fix": fix}


def string(min_length: int = 0, fix: Text | str = "", expect: Text | None = None) -> Schema:
    """Text (quote it in YAML if it could be read as something else)."""
    return {"type": "string", "minLength": min_length, "x-expect": expect or Text("text"), "x-fix": fix}


def boolean(fix: Text | None = None) -> Schema:
    return {"type": "boolean", "x-expect": Text("true_false"), "x-fix": fix or Text("fix_true_false")}


def enum(values: list, fix: Text | str = "") -> Schema:
    return {"enum": list(values), "x-expect": Text("one_of", values=", ".join(map(str, values))), "x-fix": fix}


def nullable(schema: Schema) -> Schema:
    """`schema` or null (YAML `null` or an empty value)."""
    return {"anyOf": [{"type": "null"}, schema], "x-expect": Text("or_null", expect=schema.get("x-expect") or Text("a_value")),
            "x-fix": schema.get("x-fix", "")}


def array(items: Schema, fix: Text | str = "", expect: Text | None = None) -> Schema:
    return {"type": "array", "items": items, "x-fix": fix,
            "x-expect": expect or Text("list_of", items=items.get("x-expect") or Text("values"))}


def obj(properties: dict[str, Schema], required: list[str] | None = None, fix: Text | str = "",
        expect: Text | None = None) -> Schema:
    """A mapping with exactly these keys (all optional unless `required`)."""
    keys = ", ".join(properties)
    return {"type": "object", "properties": properties, "additionalProperties": False, "required": list(required or []),
            "x-expect": expect or Text("mapping_keys", keys=keys), "x-fix": fix}


def mapping_of(values: Schema, key_pattern: str | None = None, fix: Text | str = "", expect: Text | None = None,
               key_expect: Text | None = None) -> Schema:
    """A mapping whose keys the user chooses (optionally matching `key_pattern`), each value of schema `values`."""
    s: Schema = {"type": "object", "additionalProperties": values, "x-fix": fix,
                 "x-expect": expect or Text("mapping_of", values=values.get("x-expect"))}
    if key_pattern:
        s["propertyNames"] = {"pattern": key_pattern, "x-expect": key_expect or Text("valid_name"), "x-fix": fix}
    return s


RULE_OPS = [">=", ">", "<=", "<", "==", "in"]
RULE_FIX = Text("fix_rule")


def rule(depth: int = 3) -> Schema:
    """An MQL rule: a condition {column, op, value}, or {any: [...]} / {all: [...]} of rules (nested `depth` deep)."""
    value = {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "array", "items": {"type": ["number", "string"]}}],
             "x-expect": Text("rule_value"), "x-fix": RULE_FIX}
    condition = obj({"column": string(1, RULE_FIX, Text("lead_column")),
                     "op": enum(RULE_OPS, Text("fix_use_one_of", values=", ".join(RULE_OPS))), "value": value},
                    required=["column", "op", "value"], fix=RULE_FIX, expect=Text("condition"))
    if depth <= 1:
        return condition
    inner = rule(depth - 1)
    group = [obj({key: array(inner, RULE_FIX, Text("rules"))}, required=[key], fix=RULE_FIX, expect=Text("group", key=key))
             for key in ("any", "all")]
    return {"oneOf": [condition, *group], "x-expect": Text("rule"), "x-fix": RULE_FIX}


NAME_FIX = example("channels: {web: Web, seminar: {en: Seminar, ja: セミナー}}")
ITEM = integer(1, 15, Text("fix_item"))
IMPACT = integer(0, 2, Text("fix_impact"))

# --------------------------------------------------------------------------- the settings, one entry per top-level key
SETTINGS: dict[str, Schema] = {
    "fiscal_year_start_month": integer(1, 12, label("fix_setting_value_fiscal_year")),
    "language": enum(["en", "ja"], label("fix_setting_value_language")),
    "currency": obj({
        "code": string(1, Text("fix_currency_code"), Text("currency_code")),
        "symbol": string(0, Text("fix_currency_symbol")),
        "decimals": integer(0, 4, label("fix_setting_value_decimals")),
        "rates": nullable(array(obj({
            "currency": string(3, Text("fix_rate_currency"), Text("rate_currency")),
            "rate": number(0, Text("fix_rate")),
            "valid_from": nullable(string(10, Text("fix_valid_from"), Text("date"))),
        }, required=["currency", "rate"], fix=example("{currency: EUR, rate: 1.08, valid_from: 2025-01-01}"),
            expect=Text("rate")), Text("fix_rates"), Text("rates"))),
    }, fix=write('currency: {code: JPY, symbol: "¥", decimals: 0}')),
    "timezone": string(1, Text("fix_timezone"), Text("timezone")),
    "as_of": nullable(string(10, Text("fix_as_of"), Text("date"))),
    "target": obj({
        "industries": nullable(array(string(1), Text("fix_industries"), Text("industries"))),
        "company_sizes": nullable(array(string(1), Text("fix_company_sizes"), Text("company_sizes"))),
    }, fix=write("target: {industries: [製造], company_sizes: []}")),
    "segment_order": mapping_of(array(string(0), example("company_size: [1-49, 50-299, 300-999, 1000+]"), Text("segment_values")),
                                fix=example("segment_order: {company_size: [1-49, 50-299]}"), expect=Text("segment_order")),
    "sla": obj({"follow_up_hours": number(0, example("48"))}, fix=write("sla: {follow_up_hours: 48}")),
    "channels": obj({"normalize": boolean(label("fix_setting_value_normalize"))}, fix=write("channels: {normalize: true}")),
    "labels": obj({"channels": mapping_of(
        {"anyOf": [string(1), obj({"en": string(1), "ja": string(1)}, fix=NAME_FIX, expect=Text("name_pair"))
                   | {"minProperties": 1}],
         "x-expect": Text("display_name"), "x-fix": NAME_FIX},
        fix=NAME_FIX, expect=Text("channel_names"))},
        fix=write("labels: {channels: {seminar: セミナー}}")),
    "privacy": obj({"pseudonymize_owners": boolean(Text("fix_pseudonymize"))}, fix=write("privacy: {pseudonymize_owners: true}")),
    "stale_open_days": integer(1, None, example("180")),
    "velocity": obj({
        "window_days": integer(1, None, example("90")),
        "bootstrap_samples": integer(1, None, example("2000")),
        "seed": integer(0, None, Text("fix_seed")),
        "min_closed_deals": integer(1, None, example("20")),
    }, fix=write("velocity: {window_days: 90, bootstrap_samples: 2000, seed: 20240401, min_closed_deals: 20}")),
    "attribution": obj({
        "lookback_days": integer(1, 3650, Text("fix_lookback")),
        "half_life_days": number(0, Text("fix_half_life")),
        "marketing_channels": array(string(1, Text("fix_channel_name")), Text("fix_marketing_channels"), Text("channels")),
        "bootstrap_samples": integer(10, 100000, example("1000")),
    }, fix=write("attribution: {lookback_days: 365, half_life_days: 7, marketing_channels: [web, seminar], bootstrap_samples: 1000}")),
    "checklist": obj({
        "categories": mapping_of(array(ITEM, example("strategy: [1, 2]"), Text("items")),
                                 fix=example("categories: {strategy: [1, 2], ...}")),
        "items": mapping_of(obj({"ja": string(), "en": string()}, fix=example('1: {ja: "…", en: "…"}'), expect=Text("item_texts")),
                            key_pattern=r"^(1[0-5]|[1-9])$", key_expect=Text("item_number"), fix=Text("fix_item_numbers"),
                            expect=Text("checklist_items")),
    }, fix=Text("fix_see_checklist")),
    "lead_quality": obj({
        "attributes": array({"anyOf": [string(1), obj({"column": string(1), "known": enum(["before_contact", "after_contact"],
                                                       Text("fix_known"))},
                                                      required=["column"], fix=example("{column: rating, known: after_contact}"))],
                             "x-expect": Text("attribute"), "x-fix": Text("fix_attribute")},
                            example("attributes: [web_visits, {column: rating, known: after_contact}]"), Text("lead_columns")),
        "mql_rule": nullable(rule()),
        "horizon_days": nullable(integer(1, None, Text("fix_horizon"))),
        "min_leads": integer(1, None, example("30")),
    }, fix=Text("fix_see", name="lead_quality")),
    "initiatives_catalog": mapping_of(obj({
        "ja": string(1), "en": string(1),
        "items": array(ITEM, example("items: [1, 2]"), Text("items")),
        "opportunities": IMPACT, "win_rate": IMPACT, "cycle": IMPACT,
        "difficulty": integer(1, 3, Text("fix_difficulty")),
    }, required=["ja", "en", "items", "opportunities", "win_rate", "cycle", "difficulty"],
        fix=example("{ja: 名前, en: Name, items: [1], opportunities: 1, win_rate: 1, cycle: 0, difficulty: 1}"),
        expect=Text("initiative")),
        fix=Text("fix_see", name="initiatives_catalog"), expect=Text("initiatives")),
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


def _said(text):
    """An x-expect or x-fix as a message says it: a Phrase for a :class:`Text`, else as it is ('' for none)."""
    return text.phrase() if isinstance(text, Text) else text


def describe(error: jsonschema.ValidationError, typed: str | None = None) -> tuple:
    """(what is wrong, how to fix it) for one schema error, in the workbook's words: helpers.errors.Phrase texts
    (English as str, Japanese by in_language), the fix '' when the schema gives none; `typed`: the value as written in
    the settings file, shown instead of a number YAML made of it (-5.00, not -5.0)."""
    from helpers.errors import Phrase

    schema = error.schema if isinstance(error.schema, dict) else {}
    fix = _said(schema.get("x-fix", ""))
    if error.validator == "required":
        return Phrase("schema_missing"), fix
    if error.validator == "additionalProperties":
        return Phrase("schema_not_known"), Phrase("fix_settings_unknown", known=", ".join(schema.get("properties", {})))
    if "propertyNames" in error.schema_path:
        return Phrase("schema_bad_name", expect=_said(schema.get("x-expect")) or Phrase("schema_valid_name")), fix
    expect = schema.get("x-expect")
    got = error.instance
    if got is None or isinstance(got, bool):
        shown = {None: "null", True: "true", False: "false"}[got]
    elif isinstance(got, dict):
        shown = Phrase("schema_shown_mapping")
    elif isinstance(got, list):
        shown = Phrase("schema_shown_list")
    else:
        shown = repr(got)
    if typed is not None and isinstance(got, (int, float)) and not isinstance(got, bool):
        shown = typed   # a number as written (-5.00, 1.6e+1), not as YAML made it (-5.0, 16.0)
    if expect:
        return Phrase("schema_must_be", expect=_said(expect), got=shown), fix
    return error.message, fix


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
