"""The same metrics in the user's warehouse: metrics.json's core figures computed where the CRM tables live.

`python -m helpers.metrics.warehouse --warehouse URL [--schema S] [--leads-table T] [--opportunities-table T] [--period P]`
connects with Ibis (``postgresql://user@host:5432/db``; any backend Ibis connects to by URL),
reads the canonical tables (contract section 1: the column names of docs/data_dictionary.md)
and runs the engine's expressions (helpers.metrics.engine) there: only aggregates come back,
and the rates are derived in Python by the same pure functions as for a data folder.
It prints the period's core figures (the layout of metrics.json: pipeline, funnel,
by_channel, by_segment) as JSON.

The loader's rules that shape the figures are applied in the query, as the loader
applies them to a folder: an opportunity's channel falls back to its lead's, then
'unknown'; owners become 'Owner 01', 'Owner 02', ... in sorted name order when
privacy.pseudonymize_owners is on; target fit follows the settings' target profile.
Row-level validation (helpers.data.validate) is not run in the warehouse: the tables are
expected to be validated exports or models (load them through a data folder first
to see every finding).

:func:`upload` writes a loaded Workbook's canonical tables into a warehouse schema
(the test loads the sample data this way).
"""
from __future__ import annotations

import argparse
import json
import sys

import pandas as pd
import pyarrow as pa

from helpers.config import Config, check_settings_path, load_config
from helpers.data.periods import complete_periods, parse_period, period_of
from helpers.errors import WorkbookError, cli_language
from helpers.metrics import engine
from helpers.metrics.breakdown import SEGMENT_COLUMNS, TARGET, UNKNOWN, assemble
from helpers.metrics.funnel import MATURITY_MEASURES, MATURITY_QUANTILE, TYPICAL_QUANTILE

LEADS_COLUMNS = ("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id", "channel", "industry", "company_size", "owner")
OPPS_COLUMNS = ("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id", "channel", "industry",
                "company_size", "owner")


def connect(url: str):
    """An Ibis connection to the warehouse at `url` (e.g. postgresql://user@127.0.0.1:5432/db); WorkbookError when it fails."""
    import ibis

    try:
        return ibis.connect(url)
    except Exception as exc:  # the driver's own error types differ by backend
        raise WorkbookError(f"cannot connect to the warehouse {_safe(url)}: {type(exc).__name__}: {str(exc).strip()}",
                            fix="Check the URL (postgresql://user@host:5432/database), that the server runs and that the "
                                "user may connect; put the password in ~/.pgpass or PGPASSWORD, not in the URL.") from None


