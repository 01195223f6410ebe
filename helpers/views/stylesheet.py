"""A report's stylesheet trimmed to what the report uses (JupyterLab's 257 KiB stylesheet is mostly for Lab's own UI).

:func:`trim_styles` rewrites every ``<style>`` block of an exported HTML report: a CSS
rule is kept when one of its selectors names only classes that occur in the document
(classes inside ``:not(...)`` need not occur)
(rules without classes, such as ``body`` or ``table``, are kept); ``@media`` and
``@supports`` blocks are trimmed the same way and dropped when empty; ``@keyframes``
are dropped (reports do not animate); a custom property (``--jp-...``) is kept when a
kept declaration uses it, directly or through another property. The page looks the
same; the file is smaller. Parsing and serialising is tinycss2's.
"""
from __future__ import annotations

import functools
import re

import tinycss2

_STYLE_OPEN = re.compile(r"<style[^>]*>", re.I)
_STYLE_CLOSE = re.compile(r"</style>", re.I)
_CLASS_ATTR = re.compile(r"""class\s*=\s*["']([^"']*)["']""", re.I)
_SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")
_NOT = re.compile(r":not\([^()]*\)")   # a class named only inside :not(...) need not occur
_VAR = re.compile(r"var\(\s*(--[_a-zA-Z0-9-]+)")


def document_classes(html: str) -> set[str]:
    """Every class name used in `html`'s class attributes (style blocks excluded)."""
    return _classes(html, _style_blocks(html))


def _classes(html: str, blocks: list[tuple[int, int, int, int]]) -> set[str]:
    body = "".join(html[start:end] for start, end in _outside(blocks, len(html)))
    return {name for attr in _CLASS_ATTR.findall(body) for name in attr.split()}


def _style_blocks(html: str) -> list[tuple[int, int, int, int]]:
    """Where ``<style ...>`` blocks are in `html`: (tag start, content start, content end, end) of each, the matches of
    regex ``(<style[^>]*>)(.*?)(</style>)`` (re.S, re.I: an opening tag, then the first closing tag after it), found
    by two searches instead of its lazy ``.*?``, which stepped through the 240 KB stylesheet a character at a time
    (a tenth of an export)."""
    found, pos = [], 0
    while (opening := _STYLE_OPEN.search(html, pos)) is not None:
        closing = _STYLE_CLOSE.search(html, opening.end())
        if closing is None:
            break
        found.append((opening.start(), opening.end(), closing.start(), closing.end()))
        pos = closing.end()
    return found


def _outside(blocks: list[tuple[int, int, int, int]], size: int) -> list[tuple[int, int]]:
    """The spans of a document of `size` characters outside the style `blocks`."""
    starts = [0] + [end for *_, end in blocks]
    ends = [start for start, *_ in blocks] + [size]
    return list(zip(starts, ends))


