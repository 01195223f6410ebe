"""The scale benchmark's yardstick: the core figures as the best plain DuckDB SQL an analyst would write (issue 26).

``python -m benchmarks.scale_reference DATA SETTINGS_JSON RESULT_JSON`` reads the data folder's leads.csv and
opportunities.csv and writes the latest complete period's core figures (the shape of
:func:`helpers.metrics.core.core_metrics` without its explanations) and its validation counts to RESULT_JSON. It
imports only DuckDB and the standard library (no pandas, nothing of ``helpers``), so the process it runs in pays for
nothing the SQL does not use. SETTINGS_JSON holds what the workbook reads from workbook.yaml:
``{"as_of": "YYYY-MM-DD" or null, "fiscal_year_start_month": 4, "target_industries": [...],
"target_company_sizes": [...], "pseudonymize_owners": true}``.

What it does, as an analyst would:

- a typed ``read_csv`` (declared column types, no sniffing), selecting only the columns the figures need: the
  personal columns (contact_name, email, phone) are never read into a table;
- the workbook's validation checks as SQL counts (duplicate ids, unknown outcomes, won or lost without a close date,
  closed before created, won without amount, negative amounts, open deals with a close date, stages before
  creation, links to unknown ids, dates after as_of, dates beyond a two-year gap);
- owner pseudonyms (``Owner 01``, ... in name order over both tables) numbered over the distinct names and joined;
- every breakdown (total, channel, industry, company size, owner, target fit) in one ``GROUPING SETS`` scan of each
  table (pipeline over the deals, cohort funnel over the leads, linked deals over the lead-deal pairs).
"""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

#: Declared types of the columns the figures read (every other column of the file is declared VARCHAR and not read).
LEAD_TYPES = {"lead_id": "VARCHAR", "created_at": "DATE", "channel": "VARCHAR", "industry": "VARCHAR",
              "company_size": "VARCHAR", "mql_at": "DATE", "sql_at": "DATE", "first_sales_touch_at": "TIMESTAMP",
              "opportunity_id": "VARCHAR", "owner": "VARCHAR"}
OPP_TYPES = {"opportunity_id": "VARCHAR", "created_at": "DATE", "closed_at": "DATE", "outcome": "VARCHAR",
             "amount": "DOUBLE", "lead_id": "VARCHAR", "channel": "VARCHAR", "industry": "VARCHAR",
             "company_size": "VARCHAR", "owner": "VARCHAR"}
#: The breakdowns: by_channel and by_segment's columns (target_fit only with a target profile).
DIMENSIONS = ("channel", "industry", "company_size", "owner", "target_fit")
#: A date beyond a gap this long from the bulk of the dates (at most 5% of them) is a likely typo.
FAR_GAP_DAYS, FAR_SHARE = 730, 0.05
#: The fewest deals for which one creation day for all of them is a warning (helpers.data.validate's threshold).
MIN_ROWS_FOR_BULK_CHECK = 2


