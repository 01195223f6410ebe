"""The same metrics in the user's warehouse: metrics.json's core figures computed where the CRM tables live.

`python -m helpers.metrics.warehouse --warehouse URL [--schema S] [--leads-table T] [--opportunities-table T] [--period P]`
connects with Ibis (``postgresql://user@host:5432/db``; any backend Ibis connects to by URL),
reads the canonical tables (contract section 1: the column names of docs/data_dictionary.md)
and runs the engine's expressions (helpers.metrics.engine) there: only aggregates come back,
and the rates are derived in Python by the same pure functions as for a data folder.
It prints the period's core figures (the layout of metrics.json: pipeline, funnel,
by_channel, by_segment) and the stage times (metrics.json's funnel.stage_times) as JSON.

The loader's rules that shape the figures are applied in the query, as the loader
applies them to a folder: channel cells get the loader's labels (placeholders, invisible
characters and spelling variants: :func:`channel_labels`); an opportunity's channel falls back to its lead's, then
'unknown'; owners become 'Owner 01', 'Owner 02', ... in sorted name order when
privacy.pseudonymize_owners is on; target fit follows the settings' target profile.
Row-level validation (helpers.data.validate) is not run in the warehouse: the tables are
expected to be validated exports or models (load them through a data folder first
to see every finding).

Nothing is skipped silently and nothing is said that should not be: a table named with an option
(--leads-table, the runner's --table) or the opportunities table missing from the schema, and a
required column missing from a table, stop the command naming what is there (coded errors
warehouse_table_missing / warehouse_column_missing); settings come from the defaults and --config
only; a DuckDB file must exist and is opened read-only; no output shows any part of a password
(helpers.errors.redact_url, check_url_password). Errors end in one message and exit status 2.

:func:`upload` writes a loaded Workbook's canonical tables into a warehouse schema
(the test loads the sample data this way). :func:`attribution_tables` gives the touches, leads and
opportunities as the attribution's engine tables (helpers.metrics.attribution_paths.attribution_figures
computes metrics.json's attribution block on them, fetching only aggregates).
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401 - pa.compute

from helpers.config import Config, check_settings_path, load_config
from helpers.data.load import owner_pseudonyms
from helpers.data.periods import complete_periods, parse_period, period_of
from helpers.errors import WorkbookError, check_url_password, cli_language, coded_error, redact_url, scrub, url_secrets
from helpers.metrics import engine
from helpers.metrics.source import Source
from helpers.metrics.breakdown import TARGET, UNKNOWN

LEADS_COLUMNS = ("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id", "channel", "industry", "company_size", "owner")
OPPS_COLUMNS = ("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id", "channel", "industry",
                "company_size", "owner")


def connect(url: str, writable: bool = False):
    """An Ibis connection to the warehouse at `url` (e.g. postgresql://user@127.0.0.1:5432/db, duckdb:///abs/crm.duckdb).

    A DuckDB file must exist and is opened read-only (input data is only read; `writable` allows creating it, for
    :func:`upload`). WorkbookError when the URL's password holds @ / ? # as they are, when the file is missing or the
    connection fails; the message shows the URL without its password (:func:`helpers.errors.redact_url`) and
    never a part of it.
    """
    import ibis

    shown = redact_url(url)
    check_url_password(url, shown)
    engine.duckdb_compat()
    kwargs = {}
    path = duckdb_file(url)
    if path is not None and not writable:
        if not path.is_file():
            here = (Path.cwd() / path.name).is_file() and path.parent == Path(path.anchor)
            raise coded_error("duckdb_file_missing", shown, "here" if here else "", path=str(path), cwd=str(Path.cwd()),
                              name=path.name)
        kwargs["read_only"] = True
    try:
        return ibis.connect(url, **kwargs)
    except Exception as exc:  # the driver's own error types differ by backend
        reason = scrub(str(exc).strip(), url_secrets(url))
        raise coded_error("warehouse_connect", "--warehouse", url=shown, error=f"{type(exc).__name__}: {reason}") from None


def duckdb_file(url: str) -> Path | None:
    """The DuckDB database file `url` names, as ibis.connect reads it: ``duckdb:///abs/path.duckdb`` (an absolute
    path after the third slash), ``duckdb://relative/path.duckdb`` (from the current folder), or a path ending in
    .duckdb; None for another backend or an in-memory database."""
    from urllib.parse import urlparse

    if re.match("[A-Za-z]:", url):
        return Path(url) if url.endswith(".duckdb") else None
    parts = urlparse(url)
    if parts.scheme == "duckdb":
        pieces = [p for p in (parts.netloc, parts.path[bool(parts.netloc):]) if p]
        if not pieces or pieces == [":memory:"] or pieces[0].startswith(("md:", "motherduck:")):
            return None
        return Path(*pieces).absolute()
    path = parts.netloc + parts.path
    return Path(path).absolute() if parts.scheme in ("", "file") and path.endswith(".duckdb") else None


def upload(tables: dict[str, pd.DataFrame | None], con, schema: str,
           extra_columns: dict[str, tuple[str, ...]] | None = None) -> None:
    """Write each canonical table of `tables` (leads, opportunities, spend, ...: the contract's columns the frame has,
    plus the columns `extra_columns` names for that table) into `schema` (created; tables replaced). Text and category
    columns are written as text, nulls as NULL; other columns keep their types (dates, numbers)."""
    from helpers.data.schema import TABLES

    con.create_database(schema, force=True)
    for name, frame in tables.items():
        if frame is None or name not in TABLES:
            continue
        wanted = [*TABLES[name].column_names, *(extra_columns or {}).get(name, ())]
        out = frame[[c for c in dict.fromkeys(wanted) if c in frame.columns]].copy()
        for col in out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype) or out[col].dtype == "str":
                out[col] = out[col].astype(object).where(out[col].notna(), None)
        con.create_table(name, pa.Table.from_pandas(out, preserve_index=False), database=schema, overwrite=True)


def parse_table_options(items: list[str]) -> dict[str, str]:
    """The runner's ``--table NAME=TABLE`` options as {canonical table name: warehouse table}. WorkbookError (coded
    table_option) for an item without '=', a NAME that is no canonical table (with the close matches) or a NAME
    given twice."""
    from helpers.data.schema import TABLES

    out: dict[str, str] = {}
    for item in items:
        name, eq, table = (part.strip() for part in item.partition("="))
        where = f"--table {item}"
        if not eq or not name or not table:
            raise coded_error("table_option", where, "format")
        if name not in TABLES:
            close = difflib.get_close_matches(name.lower(), list(TABLES), n=2, cutoff=0.6)
            raise coded_error("table_option", where, "unknown_close" if close else "unknown", name=name,
                              close=" / ".join(close), names=", ".join(TABLES))
        if name in out and out[name] != table:
            raise coded_error("table_option", where, "twice", name=name, first=out[name], second=table)
        out[name] = table
    return out


def _schema_name(con, schema: str | None) -> str:
    """The schema as a message names it: `schema`, else the connection's current one (main, public, ...)."""
    if schema:
        return schema
    try:
        return str(con.current_database)
    except Exception:  # noqa: BLE001 - a backend without the notion
        return "(default)"


