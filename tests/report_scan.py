"""Scan report HTML for what a report must never show: None, NaN, nan, <NA>, null, or a float with more than 4 decimals.

Only the visible text counts: text nodes outside <script> and <style>, and the alt text of
images (attributes such as base64 image data are not text). Used by conftest.py on every
report the test suite's runner invocations publish, and tested in test_report_text.py.
"""
from __future__ import annotations

import hashlib
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


# --------------------------------------------------------------------------- one label, one value (issue 24)
#: A table cell that reads "<label> <figure>" where the figure is money, a percent, a ratio or points (e.g.
#: "Win rate, last 365 days 29.6%" in the reverse funnel's "Divided by").
_LABELLED_FIGURE = re.compile(r"^(?P<label>.*?\S)\s+(?P<value>[-+]?[¥$€£]-?\d[\d,]*(?:\.\d+)?|[-+]?\d[\d,]*(?:\.\d+)?(?:%|×| ?pt))$")


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


#: Each page's (figure_pairs, content_kinds) by the SHA-256 of the page read: the sample runs' pages are read by
#: several tests of a process (each period's one-label check, its win-rate check, the kinds of content the Japanese
#: periods must show, the latest period's scope checks), parsed once for all of them.
_PAGES: dict[str, tuple[list[tuple[str, str]], set[tuple[str, str]]]] = {}
#: A figure or a period label inside a text (masked by content_kinds, so that the kind of a text is compared, not its
#: numbers).
NUMBERS = re.compile(r"(?:FY)?\d{4}Q[1-4]|\d[\d,.]*")


def _parsed(html: str) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """(_page_pairs, _page_kinds) of a page, from one parse, once per page text in a process."""
    import bs4

    key = hashlib.sha256(html.encode("utf-8")).hexdigest()
    if key not in _PAGES:
        soup = bs4.BeautifulSoup(html, "html.parser")
        for hidden in soup(["style", "script"]):
            hidden.decompose()
        _PAGES[key] = (_page_pairs(soup), _page_kinds(soup))
    return _PAGES[key]


def figure_pairs(html: str) -> list[tuple[str, str]]:
    """Every visible (label, value) pair of a report page (_page_pairs), computed once per page text in a process."""
    return list(_parsed(html)[0])


def content_kinds(html: str) -> set[tuple[str, str]]:
    """What kinds of content a report page shows: (kind, text with its figures masked by NUMBERS) for every heading
    (kind h1 to h4), headline card label ("card"), table header row ("table", the headers joined by |), note or
    warning ("note", its first four words) and the page's number of charts ("charts"); once per page text."""
    return set(_parsed(html)[1])


def _page_kinds(soup) -> set[tuple[str, str]]:
    """content_kinds of a parsed page."""
    kinds = {(el.name, NUMBERS.sub("#", el.get_text(" ", strip=True))) for el in soup.find_all(["h1", "h2", "h3", "h4"])}
    kinds |= {("card", NUMBERS.sub("#", el.get_text(" ", strip=True))) for el in soup.select(".wb-kpi-label")}
    kinds |= {("table", NUMBERS.sub("#", "|".join(th.get_text(" ", strip=True) for th in table.select("thead th"))))
              for table in soup.find_all("table")}
    kinds |= {("note", NUMBERS.sub("#", " ".join(el.get_text(" ", strip=True).split()[:4])))
              for el in soup.select(".wb-note, .wb-warn")}
    kinds.add(("charts", str(len(soup.find_all("img")))))
    return kinds


def _page_pairs(soup) -> list[tuple[str, str]]:
    """Every visible (label, value) pair of a parsed report page (without its style and script elements).

    - a headline card: (its label, its value);
    - a table cell: ("<first column's header>: <row label> | <column header>", cell), for rows whose label is
      unique in the table (a table listing one period twice, such as the backtest's, is keyed by more than its
      first column and left out); when two tables of the page under different section headings share such a key
      with different values (won revenue and pipeline by channel, both by model), the key is prefixed with its
      section heading ("<heading> › ..."): the heading is then the label's scope;
    - a table cell reading "<label> <figure>" (the rate a reverse funnel divides by): (label, figure).
    """
    out = []
    for card in soup.select(".wb-kpi"):
        label, value = card.select_one(".wb-kpi-label"), card.select_one(".wb-kpi-value")
        if label is not None and value is not None:
            out.append((_clean(label.get_text(" ")), _clean(value.get_text(" "))))
    cells_of = []
    for table in soup.find_all("table"):
        heading = table.find_previous(["h1", "h2", "h3", "h4"])
        section = "" if heading is None else _clean(heading.get_text(" ").replace("¶", ""))
        heads = [_clean(th.get_text(" ")) for th in table.select("thead th")]
        rows = [[_clean(c.get_text(" ")) for c in tr.find_all(["td", "th"])] for tr in table.select("tbody tr")]
        rows = [r for r in rows if r and r[0]]
        firsts = [r[0] for r in rows]
        for cells in rows:
            for cell in cells[1:]:
                m = _LABELLED_FIGURE.match(cell)
                if m and re.search(r"[^\W\d_]", m.group("label")):   # a word, not a bare sign such as "+"
                    out.append((_clean(m.group("label")), m.group("value")))
            if not heads or firsts.count(cells[0]) > 1:
                continue
            for head, cell in zip(heads[1:], cells[1:]):
                if cell:
                    cells_of.append((section, f"{heads[0]}: {cells[0]} | {head}", cell))
    values: dict[str, set] = {}
    for section, key, value in cells_of:
        values.setdefault(key, set()).add((section, value))
    for section, key, value in cells_of:
        mixed = len({v for _, v in values[key]}) > 1 and len({h for h, _ in values[key]}) > 1
        out.append((f"{section} › {key}" if mixed else key, value))
    return out


def label_conflicts(pages: list[Path]) -> list[str]:
    """Each label that shows two different values across the given report pages, with the values and pages."""
    seen: dict[str, dict[str, set[str]]] = {}
    for page in pages:
        for label, value in figure_pairs(page.read_text(encoding="utf-8")):
            seen.setdefault(label, {}).setdefault(value, set()).add(page.name)
    return [f"{label!r}: " + "; ".join(f"{v!r} in {', '.join(sorted(where))}" for v, where in sorted(values.items()))
            for label, values in sorted(seen.items()) if len(values) > 1]
