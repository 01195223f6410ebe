"""The report stylesheet is trimmed to the rules and custom properties the document uses."""
from __future__ import annotations

from helpers.views.stylesheet import document_classes, trim_styles

THEME = ":root { --a: var(--b); --b: 1px; --unused: 2px; --c: red }"
BASE = """.used { margin: var(--a) }
.other, .used .inner { color: blue }
.used:not(.absent) li { padding: 0 }
body { color: var(--c) }
@media print { .other { x: 1 } .used { y: 2 } }
@keyframes spin { from { opacity: 0 } }"""
HTML = f"""<html><head><style type="text/css">{THEME}</style><style type="text/css">{BASE}</style></head>
<body class="page"><div class="used x"><span class="inner">t</span></div></body></html>"""


def test_only_used_rules_and_custom_properties_are_kept():
    out = trim_styles(HTML)
    assert document_classes(HTML) == {"page", "used", "x", "inner"}
    assert ":root { --a: var(--b); --b: 1px; --c: red }" in out          # --b through --a; --unused dropped
    assert ".used { margin: var(--a) }" in out
    assert ".used .inner { color: blue }" in out and ".other" not in out  # the selector list keeps only what matches
    assert ".used:not(.absent) li { padding: 0 }" in out                 # a class inside :not() need not occur
    assert "@media print {\n.used { y: 2 }\n}" in out
    assert "keyframes" not in out
    assert out.endswith('<div class="used x"><span class="inner">t</span></div></body></html>')


def test_a_block_left_empty_is_removed():
    html = '<html><head><style>.nothing { a: b }</style></head><body class="x"></body></html>'
    assert trim_styles(html) == '<html><head></head><body class="x"></body></html>'