def typed_csv(path: Path, types: dict[str, str]) -> str:
    """A read_csv of `path` with every column's type declared (the header line read here): `types` for the needed
    columns, VARCHAR for the rest (selected by no query, so never materialised)."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split(",")
    columns = ", ".join(f"'{c}': '{types.get(c, 'VARCHAR')}'" for c in header)
    return f"read_csv('{path}', header = true, auto_detect = false, columns = {{{columns}}})"


def label(expr: str) -> str:
    """A null or blank value is the key 'unknown' (trimmed text otherwise)."""
    return f"coalesce(nullif(trim({expr}), ''), 'unknown')"


def target_fit(industries: list[str], sizes: list[str]) -> str:
    """target / non_target / unknown from the industry and company_size keys (an empty list = any value)."""
    parts = []
    for col, allowed in (("industry", industries), ("company_size", sizes)):
        if allowed:
            quoted = ", ".join("'" + a.replace("'", "''") + "'" for a in allowed)
            parts.append((f"{col} = 'unknown'", f"{col} IN ({quoted})"))
    if not parts:
        return "'non_target'"
    unknown = " OR ".join(p[0] for p in parts)
    inside = " AND ".join(p[1] for p in parts)
    return f"CASE WHEN {unknown} THEN 'unknown' WHEN {inside} THEN 'target' ELSE 'non_target' END"


def latest_period(first: dt.date, as_of: dt.date, start_month: int) -> tuple[str, dt.date, dt.date]:
    """(label, start, end) of the latest fiscal quarter wholly inside [first, as_of] (FY named by its start year)."""
    def quarter_start(index: int) -> dt.date:  # index = fiscal year * 4 + quarter - 1
        months = (index // 4) * 12 + start_month - 1 + 3 * (index % 4)
        return dt.date(months // 12, months % 12 + 1, 1)

    def index_of(day: dt.date) -> int:
        months = day.year * 12 + day.month - 1 - (start_month - 1)
        return (months // 12) * 4 + (months % 12) // 3

    index = index_of(as_of)
    while quarter_start(index + 1) - dt.timedelta(days=1) > as_of:
        index -= 1
    start, end = quarter_start(index), quarter_start(index + 1) - dt.timedelta(days=1)
    if start < first:
        raise SystemExit("no complete period in the data")
    return f"{'' if start_month == 1 else 'FY'}{index // 4}Q{index % 4 + 1}", start, end


def load(con, data: Path, settings: dict) -> None:
    """Tables leads and opps: typed, trimmed, labelled, owners pseudonymised, target fit."""
    con.execute(f"""CREATE TABLE raw_leads AS SELECT {', '.join(LEAD_TYPES)} FROM {typed_csv(data / 'leads.csv', LEAD_TYPES)}""")
    con.execute(f"""CREATE TABLE raw_opps AS SELECT {', '.join(OPP_TYPES)} FROM {typed_csv(data / 'opportunities.csv', OPP_TYPES)}""")
    if settings["pseudonymize_owners"]:
        con.execute("""CREATE TABLE owners AS SELECT name, printf('Owner %02d', row_number() OVER (ORDER BY name)) AS alias
                       FROM (SELECT DISTINCT nullif(trim(owner), '') AS name FROM raw_leads
                             UNION SELECT DISTINCT nullif(trim(owner), '') FROM raw_opps) WHERE name IS NOT NULL""")
        owner, join_l, join_o = ("w.alias", "LEFT JOIN owners w ON w.name = nullif(trim(r.owner), '')",
                                 "LEFT JOIN owners w ON w.name = nullif(trim(o.owner), '')")
    else:
        owner, join_l, join_o = "nullif(trim(owner), '')", "", ""
    fit = target_fit(settings["target_industries"] or [], settings["target_company_sizes"] or [])
    con.execute(f"""CREATE TABLE leads AS SELECT *, {fit} AS target_fit FROM (
          SELECT trim(r.lead_id) AS lead_id, r.created_at AS created, r.mql_at AS mql, r.sql_at AS sqld,
                 CAST(r.first_sales_touch_at AS DATE) AS touch, nullif(trim(r.opportunity_id), '') AS opportunity_id,
                 {label('r.channel')} AS channel, {label('r.industry')} AS industry,
                 {label('r.company_size')} AS company_size, {label(owner)} AS owner
          FROM raw_leads r {join_l})""")
    con.execute(f"""CREATE TABLE opps AS SELECT *, {fit} AS target_fit FROM (
          SELECT trim(o.opportunity_id) AS opportunity_id, o.created_at AS created, o.closed_at AS closed_raw,
                 CASE WHEN lower(trim(o.outcome)) = 'open' THEN NULL ELSE o.closed_at END AS closed,
                 lower(trim(o.outcome)) AS outcome, o.amount, nullif(trim(o.lead_id), '') AS lead_id,
                 coalesce(nullif(trim(o.channel), ''), l.channel, 'unknown') AS channel,
                 {label('o.industry')} AS industry, {label('o.company_size')} AS company_size, {label(owner)} AS owner
          FROM raw_opps o LEFT JOIN leads l ON l.lead_id = nullif(trim(o.lead_id), '') {join_o})""")
    con.execute("DROP TABLE raw_leads")
    con.execute("DROP TABLE raw_opps")


def checks(con, as_of: dt.date) -> dict:
    """The workbook's validation checks as counts, keyed ``file/code/column`` as the workbook's findings (only the
    checks that found rows)."""
    a = {"a": as_of}
    opp = con.execute("""SELECT count(*) FILTER (opportunity_id IN (SELECT opportunity_id FROM opps GROUP BY 1 HAVING count(*) > 1)),
          count(*) FILTER (outcome IS NOT NULL AND outcome NOT IN ('open', 'won', 'lost')),
          count(*) FILTER (outcome IN ('won', 'lost') AND closed_raw IS NULL),
          count(*) FILTER (outcome IN ('won', 'lost') AND closed_raw < created),
          count(*) FILTER (outcome = 'won' AND amount IS NULL),
          count(*) FILTER (amount < 0),
          count(*) FILTER (outcome = 'open' AND closed_raw IS NOT NULL),
          count(*) FILTER (lead_id IS NOT NULL AND lead_id NOT IN (SELECT lead_id FROM leads WHERE lead_id IS NOT NULL)),
          count(*) FILTER (created > $a), count(*) FILTER (closed_raw > $a),
          count(*) FILTER (outcome = 'won'), count(*) FILTER (outcome = 'lost'), count(amount),
          count(*) FILTER (outcome = 'lost' AND amount > 0), count(created), count(DISTINCT created)
        FROM opps""", a).fetchone()
    won, lost, amounts, lost_paid, dated, days_created = opp[-6:]
    opp = opp[:-6]
    lead = con.execute("""SELECT count(*) FILTER (lead_id IN (SELECT lead_id FROM leads GROUP BY 1 HAVING count(*) > 1)),
          count(*) FILTER (mql < created), count(*) FILTER (sqld < created),
          count(*) FILTER (opportunity_id IS NOT NULL
                           AND opportunity_id NOT IN (SELECT opportunity_id FROM opps WHERE opportunity_id IS NOT NULL)),
          count(*) FILTER (created > $a), count(*) FILTER (mql > $a), count(*) FILTER (sqld > $a),
          count(*) FILTER (touch > $a)
        FROM leads""", a).fetchone()
    names = [("opportunities", "duplicate_id", "opportunity_id"), ("opportunities", "bad_outcome", "outcome"),
             ("opportunities", "missing_closed_at", "closed_at"), ("opportunities", "closed_before_created", "closed_at"),
             ("opportunities", "won_without_amount", "amount"), ("opportunities", "negative_amount", "amount"),
             ("opportunities", "open_with_closed_at", "closed_at"), ("opportunities", "unknown_lead_id", "lead_id"),
             ("opportunities", "after_as_of", "created_at"), ("opportunities", "after_as_of", "closed_at"),
             ("leads", "duplicate_id", "lead_id"), ("leads", "stage_before_created", "mql_at"),
             ("leads", "stage_before_created", "sql_at"), ("leads", "unknown_opportunity_id", "opportunity_id"),
             ("leads", "after_as_of", "created_at"), ("leads", "after_as_of", "mql_at"), ("leads", "after_as_of", "sql_at"),
             ("leads", "after_as_of", "first_sales_touch_at")]
    out = {f"{t}/{code}/{col}": n for (t, code, col), n in zip(names, opp + lead) if n}
    # Table-wide warnings: no amount at all, every lost amount 0, no lost deal, one creation day for every deal.
    if won and not amounts:
        out["opportunities/no_amounts/amount"] = won
    if lost and amounts and not lost_paid:
        out["opportunities/lost_amounts_zero/amount"] = lost
    if won and not lost:
        out["opportunities/no_lost_deals/outcome"] = won
    if dated >= MIN_ROWS_FOR_BULK_CHECK and days_created == 1:
        out["opportunities/one_created_at/created_at"] = dated
    # Dates beyond a gap of more than two years from the bulk (at most 5% of all dates) at either end.
    days = """SELECT d, count(*) AS n FROM (SELECT created AS d FROM leads UNION ALL SELECT mql FROM leads
                UNION ALL SELECT sqld FROM leads UNION ALL SELECT touch FROM leads UNION ALL SELECT created FROM opps
                UNION ALL SELECT closed_raw FROM opps) WHERE d IS NOT NULL GROUP BY d"""
    far = con.execute(f"""WITH days AS ({days}), runs AS (
          SELECT d, sum(n) OVER (ORDER BY d ROWS UNBOUNDED PRECEDING) - n AS before, d - lag(d) OVER (ORDER BY d) AS gap,
                 sum(n) OVER () AS total FROM days)
        SELECT min(before) FILTER (gap > {FAR_GAP_DAYS}), max(before) FILTER (gap > {FAR_GAP_DAYS}), max(total) FROM runs""").fetchone()
    low_n, high_n, total = far
    if low_n is not None and low_n <= max(1, int(FAR_SHARE * total)):
        out["far_date_before"] = low_n
    if high_n is not None and total - high_n <= max(1, int(FAR_SHARE * total)):
        out["far_date_after"] = total - high_n
    return out


PIPELINE = """count(*) FILTER (created BETWEEN $s AND $c) AS created,
      count(*) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a) AS won,
      count(*) FILTER (outcome = 'lost' AND closed BETWEEN $s AND $c AND created <= $a) AS lost,
      coalesce(sum(amount) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a), 0) AS won_amount,
      coalesce(sum(amount) FILTER (outcome = 'lost' AND closed BETWEEN $s AND $c AND created <= $a), 0) AS lost_amount,
      count(amount) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a) AS won_known,
      count(amount) FILTER (outcome = 'lost' AND closed BETWEEN $s AND $c AND created <= $a) AS lost_known,
      avg(closed - created) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a) AS cycle,
      count(*) FILTER (created <= $c AND NOT coalesce(outcome IN ('won', 'lost') AND closed <= $c, false)) AS open_count,
      coalesce(sum(amount) FILTER (created <= $c AND NOT coalesce(outcome IN ('won', 'lost') AND closed <= $c, false)), 0) AS open_amount,
      count(*) FILTER (created <= $c AND NOT coalesce(outcome IN ('won', 'lost') AND closed <= $c, false) AND amount IS NULL) AS open_unknown,
      count(*) FILTER (created <= $a) AS seen"""
COHORT = """count(*) FILTER (created BETWEEN $s AND $c) AS p_leads,
      count(*) FILTER (created <= $a AND mql BETWEEN $s AND $c) AS p_mqls,
      count(*) FILTER (created <= $a AND sqld BETWEEN $s AND $c) AS p_sqls,
      count(*) FILTER (created BETWEEN $s AND $c) AS c_leads,
      count(*) FILTER (created BETWEEN $s AND $c AND (mql <= $a OR sqld <= $a OR reached_opp)) AS c_mql,
      count(*) FILTER (created BETWEEN $s AND $c AND (sqld <= $a OR reached_opp)) AS c_sql,
      count(*) FILTER (created BETWEEN $s AND $c AND reached_opp) AS c_opp,
      count(*) FILTER (created BETWEEN $s AND $c AND reached_won) AS c_won,
      count(*) FILTER (created BETWEEN $s AND $c AND (sqld <= $a OR reached_opp) AND NOT coalesce(mql <= $a, false)) AS skipped_mql,
      count(*) FILTER (created BETWEEN $s AND $c AND reached_opp AND NOT coalesce(sqld <= $a, false)) AS skipped_sql,
      count(*) FILTER (created <= $a) AS seen"""
LINKED = """count(DISTINCT o.opportunity_id) FILTER (o.created BETWEEN $s AND $c) AS opps,
      count(DISTINCT o.opportunity_id) FILTER (o.outcome = 'won' AND o.closed BETWEEN $s AND $c AND o.created <= $a) AS won"""


def grouped(con, select: str, source: str, params: dict, prefix: str = "") -> dict:
    """{(dimension or 'all', key): {figure: value}}: one GROUPING SETS scan of `source` by the total and every
    :data:`DIMENSIONS` column (`prefix` qualifies the columns)."""
    cols = ", ".join(f"{prefix}{d}" for d in DIMENSIONS)
    sets = ", ".join(["()"] + [f"({prefix}{d})" for d in DIMENSIONS])
    sql = f"SELECT {cols}, {select} FROM {source} GROUP BY GROUPING SETS ({sets})"
    cur = con.execute(sql, {n: v for n, v in params.items() if "$" + n in sql})
    names = [d[0] for d in cur.description]
    out = {}
    for row in cur.fetchall():
        key = next(((d, k) for d, k in zip(DIMENSIONS, row) if k is not None), ("all", "all"))
        out[key] = dict(zip(names[len(DIMENSIONS):], row[len(DIMENSIONS):]))
    return out


def ratio(n, d):
    return None if n is None or d is None or d == 0 else float(n) / float(d)


def pipeline(agg: dict | None) -> dict:
    """A breakdown row's pipeline figures (win rate, won revenue, cycle, velocity, open pipeline)."""
    agg = agg or dict.fromkeys(("created", "won", "lost", "won_known", "lost_known", "open_count", "open_unknown"), 0) | {
        "won_amount": 0.0, "lost_amount": 0.0, "cycle": None, "open_amount": 0.0}
    won, lost = agg["won"], agg["lost"]
    win_rate = ratio(won, won + lost)
    # A sum over rows none of which has an amount is unknown (None), never 0.
    won_revenue = None if won and not agg["won_known"] else float(agg["won_amount"])
    avg_deal = ratio(won_revenue, agg["won_known"])
    by_amount = (ratio(agg["won_amount"], agg["won_amount"] + agg["lost_amount"])
                 if agg["won_known"] or agg["lost_known"] else None)
    open_amount = None if agg["open_count"] and agg["open_unknown"] == agg["open_count"] else float(agg["open_amount"])
    cycle = None if not won else float(agg["cycle"])
    parts = (agg["created"], avg_deal, win_rate, cycle)
    velocity = None if any(p is None for p in parts) or cycle == 0 else parts[0] * avg_deal * win_rate / cycle
    return {"opportunities_created": agg["created"], "won_count": won, "lost_count": lost, "win_rate": win_rate,
            "win_rate_by_amount": by_amount, "won_revenue": won_revenue, "avg_deal_size": avg_deal,
            "sales_cycle_days": cycle, "sales_velocity": velocity,
            "open_pipeline": {"count": agg["open_count"], "amount": open_amount, "amount_unknown_count": agg["open_unknown"]}}


