"""The warehouse's tables made canonical in its SQL, as the loader makes a folder's: channel cells labelled by the
loader's rule, an opportunity's channel falling back to its lead's, owners pseudonymized, target fit; the engine's
input columns; the touches in the form of helpers.metrics.engine.touches_table; and temporary tables of the session
with text in code point order.

Part of helpers.metrics.warehouse (every name here stays importable from there).
"""
from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from helpers.config import Config
from helpers.data.load import owner_pseudonyms
from helpers.metrics import engine
from helpers.metrics.breakdown import TARGET, UNKNOWN
from helpers.metrics.warehouse_tables import raw_tables
from helpers.metrics.warehouse_values import typed_tables


LEADS_COLUMNS = ("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id", "channel", "industry", "company_size", "owner")
OPPS_COLUMNS = ("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id", "channel", "industry",
                "company_size", "owner")


def canonical(con, config: Config, schema: str | None = None, leads_table: str = "leads",
              opportunities_table: str = "opportunities", channels: dict[str, str | None] | None = None):
    """(leads, opps) as Ibis tables with the loader's derived values (dates and amounts read as a folder's:
    helpers.metrics.warehouse_values; channel labels, opportunity channel, owner pseudonyms, target fit).

    `channels` maps each channel cell to its label (:func:`channel_labels`: placeholders, invisible characters and
    spelling variants as the loader folds them); None computes it from the leads and opportunities alone.
    WorkbookError when either table is not in the schema (naming the tables it has, :func:`source_tables`) or lacks a
    required column of the contract (:func:`check_columns`)."""
    raw = typed_tables(raw_tables(con, schema, {"leads": leads_table, "opportunities": opportunities_table}), config.timezone)
    if channels is None:
        channels = channel_labels(con, raw, config)[0]
    return canonical_of(con, raw, config, channels)


def canonical_of(con, raw: dict, config: Config, channels: dict[str, str | None]):
    """:func:`canonical` of the tables `raw` (:func:`raw_tables`) on `con` with the channel labels `channels`; owners'
    pseudonyms numbered in code point order of the distinct names (one row per owner fetched:
    helpers.data.load.owner_pseudonyms)."""
    import ibis

    leads, opps = (_complete(raw[name], name) for name in ("leads", "opportunities"))
    leads, opps = (t.mutate(channel=_channel(t.channel, channels)) for t in (leads, opps))
    lead_channel = leads.select(l_id=leads.lead_id.cast("string").strip(), l_channel=leads.channel.cast("string").strip())
    opps = opps.left_join(lead_channel, opps.lead_id.cast("string").strip() == lead_channel.l_id)
    own = opps.channel.cast("string").strip()
    opps = opps.mutate(channel=ibis.coalesce(ibis.ifelse(own == "", None, own), opps.l_channel, ibis.literal(UNKNOWN))
                       ).drop("l_id", "l_channel")
    if config.pseudonymize_owners:
        names = (leads.select(name=leads.owner.cast("string").strip())
                 .union(opps.select(name=opps.owner.cast("string").strip()), distinct=True))
        names = names.filter(names.name.notnull() & (names.name != ""))
        with engine._quiet():   # one row per owner: numbered here, by the loader's rule (not the database's collation)
            found = con.to_pyarrow(names).column("name").to_pylist()
        alias = owner_pseudonyms(found)
        aliases = ibis.memtable(pa.table({"name": pa.array(list(alias), pa.string()),
                                          "pseudonym": pa.array(list(alias.values()), pa.string())}))

        def pseudonymize(t):
            j = t.left_join(aliases, t.owner.cast("string").strip() == aliases.name)
            return j.mutate(owner=j.pseudonym).drop("name", "pseudonym")

        leads, opps = pseudonymize(leads), pseudonymize(opps)
    return leads.mutate(target_fit=_fit(leads, config)), opps.mutate(target_fit=_fit(opps, config))


def channel_labels(con, raw: dict, config: Config) -> tuple[dict[str, str | None], list]:
    """The label of each distinct channel cell of the tables `raw` (:func:`raw_tables`), by the loader's rule
    (helpers.data.channels.channel_mapping, with settings' channels.normalize), and the ``channel_variants``
    warnings the loader gives for the same data. One query: a grouped count per table, so one row per distinct
    cell and table comes back, whatever the tables' size."""
    import ibis

    from helpers.data.channels import channel_mapping

    parts = [t.select(cell=t.channel.cast("string")).group_by("cell").aggregate(n=ibis._.count())
             for t in raw.values() if "channel" in t.columns]
    cells = []
    if parts:
        with engine._quiet():
            cells = [(r["cell"], r["n"]) for r in con.to_pyarrow(ibis.union(*parts, distinct=False)).to_pylist()]
    return channel_mapping(cells, config.normalize_channels)


def _channel(column, channels: dict[str, str | None]):
    """Text column `column` with each cell that `channels` labels otherwise replaced by its label (null for a
    placeholder): the folding of :func:`channel_labels` done in the query."""
    import ibis

    text = column.cast("string")
    changed = sorted((cell, label) for cell, label in channels.items() if label != cell)
    if not changed:
        return text
    return ibis.cases(*[(text == cell, ibis.literal(label, "string") if label is not None else ibis.null("string"))
                        for cell, label in changed], else_=text)


