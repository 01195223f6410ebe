"""Scan report HTML for what a report must never show: None, NaN, nan, <NA>, null, or a float with more than 4 decimals.

Only the visible text counts: text nodes outside <script> and <style>, and the alt text of
images (attributes such as base64 image data are not text). Used by conftest.py on every
report the test suite's runner invocations publish, and tested in test_report_text.py.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

#: What never appears in visible text (whole words; `<NA>` as written after unescaping).
FORBIDDEN = re.compile(r"(?<![\w.])(None|NaN|nan|null)(?![\w])|<NA>|(?<![\w.])\d+\.\d{5,}(?!\w)")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.parts.append(alt)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text a reader sees (and image alt texts), one part per line."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "\n".join(p for p in parser.parts if p.strip())


def offenders(html: str) -> list[str]:
    """Each forbidden match with the line of visible text around it."""
    found = []
    for line in visible_text(html).splitlines():
        for m in FORBIDDEN.finditer(line):
            found.append(f"{m.group(0)!r} in: {line.strip()[:160]}")
    return found


def scan_folder(out: Path) -> list[str]:
    """Offenders in every published report of a runner output folder (index.html and OUT/<period>/*.html)."""
    out = Path(out)
    pages = [out / "index.html"] if (out / "index.html").is_file() else []
    pages += sorted(p for p in out.glob("*/*.html") if not p.parent.name.startswith(("_", ".")))
    found = []
    for page in pages:
        found += [f"{page.relative_to(out)}: {o}" for o in offenders(page.read_text(encoding="utf-8"))]
    return found