def _listing(names, limit: int = 30) -> str:
    names = sorted(names)
    more = f" (+{len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _close(name: str, options) -> list[str]:
    """Names in `options` close to `name`, case-insensitively (PostgreSQL folds unquoted names to lower case)."""
    lower = {o.lower(): o for o in options}
    found = difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)
    return [lower[f] for f in found]


def source_tables(con, schema: str | None, named: dict[str, str], how: dict[str, str],
                  required: tuple[str, ...] = ("opportunities",)) -> dict[str, str]:
    """{canonical name: warehouse table} of the tables present: each of `named` (canonical name -> the table the user
    named, or its default name) that exists in `schema`. WorkbookError (coded warehouse_table_missing), naming the
    schema, the tables it has and the close matches, when a table the user named (`how` holds the option that named
    it, e.g. "--leads-table ") or a `required` one is missing: nothing is skipped silently."""
    try:
        existing = list(con.list_tables(database=schema))
    except Exception as exc:  # noqa: BLE001 - a schema the backend cannot list: its own error type
        raise coded_error("warehouse_list", "--warehouse", schema=_schema_name(con, schema),
                          error=f"{type(exc).__name__}: {str(exc).strip()}") from None
    missing = [name for name in named if named[name] not in existing and (name in how or name in required)]
    if not missing:
        return {name: table for name, table in named.items() if table in existing}
    option = {name: how.get(name, f"--table {name}=") for name in missing}
    close = list(dict.fromkeys(c for name in missing for c in _close(named[name], existing)))
    params = {"missing": "; ".join(f"{named[name]} ({option[name]}{named[name]})" for name in missing),
              "schema": _schema_name(con, schema), "tables": _listing(existing), "close": " / ".join(close),
              "options": " / ".join(dict.fromkeys(f"{option[name]}TABLE" for name in missing))}
    if not existing:
        try:
            schemas = [d for d in con.list_databases() if d not in ("information_schema", "pg_catalog")]
        except Exception:  # noqa: BLE001
            schemas = []
        raise coded_error("warehouse_table_missing", "--warehouse", "empty", schemas=_listing(schemas), **params)
    raise coded_error("warehouse_table_missing", "--warehouse", "close" if close else "", **params)


