"""The checks a folder's loader makes of the row tables' cells, run on a warehouse's leads, opportunities and touches.

A data folder's loader (helpers.data.load) checks each cell as it types it: empty required values, text that is not
a date or number, several values in one label cell and segment values Excel turned into dates
(helpers.data.categories), invisible characters, channel placeholders and spellings (helpers.data.channels), the
touches' multi-valued cells (helpers.data.touches), target channels no row has (helpers.data.validate). A --warehouse
run reads no row of those tables (helpers.metrics.warehouse_load), so the same checks run there: each is a count, or
the distinct values of a label column with their counts (bounded by the labels' variety, not by the rows), and a
finding's first offending ids (at most MAX_ROWS_SHOWN, in id order) where a folder names rows. The rules that decide
are the loader's own functions over those distinct values; the findings' codes, messages and counts are a folder's.
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from helpers.data import parse
from helpers.data.checks_engine import KEYS, MAX_ROWS_SHOWN
from helpers.data.schema import TABLES
from helpers.errors import Finding, error, warning
from helpers.metrics import engine
from helpers.metrics.warehouse_values import text_cells

#: The contract kinds a warehouse may hold as text that must read as dates or numbers.
TYPED_KINDS = ("date", "datetime", "number")


#: A warehouse column read as the loader reads a cell: text, trimmed, empty = null.
_text = text_cells


def _fetch(con, expr) -> list[dict]:
    """The rows `expr` gives in the warehouse `con`, as dicts."""
    with engine._quiet():
        return con.to_pyarrow(expr).to_pylist()


def first_ids(con, t, name: str, mask, value=None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ids, values shown) of the first MAX_ROWS_SHOWN rows of warehouse table `t` (canonical `name`) where `mask`
    holds, in id order by code point whatever the database's collation (helpers.data.checks_tables.code_point_order;
    a table without its id column: no ids, ordered by every column)."""
    from helpers.data.checks_tables import code_point_order

    key = KEYS.get(name)
    key = key if key in t.columns else None
    order = ([code_point_order(_text(t[key]), con)] if key else
             [code_point_order(t[c], con) if t[c].type().is_string() else t[c] for c in t.columns])
    picked = {"_id": _text(t[key]) if key else None, "_v": value}
    picked = {k: v for k, v in picked.items() if v is not None}
    if not picked:
        return (), ()
    rows = _fetch(con, t.filter(mask).order_by(order).limit(MAX_ROWS_SHOWN).select(**picked))
    return (tuple(str(r["_id"]) for r in rows) if key else (),
            tuple("" if r.get("_v") is None else str(r["_v"]) for r in rows) if value is not None else ())


def _with_ids(f: Finding, ids) -> Finding:
    """`f` naming the first offending `ids` instead of rows (a warehouse table has no row numbers)."""
    return dataclasses.replace(f, rows=(), ids=tuple(ids))


# --------------------------------------------------------------------------- required values, dates and numbers as text
#: The UTC offset rule (helpers.data.parse.OFFSET_PATTERN): a --warehouse run converts text dates written with an
#: offset to the settings' time zone as a folder does (helpers.metrics.warehouse_values.datetime_value).
OFFSET_PATTERN = parse.OFFSET_PATTERN


