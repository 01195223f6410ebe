"""An ingest's printed report: per table the rows, source, encoding and delimiter, the day/month order of its dates,
its value counts, dropped, adjusted, defaulted and split rows, and then every warning (what the CLI prints).

Used by :meth:`helpers.data.ingest.IngestResult.summary` (every name here stays importable from helpers.data.ingest).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from helpers.data.load import ENCODING_NAMES

if TYPE_CHECKING:
    from helpers.data.ingest import IngestResult

DELIMITER_NAMES = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _encoding_label(enc: str | None, fmt: str) -> str:
    if fmt != "csv":
        return fmt
    return f"csv, {ENCODING_NAMES.get(enc, enc)}"


def _rows(entry: dict) -> str:
    """'3 rows (8, 9, 10)' / '1 row (7)' / '12 rows (2, 3, 4, 5, 6, ...)': export row numbers, header = row 1."""
    more = ", ..." if entry["count"] > len(entry["rows"]) else ""
    return f"{entry['count']} row{'s' if entry['count'] != 1 else ''} ({', '.join(map(str, entry['rows']))}{more})"


def format_summary(result: IngestResult) -> str:
    """The ingest report as text (what the CLI prints)."""
    lines = [f"Ingested with mapping {result.mapping_name} ({result.mapping_path}) -> {result.out}"]
    for name, rep in result.tables.items():
        how = "" if rep["format"] == "sql" else f" ({_encoding_label(rep['encoding'], rep['format'])})"
        if rep.get("delimiter") not in (None, ","):
            how = how[:-1] + f", {DELIMITER_NAMES.get(rep['delimiter'], repr(rep['delimiter']))}-separated)"
        dropped = sum(d["count"] for d in rep["dropped"])
        lines.append(f"  {name}: {rep['rows_out']} rows from {rep['source']}{how}"
                     + (f"; {dropped} of {rep['rows_in']} export rows dropped" if dropped else ""))
        for target, d in rep.get("date_order", {}).items():
            lines.append(f"    {target}: numeric dates read {'day-first' if d['order'] == 'dmy' else 'month-first'} ({d['order']}; {d['how']})")
        for target, counts in rep["value_counts"].items():
            lines.append(f"    {target}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for d in rep["dropped"]:
            lines.append(f"    dropped {_rows(d)}: {d['reason']}")
        for a in rep["adjusted"]:
            lines.append(f"    adjusted {_rows(a)}: {a['what']}")
        for d in rep["defaulted"]:
            lines.append(f"    {d['column']} = {d['value']!r} in {d['count']} row(s) ({d['why']})")
        for s in rep["split"]:
            lines.append(f"    {s['column']}: {s['count']} cell(s) held several values; the first was kept")
        if rep["skipped"]:
            lines.append("    not in the export (left out): " + ", ".join(f"{s['column']} ({' | '.join(s['export'])})" for s in rep["skipped"]))
        for col, p in rep["dates"].items():
            if p["count"]:
                lines.append(f"    {col} as exported: {p['min']} .. {p['max']} ({p['count']} dates, {p['distinct_days']} distinct day{'s' if p['distinct_days'] != 1 else ''})")
    if result.currency:
        lines.append(f"Amounts are in {result.currency['code']} ({result.currency['how']}); the reports show {result.currency['code']}.")
    lines.append(f"Validated with helpers.data.load.load_workbook: OK (as_of {result.as_of}).")
    warnings = result.all_warnings
    if warnings:
        lines.append(f"Warnings ({len(warnings)}):")
        lines += [f"  - {w.render()}" for w in warnings]
    else:
        lines.append("No warnings.")
    return "\n".join(lines)