def check_columns(t, name: str, source: str, schema: str) -> None:
    """WorkbookError (coded warehouse_column_missing) when warehouse table `source` (read as canonical table `name`,
    in `schema`) lacks a required column of the contract; the message lists its columns and the close ones."""
    from helpers.data.schema import TABLES

    missing = [c.name for c in TABLES[name].columns if c.required and c.name not in t.columns]
    if not missing:
        return
    close = list(dict.fromkeys(c for m in missing for c in _close(m, t.columns)))
    raise coded_error("warehouse_column_missing", "--warehouse", "close" if close else "", table=source, schema=schema,
                      name=name, missing=", ".join(missing), columns=_listing(t.columns), close=" / ".join(close),
                      first=missing[0])


def export_folder(url: str, out, schema: str | None = None, tables: dict[str, str] | None = None,
                  extra_columns: dict[str, list[str]] | None = None, names=None):
    """Copy the canonical columns of the warehouse's tables into `out` as Parquet files (a data folder); returns `out`.

    `names`: the canonical tables to copy (default every one); the others are still looked up and checked (a table
    named in `tables` or the opportunities table missing, a required column missing: the same errors), never read.
    The report runner copies only the small tables (helpers.metrics.warehouse_load.SMALL_TABLES): the rows of leads,
    opportunities and touches stay in the warehouse.

    `tables` maps a canonical table name (leads, opportunities, spend, checklist, initiatives, targets)
    to its name in the warehouse (default: the same name). A table named in `tables` must exist, and so must the
    opportunities table (WorkbookError naming the schema and its tables, :func:`source_tables`); another table
    absent from the warehouse is skipped, as an absent file is in a data folder. Only the contract's columns are
    read (no names, e-mails or other extra columns), plus the columns `extra_columns` names for a table that it has
    (the runner names the lead columns the lead_quality settings study, as the snapshot keeps them: notebook 05);
    a missing required column is a WorkbookError.
    """
    import shutil

    import pyarrow.parquet as pq

    from helpers.data.schema import TABLES

    con = connect(url)
    stated = tables or {}
    present = source_tables(con, schema, {name: stated.get(name, name) for name in TABLES},
                            {name: f"--table {name}=" for name in stated})
    where = _schema_name(con, schema)
    with engine._quiet():
        sources = {name: con.table(source, database=schema) for name, source in present.items()}
    for name, t in sources.items():
        check_columns(t, name, present[name], where)
    out = Path(out)
    staging = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        for name, t in sources.items():
            if names is not None and name not in names:
                continue
            try:
                with engine._quiet():
                    wanted = dict.fromkeys([*TABLES[name].column_names, *(extra_columns or {}).get(name, ())])
                    data = _in_order(con.to_pyarrow(t.select(*[c for c in wanted if c in t.columns])), TABLES[name])
            except Exception as exc:  # noqa: BLE001 - the warehouse refused the read: the driver's own error types
                if not _backend_error(exc):
                    raise
                raise coded_error("warehouse_read", "--warehouse", url=redact_url(url), table=present[name], schema=where,
                                  error=f"{type(exc).__name__}: {scrub(str(exc).strip(), url_secrets(url))}") from None
            pq.write_table(data, staging / f"{name}.parquet")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