def _safe(url: str) -> str:
    """The URL without its password (for messages)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def upload(tables: dict[str, pd.DataFrame | None], con, schema: str) -> None:
    """Write the leads and opportunities frames of `tables` (canonical columns) into `schema` (created; tables replaced)."""
    con.create_database(schema, force=True)
    for name, columns in (("leads", LEADS_COLUMNS), ("opportunities", OPPS_COLUMNS)):
        frame = tables.get(name)
        if frame is None:
            continue
        out = frame[[c for c in columns if c in frame.columns]].copy()
        for col in out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype) or out[col].dtype == "str":
                out[col] = out[col].astype(object).where(out[col].notna(), None)
        con.create_table(name, pa.Table.from_pandas(out, preserve_index=False), database=schema, overwrite=True)


def export_folder(url: str, out, schema: str | None = None, tables: dict[str, str] | None = None):
    """Copy the canonical columns of the warehouse's tables into `out` as Parquet files (a data folder); returns `out`.

    `tables` maps a canonical table name (leads, opportunities, spend, checklist, initiatives)
    to its name in the warehouse (default: the same name); a table absent from the
    warehouse is skipped, as an absent file is in a data folder. Only the contract's
    columns are read (no names, e-mails or other extra columns).
    """
    import shutil
    from pathlib import Path

    import pyarrow.parquet as pq

    from helpers.data.schema import TABLES

    con = connect(url)
    out = Path(out)
    staging = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    existing = set(con.list_tables(database=schema))
    for name, table in TABLES.items():
        source = (tables or {}).get(name, name)
        if source not in existing:
            continue
        t = con.table(source, database=schema)
        with engine._quiet():
            data = con.to_pyarrow(t.select(*[c for c in table.column_names if c in t.columns]))
        pq.write_table(data, staging / f"{name}.parquet")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out


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


def canonical(con, config: Config, schema: str | None = None, leads_table: str = "leads",
              opportunities_table: str = "opportunities"):
    """(leads, opps) as Ibis tables with the loader's derived values (opportunity channel, owner pseudonyms, target fit)."""
    import ibis

    leads = con.table(leads_table, database=schema)
    opps = con.table(opportunities_table, database=schema)
    lead_channel = leads.select(l_id=leads.lead_id.cast("string").strip(), l_channel=leads.channel.cast("string").strip())
    opps = opps.left_join(lead_channel, opps.lead_id.cast("string").strip() == lead_channel.l_id)
    own = opps.channel.cast("string").strip()
    opps = opps.mutate(channel=ibis.coalesce(ibis.ifelse(own == "", None, own), opps.l_channel, ibis.literal(UNKNOWN))
                       ).drop("l_id", "l_channel")
    if config.pseudonymize_owners:
        names = (leads.select(name=leads.owner.cast("string").strip())
                 .union(opps.select(name=opps.owner.cast("string").strip()), distinct=True))
        names = names.filter(names.name.notnull() & (names.name != ""))
        aliases = names.mutate(pseudonym=ibis.literal("Owner ") + (ibis.row_number().over(order_by=names.name) + 1)
                             .cast("string").lpad(2, "0"))

        def pseudonymize(t):
            j = t.left_join(aliases, t.owner.cast("string").strip() == aliases.name)
            return j.mutate(owner=j.pseudonym).drop("name", "pseudonym")

        leads, opps = pseudonymize(leads), pseudonymize(opps)
    return leads.mutate(target_fit=_fit(leads, config)), opps.mutate(target_fit=_fit(opps, config))


def _engine_table(t, kind: str, dims: list[str]):
    """The engine's input: canonical columns plus the keys k0, k1, ... of `dims`, with canonical values (ids and keys
    trimmed, outcome trimmed and lower case: helpers.metrics.engine's module notes)."""
    import ibis

    base = ("opportunity_id", "created_at", "closed_at", "outcome", "amount", "lead_id") if kind == "opps" else \
        ("lead_id", "created_at", "mql_at", "sql_at", "opportunity_id")
    cols = {c: (t[c] if c in t.columns else ibis.null()) for c in base}
    for c in ("opportunity_id", "lead_id"):
        cols[c] = cols[c].cast("string").strip()
    if kind == "opps":
        cols["amount"] = cols["amount"].cast("float64")
        cols["outcome"] = cols["outcome"].cast("string").strip().lower()
    return t.select(**cols, **{f"k{i}": t[d].cast("string").strip() for i, d in enumerate(dims)})


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