def value_findings(con, t, name: str, fname: str) -> list[Finding]:
    """Empty required values (error ``missing_value``) and text cells that are not dates or numbers (``bad_date``,
    ``bad_datetime``, ``bad_number``) of warehouse table `t`, one count query (the loader's messages and fixes).

    Text dates are checked against helpers.data.parse.ISO_DATE_PATTERN (the folder's rule: YYYY-MM-DD or an ISO
    datetime, a real day, years 1678-2261; one with a UTC offset is converted when read:
    helpers.metrics.warehouse_values), text numbers against NUMBER_PATTERN or the Japanese units' rule
    (warehouse_values.is_ja_amount: 1,200万円) and refused when a float cannot hold them (1e309, 1e-400:
    warehouse_values.out_of_float_range), never by a cast: PostgreSQL has no TRY_CAST (Ibis compiles try_cast to a
    plain CAST there, which stops the query at the first bad value), and DuckDB's TRY_CAST reads what the folder
    refuses (the years 1677 and 2262, 24:00, inf, nan, 1e309 as inf)."""
    masks, checks = {}, []
    for col in TABLES[name].columns:
        if col.name not in t.columns:
            continue
        text = _text(t[col.name])
        bad = _bad_cells(t[col.name], text, col.kind) if col.kind in TYPED_KINDS else None
        if bad is not None:
            masks[f"bad_{col.name}"] = bad
            checks.append((f"bad_{col.name}", col, "bad"))
        if col.required and col.name != "amount":
            masks[f"missing_{col.name}"] = text.isnull()
            checks.append((f"missing_{col.name}", col, "missing"))
    if not masks:
        return []
    with engine._quiet():
        n = con.to_pyarrow(t.aggregate(**{k: t.count(where=m) for k, m in masks.items()})).to_pylist()[0]
    return [_value_finding(con, t, name, fname, col, what, masks[key], int(n[key])) for key, col, what in checks if n[key]]


def _bad_cells(column, text, kind: str):
    """Boolean: the cells of warehouse `column` (of contract `kind`: date, datetime or number; `text` its cells as
    text) a folder refuses as bad_date or bad_number, or None where no cell can be one (an integer column).

    Text: not of the folder's shapes (see :func:`value_findings`). A typed date or timestamp (also PostgreSQL's and
    DuckDB's ``infinity``): a year outside 1678-2261, the folder's range for a Parquet column of dates. A typed float
    or decimal: infinite (a folder refuses a Parquet column's inf; its NaN reads as an empty cell there and here:
    helpers.metrics.warehouse_values.number_value)."""
    from helpers.data.parse import ISO_DATE_PATTERN, NUMBER_PATTERN
    from helpers.metrics.warehouse_values import is_ja_amount, out_of_float_range

    kind_of = column.type()
    if kind_of.is_string():
        if kind == "number":
            read = (text.re_search(NUMBER_PATTERN) & ~out_of_float_range(text)) | is_ja_amount(text)
        else:
            read = text.re_search(ISO_DATE_PATTERN)
        return text.notnull() & ~read.fill_null(False)
    if kind in ("date", "datetime") and (kind_of.is_timestamp() or kind_of.is_date()):
        # DuckDB 2.0's statistics of a TIMESTAMP_NS column's year are wrong (its years read as out of any range in a
        # projection, tests/test_warehouse_load.py): the year of the microsecond timestamp (the same year: 1677-2262)
        day = column.cast("timestamp") if kind_of.is_timestamp() and (kind_of.scale or 0) > 6 else column
        return column.notnull() & ~day.year().between(1678, 2261).fill_null(False)
    if kind == "number" and (kind_of.is_floating() or kind_of.is_decimal()):
        return column.cast("float64").isinf().fill_null(False)
    return None


def typed_checked(tables: dict, timezone: str) -> dict:
    """{canonical name: warehouse table} `tables` typed as a folder's loader types them
    (helpers.metrics.warehouse_values.typed_tables), each cell a folder refuses (:func:`_bad_cells`: bad_date,
    bad_number) null and marked in a boolean column ``_unread_<column>`` (helpers.data.checks_tables.UNREAD), as a
    folder hands its refused cells to the row checks: they run beside the cell errors, so a duplicate id is listed
    with a bad date (every problem at once), and a check of empty cells leaves the refused ones out."""
    import ibis

    from helpers.data.checks_tables import COLUMNS, UNREAD
    from helpers.metrics.warehouse_values import typed_table

    out = {}
    for name, t in tables.items():
        kinds = {c.name: c.kind for c in TABLES[name].columns if c.kind in TYPED_KINDS} if name in TABLES else {}
        marks = {}
        for column in t.columns:
            if column in kinds and column in COLUMNS.get(name, {}):
                bad = _bad_cells(t[column], _text(t[column]), kinds[column])
                if bad is not None:
                    marks[UNREAD + column] = bad
        typed = typed_table(t.mutate(**marks) if marks else t, name, timezone)
        blank = {c.removeprefix(UNREAD): ibis.ifelse(typed[c], ibis.null(typed[c.removeprefix(UNREAD)].type()),
                                                     typed[c.removeprefix(UNREAD)]) for c in marks}
        out[name] = typed.mutate(**blank) if blank else typed
    return out