def _in_order(data: pa.Table, table) -> pa.Table:
    """The rows of a copied table in one order whatever the warehouse returned (SQL promises none, and PostgreSQL's
    differs from DuckDB's): by the table's id (contract `table.key`), a table without one by all its columns; sorted
    here, by code point, not by the warehouse's collation. The figures that depend on row order (the lead score's
    seeded sample, ties) are then the same on every warehouse, and the same as a folder whose rows are in that order."""
    keys = [table.key] if table.key in data.column_names else data.column_names
    return data.take(pa.compute.sort_indices(data, [(k, "ascending", "at_end") for k in keys]))


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


def canonical(con, config: Config, schema: str | None = None, leads_table: str = "leads",
              opportunities_table: str = "opportunities", channels: dict[str, str | None] | None = None):
    """(leads, opps) as Ibis tables with the loader's derived values (channel labels, opportunity channel, owner
    pseudonyms, target fit).

    `channels` maps each channel cell to its label (:func:`channel_labels`: placeholders, invisible characters and
    spelling variants as the loader folds them); None computes it from the leads and opportunities alone.
    WorkbookError when either table is not in the schema (naming the tables it has, :func:`source_tables`) or lacks a
    required column of the contract (:func:`check_columns`)."""
    raw = raw_tables(con, schema, {"leads": leads_table, "opportunities": opportunities_table})
    if channels is None:
        channels = channel_labels(con, raw, config)[0]
    return canonical_of(con, raw, config, channels)


def raw_tables(con, schema: str | None, named: dict[str, str]) -> dict:
    """{canonical name: the warehouse's table as it is} of the leads and opportunities (both must exist) and of the
    spend and touches when `named` names them or the schema has them under their own names; each checked for the
    contract's required columns. WorkbookError as :func:`source_tables` / :func:`check_columns`."""
    wanted = {name: named.get(name, name) for name in ("leads", "opportunities", "spend", "touches")}
    found = source_tables(con, schema, wanted, {"leads": "--leads-table ", "opportunities": "--opportunities-table ",
                                                **{n: f"--table {n}=" for n in ("spend", "touches") if n in named}},
                          required=("leads", "opportunities"))
    where = _schema_name(con, schema)
    with engine._quiet():
        out = {name: con.table(table, database=schema) for name, table in found.items()}
    for name, t in out.items():
        check_columns(t, name, found[name], where)
    return out


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


def _scalar(con, expr):
    """One value computed in the warehouse, as a Python value."""
    with engine._quiet():
        return con.to_pyarrow(expr).as_py()


def as_of_of(con, leads, opps, config: Config) -> pd.Timestamp:
    """as_of: the settings' date, else the latest date in any date column (helpers.data.validate.latest_date)."""
    if config.as_of is not None:
        return config.as_of
    parts = [leads[c].cast("date").max() for c in ("created_at", "mql_at", "sql_at", "first_sales_touch_at") if c in leads.columns]
    parts += [opps[c].cast("date").max() for c in ("created_at", "closed_at") if c in opps.columns]
    values = [_scalar(con, p) for p in parts]
    return pd.Timestamp(max(v for v in values if v is not None and v == v)).normalize()