def warehouse_core_metrics(con, config: Config, period_label: str | None = None, schema: str | None = None,
                           leads_table: str = "leads", opportunities_table: str = "opportunities") -> dict:
    """The core figures of metrics.json (helpers.metrics.core.core_metrics's layout) computed in the warehouse.

    `period_label` None = the latest complete period (else the period holding as_of).
    Only aggregates are fetched. Raises ibis / driver errors when a table or column is missing.
    The figures are core_metrics' (undefined ones None); the explanations core_metrics adds
    (``null_reasons``, ``coverage``: helpers.metrics.limits, from the loaded workbook's data facts and
    warnings) are not computed here.
    """
    leads, opps = canonical(con, config, schema, leads_table, opportunities_table)
    as_of = as_of_of(con, leads, opps, config)
    fy = config.fiscal_year_start_month
    if period_label:
        period = parse_period(period_label, fy)
    else:
        first = min(pd.Timestamp(_scalar(con, t.created_at.cast("date").min())) for t in (leads, opps))
        complete = complete_periods(first, as_of, fy)
        period = complete[-1] if complete else period_of(as_of, fy)
    present = {c: sum(_scalar(con, t.count(where=engine._label(t[c]) != UNKNOWN)) for t in (leads, opps) if c in t.columns)
               for c in SEGMENT_COLUMNS}
    segments = [c for c in SEGMENT_COLUMNS if present.get(c)]
    if config.target_industries or config.target_company_sizes:
        segments.append("target_fit")
    dims = ["channel", *segments]
    lt, ot = _engine_table(leads, "leads", dims), _engine_table(opps, "opps", dims)
    s, last, a = engine.period_bounds(period.start, period.end, as_of)
    pipe = engine.run(engine.pipeline_expr(ot, s, last, a, dims), con)
    with engine.materialized(engine.lead_flags_expr(lt, ot, s, last, a), con) as flags:
        lead_side = engine.run(engine.lead_funnel_expr(flags, s, last, dims), con)
    with engine.materialized(engine.linked_expr(lt, ot, a), con) as links:
        linked = engine.run(engine.linked_opps_expr(links, ot, s, last, a, dims), con)
    row = engine.run(engine.typical_expr(lt, ot, a, TYPICAL_QUANTILE / 100), con)[engine.ALL]
    typical = None if not row["n"] else float(row["q"])
    won_row = engine.run(engine.lead_to_won_expr(lt, ot, a, MATURITY_QUANTILE / 100), con)[engine.ALL]
    # helpers.metrics.funnel.maturity_days: p90 of lead-to-won days, else the typical days to opportunity
    maturity = ((float(won_row["q"]), MATURITY_MEASURES[0]) if won_row["n"]
                else (None, None) if typical is None else (typical, MATURITY_MEASURES[1]))
    all_dims = {d: d for d in dims}
    rows, totals = assemble(dims, all_dims, all_dims, pipe, lead_side, linked, typical, period.end, as_of,
                            totals_with_funnel=True, maturity=maturity)
    return {"period": period.label, "start": period.start, "end": period.end, "as_of": as_of,
            "pipeline": totals["pipeline"], "funnel": totals["funnel"], "by_channel": rows["channel"],
            "by_segment": {c: rows[c] for c in segments}}


def main(argv: list[str] | None = None) -> int:
    """Command line: print the period's core figures computed in the warehouse, as JSON."""
    from helpers.storage import to_jsonable

    parser = argparse.ArgumentParser(prog="python -m helpers.metrics.warehouse", description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", required=True, help="warehouse URL, e.g. postgresql://user@127.0.0.1:5432/crm")
    parser.add_argument("--schema", default=None, help="schema holding the tables (default: the connection's)")
    parser.add_argument("--leads-table", default="leads")
    parser.add_argument("--opportunities-table", default="opportunities")
    parser.add_argument("--config", default=None, help="settings file (YAML); see helpers/default_config.yaml")
    parser.add_argument("--period", default=None, help="period label such as FY2026Q2 (default: the latest complete one)")
    parser.add_argument("--as-of", default=None, help="snapshot date YYYY-MM-DD (default: the latest date in the tables)")
    args = parser.parse_args(argv)
    from pathlib import Path

    try:
        check_settings_path(args.config)   # a folder given as --config: the settings path is wrong, say so first
    except WorkbookError as exc:
        print(f"error: {exc.in_language(cli_language())}", file=sys.stderr)
        return 2
    config = load_config(Path("."), args.config, overrides={"as_of": args.as_of})
    figures = warehouse_core_metrics(connect(args.warehouse), config, args.period, args.schema, args.leads_table,
                                     args.opportunities_table)
    json.dump(to_jsonable(figures), sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
