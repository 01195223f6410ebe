"""The one safe YAML reader of the workbook: settings (helpers/default_config.yaml, a data folder's workbook.yaml,
the --config file), column mappings and the label table.

A settings file is read right or refused, and reading it is bounded in memory and time:

- size: at most MAX_BYTES (a real settings file or mapping is a few kB; a larger one is not a settings file);
- encoding: the same rule as the data files (:func:`helpers.charset.detect_encoding`: a byte order mark, valid
  UTF-8, else charset-normalizer with the cp932 rule), so a file saved as Shift_JIS by a Japanese editor reads;
- aliases (``*a``) and merge keys (``<<:``) are refused while the file is composed, before any value is built:
  ten lines of nested aliases expand to billions of values ("billion laughs"), and a settings file never needs them;
- nesting deeper than MAX_DEPTH levels is refused (the composer recurses once per level), and so is a file of more
  than MAX_NODES values (PyYAML builds an object per value: this bounds the time and memory a file can take);
- a key written twice in one mapping is refused, naming both lines and the key's dotted path (PyYAML keeps the
  last one silently).

Method: PyYAML's SafeLoader with its composer and constructor hooked (https://pyyaml.org/wiki/PyYAMLDocumentation:
events -> nodes -> Python objects); no value is constructed before the whole node tree has been checked.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from helpers.charset import DETECT_CANDIDATES, ENCODING_NAMES, detect_encoding
from helpers.errors import WorkbookError, coded_error

#: Largest settings or mapping file read (bytes): the shipped ones are under 20 kB.
MAX_BYTES = 1_000_000
#: Deepest nesting of lists and mappings read (the shipped files nest 5 levels).
MAX_DEPTH = 50
#: Most values (scalars, lists, mappings) read from one file: the label table holds about 3,000, a mapping with a
#: value map of a thousand campaigns about 2,000. Bounds the time and memory of composing (PyYAML builds an object
#: per value: a 1 MB file of 500,000 one-letter values takes ~10 s and ~360 MB; 50,000 take a tenth of that).
MAX_NODES = 50_000
MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """Raised inside the loader; turned into the coded error (helpers.errors.ERROR_CODES) with the file's label."""

    def __init__(self, code: str, mark, variant: str = "", **params):
        super().__init__(code)
        self.code, self.variant, self.params = code, variant, {"line": mark.line + 1, **params}


class SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, nesting past MAX_DEPTH and more than MAX_NODES values while composing
    (YAML 1.1 booleans)."""

    def __init__(self, stream, name: str = "<settings>"):
        super().__init__(stream)
        self.name = name          # what every mark (line, column) names
        self._depth = 0
        self._nodes = 0
        self._building = None     # the node being constructed, for the line of a value that cannot be read

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused("yaml_alias", event.start_mark, anchor=event.anchor)
        self._depth += 1
        self._nodes += 1
        if self._depth > MAX_DEPTH:
            raise _Refused("yaml_too_deep", self.peek_event().start_mark, depth=MAX_DEPTH)
        if self._nodes > MAX_NODES:
            raise _Refused("yaml_too_large", self.peek_event().start_mark, "nodes", limit=f"{MAX_NODES:,}")
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node, deep=False):
        self._building = node
        return super().construct_object(node, deep=deep)


class Yaml12Loader(SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false (`yes`, `no`, `on`, `off` stay text), as mappings read values."""


Yaml12Loader.yaml_implicit_resolvers = {
    k: [r for r in v if r[0] != "tag:yaml.org,2002:bool"] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _key_text(loader: SafeLoader, node) -> object:
    """A mapping key as its value (so `1` and `01` are the same key); its text when it is not a plain hashable value."""
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_object(node, deep=True)
        try:
            hash(value)
            return value
        except TypeError:
            return node.value
    return f"<{node.tag.rsplit(':', 1)[-1]} at line {node.start_mark.line + 1}>"   # a list or mapping as a key


def _check_keys(loader: SafeLoader, root) -> None:
    """Refuse merge keys and a key written twice in one mapping, anywhere in the node tree (iterative walk)."""
    stack = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.SequenceNode):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == MERGE_TAG:
                    raise _Refused("yaml_alias", key_node.start_mark, "merge")
                key = _key_text(loader, key_node)
                dotted = f"{path}.{key}" if path else str(key)
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise _Refused("yaml_duplicate_key", key_node.start_mark, key=dotted, name=str(key), first=seen[key])
                seen[key] = line
                stack.append((value_node, dotted))