def _value_finding(con, t, name: str, fname: str, col, what: str, mask, count: int) -> Finding:
    """The finding of :func:`value_findings`' check `what` (bad or missing) on column `col`: `count` cells of
    `mask`, the first ids (and for bad cells their text)."""
    if what == "missing":
        ids, _ = first_ids(con, t, name, mask)
        return _with_ids(error(fname, "missing_value", col.name, (), (), count), ids)
    column = t[col.name]
    typed_number = col.kind == "number" and not column.type().is_string()   # only infinities are bad: as Python writes them
    ids, shown = first_ids(con, t, name, mask, column.cast("float64").sign().cases((1, "inf"), else_="-inf")
                           if typed_number else _text(column))
    return _with_ids(error(fname, f"bad_{col.kind}", col.name, (), shown, count), ids)


# --------------------------------------------------------------------------- label cells
def value_counts(con, t, columns) -> dict[str, dict[str, int]]:
    """{column: {value: rows}} of warehouse table `t`'s `columns` it has (values read as the loader reads a cell; empty
    ones left out), in one query: one row per distinct (column, value)."""
    import ibis

    present = [c for c in columns if c in t.columns]
    if not present:
        return {}
    parts = [t.select(c=ibis.literal(c), v=_text(t[c])) for c in present]
    cells = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    cells = cells.filter(cells.v.notnull())
    cells = cells.group_by(["c", "v"]).aggregate(n=cells.count()).order_by(["c", "v"])
    out: dict[str, dict[str, int]] = {c: {} for c in present}
    for row in _fetch(con, cells):
        out[row["c"]][row["v"]] = int(row["n"])
    return out


def label_cell_findings(con, t, name: str, fname: str, counts: dict[str, dict[str, int]]) -> list[Finding]:
    """A folder's label-cell findings (helpers.data.categories.label_findings: ``multi_value``, ``excel_date_category``,
    ``excel_serial_category``) from the distinct values and counts of `t`'s label columns, with the first ids."""
    from helpers.data.categories import LABEL_COLUMNS, NAME_COLUMNS, SEGMENT_COLUMNS, excel_dated, multi_valued

    out = []
    for column in LABEL_COLUMNS + NAME_COLUMNS[:2]:
        if column not in counts:
            continue
        values = list(counts[column])
        hits = [values[i] for i in multi_valued(column, values)]
        if hits:
            out.append(_label_finding(con, t, name, fname, column, hits, counts[column], "multi_value", True))
        if column in SEGMENT_COLUMNS:
            cells = [v for v in values for _ in range(min(counts[column][v], 2))]   # excel_dated counts the cells (2 = more than one)
            positions, sure = excel_dated(column, cells)
            dated = list(dict.fromkeys(cells[i] for i in positions))
            if dated:
                out.append(_label_finding(con, t, name, fname, column, dated, counts[column],
                                          "excel_date_category" if sure else "excel_serial_category", sure))
    return out


def _label_finding(con, t, name, fname, column, hits, counts, code, is_error) -> Finding:
    ids, shown = first_ids(con, t, name, _text(t[column]).isin(hits), _text(t[column]))
    shown = tuple(dict.fromkeys(shown[:3]))
    examples = ", ".join(repr(v) for v in shown)
    make = error if is_error else warning
    return _with_ids(make(fname, code, column, (), shown, sum(counts[v] for v in hits), examples=examples), ids)


