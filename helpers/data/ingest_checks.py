"""An ingest's checks the loader cannot make: ids that lost their leading zeros in Excel, the one currency of every
table's amounts, warnings about exports that load fine but mislead, export files no table used, and a warning as
ingest_report.json records it.

Used by :func:`helpers.data.ingest.ingest` (every name here stays importable from helpers.data.ingest).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from helpers.config import Config
from helpers.data.files import check_kind, skipped_text_tables
from helpers.data.ingest_files import _candidates
from helpers.data.load import FORMATS
from helpers.data.mapping import note
from helpers.errors import Finding, Phrase, PhraseList, coded_error, warning, warning_text

MIN_ROWS_FOR_BULK_CHECK = 2


def check_links_kept_zeros(frames: dict[str, pd.DataFrame], reports: dict[str, dict]) -> None:
    """Links that lost their leading zeros in Excel: an opportunity's lead_id (or a lead's opportunity_id) that matches
    no id of the other table as written, but does once padded with zeros to that table's id width. WorkbookError."""
    for table, col, other, key in (("opportunities", "lead_id", "leads", "lead_id"), ("leads", "opportunity_id", "opportunities", "opportunity_id")):
        if table not in frames or other not in frames or col not in frames[table].columns:
            continue
        ids = {v for v in frames[other][key].dropna()}
        padded = {v for v in ids if v.isdigit() and v.startswith("0")}
        if not padded:
            continue
        width = max(len(v) for v in padded)
        lost = [v for v in frames[table][col].dropna() if v.isdigit() and v not in ids and v.zfill(width) in ids]
        if lost:
            raise coded_error("link_ids_lost_zeros", reports[table]["source"], column=reports[table]["columns"].get(col, col),
                              target=col, count=len(lost), lost=", ".join(repr(v) for v in lost[:5]),
                              padded=", ".join(repr(v.zfill(width)) for v in lost[:5]), other=reports[other]["source"])


def data_currency(reports: dict[str, dict], settings: Config) -> dict | None:
    """The one currency of every table's amounts ({code, how}), or None when no amount carries one; a note
    per table says so. WorkbookError when two tables are in different currencies."""
    found = {name: rep["currency"] for name, rep in reports.items() if rep.get("currency") and rep["currency"]["code"]}
    codes = {c["code"] for c in found.values()}
    if len(codes) > 1:
        listed = PhraseList([Phrase("part_table_currency", table=name, code=c["code"], how=c["how"]) for name, c in found.items()],
                            Phrase("part_comma"))
        raise coded_error("tables_currencies_differ", None, listed=listed)
    for name, rep in reports.items():
        if rep.get("currency") and not rep["currency"]["code"] and not found:
            note(rep, "currency_not_in_data", rep["rows_out"], "amount", currency=settings.currency_code,
                 symbol=settings.currency_symbol)
    if not found:
        return None
    name, cur = next(iter(found.items()))
    record = {"code": cur["code"], "how": Phrase("part_table_how", table=name, how=cur["how"])}
    if all(c.get("assumed") == "$" for c in found.values()):
        record["assumed"] = "$"  # the settings may name another dollar (helpers.config.DOLLARS)
    return record


def ingest_warnings(frames: dict[str, pd.DataFrame], reports: dict[str, dict]) -> list[Finding]:
    """Warnings about exports that load fine but mislead: a bulk-loaded created_at, no channel anywhere,
    no lead linked to any opportunity, dates moved by a not_after rule."""
    out: list[Finding] = []
    for table, report in reports.items():
        for n in report.get("notes", []):
            out.append(Finding("warning", report["source"], n["code"], n["message"], n.get("fix", ""), n.get("column"),
                               tuple(n.get("rows") or ()), (), n["count"], dict(n.get("params") or {})))
    for table in ("opportunities", "leads"):
        if table not in reports:
            continue
        profile = reports[table]["dates"].get("created_at")
        if profile and profile["count"] >= MIN_ROWS_FOR_BULK_CHECK and profile["distinct_days"] == 1:
            out.append(warning(reports[table]["source"], "one_created_at", "created_at", count=profile["count"],
                               variant=table, day=str(profile["min"])))
    for table, report in reports.items():
        for adj in report["adjusted"]:
            if adj["rule"].startswith("not_after") and not adj["rule"].endswith("(same day)"):
                out.append(warning(report["source"], "moved_date", adj["column"], tuple(adj["rows"]), (), adj["count"],
                                   limit=adj["rule"].split()[1]))
    opps = frames.get("opportunities")
    leads = frames.get("leads")
    if opps is not None and len(opps):
        own = "channel" in opps.columns and opps["channel"].notna().any()
        linked_opps = "lead_id" in opps.columns and opps["lead_id"].notna().any()
        linked_leads = leads is not None and "opportunity_id" in leads.columns and leads["opportunity_id"].notna().any()
        if leads is not None and not linked_opps and not linked_leads:
            out.append(warning(reports["leads"]["source"], "no_lead_links"))
        if not own and not ((linked_opps or linked_leads) and leads is not None):
            out.append(warning(reports["opportunities"]["source"], "no_channel", "channel", count=len(opps)))
    return out


