"""Joins of a mapping (`join:`) and what the ingest says about the touches it brought in.

Data layer, used by :func:`helpers.data.ingest.ingest`:

- :func:`apply_joins`: columns looked up in other export files before a table's mapping runs (Salesforce's
  CampaignMember gets its Campaign's Type and Name; a contact reaches its converted lead through
  Lead.ConvertedContactId and its deal through OpportunityContactRole).
- :func:`touch_warnings`: what the exports leave for attribution, said plainly: CampaignMember rows of which
  none responded (no touch), deals that name no campaign, touches that reach no deal.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

import pandas as pd

from helpers.data.load import FORMATS, read_raw
from helpers.data.mapping import JoinRule, TableMapping, find_column
from helpers.errors import Finding, Phrase, PhraseList, coded_error, warning


def _join_file(exports: Path, join: JoinRule) -> Path | None:
    """The first file of the exports folder matching a pattern of `join.files` (case-insensitive)."""
    files = sorted(p for p in exports.iterdir() if p.is_file() and p.suffix.lower() in FORMATS)
    for pattern in join.files:
        found = [p for p in files if fnmatch.fnmatch(p.name.lower(), pattern.lower())]
        if found:
            return found[0]
    return None


def apply_joins(raw: pd.DataFrame, tm: TableMapping, exports: Path | None) -> tuple[pd.DataFrame, list[dict]]:
    """`raw` with the columns of every join of `tm` added (a new frame); and one record per join: {file, on, key,
    matched rows, keys repeated in the other file (the first row kept)}. WorkbookError naming the file and column
    when a join's file or column is absent (an optional join adds empty columns instead)."""
    out, records = raw.copy(), []
    for join in tm.joins:
        path = _join_file(exports, join) if exports is not None else None
        on = find_column(list(out.columns), join.on)
        if path is None or on is None:
            if not join.optional:
                raise coded_error("join_source_missing", f"{tm.where}.join", "file" if path is None else "column",
                                  files=", ".join(join.files), on=PhraseList(join.on, Phrase("part_or")), lookup=join.describe())
            for _, name in join.columns:
                if name not in out.columns:
                    out[name] = None
            records.append({"file": None, "join": join.describe(), "matched": 0})
            continue
        other, _ = read_raw(path)
        key = find_column(list(other.columns), join.key)
        missing = [src for src, _ in join.columns if src not in other.columns]
        if key is None or missing:
            raise coded_error("join_column_missing", f"{tm.where}.join", name=path.name,
                              column=PhraseList(join.key, Phrase("part_or")) if key is None else missing[0],
                              columns=", ".join([join.key[0]] + [s for s, _ in join.columns]))
        other = other[other[key].notna()]
        repeated = int(other[key].duplicated().sum())
        first = other.drop_duplicates(key).set_index(key)
        hit = out[on].isin(first.index)
        for src, name in join.columns:
            looked = out[on].map(first[src])
            out[name] = out[name].where(out[name].notna(), looked) if join.fill and name in out.columns else looked
        records.append({"file": path.name, "path": str(path), "join": join.describe(), "matched": int(hit.sum()),
                        "repeated_keys": repeated})
    return out, records


def touch_warnings(frames: dict[str, pd.DataFrame], reports: dict[str, dict], raws: dict[str, pd.DataFrame]) -> list[Finding]:
    """What the exports leave for attribution (each a warning whose sentence says it in the report's language):

    - ``touches_none_kept``: the touches export had rows and none was kept (each drop reason listed, e.g. Salesforce
      campaign members that never responded);
    - ``deals_without_campaign``: the opportunities export has a campaign column (Salesforce CampaignId) empty in
      every row: no touch is recorded on a deal itself;
    - ``touches_reach_no_deal``: touches came in but no lead is linked to any opportunity, so none reaches a deal."""
    out: list[Finding] = []
    touches, rep = frames.get("touches"), reports.get("touches")
    if rep is not None and touches is not None and not len(touches) and rep.get("rows_in"):
        reasons = "; ".join(f"{d['reason']}: {d['count']}" for d in rep.get("dropped", []))
        out.append(warning(rep["source"], "touches_none_kept", count=int(rep["rows_in"]), reasons=reasons or "-"))
    opps_raw = raws.get("opportunities")
    if opps_raw is not None and len(opps_raw):
        col = find_column(list(opps_raw.columns), ("CampaignId", "Campaign ID", "Primary Campaign Source"))
        if col is not None and not opps_raw[col].notna().any():
            out.append(warning(reports["opportunities"]["source"], "deals_without_campaign", col, count=int(len(opps_raw))))
    leads, opps = frames.get("leads"), frames.get("opportunities")
    if touches is not None and len(touches) and opps is not None and len(opps):
        linked = (("lead_id" in opps.columns and opps["lead_id"].notna().any())
                  or (leads is not None and "opportunity_id" in leads.columns and leads["opportunity_id"].notna().any())
                  or ("opportunity_id" in touches.columns and touches["opportunity_id"].notna().any()))
        if not linked:
            out.append(warning(rep["source"], "touches_reach_no_deal", count=int(len(touches))))
    return out
