"""The touches table (contract section 6): its cross-table checks and the split of multi-valued cells.

Data layer, used by :func:`helpers.data.load.load_workbook`:

- :func:`check_touches`: the findings of touches.csv against leads and opportunities: repeated
  touch_id (error), a lead_id not in the leads (warning ``touch_unknown_lead``), an opportunity_id
  not in the opportunities (``touch_unknown_opportunity``), a touch dated after its deal closed
  (``touch_after_close``: left out of that deal's attribution) or after as_of (``after_as_of``).
  Unparseable dates and empty required cells are the loader's (``bad_datetime``, ``missing_value``).
- :func:`split_multi_valued`: a channel or campaign cell holding several values separated by ``;``
  (a CRM multi-select such as ``Paid Search;Webinar``) becomes one touch per value, said in the
  warning ``touches_split``: never one new channel named ``Paid Search;Webinar``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.validate import finding
from helpers.errors import Finding, warning

#: The separator of a multi-select picklist value (Salesforce, HubSpot export them joined by ';').
MULTI_SEPARATOR = ";"
#: Columns whose multi-valued cells are split into touches.
SPLIT_COLUMNS = ("channel", "campaign")


def _parts(value) -> list:
    """The values of one cell: split on ';', trimmed, empty parts dropped ([value] when nothing to split)."""
    if value is None or (isinstance(value, float) and value != value) or MULTI_SEPARATOR not in str(value):
        return [value]
    parts = [p.strip() for p in str(value).split(MULTI_SEPARATOR)]
    return [p for p in parts if p] or [None]


def split_multi_valued(touches: pd.DataFrame, fname: str = "touches.csv") -> tuple[pd.DataFrame, list[Finding]]:
    """One touch per value of a multi-valued channel / campaign cell; ``(touches, findings)``.

    A row whose channel holds k values (``a;b``) becomes k touches in file order, each with one channel; a
    campaign cell with the same number of values is paired value by value, one with a single value is kept
    on every part, and one with another number of values is kept whole on every part (it cannot be paired),
    said in the warning. A given touch_id gets ``#1``, ``#2``, ... so ids stay unique and in order. Rows
    without such a cell are unchanged; the result keeps file order (parts in their written order)."""
    present = [c for c in SPLIT_COLUMNS if c in touches.columns]
    if touches.empty or not present:
        return touches, []
    multi = np.zeros(len(touches), dtype=bool)
    for c in present:
        multi |= touches[c].astype("string").str.contains(MULTI_SEPARATOR, regex=False).fillna(False).to_numpy(dtype=bool)
    if not multi.any():
        return touches, []
    rows, unpaired = [], np.zeros(len(touches), dtype=bool)
    records = touches.to_dict("records")
    for pos, record in enumerate(records):
        if not multi[pos]:
            rows.append(record)
            continue
        channels = _parts(record.get("channel"))
        campaigns = _parts(record.get("campaign")) if "campaign" in record else [None]
        if len(campaigns) not in (1, len(channels)):
            unpaired[pos] = True
            campaigns = [record.get("campaign")]
        if len(channels) == 1 and len(campaigns) > 1:   # one channel, several campaigns: a touch per campaign
            channels = channels * len(campaigns)
        for k, channel in enumerate(channels):
            part = dict(record, channel=channel)
            if "campaign" in record:
                part["campaign"] = campaigns[k] if len(campaigns) > 1 else campaigns[0]
            if len(channels) > 1 and record.get("touch_id") is not None and record.get("touch_id") == record.get("touch_id"):
                part["touch_id"] = f"{record['touch_id']}#{k + 1}"
            rows.append(part)
    out = pd.DataFrame(rows, columns=touches.columns)
    for c in touches.columns:   # the loader's dtypes (datetime64, str) kept
        if pd.api.types.is_datetime64_any_dtype(touches[c]):
            out[c] = pd.to_datetime(out[c])
    out = out.reset_index(drop=True)
    where = finding("warning", fname, "touches_split", "", "", present[0], pd.Series(multi), None)
    findings = [warning(fname, "touches_split", ",".join(present), where.rows, (), int(multi.sum()),
                        touches=int(len(out) - len(touches) + multi.sum()))]
    if unpaired.any():
        where = finding("warning", fname, "touches_campaign_unpaired", "", "", "campaign", pd.Series(unpaired), None)
        findings.append(warning(fname, "touches_campaign_unpaired", "campaign", where.rows, (), int(unpaired.sum())))
    return out, findings


def _arrow(series: pd.Series):
    """A column as an Arrow array for DuckDB without a Python object per cell: text as text (pandas' Arrow-backed
    strings zero-copy), dates as timestamps."""
    import pyarrow as pa

    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return pa.array(series.to_numpy(dtype="datetime64[ns]"), type=pa.timestamp("ns"), from_pandas=True)
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype("string")
    return pa.array(series.array, from_pandas=True)


def _positions(query: str, tables: dict[str, dict[str, pd.Series]], size: int) -> np.ndarray:
    """A bool mask of `size` rows, True at the positions (``pos``) the DuckDB `query` returns; `tables` are the tables the
    query reads ({name: {column: Series}}), each given a ``pos`` column (its row position)."""
    import duckdb
    import pyarrow as pa

    from helpers.data.files import duckdb_config

    con = duckdb.connect(config=duckdb_config())
    try:
        for name, columns in tables.items():
            n = len(next(iter(columns.values())))
            con.register(name, pa.table({"pos": np.arange(n, dtype=np.int64), **{c: _arrow(v) for c, v in columns.items()}}))
        pos = con.execute(query).fetchnumpy()["pos"]
    finally:
        con.close()
    mask = np.zeros(size, dtype=bool)
    mask[np.asarray(pos, dtype=np.int64)] = True
    return mask


def _empty_text(n: int = 0) -> pd.Series:
    return pd.Series([None] * n, dtype="string")


def after_close(touches: pd.DataFrame, leads: pd.DataFrame | None, opps: pd.DataFrame) -> np.ndarray:
    """Per touch (bool): dated (calendar day) after the close of a won or lost deal it is linked to: a deal of its
    lead (the lead whose opportunity_id is it, or its lead_id) or the deal it carries (opportunity_id).

    Late for some linked deal is late for the earliest close among them, so each lead's earliest close is found once
    (over its links) and each touch compares its day with that and with its own deal's close: no touch × deal join
    (one DuckDB query over Arrow views of the frames)."""
    if not len(touches):
        return np.zeros(0, dtype=bool)
    empty = _empty_text(len(opps))
    o = {"opportunity_id": opps["opportunity_id"], "outcome": opps["outcome"].astype("string"),
         "closed_at": opps["closed_at"], "lead_id": opps["lead_id"] if "lead_id" in opps.columns else empty}
    has_links = leads is not None and "opportunity_id" in leads.columns
    ld = ({"lead_id": leads["lead_id"], "opportunity_id": leads["opportunity_id"]} if has_links
          else {"lead_id": _empty_text(), "opportunity_id": _empty_text()})
    t = {"lead_id": touches["lead_id"], "touched_at": touches["touched_at"],
         "opportunity_id": touches["opportunity_id"] if "opportunity_id" in touches.columns else _empty_text(len(touches))}
    query = """
        WITH closed AS (SELECT opportunity_id, min(CAST(closed_at AS DATE)) AS c FROM o
                         WHERE outcome IN ('won', 'lost') AND closed_at IS NOT NULL AND opportunity_id IS NOT NULL GROUP BY 1),
        links AS (SELECT lead_id, opportunity_id FROM ld WHERE lead_id IS NOT NULL AND opportunity_id IS NOT NULL
                  UNION ALL SELECT lead_id, opportunity_id FROM o WHERE lead_id IS NOT NULL AND opportunity_id IS NOT NULL),
        lead_close AS (SELECT links.lead_id, min(closed.c) AS c FROM links JOIN closed USING (opportunity_id) GROUP BY 1)
        SELECT t.pos FROM t LEFT JOIN lead_close lc ON t.lead_id = lc.lead_id
                            LEFT JOIN closed oc ON t.opportunity_id = oc.opportunity_id
         WHERE CAST(t.touched_at AS DATE) > least(coalesce(lc.c, oc.c), coalesce(oc.c, lc.c))"""
    return _positions(query, {"t": t, "o": o, "ld": ld}, len(touches))


def _distinct(ids: pd.Series) -> bool:
    """True when no id repeats (nulls aside), from one DuckDB count: as many distinct 64-bit hashes of the ids as ids
    proves it (equal hashes are counted once, so a repeated id always lowers the count). The usual answer for millions
    of touches, found without the per-row pass that names the repeated rows; False sends the column to that pass
    (check_duplicates), which also clears a rare hash collision."""
    import duckdb
    import pyarrow as pa

    from helpers.data.files import duckdb_config

    con = duckdb.connect(config=duckdb_config())
    try:
        con.register("t", pa.table({"x": _arrow(ids)}))
        n, distinct = con.execute("SELECT count(x), count(DISTINCT hash(x)) FILTER (WHERE x IS NOT NULL) FROM t").fetchone()
    finally:
        con.close()
    return n == distinct


def check_touches(touches: pd.DataFrame, fname: str, leads: pd.DataFrame | None, opps: pd.DataFrame,
                  as_of: pd.Timestamp | None) -> list[Finding]:
    """The checks of touches.csv (see the module docstring; helpers.data.checks_engine.touch_findings on these frames,
    the queries a warehouse runs too); the rows named as a spreadsheet numbers them."""
    from helpers.data import checks_engine as ce

    with ce.folder_tables({"touches": touches, "leads": leads, "opportunities": opps}, {"touches": fname}) as src:
        return ce.touch_findings(src, as_of)