def _fit(t, config: Config):
    """Target fit as in helpers.metrics.breakdown.target_fit: 'unknown' when a needed value is missing, else target / non_target."""
    import ibis

    checks = []
    for column, allowed in (("industry", config.target_industries), ("company_size", config.target_company_sizes)):
        if allowed:
            label = engine._label(t[column]) if column in t.columns else ibis.literal(UNKNOWN)
            checks.append((label != UNKNOWN, label.isin(list(allowed))))
    if not checks:
        return ibis.literal("non_target")
    known = ibis.and_(*[k for k, _ in checks])
    inside = ibis.and_(*[i for _, i in checks])
    return ibis.cases((~known, UNKNOWN), (inside, TARGET), else_="non_target")


def _complete(t, name: str):
    """Warehouse table `t` (its required columns checked: :func:`check_columns`) with every optional text column the
    query uses that it lacks added as NULL (as a missing optional column reads in a data folder); the source's
    :meth:`WarehouseSource.has_column` still says it is absent."""
    import ibis

    wanted = LEADS_COLUMNS if name == "leads" else OPPS_COLUMNS
    text = ("lead_id", "opportunity_id", "channel", "industry", "company_size", "owner", "outcome")
    return t.mutate(**{c: ibis.null().cast("string") for c in wanted if c in text and c not in t.columns})


def _engine_table(t, kind: str, dims: list[str], stamps: tuple[str, ...] = (), raw: Sequence[str] = ()):
    """The engine's input: canonical columns plus the keys k0, k1, ... of `dims`, with canonical values (ids and keys
    trimmed, outcome trimmed and lower case: helpers.metrics.engine's module notes), plus the datetime columns
    `stamps` as timestamps (null when the table lacks one), plus the columns `raw` as the table holds them."""
    import ibis

    base = ("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id") if kind == "opps" else \
        ("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id")
    cols = {c: (t[c] if c in t.columns else ibis.null()) for c in base}
    for c in ("opportunity_id", "lead_id"):
        cols[c] = cols[c].cast("string").strip()
    if kind == "opps":
        cols["amount"] = cols["amount"].cast("float64")
        cols["outcome"] = cols["outcome"].cast("string").strip().lower()
    return t.select(**cols, **{f"k{i}": t[d].cast("string").strip() for i, d in enumerate(dims)},
                    **{c: (t[c].cast("timestamp") if c in t.columns else ibis.null("timestamp")) for c in stamps},
                    **{c: t[c] for c in raw if c not in base})


def _temporary(con, expr):
    """`expr` computed once into a temporary table of the warehouse session (helpers.metrics.engine.materialized's
    kind, kept until the connection closes): the table.

    Its text is ordered by code point whatever the database's collation (helpers.metrics.engine_run.code_point_text), as
    every table helpers.metrics.engine.materialized makes."""
    import ibis

    with engine._quiet():
        table = con.create_table(ibis.util.gen_name("workbook_canonical"), expr, temp=True)
    engine.code_point_text(con, table)
    return table


def touches_engine_table(t, channels: dict[str, str | None] | None = None):
    """A warehouse touches table (contract section 6) in the form of helpers.metrics.engine.touches_table: touch_id
    (trimmed text, '' when empty), lead_id and opportunity_id (trimmed ids), ts (touched_at as a timestamp), d (its
    calendar day), channel and content (trimmed text, null when empty) and pos.

    pos stands for the file order, which breaks the ties of the contract's order (touched_at, then touch_id as text,
    then file order). A SQL table has no row order (the same query may return its rows in another order), so a
    warehouse's order key is the touch's own columns: pos is the 0-based rank in (touch_id, ts, lead_id,
    opportunity_id, channel, content), the file order of an export sorted by those. Two touches tied in time and
    touch_id are thus ordered by lead_id, opportunity_id, channel, content; two equal in all of these count alike
    wherever they stand, so the figures are the same on every run and every warehouse. They equal a folder's whenever
    no two touches of one deal or path share a time and a touch_id (give every touch its CRM id), or the file lists
    such touches in that order (docs/data_dictionary.md, touches.csv)."""
    return touches_positions(touches_columns(t, channels))


def touches_columns(t, channels: dict[str, str | None] | None = None):
    """The columns of :func:`touches_engine_table` but pos: ids and text trimmed (empty = null; touch_id ''), the
    channel cells labelled by `channels` (:func:`channel_labels`), ts and its day d."""
    import ibis

    def text(column: str):
        value = t[column].cast("string") if column in t.columns else ibis.null("string")
        value = (_channel(value, channels) if column == "channel" and channels else value).strip()
        return ibis.ifelse(value == "", ibis.null("string"), value)

    ts = t.touched_at.cast("timestamp")
    cols = {"touch_id": text("touch_id").fill_null(""), "lead_id": text("lead_id"), "ts": ts, "d": ts.cast("date"),
            "channel": text("channel"), "content": text("content"), "opportunity_id": text("opportunity_id")}
    return t.select(**cols)


def touches_positions(x):
    """:func:`touches_columns`' table `x` with pos, the 0-based rank in (touch_id, ts, lead_id, opportunity_id,
    channel, content): the text in the order of `x`'s columns (code point order in a :func:`_temporary` table)."""
    import ibis

    order = [x.touch_id, x.ts, x.lead_id, x.opportunity_id, x.channel, x.content]
    return x.mutate(pos=(ibis.row_number().over(order_by=order)).cast("int64"))