@functools.lru_cache(maxsize=8)
def _compiled(css: str) -> tuple:
    """The stylesheet parsed once: ("rule", ((selector, its classes), ...), declarations), ("block", head, items) or ("raw", text)."""
    return _compile(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


def _compile(nodes) -> tuple:
    out = []
    for node in nodes:
        if node.type == "qualified-rule":
            selectors = tuple((sel.strip(), frozenset(_SELECTOR_CLASS.findall(_NOT.sub("", sel))))
                              for sel in tinycss2.serialize(node.prelude).split(","))
            decls = tuple(_declaration(d) for d in tinycss2.parse_declaration_list(node.content, skip_comments=True,
                                                                                   skip_whitespace=True)
                          if d.type == "declaration")
            out.append(("rule", selectors, decls))
        elif node.type == "at-rule":
            keyword = node.lower_at_keyword
            if keyword in ("media", "supports") and node.content is not None:
                inner = _compile(tinycss2.parse_rule_list(node.content, skip_comments=True, skip_whitespace=True))
                out.append(("block", f"@{keyword} {tinycss2.serialize(node.prelude).strip()}", inner))
            elif keyword not in ("keyframes", "-webkit-keyframes"):
                out.append(("raw", tinycss2.serialize([node]), None))
    return tuple(out)


def _declaration(d) -> tuple[str, str, frozenset[str]]:
    """A declaration as (its property name, its text ``name: value[ !important]``, the custom properties its value uses),
    serialised once with the stylesheet, not once per report."""
    value = tinycss2.serialize(d.value)
    return d.name, f"{d.name}: {value.strip()}" + (" !important" if d.important else ""), frozenset(_VAR.findall(value))


def _rules(items, classes: set[str]) -> list:
    """The kept rules: ("rule", selector text, declarations), ("block", head, rules), ("raw", text, None)."""
    out = []
    for kind, head, body in items:
        if kind == "rule":
            kept = [sel for sel, needs in head if needs <= classes]
            if kept:
                out.append(("rule", ", ".join(kept), body))
        elif kind == "block":
            inner = _rules(body, classes)
            if inner:
                out.append(("block", head, inner))
        else:
            out.append((kind, head, body))
    return out


def _used_vars(rules) -> set[str]:
    """Custom properties used by the kept non-custom declarations, closed over the custom properties' own values."""
    uses: set[str] = set()
    defs: dict[str, set[str]] = {}

    def walk(items):
        for kind, head, body in items:
            if kind == "block":
                walk(body)
            elif kind == "rule":
                for name, _, names in body:
                    if name.startswith("--"):
                        defs.setdefault(name, set()).update(names)
                    else:
                        uses.update(names)
            else:
                uses.update(_VAR.findall(head))
    walk(rules)
    todo = list(uses)
    while todo:
        for name in defs.get(todo.pop(), ()):
            if name not in uses:
                uses.add(name)
                todo.append(name)
    return uses


def _serialize(rules, used: set[str]) -> str:
    parts = []
    for kind, head, body in rules:
        if kind == "raw":
            parts.append(head)
        elif kind == "block":
            inner = _serialize(body, used)
            if inner:
                parts.append(f"{head} {{\n{inner}\n}}")
        else:
            text = "; ".join(text for name, text, _ in body if not name.startswith("--") or name in used)
            if text:
                parts.append(f"{head} {{ {text} }}")
    return "\n".join(parts)


def trim_css(css: str, classes: frozenset[str]) -> str:
    """`css` without the rules, blocks and custom properties a document with `classes` does not use."""
    rules = _rules(_compiled(css), set(classes))
    return _serialize(rules, _used_vars(rules))


def trim_styles(html: str) -> str:
    """`html` (one exported report) with each ``<style>`` block trimmed to the rules its elements use; a block left empty is removed.

    Custom properties are kept by use across all blocks (a theme block defines what another block uses).
    """
    blocks = _style_blocks(html)
    texts = _trimmed(tuple(html[inner:close] for _, inner, close, _ in blocks), frozenset(_classes(html, blocks)))
    parts = []
    for (start, end), block, trimmed in zip(_outside(blocks, len(html)), blocks + [None], texts + (None,)):
        parts.append(html[start:end])
        if block is not None and trimmed.strip():
            tag_start, inner, close, tag_end = block
            parts.append(f"{html[tag_start:inner]}\n{trimmed}\n{html[close:tag_end]}")
    return "".join(parts)


@functools.lru_cache(maxsize=32)
def _trimmed(blocks: tuple[str, ...], classes: frozenset[str]) -> tuple[str, ...]:
    """Each style block's text in `blocks` trimmed for a document with `classes` (custom properties kept by use across
    all blocks), remembered: a run exports each notebook once a period, and its pages use the same classes each time."""
    rules = [_rules(_compiled(css), classes) for css in blocks]
    used = _used_vars([("block", "", kept) for kept in rules])
    return tuple(_serialize(kept, used) for kept in rules)