def touches_split_findings(con, t, fname: str) -> list[Finding]:
    """A folder's ``touches_split`` / ``touches_campaign_unpaired`` warnings (helpers.data.touches.split_multi_valued)
    from the distinct (channel, campaign) pairs of the touches holding ';', with their counts and first ids."""
    import ibis

    from helpers.data.categories import MULTI_SEPARATOR
    from helpers.data.touches import SPLIT_COLUMNS, _parts

    present = [c for c in SPLIT_COLUMNS if c in t.columns]
    if not present:
        return []
    multi = None
    for c in present:
        has = t[c].cast("string").contains(MULTI_SEPARATOR).fill_null(False)
        multi = has if multi is None else multi | has
    pairs = t.filter(multi).select(**{key: (t[c].cast("string").strip() if c in t.columns else ibis.null().cast("string"))
                                      for key, c in (("ch", "channel"), ("ca", "campaign"))})
    rows = _fetch(con, pairs.group_by(["ch", "ca"]).aggregate(n=pairs.count()))
    if not rows:
        return []
    split = unpaired = parts = 0
    for row in rows:   # split_multi_valued's rule, per distinct pair
        n, channel, campaign = int(row["n"]), row["ch"], row["ca"]
        channels = _parts(channel)
        campaigns = _parts(campaign) if "campaign" in present else [None]
        if len(campaigns) not in (1, len(channels)):
            unpaired += n
            campaigns = [campaign]
        if len(channels) == 1 and len(campaigns) > 1:
            channels = channels * len(campaigns)
        split += n
        parts += n * len(channels)
    ids, _ = first_ids(con, t, "touches", multi)
    out = [_with_ids(warning(fname, "touches_split", ",".join(present), (), (), split, touches=parts), ids)]
    if unpaired:
        out.append(warning(fname, "touches_campaign_unpaired", "campaign", (), (), unpaired))
    return out


def cell_findings(con, sources: dict, names: dict[str, str]) -> list[Finding]:
    """Every cell check of the warehouse's row tables `sources` ({canonical name: Ibis table}), findings naming
    `names[name]`: :func:`value_findings`, then :func:`label_cell_findings` (leads, opportunities);
    not the touches' (a folder's loader splits their multi-valued cells: :func:`touches_split_findings`)."""
    from helpers.data.categories import LABEL_COLUMNS, NAME_COLUMNS

    out = []
    for name, t in sources.items():
        out += value_findings(con, t, name, names[name])
        if name != "touches":
            out += label_cell_findings(con, t, name, names[name], value_counts(con, t, LABEL_COLUMNS + NAME_COLUMNS[:2]))
    return out


# --------------------------------------------------------------------------- channel labels
#: The tables whose channel labels are one vocabulary, in the order a folder's loader reads them.
CHANNEL_TABLES = ("leads", "opportunities", "spend", "touches")


def channel_findings(con, sources: dict, spend: pd.DataFrame | None, names: dict[str, str],
                     fold: bool) -> tuple[dict[str, dict], list[Finding]]:
    """A folder's channel warnings (helpers.data.channels.normalize_channels: ``invisible_characters`` of the label
    columns, ``channel_placeholder`` per table with its first ids, ``channel_variants`` over every table) from the
    distinct labels and counts of the warehouse's row tables `sources` and of the typed `spend` frame; with the
    channel each label becomes: ``({table: {label as read: its channel, None = empty}}, findings)``."""
    from helpers.data.channels import CHANNEL_PLACEHOLDERS, LABEL_COLUMNS, channel_key, fold_variants, visible

    counts = {}
    for name in CHANNEL_TABLES:
        if name == "spend" and spend is not None:
            counts[name] = {c: {str(v): int(n) for v, n in spend[c].dropna().value_counts(sort=False).items() if n}
                            for c in LABEL_COLUMNS if c in spend.columns}
        elif name in sources:
            counts[name] = value_counts(con, sources[name], LABEL_COLUMNS)
    findings = invisible_findings(counts, names)
    becomes: dict[str, dict] = {}
    spelled: dict[str, dict[str, int]] = {}
    for name, columns in counts.items():
        if "channel" not in columns:
            continue
        step, placeholders, shown = {}, [], set()
        for raw, n in columns["channel"].items():
            clean = visible(raw)
            value = (clean.strip() or None) if clean is not None else None
            key = channel_key(value)
            if key in CHANNEL_PLACEHOLDERS:
                step[raw] = None
                placeholders.append((raw, n))
                shown.add(value)
                continue
            step[raw] = value
            if value is not None:
                spelled.setdefault(key, {}).setdefault(value, 0)
                spelled[key][value] += n
        if placeholders:
            t = sources.get(name)
            ids = first_ids(con, t, name, _text(t.channel).isin([raw for raw, _ in placeholders]))[0] if t is not None else ()
            findings.append(_with_ids(warning(names.get(name, name), "channel_placeholder", "channel", (), (),
                                              sum(n for _, n in placeholders),
                                              placeholders=", ".join(repr(v) for v in sorted(shown))), ids))
        becomes[name] = step
    mapping, notes = fold_variants(spelled, fold)
    findings += notes
    return {name: {raw: None if v is None else mapping.get(v, v) for raw, v in step.items()}
            for name, step in becomes.items()}, findings