def funnel(z: dict | None, opps: int, won_count: int, maturity: dict) -> dict:
    """A breakdown row's funnel: period counts and the cohort's stages and rates."""
    z = z or {}
    n, mql, sql, opp, won = (z.get(k, 0) for k in ("c_leads", "c_mql", "c_sql", "c_opp", "c_won"))
    return {"period": {"leads": z.get("p_leads", 0), "mqls": z.get("p_mqls", 0), "sqls": z.get("p_sqls", 0),
                       "opportunities": opps, "won": won_count},
            "cohort": {"leads": n, "mql": mql, "sql": sql, "opportunity": opp, "won": won,
                       "mql_rate": ratio(mql, n), "sql_rate": ratio(sql, mql), "opportunity_rate": ratio(opp, sql),
                       "won_rate": ratio(won, opp), "lead_to_opportunity_rate": ratio(opp, n), "lead_to_won_rate": ratio(won, n),
                       "skipped_mql": z.get("skipped_mql", 0), "skipped_sql": z.get("skipped_sql", 0)}
            | maturity | ({} if n else {"immature": None})}   # a cohort without leads: nothing is immature


def figures(data: Path, settings: dict) -> dict:
    """The core figures and validation counts of the latest complete period (see the module's docstring)."""
    import duckdb

    con = duckdb.connect()
    load(con, data, settings)
    as_of = (dt.date.fromisoformat(settings["as_of"]) if settings["as_of"] else con.execute("""SELECT greatest(
        (SELECT max(greatest(created, mql, sqld, touch)) FROM leads), (SELECT max(greatest(created, closed_raw)) FROM opps))""").fetchone()[0])
    first = con.execute("SELECT least((SELECT min(created) FROM opps), (SELECT min(created) FROM leads))").fetchone()[0]
    name, s, e = latest_period(first, as_of, settings["fiscal_year_start_month"])
    a, c = as_of, min(e, as_of)
    params = {"s": s, "c": c, "a": a}
    found = checks(con, a)
    con.execute("""CREATE TABLE pairs AS SELECT DISTINCT lead_id, opportunity_id FROM (
          SELECT lead_id, opportunity_id FROM leads WHERE lead_id IS NOT NULL AND opportunity_id IS NOT NULL
          UNION ALL SELECT lead_id, opportunity_id FROM opps WHERE lead_id IS NOT NULL AND opportunity_id IS NOT NULL)""")
    # Typical days to an opportunity (p80) and maturity (p90 lead -> won, else the typical days); negative gaps left out.
    typical, won_days = con.execute("""SELECT quantile_cont(o.created - l.created, 0.8) FILTER (o.created >= l.created),
          quantile_cont(o.closed - l.created, 0.9) FILTER (o.outcome = 'won' AND o.closed <= $a AND o.closed >= l.created)
        FROM pairs p JOIN leads l ON l.lead_id = p.lead_id JOIN opps o ON o.opportunity_id = p.opportunity_id
        WHERE l.created <= $a AND o.created <= $a""", {"a": a}).fetchone()
    typical = None if typical is None else float(typical)
    days_to, measure = ((float(won_days), "p90_lead_to_won_days") if won_days is not None
                        else (typical, None if typical is None else "p80_lead_to_opportunity_days"))
    observed = (a - c).days   # from the youngest lead's latest creation day, min(end, as_of): never negative
    maturity = {"immature": None if days_to is None else observed < days_to, "days_observed": observed,
                "typical_days_to_opportunity": typical, "maturity_days": days_to, "maturity_measure": measure}
    con.execute("""CREATE TABLE lead_flags AS SELECT l.*, coalesce(r.reached_opp, false) OR coalesce(r.reached_won, false) AS reached_opp,
               coalesce(r.reached_won, false) AS reached_won
        FROM leads l LEFT JOIN (
          SELECT p.lead_id, bool_or(o.created <= $a) AS reached_opp,
                 bool_or(o.outcome = 'won' AND o.closed <= $a AND o.created <= $a) AS reached_won
          FROM pairs p JOIN opps o ON o.opportunity_id = p.opportunity_id GROUP BY p.lead_id) r ON r.lead_id = l.lead_id""", {"a": a})
    pipe = grouped(con, PIPELINE, "opps", params)
    cohort = grouped(con, COHORT, "lead_flags", params)
    linked = grouped(con, LINKED, """pairs p JOIN leads l ON l.lead_id = p.lead_id AND l.created <= $a
                                     JOIN opps o ON o.opportunity_id = p.opportunity_id""", params, prefix="l.")

    def breakdown(dim: str) -> dict:
        keys = {k for d, k in (pipe.keys() | cohort.keys()) if d == dim
                and ((pipe.get((d, k)) or {}).get("seen") or (cohort.get((d, k)) or {}).get("seen"))}
        return {k: pipeline(pipe.get((dim, k))) | {"funnel": funnel(cohort.get((dim, k)), linked.get((dim, k), {}).get("opps", 0),
                                                                    linked.get((dim, k), {}).get("won", 0), maturity)}
                for k in keys}

    total = pipe.get(("all", "all"))
    segments = [d for d in ("industry", "company_size", "owner")
                if any(dim == d and k != "unknown" for dim, k in pipe.keys() | cohort.keys())]
    if settings["target_industries"] or settings["target_company_sizes"]:
        segments.append("target_fit")
    return {"period": name, "start": s.isoformat(), "end": e.isoformat(), "as_of": a.isoformat(),
            "pipeline": pipeline(total),
            "funnel": funnel(cohort.get(("all", "all")), total["created"] if total else 0, total["won"] if total else 0, maturity),
            "by_channel": breakdown("channel"), "by_segment": {d: breakdown(d) for d in segments}, "checks": found}


def run(compute, argv: list[str]) -> int:
    """A reference's command line ``DATA SETTINGS_JSON RESULT_JSON``: `compute`(data, settings) written as JSON."""
    data, settings, result = Path(argv[0]), json.loads(argv[1]), Path(argv[2])
    result.write_text(json.dumps(compute(data, settings), ensure_ascii=False, sort_keys=True, default=str), encoding="utf-8")
    return 0


def main(argv: list[str]) -> int:
    return run(figures, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
