"""An ingest's printed report: per table the rows, source, encoding and delimiter, the day/month order of its dates,
its value counts, dropped, adjusted, defaulted and split rows, and then every warning (what the CLI prints).

Used by :meth:`helpers.data.ingest.IngestResult.summary` (every name here stays importable from helpers.data.ingest).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from helpers.data.load import ENCODING_NAMES
from helpers.errors import Phrase, said
from helpers.labels import t

if TYPE_CHECKING:
    from helpers.data.ingest import IngestResult

DELIMITER_NAMES = {";": "semicolon", "\t": "tab", "|": "pipe"}


def _encoding_label(enc: str | None, fmt: str, lang: str = "en") -> str:
    if fmt != "csv":
        return fmt
    return f"csv, {said(ENCODING_NAMES.get(enc, enc), lang)}"


def _rows(entry: dict, lang: str = "en") -> str:
    """'3 rows (8, 9, 10)' / '1 row (7)' / '12 rows (2, 3, 4, 5, 6, ...)': export row numbers, header = row 1."""
    more = ", ..." if entry["count"] > len(entry["rows"]) else ""
    return t("summary_rows" if entry["count"] != 1 else "summary_row", lang).format(
        count=entry["count"], rows=", ".join(map(str, entry["rows"])) + more)


def _warning_line(w, lang: str) -> str:
    """A warning as the summary lists it, its sentence and fix in `lang` when it has a code (helpers.errors.Finding.render);
    else as it is."""
    return w.render(lang)


def format_summary(result: IngestResult, lang: str = "en") -> str:
    """The ingest report as text (what the CLI prints), in `lang` (en or ja): the words from the label table, the
    warnings by code; an export's names and values, and a drop_if rule's own reason, as they are."""
    def say(key: str, **params) -> str:
        return t(key, lang).format(**{k: said(v, lang) for k, v in params.items()})

    lines = [say("summary_ingested", mapping=result.mapping_name, path=result.mapping_path, out=result.out)]
    for name, rep in result.tables.items():
        how = "" if rep["format"] == "sql" else f" ({_encoding_label(rep['encoding'], rep['format'], lang)})"
        if rep.get("delimiter") not in (None, ","):
            how = how[:-1] + say("summary_delimiter", delimiter=Phrase(f"part_delimiter_{DELIMITER_NAMES[rep['delimiter']]}")
                                 if rep["delimiter"] in DELIMITER_NAMES else repr(rep["delimiter"])) + ")"
        dropped = sum(d["count"] for d in rep["dropped"])
        lines.append("  " + say("summary_table", name=name, rows=rep["rows_out"], source=rep["source"], how=how)
                     + (say("summary_table_dropped", dropped=dropped, rows_in=rep["rows_in"]) if dropped else ""))
        for target, d in rep.get("date_order", {}).items():
            lines.append("    " + say("summary_date_order", target=target, order=Phrase(f"part_order_{d['order']}"), code=d["order"],
                                      how=d["how"]))
        for target, counts in rep["value_counts"].items():
            lines.append(f"    {target}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        for d in rep["dropped"]:
            lines.append("    " + say("summary_dropped", rows=_rows(d, lang), reason=d["reason"]))
        for a in rep["adjusted"]:
            lines.append("    " + say("summary_adjusted", rows=_rows(a, lang), what=a["what"]))
        for d in rep["defaulted"]:
            lines.append("    " + say("summary_defaulted", column=d["column"], value=repr(d["value"]), count=d["count"], why=d["why"]))
        for s in rep["split"]:
            lines.append("    " + say("summary_split", column=s["column"], count=s["count"]))
        if rep["skipped"]:
            lines.append("    " + say("summary_skipped", columns=", ".join(f"{s['column']} ({' | '.join(s['export'])})" for s in rep["skipped"])))
        for col, p in rep["dates"].items():
            if p["count"]:
                lines.append("    " + say("summary_dates" if p["distinct_days"] != 1 else "summary_dates_one_day", column=col,
                                          first=p["min"], last=p["max"], count=p["count"], days=p["distinct_days"]))
    if result.currency:
        lines.append(say("summary_currency", code=result.currency["code"], how=result.currency["how"]))
    lines.append(say("summary_validated", as_of=result.as_of))
    warnings = result.all_warnings
    if warnings:
        lines.append(say("summary_warnings", count=len(warnings)))
        lines += [f"  - {_warning_line(w, lang)}" for w in warnings]
    else:
        lines.append(say("summary_no_warnings"))
    return "\n".join(lines)