def invisible_findings(counts: dict[str, dict[str, dict[str, int]]], names: dict[str, str]) -> list[Finding]:
    """helpers.data.channels.fold_invisible's warnings (``invisible_characters``, one per label column, all tables
    together) from `counts`: {table: {column: {label as read: rows}}}, tables in the loader's order."""
    from helpers.data.channels import LABEL_COLUMNS, invisible_warning, visible

    findings = []
    for column in LABEL_COLUMNS:
        spellings: dict[str, dict[str, int]] = {}
        where = []
        for name, columns in counts.items():
            found = columns.get(column, {})
            if all(visible(v) == v for v in found):
                continue
            where.append(names.get(name, name))
            for value, n in found.items():
                clean = visible(value)
                spellings.setdefault(clean or "", {}).setdefault(value, 0)
                spellings[clean or ""][value] += n
        findings += invisible_warning(column, spellings, where)
    return findings


def fold_small_channels(typed: dict[str, pd.DataFrame], becomes: dict[str, dict]) -> dict[str, pd.DataFrame]:
    """The small tables with their channel labels as :func:`channel_findings` says they become (spend)."""
    out = dict(typed)
    if "spend" in out and "spend" in becomes and "channel" in out["spend"].columns:
        step = becomes["spend"]
        channel = out["spend"]["channel"].astype(object).map(lambda v: v if v is None or pd.isna(v) else step.get(str(v), v))
        out["spend"] = out["spend"].assign(channel=channel)
    return out


def _ends_unknown(con, sources: dict, becomes: dict[str, dict]) -> bool:
    """Does an opportunity end with the channel 'unknown' (no channel of its own, nor a linked lead with one:
    helpers.data.load.fill_channel)? One count."""
    import ibis

    o = sources["opportunities"]
    empty = [raw for raw, v in becomes.get("opportunities", {}).items() if v is None]
    own = _text(o.channel) if "channel" in o.columns else ibis.null().cast("string")
    missing = own.isnull() | own.isin(empty) if empty else own.isnull()
    if "leads" in sources and "lead_id" in o.columns:
        leads = sources["leads"]
        gone = [raw for raw, v in becomes.get("leads", {}).items() if v is None]
        channel = _text(leads.channel)
        with_channel = leads.filter(channel.notnull() & (~channel.isin(gone) if gone else True)).select(lid=_text(leads.lead_id))
        lid = _text(o.lead_id)
        missing = missing & (lid.isnull() | ~lid.isin(with_channel.filter(with_channel.lid.notnull()).lid))
    with engine._quiet():
        return bool(con.to_pyarrow(o.count(where=missing)).as_py())


def target_findings(con, sources: dict, typed: dict[str, pd.DataFrame], names: dict[str, str], becomes: dict[str, dict],
                    fold: bool) -> tuple[pd.DataFrame, list[Finding]]:
    """helpers.data.validate.check_target_channels of the targets against the channels the warehouse's leads and
    opportunities (their distinct labels as they become, 'unknown' when a deal ends without one) and spend have."""
    from helpers.data.validate import check_target_channels

    frames = [pd.DataFrame({"channel": pd.Series(sorted({v for v in becomes.get(name, {}).values() if v is not None}),
                                                 dtype=object)}) for name in ("leads", "opportunities")]
    if _ends_unknown(con, sources, becomes):
        frames.append(pd.DataFrame({"channel": ["unknown"]}))
    return check_target_channels(typed["targets"], names.get("targets", "targets"), (*frames, typed.get("spend")), fold)