def _period(con, leads, opps, config: Config, period_label: str | None):
    """(as_of, the period): `period_label`, else the latest complete period (else the one holding as_of)."""
    as_of = as_of_of(con, leads, opps, config)
    fy = config.fiscal_year_start_month
    if period_label:
        return as_of, parse_period(period_label, fy)
    first = min(pd.Timestamp(_scalar(con, t.created_at.cast("date").min())) for t in (leads, opps))
    complete = complete_periods(first, as_of, fy)
    return as_of, complete[-1] if complete else period_of(as_of, fy)


class WarehouseSource(Source):
    """A :class:`Source` over a warehouse's tables made canonical in its SQL (:func:`canonical`),
    run on the warehouse's Ibis connection `con`: only what an expression returns is fetched.

    `tables` maps a canonical table name to its warehouse table (default: the same name); the leads and opportunities
    tables must exist (WorkbookError naming the schema's tables, as :func:`canonical`); a touches table is read when
    present. ``channel_findings``: the ``channel_variants`` warnings of the tables' channel cells (as the loader's for
    the same data: :func:`channel_labels`)."""

    kind = "warehouse"

    def __init__(self, con, config, schema: str | None = None, tables: dict[str, str] | None = None):
        self.backend = con
        self.config = config
        self.schema = schema
        raw = raw_tables(con, schema, dict(tables or {}))
        #: The columns each table has (a missing optional one is NULL in the canonical tables, yet absent here).
        self._columns = {name: tuple(t.columns) for name, t in raw.items()}
        self._channels, self.channel_findings = channel_labels(con, raw, config)
        leads, opps = canonical_of(con, raw, config, self._channels)
        # The canonical tables once into temporary tables of the session (dropped when it closes): every figure then
        # reads plain tables, not the canonicalizing joins again (PostgreSQL planned those as nested loops: seconds a query).
        self._leads, self._opps = (_temporary(con, t) for t in (leads, opps))
        self._touches = raw.get("touches")
        self._touches_engine = None

    @property
    def has_leads(self) -> bool:
        return True

    def opps(self, dims: Sequence[str] = ()):
        return _engine_table(self._opps, "opps", list(dims))

    def leads(self, dims: Sequence[str] = (), stamps: Sequence[str] = ()):
        return _engine_table(self._leads, "leads", list(dims), tuple(stamps))

    def touches(self):
        """The warehouse's touches shaped as engine.touches_table (:func:`touches_engine_table`: ``pos`` ranks them in
        their own columns, since a SQL table has no file order), computed once into a temporary table of the session
        on first use; None without a touches table."""
        if self._touches is None:
            return None
        if self._touches_engine is None:
            shaped = _temporary(self.backend, touches_columns(self._touches, self._channels))   # text in code point order
            self._touches_engine = _temporary(self.backend, touches_positions(shaped))
        return self._touches_engine

    @property
    def has_touches(self) -> bool:
        return self._touches is not None

    def lead_columns(self) -> list[str]:
        return [c for c in self._columns["leads"] if c != "lead_id"]

    def raw_leads(self, columns: Sequence[str]):
        t = self._leads
        return _engine_table(t, "leads", [], raw=columns)

    def _table(self, table: str):
        return self._leads if table == "leads" else self._opps

    def has_column(self, table: str, column: str) -> bool:
        """As a folder's: the table's own columns, the opportunities' channel (always derived: its own, the lead's or
        'unknown') and target_fit when the settings define a target; not the optional columns the table lacks (NULL
        in the canonical tables, absent for the figures)."""
        if column == "target_fit":
            return bool(self.config.target_industries or self.config.target_company_sizes)
        return column in self._columns[table] or (table == "opportunities" and column == "channel")

    def has_values(self, table: str, column: str) -> bool:
        t = self._table(table)
        if not self.has_column(table, column):
            return False
        with engine._quiet():
            return bool(self.backend.to_pyarrow(t.count(where=engine._label(t[column]) != engine.UNKNOWN)).as_py())