def warning_record(w: Finding) -> dict:
    """A finding as ingest_report.json's `warnings` entry: {code, message, count, file, column, rows, fix, params,
    message_ja, fix_ja} (count: the rows or values concerned; 1 for a finding about the whole export; params: what
    fills the sentence of its code in the label table, so a report says it in its own language; message_ja, fix_ja:
    the same in Japanese, for a person reading the file)."""
    try:
        message_ja, fix_ja = warning_text(w.code, w.params, "ja", w.count, w.file, w.column or "")
    except (KeyError, IndexError):   # a note without a code of WARNING_CODES: as it is
        message_ja, fix_ja = w.message, w.fix
    return {"code": w.code, "message": w.message, "count": w.count or 1, "file": w.file, "column": w.column,
            "rows": list(w.rows), "fix": w.fix, "params": dict(w.params), "message_ja": message_ja, "fix_ja": fix_ja}


def unused_file_warnings(exports: Path, mp, reports: dict[str, dict], joined: set[str], near_misses: list) -> list[Finding]:
    """Warnings about the export files of folder `exports` that no table of mapping `mp` read (`reports`' paths) and
    no join read (`joined`): ``file_lacks_columns`` for a file that matched a table's pattern but lacked columns
    (`near_misses`: table, file, the columns' names, where, the file used instead), else ``file_not_used``; and
    ``text_file_skipped`` for each table saved as text. A file that is not what its name says (an .xlsx named .csv,
    NUL bytes) is refused with its real cause (helpers.data.files.check_kind), never reported as unused."""
    out: list[Finding] = []
    used = {Path(r["path"]).name for r in reports.values() if r.get("path")} | joined
    for p in _candidates(exports):
        if p.name in used:
            continue
        # a file that is not what its name says (an .xlsx named .csv, NUL bytes) is refused with its real cause,
        # never reported as "matches no table"
        check_kind(p, FORMATS[p.suffix.lower()], next(iter(sorted({tm.encoding for tm in mp.tables.values() if tm.encoding})), None))
        miss = next((m for m in near_misses if m[1] == p), None)
        if miss is not None:
            name, _, lacking, where, path = miss
            out.append(warning(p.name, "file_lacks_columns", count=1, table=name, where=where,
                               columns=" or ".join(repr(c) for c in lacking),
                               column_list=", ".join(repr(c) for c in lacking),
                               **({"variant": "read_other", "other": path.name} if path else {})))
        else:
            out.append(warning(p.name, "file_not_used", count=1, mapping=mp.name))
    out += [warning(p.name, "text_file_skipped", count=1, variant=kind, stem=p.stem) for p, kind in skipped_text_tables(exports)]
    return out


#: Column names of a report's product lines (Salesforce "Opportunities with Products", HubSpot line items).
PRODUCT_COLUMN = r"product|quantity|price|line item|sku|商品|製品|数量|単価|価格|明細"


def check_products_report(frames: dict[str, pd.DataFrame], reports: dict[str, dict], raws: dict[str, pd.DataFrame], mp) -> None:
    """Stop on an opportunities export that repeats each deal once per product line (Salesforce's "Opportunities with
    Products" report): every repeated opportunity_id's rows convert to the same canonical row and differ only in
    export columns the mapping does not read, among them product columns. WorkbookError products_report naming the
    first pair of rows (export rows: the first and the repeat), the columns that differ and the fix (export the
    opportunities report). Other repeats are left to the loader's duplicate_id check."""
    import re

    from helpers.data.cells import cell_text
    from helpers.data.mapping_unread import mentioned_keys
    from helpers.data.mapping_values import _header_key

    frame, raw = frames.get("opportunities"), raws.get("opportunities")
    if frame is None or raw is None or "opportunity_id" not in frame.columns or not len(frame):
        return
    ids = frame["opportunity_id"]
    # one hashed pass (not each row against the rows before it: quadratic); missing ids are never repeats
    present = ids.notna().to_numpy()
    repeated = ids.duplicated(keep="first").to_numpy() & present
    if not repeated.any():
        return
    repeats, firsts = np.flatnonzero(repeated).tolist(), np.flatnonzero(present & ~repeated)
    first_at = dict(zip(ids.iloc[firsts].tolist(), firsts.tolist()))   # each id's first position
    rows = frame.attrs.get("export_rows") or [i + 2 for i in range(len(frame))]
    known = mentioned_keys(mp.tables["opportunities"])
    # rows read as arrays once: frame.iloc[i] deep-copies the frame's attrs (export_rows, a list of every row) each time
    canon, names = frame.to_numpy(dtype=object), [str(c) for c in raw.columns]
    need = sorted({rows[k] - 2 for i in repeats for k in (i, first_at[ids.iat[i]])})
    export = dict(zip(need, raw.iloc[need].to_numpy(dtype=object)))
    pairs = []
    for i in repeats:
        j = first_at[ids.iat[i]]
        if [cell_text(v) for v in canon[i]] != [cell_text(v) for v in canon[j]]:
            return   # the repeat differs in what the workbook reads: another kind of duplicate
        a, b = export[rows[j] - 2], export[rows[i] - 2]
        differ = [c for c, x, y in zip(names, a, b) if cell_text(x) != cell_text(y)]
        if any(_header_key(c) in known for c in differ):
            return
        pairs.append((j, i, differ))
    first, repeat, differ = pairs[0]
    if not differ or not any(re.search(PRODUCT_COLUMN, c, re.IGNORECASE) for c in differ):
        return
    col = reports["opportunities"]["columns"].get("opportunity_id")
    value = cell_text(raw.iloc[rows[repeat] - 2][col]) if col in raw.columns else ids.iat[repeat]   # as exported
    raise coded_error("products_report", None, name=reports["opportunities"]["source"], value=repr(value),
                      first=rows[first], repeat=rows[repeat], columns=", ".join(repr(c) for c in differ[:5]), count=len(pairs))