def parse_yaml(text: str, label: str, loader: type[SafeLoader] = SafeLoader):
    """The value of one YAML document in `text` (None when empty). Raises a coded WorkbookError (helpers.errors.ERROR_CODES,
    en + ja) naming `label` and the line: ``yaml_syntax`` (invalid syntax, with the column), ``yaml_alias`` (an alias;
    variant ``merge``: a merge key), ``yaml_duplicate_key``, ``yaml_too_deep`` (nesting past MAX_DEPTH), ``yaml_too_large`` (variant ``nodes``: more than MAX_NODES values),
    ``yaml_character`` (a control character YAML does not allow) or ``yaml_value`` (a value that cannot be built, such
    as the date 2025-13-45)."""
    reader = None
    try:
        reader = loader(text, name=label)
        root = reader.get_single_node()
        if root is None:
            return None
        _check_keys(reader, root)
        return reader.construct_document(root)
    except _Refused as exc:
        raise coded_error(exc.code, label, exc.variant, **exc.params) from None
    except yaml.reader.ReaderError as exc:   # a control character (NUL, ...) that YAML does not allow
        raise coded_error("yaml_character", label, line=text.count("\n", 0, exc.position) + 1,
                          codepoint=f"{exc.character:04X}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise coded_error("yaml_syntax", label, line=mark.line + 1 if mark else "?", column=mark.column + 1 if mark else "?",
                          problem=str(getattr(exc, "problem", None) or exc)) from None
    except (ValueError, TypeError, OverflowError) as exc:   # e.g. a date like 2025-13-45, which YAML reads as a date
        node = None if reader is None else reader._building
        raise coded_error("yaml_value", label, line=node.start_mark.line + 1 if node is not None else "?", problem=str(exc)) from None
    finally:
        if reader is not None:
            reader.dispose()


def read_text(path: str | Path, label: str | None = None, max_bytes: int = MAX_BYTES) -> tuple[str, str]:
    """The text of a settings or mapping file and its codec (helpers.charset.detect_encoding). Raises WorkbookError
    naming `label` (default: the file name) when the file is missing or a folder, and the coded errors
    ``yaml_too_large`` (over `max_bytes`) and ``yaml_encoding`` (no encoding decodes it cleanly; variant ``bom``:
    bytes its byte order mark's encoding cannot decode)."""
    path = Path(path)
    label = label or path.name
    if path.is_dir():
        raise coded_error("yaml_is_folder", None, label=label)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise coded_error("yaml_missing", label, path=str(path)) from None
    except OSError as exc:
        raise coded_error("yaml_unreadable", label, reason=str(exc.strerror or exc)) from None
    if len(data) > max_bytes:
        raise coded_error("yaml_too_large", label, limit_kb=f"{max_bytes // 1000:,}")
    try:
        encoding, _ = detect_encoding(data, label)
    except WorkbookError:
        raise coded_error("yaml_encoding", label, candidates=", ".join(("UTF-8",) + DETECT_CANDIDATES)) from None
    skip = 3 if encoding == "utf-8-sig" else 0   # positions counted from the file's first byte, its BOM included
    try:
        text = data[skip:].decode("utf-8" if skip else encoding)
    except UnicodeDecodeError as exc:   # a byte order mark, then bytes its encoding cannot decode
        at = skip + exc.start
        raise coded_error("yaml_encoding", label, "bom", encoding=ENCODING_NAMES.get(encoding.removesuffix("-sig"), encoding),
                          byte=at + 1, line=data[:at].count(b"\n") + 1) from None
    return text.removeprefix("\ufeff"), encoding


def read_yaml(path: str | Path, label: str | None = None, loader: type[SafeLoader] = SafeLoader,
              max_bytes: int = MAX_BYTES):
    """One YAML file read safely (:func:`read_text`, then :func:`parse_yaml`): its value, None when empty.
    Raises WorkbookError naming `label` (default: the file name), the line and a fix."""
    label = label or Path(path).name
    text, _ = read_text(path, label, max_bytes)
    return parse_yaml(text, label, loader)


def typed_text(path: str | Path, key: str) -> str | None:
    """The value of the dotted `key` (``sla.follow_up_hours``, ``initiatives_catalog.x.items.0``) as written in the
    YAML file `path`: its scalar's text (quoted as written), so a message shows ``-5.00`` or ``1.6e+1`` as typed, not
    the number YAML made of it (-5.0, 16.0). None when the file cannot be read again or the key is not a scalar there."""
    try:
        text, _ = read_text(path, Path(path).name)
        node = SafeLoader(text, name=Path(path).name).get_single_node()
    except (WorkbookError, yaml.YAMLError, _Refused):
        return None
    for part in key.split("."):
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        else:
            return None
    if not isinstance(node, yaml.ScalarNode):
        return None
    return f"{node.style}{node.value}{node.style}" if node.style in ("'", '"') else node.value