def _temporary(con, expr):
    """`expr` computed once into a temporary table of the warehouse session (helpers.metrics.engine.materialized's
    kind, kept until the connection closes): the table.

    Its text is ordered by code point whatever the database's collation (helpers.metrics.engine.code_point_text), as
    every table helpers.metrics.engine.materialized makes."""
    import ibis

    with engine._quiet():
        table = con.create_table(ibis.util.gen_name("workbook_canonical"), expr, temp=True)
    engine.code_point_text(con, table)
    return table


def _source(con, config: Config, schema: str | None, leads_table: str, opportunities_table: str):
    """The warehouse's tables as a :class:`helpers.metrics.source.WarehouseSource` (errors of :func:`canonical`)."""
    return WarehouseSource(con, config, schema, {"leads": leads_table, "opportunities": opportunities_table})


def warehouse_stage_times(con, config: Config, period_label: str | None = None, schema: str | None = None,
                          leads_table: str = "leads", opportunities_table: str = "opportunities") -> dict:
    """metrics.json's funnel.stage_times for the period, computed in the warehouse by the folder's expression
    (helpers.metrics.stages.stage_times_expr: one row per transition fetched) and derived by the folder's
    helpers.metrics.funnel_analysis.derive_stage_stats: ``{transition: {n, median_days, p90_days, negative}}``.
    The null reason a folder adds when every deal shares one created_at (a bulk load) is not computed here.
    Errors as :func:`warehouse_core_metrics`."""
    from helpers.metrics.funnel_analysis import _stage_stats

    source = _source(con, config, schema, leads_table, opportunities_table)
    as_of, period = _period(con, source._leads, source._opps, config, period_label)
    return _stage_stats(source, as_of, period.start, period.end)


def warehouse_core_metrics(con, config: Config, period_label: str | None = None, schema: str | None = None,
                           leads_table: str = "leads", opportunities_table: str = "opportunities") -> dict:
    """The core figures of metrics.json (helpers.metrics.core.core_metrics's layout) computed in the warehouse.

    `period_label` None = the latest complete period (else the period holding as_of).
    Only aggregates are fetched. WorkbookError when a table or a required column is missing (:func:`canonical`) or
    the period label is not one; the driver's own errors when a query fails.
    The figures are core_metrics' (undefined ones None), by the same functions
    (helpers.metrics.breakdown.breakdowns_of on a helpers.metrics.source.WarehouseSource); the explanations
    core_metrics adds (``null_reasons``, ``coverage``: helpers.metrics.limits, from the loaded workbook's data facts
    and warnings) are not computed here.
    """
    from helpers.metrics.breakdown import breakdowns_of, segment_columns_of
    from helpers.metrics.funnel import maturity_days_of, typical_days_of

    source = _source(con, config, schema, leads_table, opportunities_table)
    as_of, period = _period(con, source._leads, source._opps, config, period_label)
    segments = segment_columns_of(source)
    if config.target_industries or config.target_company_sizes:
        segments.append("target_fit")
    typical, maturity = typical_days_of(source, as_of), maturity_days_of(source, as_of)
    rows, totals = breakdowns_of(source, ["channel", *segments], period.start, period.end, as_of, typical_days=typical,
                                 with_totals=True, maturity=maturity)
    return {"period": period.label, "start": period.start, "end": period.end, "as_of": as_of,
            "pipeline": totals["pipeline"], "funnel": totals["funnel"], "by_channel": rows["channel"],
            "by_segment": {c: rows[c] for c in segments}}


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


