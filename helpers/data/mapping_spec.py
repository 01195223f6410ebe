"""A mapping file read and checked: the mapping objects (ColumnRule, DropRule, JoinRule, SqlSource, TableMapping,
Mapping) and :func:`load_mapping` (contract section 4; format: docs/ingest.md).

Every mistake is a `WorkbookError` with a `fix` (unknown keys, unknown canonical columns, bad date formats, ...).
Applying a mapping to export rows is helpers.data.mapping's job.

The parts live by concern, every name still importable from here: helpers.data.mapping_types (the format's keys,
tokens and flag words, and the mapping objects), helpers.data.mapping_values (single keys and values checked: names,
date formats, date orders, encodings, comparison keys) and helpers.data.mapping_parse (a table's entry, its column
rules, drop_if rules and joins). This module finds the file (a path or a shipped mapping), follows ``extends:`` and
puts the tables together.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from helpers.errors import Phrase, PhraseList, WorkbookError, coded_error
from helpers.yamlfile import Yaml12Loader, read_yaml
from helpers.data.mapping_types import (  # noqa: F401 - re-exported: every name stays importable from here
    DATE_KINDS, DATE_TOKENS, SALESFORCE_FORMAT, EXCEL_EPOCH, MAX_SHOWN, TOP_KEYS, TABLE_KEYS, JOIN_KEYS, SQL_KEYS,
    COLUMN_KEYS, FLAG_KEYS, DROP_OPS, DROP_KEYS, ENCODING_ALIASES, TRUE_FLAGS, FALSE_FLAGS, FIX_DATE_FORMAT, ColumnRule,
    DropRule, JoinRule, SqlSource, TableMapping, Mapping
)
from helpers.data.mapping_values import (  # noqa: F401
    _close, _check_keys, _as_text, _text_list, check_date_format, normalize_encoding, _key, _header_key, check_date_order
)
from helpers.data.mapping_parse import _parse_rule, _parse_drop, _parse_table, _parse_join, raise_all  # noqa: F401


MAPPINGS_DIR = Path(__file__).resolve().parent / "mappings"


def shipped_mappings() -> dict[str, Path]:
    """The mappings shipped in helpers/data/mappings/, by name (salesforce_en, salesforce_ja, ...)."""
    return {p.stem: p for p in sorted(MAPPINGS_DIR.glob("*.yaml"))}


def resolve_mapping(name_or_path: str | Path) -> Path:
    """A mapping file path: an existing path, else a shipped mapping's name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_mappings()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    close = difflib.get_close_matches(str(name_or_path), list(shipped), n=2, cutoff=0.5)
    hint = Phrase("part_did_you_mean_sentence", names=PhraseList(close, Phrase("part_or"))) if close else ""
    raise coded_error("mapping_not_found", None, name=str(name_or_path), hint=hint, shipped=", ".join(shipped))


def _merge_mapping(base: dict, override: dict) -> dict:
    """`extends`: the base mapping with the override's keys on top; mappings merge key by key, an `open:` list of stages
    is added to the base's, other lists and values replace."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _merge_mapping(base[key], value)
        elif key == "open" and isinstance(value, list) and isinstance(base.get(key), list):
            out[key] = base[key] + [v for v in value if v not in base[key]]
        else:
            out[key] = value
    return out


def _read_yaml(path: Path, label: str):
    """A mapping file's value (helpers.yamlfile: size cap, encoding detection, no aliases, merge keys or duplicate
    keys; YAML 1.2 booleans, so `yes` and `no` stay text)."""
    return read_yaml(path, label, loader=Yaml12Loader)


def _extends_path(value: str, path: Path, label: str) -> Path:
    """The mapping file an ``extends:`` names: a relative path is relative to the folder of the mapping file that says
    it (`path`), not to the current folder; a bare name is a shipped mapping."""
    given = Path(value).expanduser()
    candidate = given if given.is_absolute() else path.resolve().parent / given
    if candidate.is_file():
        return candidate
    shipped = shipped_mappings()
    if value in shipped:
        return shipped[value]
    close = difflib.get_close_matches(value, list(shipped), n=2, cutoff=0.5)
    hint = Phrase("part_did_you_mean_sentence", names=PhraseList(close, Phrase("part_or"))) if close else ""
    raise coded_error("mapping_extends_missing", label, value=repr(value), candidate=str(candidate), hint=hint,
                      shipped=", ".join(shipped))


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file (a path, or the name of a shipped mapping such as salesforce_en)."""
    path = resolve_mapping(path)
    label = path.name
    data = _read_yaml(path, label)
    if not isinstance(data, dict):
        raise coded_error("mapping_top_level", label)
    _check_keys(data, TOP_KEYS, label)
    if "extends" in data:
        base_path = _extends_path(str(data["extends"]), path, label)
        if base_path.resolve() == path.resolve():
            raise coded_error("mapping_extends_itself", label)
        base = _read_yaml(base_path, base_path.name)
        if not isinstance(base, dict) or "extends" in base:
            raise coded_error("mapping_extends_chain", label, value=repr(data["extends"]))
        data = _merge_mapping(base, {k: v for k, v in data.items() if k != "extends"})
        if "name" not in {k for k in _read_yaml(path, label)}:
            data["name"] = path.stem
    order = check_date_order(data["date_order"], f"{label}: date_order") if data.get("date_order") is not None else None
    for key, value in (("date_order", order), ("decimal", data.get("decimal"))):
        if value is not None and isinstance(data.get("tables"), dict):
            for spec in data["tables"].values():
                if isinstance(spec, dict):
                    spec.setdefault(key, value)
    tables = data.get("tables")
    if not isinstance(tables, dict) or not tables:
        raise coded_error("mapping_no_tables", label)
    parsed, errors = {}, []
    for name, spec in tables.items():   # every table's mistakes, said together
        try:
            parsed[str(name)] = _parse_table(str(name), spec, label)
        except WorkbookError as exc:
            errors.append(exc)
    raise_all(errors, label)
    if "opportunities" not in parsed:
        raise coded_error("mapping_no_opportunities", label)
    return Mapping(name=str(data.get("name") or path.stem), path=path, tables=parsed, description=str(data.get("description") or ""))
