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

_STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.S | re.I)
_CLASS_ATTR = re.compile(r"""class\s*=\s*["']([^"']*)["']""", re.I)
_SELECTOR_CLASS = re.compile(r"\.(-?[_a-zA-Z][_a-zA-Z0-9-]*)")
_NOT = re.compile(r":not\([^()]*\)")   # a class named only inside :not(...) need not occur
_VAR = re.compile(r"var\(\s*(--[_a-zA-Z0-9-]+)")


def document_classes(html: str) -> set[str]:
    """Every class name used in `html`'s class attributes (style blocks excluded)."""
    body = _STYLE.sub("", html)
    return {name for attr in _CLASS_ATTR.findall(body) for name in attr.split()}


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
            decls = tuple(d for d in tinycss2.parse_declaration_list(node.content, skip_comments=True, skip_whitespace=True)
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
                for d in body:
                    names = set(_VAR.findall(tinycss2.serialize(d.value)))
                    if d.name.startswith("--"):
                        defs.setdefault(d.name, set()).update(names)
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
            decls = [d for d in body if not d.name.startswith("--") or d.name in used]
            if decls:
                text = "; ".join(f"{d.name}: {tinycss2.serialize(d.value).strip()}" + (" !important" if d.important else "")
                                 for d in decls)
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
    classes = set(document_classes(html))
    blocks = [_rules(_compiled(m.group(2)), classes) for m in _STYLE.finditer(html)]
    used = _used_vars([("block", "", rules) for rules in blocks])
    texts = iter([_serialize(rules, used) for rules in blocks])

    def replace(match: re.Match) -> str:
        trimmed = next(texts)
        return f"{match.group(1)}\n{trimmed}\n{match.group(3)}" if trimmed.strip() else ""

    return _STYLE.sub(replace, html)