def attribution_tables(con, schema: str | None = None, leads_table: str = "leads",
                       opportunities_table: str = "opportunities", touches_table: str = "touches"):
    """(touches, leads, opps) of the warehouse as the attribution's engine tables
    (helpers.metrics.attribution.engine_tables; helpers.metrics.attribution_paths.attribution_figures runs on them):
    ids and outcome canonical as for the core figures, touches by :func:`touches_engine_table`; touches None when
    the schema has no such table. WorkbookError as :func:`canonical` for a missing leads or opportunities table or a
    required column missing from any of the three."""
    named = {"leads": leads_table, "opportunities": opportunities_table,
             **({"touches": touches_table} if touches_table != "touches" else {})}
    raw = raw_tables(con, schema, named)
    leads, opps = _complete(raw["leads"], "leads"), _complete(raw["opportunities"], "opportunities")
    touches = touches_engine_table(raw["touches"]) if "touches" in raw else None
    return touches, _engine_table(leads, "leads", []), _engine_table(opps, "opps", [])


def main(argv: list[str] | None = None) -> int:
    """Command line: print the period's core figures computed in the warehouse, as JSON; 2 (and the error) when it cannot."""
    parser = argparse.ArgumentParser(prog="python -m helpers.metrics.warehouse", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, help="warehouse URL, e.g. postgresql://user@127.0.0.1:5432/crm or "
                                                           "duckdb:///absolute/path/crm.duckdb")
    parser.add_argument("--schema", default=None, help="schema holding the tables (default: the connection's)")
    parser.add_argument("--leads-table", default="leads", help="the leads table's name in the warehouse (default: leads)")
    parser.add_argument("--opportunities-table", default="opportunities",
                        help="the opportunities table's name in the warehouse (default: opportunities)")
    parser.add_argument("--config", default=None,
                        help="settings file (YAML); the only settings read besides the defaults of helpers/default_config.yaml")
    parser.add_argument("--period", default=None, help="period label such as FY2026Q2 (default: the latest complete one)")
    parser.add_argument("--as-of", default=None, help="snapshot date YYYY-MM-DD (default: the latest date in the tables)")
    args = parser.parse_args(argv)
    try:
        figures = _figures(args)
    except WorkbookError as exc:
        print(f"error: {exc.in_language(cli_language())}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a query the warehouse refused: the driver's own error types
        if not _backend_error(exc):
            raise
        reason = scrub(str(exc).strip(), url_secrets(args.warehouse))
        refused = coded_error("warehouse_query", "--warehouse", url=redact_url(args.warehouse),
                              error=f"{type(exc).__name__}: {reason}")
        print(f"error: {refused.in_language(cli_language())}", file=sys.stderr)
        return 2
    from helpers.storage import to_jsonable

    json.dump(to_jsonable(figures), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


def _figures(args) -> dict:
    """The CLI's figures: settings from the defaults and --config only (never a workbook.yaml of the current folder)."""
    check_settings_path(args.config)   # a folder given as --config: the settings path is wrong, say so first
    config = load_config(None, args.config, overrides={"as_of": args.as_of})
    if args.period:
        parse_period(args.period, config.fiscal_year_start_month)  # a wrong label is said before connecting
    con = connect(args.warehouse)
    tables = (args.period, args.schema, args.leads_table, args.opportunities_table)
    return {**warehouse_core_metrics(con, config, *tables), "stage_times": warehouse_stage_times(con, config, *tables)}


def _backend_error(exc: BaseException) -> bool:
    """An error raised by Ibis or a database driver (a refused query), not by the workbook's own code."""
    return type(exc).__module__.split(".")[0].lstrip("_") in {"ibis", "duckdb", "psycopg", "psycopg2", "sqlalchemy",
                                                               "pyarrow", "sqlglot", "google", "snowflake", "pyspark"}


if __name__ == "__main__":
    raise SystemExit(main())
