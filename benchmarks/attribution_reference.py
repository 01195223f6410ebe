"""The attribution benchmark's yardstick: notebook 06's engine figures as the best plain DuckDB SQL an analyst would
write, with the workbook's validation of the tables it reads (issue 23's speed aim, issue 26's honest reference).

``python -m benchmarks.attribution_reference DATA SETTINGS_JSON RESULT_JSON`` reads the data folder's leads.csv,
opportunities.csv and touches.csv and writes to RESULT_JSON the latest complete period's credits of every position
model (won and pipeline, per channel), the Markov transition counts of the observed leads' paths, the horizon, and
the validation counts. It imports only DuckDB, the standard library and :mod:`benchmarks.scale_reference` (itself
DuckDB and the standard library): no pandas, nothing of ``helpers``. SETTINGS_JSON is the core reference's
(:func:`benchmarks.bench_scale.reference_settings`) plus ``lookback_days`` and ``half_life_days``.

What it does, as an analyst would:

- a typed ``read_csv`` of only the columns the figures and checks need (declared types, no sniffing); touched_at is
  read as text and cast with ``TRY_CAST`` so that an unparseable date is counted, not a failed read;
- the workbook's validation checks as SQL counts: leads' and opportunities' with the core reference's SQL
  (:func:`benchmarks.scale_reference.checks`), and the touches': empty required cells (lead_id, touched_at,
  channel), unparseable touched_at, repeated touch_id, unknown lead_id, unknown opportunity_id, a touch after the
  earliest close of a won or lost deal it is linked to, after as_of, and cells holding several ``;``-separated
  channels or campaigns (the workbook splits them into touches; the figures here do not, so the comparison shows it
  when a folder has any);
- every position model's weights per (deal, touch) in one window pass, summed per channel; the paths' transitions as
  one grouped count (contract section 6).
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from benchmarks.scale_reference import latest_period, run, typed_csv

#: The columns read of each file, with their declared types (every other column: VARCHAR, never selected).
LEAD_TYPES = {"lead_id": "VARCHAR", "created_at": "DATE", "mql_at": "DATE", "sql_at": "DATE",
              "first_sales_touch_at": "TIMESTAMP", "opportunity_id": "VARCHAR"}
OPP_TYPES = {"opportunity_id": "VARCHAR", "created_at": "DATE", "closed_at": "DATE", "outcome": "VARCHAR",
             "amount": "DOUBLE", "lead_id": "VARCHAR"}
TOUCH_TYPES = {"touch_id": "VARCHAR", "lead_id": "VARCHAR", "touched_at": "VARCHAR", "channel": "VARCHAR",
               "campaign": "VARCHAR", "opportunity_id": "VARCHAR"}
#: The Markov chain's start, conversion and null states (helpers.metrics.attribution_paths' names).
START, CONV, NULL = "(start)", "(conversion)", "(null)"
#: Each position model: (milestone weights, the rest's share); ft = first touch, lcm = lead creation, ocm =
#: opportunity creation, cw = closed won (contract section 6).
WEIGHTS = {"first_touch": ({"ft": 1.0}, 0.0), "lead_creation": ({"lcm": 1.0}, 0.0), "last_touch": ({"ocm": 1.0}, 0.0),
           "u_shaped": ({"ft": 0.4, "lcm": 0.4}, 0.2), "w_shaped": ({"ft": 0.3, "lcm": 0.3, "ocm": 0.3}, 0.1),
           "full_path": ({"ft": 0.225, "lcm": 0.225, "ocm": 0.225, "cw": 0.225}, 0.1)}


def load(con, data: Path) -> None:
    """Tables leads (lead_id, created, mql, sqld, touch, opportunity_id), opps (opportunity_id, created, closed_raw,
    outcome, amount, lead_id) and t (pos, touch_id, lead_id, raw_ts, ts, d, channel, multi, opportunity_id): typed,
    ids trimmed, blanks null."""
    con.execute(f"""CREATE TABLE leads AS SELECT trim(lead_id) AS lead_id, created_at AS created, mql_at AS mql,
                      sql_at AS sqld, CAST(first_sales_touch_at AS DATE) AS touch,
                      nullif(trim(opportunity_id), '') AS opportunity_id
                    FROM {typed_csv(data / 'leads.csv', LEAD_TYPES)}""")
    con.execute(f"""CREATE TABLE opps AS SELECT trim(opportunity_id) AS opportunity_id, created_at AS created,
                      closed_at AS closed_raw, lower(trim(outcome)) AS outcome, amount,
                      nullif(trim(lead_id), '') AS lead_id
                    FROM {typed_csv(data / 'opportunities.csv', OPP_TYPES)}""")
    con.execute(f"""CREATE TABLE t AS SELECT row_number() OVER () - 1 AS pos, nullif(trim(touch_id), '') AS touch_id,
                      nullif(trim(lead_id), '') AS lead_id, nullif(trim(touched_at), '') AS raw_ts,
                      TRY_CAST(touched_at AS TIMESTAMP) AS ts, TRY_CAST(touched_at AS TIMESTAMP)::DATE AS d,
                      nullif(trim(channel), '') AS channel,
                      coalesce(contains(channel, ';') OR contains(campaign, ';'), false) AS multi,
                      nullif(trim(opportunity_id), '') AS opportunity_id
                    FROM {typed_csv(data / 'touches.csv', TOUCH_TYPES)}""")


def touch_checks(con, as_of: dt.date) -> dict:
    """The touches' validation counts keyed ``touches/code/column`` as the workbook's findings (only those that found
    rows): see the module's docstring."""
    row = con.execute("""
        WITH closes AS (SELECT opportunity_id, min(closed_raw) AS day FROM opps
                         WHERE outcome IN ('won', 'lost') AND closed_raw IS NOT NULL AND opportunity_id IS NOT NULL
                         GROUP BY 1),
        by_lead AS (SELECT p.lead_id, min(c.day) AS day FROM (
                      SELECT lead_id, opportunity_id FROM leads WHERE opportunity_id IS NOT NULL
                      UNION ALL SELECT lead_id, opportunity_id FROM opps WHERE lead_id IS NOT NULL) p
                    JOIN closes c USING (opportunity_id) GROUP BY 1)
        SELECT count(*) FILTER (t.lead_id IS NULL), count(*) FILTER (t.raw_ts IS NULL),
               count(*) FILTER (t.channel IS NULL), count(*) FILTER (t.raw_ts IS NOT NULL AND t.ts IS NULL),
               count(*) FILTER (t.touch_id IN (SELECT touch_id FROM t GROUP BY touch_id HAVING count(*) > 1)),
               count(*) FILTER (t.lead_id IS NOT NULL AND t.lead_id NOT IN (SELECT lead_id FROM leads WHERE lead_id IS NOT NULL)),
               count(*) FILTER (t.opportunity_id IS NOT NULL
                                AND t.opportunity_id NOT IN (SELECT opportunity_id FROM opps WHERE opportunity_id IS NOT NULL)),
               count(*) FILTER (t.d > least(coalesce(b.day, c.day), coalesce(c.day, b.day))),
               count(*) FILTER (t.d > $a), count(*) FILTER (t.multi)
          FROM t LEFT JOIN by_lead b ON b.lead_id = t.lead_id LEFT JOIN closes c ON c.opportunity_id = t.opportunity_id""",
                      {"a": as_of}).fetchone()
    names = ["missing_value/lead_id", "missing_value/touched_at", "missing_value/channel", "bad_datetime/touched_at",
             "duplicate_id/touch_id", "touch_unknown_lead/lead_id", "touch_unknown_opportunity/opportunity_id",
             "touch_after_close/touched_at", "after_as_of/touched_at", "touches_split/channel,campaign"]
    return {f"touches/{name}": n for name, n in zip(names, row) if n}


def credits(con, p: dict, lookback: int, half: float) -> dict:
    """{won: {model: {channel: revenue}}, pipeline: {...}}: every position model's credit of the deals won (created)
    in the period, per channel, with ``no_touches`` for the deals no touch reaches."""
    con.execute("""CREATE TABLE links AS SELECT DISTINCT lead_id, opportunity_id FROM (
                     SELECT lead_id, opportunity_id FROM leads WHERE opportunity_id IS NOT NULL
                     UNION ALL SELECT lead_id, opportunity_id FROM opps WHERE lead_id IS NOT NULL)""")
    con.execute("""CREATE TABLE deals AS SELECT o.opportunity_id, created, amount,
                     CASE WHEN outcome IN ('won', 'lost') AND closed_raw <= $as_of THEN closed_raw ELSE $as_of END AS end_day,
                     outcome = 'won' AND closed_raw BETWEEN $start AND least($end, $as_of) AS won_in_p,
                     created BETWEEN $start AND least($end, $as_of) AS made_in_p,
                     (SELECT min(l.created) FROM links k JOIN leads l USING (lead_id) WHERE k.opportunity_id = o.opportunity_id) AS lc
                   FROM opps o WHERE created <= $as_of""", p)
    credit_sql = []
    for model, (ms, rest) in WEIGHTS.items():
        w = " + ".join(f"{v} * CAST({m} AS DOUBLE)" for m, v in ms.items())
        holds = " OR ".join(ms)
        credit_sql.append(f"""CASE WHEN count(*) FILTER (WHERE NOT ({holds})) OVER o > 0
                                   THEN CASE WHEN {holds} THEN {w} ELSE {rest} / count(*) FILTER (WHERE NOT ({holds})) OVER o END
                                   ELSE ({w}) / sum({w}) OVER o END AS {model}""")
    con.execute(f"""CREATE TABLE credits AS
        WITH pairs AS (SELECT t.pos, links.opportunity_id FROM t JOIN links USING (lead_id)
                       UNION SELECT pos, opportunity_id FROM t WHERE opportunity_id IS NOT NULL),
        x AS (SELECT p.opportunity_id, t.pos, coalesce(t.touch_id, '') AS tid, t.ts, t.d, t.channel, dl.created, dl.end_day, dl.lc,
                     dl.won_in_p, dl.made_in_p, dl.amount
                FROM pairs p JOIN t USING (pos) JOIN deals dl ON dl.opportunity_id = p.opportunity_id
               WHERE t.d <= dl.end_day AND t.d >= dl.created - INTERVAL {lookback} DAY),
        r AS (SELECT *, row_number() OVER (PARTITION BY opportunity_id ORDER BY ts, tid, pos) - 1 AS k,
                     count(*) OVER (PARTITION BY opportunity_id) AS n FROM x),
        m AS (SELECT *, coalesce(max(CASE WHEN d <= lc THEN k END) OVER (PARTITION BY opportunity_id), 0) AS lck,
                        coalesce(max(CASE WHEN d <= created THEN k END) OVER (PARTITION BY opportunity_id), 0) AS ock FROM r),
        f AS (SELECT *, k = 0 AS ft, k = lck AS lcm, k = ock AS ocm, k = n - 1 AS cw FROM m)
        SELECT opportunity_id, channel, won_in_p, made_in_p, amount, {", ".join(credit_sql)}, 1.0 / n AS linear,
               pow(2, -(end_day - d) / {half}) / sum(pow(2, -(end_day - d) / {half})) OVER o AS time_decay
          FROM f WINDOW o AS (PARTITION BY opportunity_id)""")
    models = list(WEIGHTS) + ["linear", "time_decay"]
    out = {}
    for kind, flag in (("won", "won_in_p"), ("pipeline", "made_in_p")):
        rows = con.execute(f"SELECT channel, {', '.join(f'sum({m} * coalesce(amount, 0))' for m in models)} "
                           f"FROM credits WHERE {flag} GROUP BY channel").fetchall()
        out[kind] = {m: {r[0]: r[i + 1] for r in rows if r[i + 1] is not None} for i, m in enumerate(models)}
        untouched = con.execute(f"SELECT count(*), sum(coalesce(amount, 0)) FROM deals WHERE {flag} AND opportunity_id NOT IN "
                                "(SELECT opportunity_id FROM credits)").fetchone()
        for m in models:
            if untouched[0]:
                out[kind][m]["no_touches"] = untouched[1]
    return out


def transitions(con, as_of: dt.date, lookback: int) -> tuple[dict, int]:
    """({"from > to": count}, horizon days): the Markov chain's transitions over the paths of the leads created in
    [as_of - lookback, as_of - horizon] (the horizon: the 90th percentile of lead-to-deal days, at least 30)."""
    h = con.execute("""SELECT greatest(30, ceil(quantile_cont(days, 0.9))) FROM (
                         SELECT o.created - l.created AS days FROM links k JOIN leads l ON l.lead_id = k.lead_id
                                                 JOIN opps o ON o.opportunity_id = k.opportunity_id
                          WHERE o.created <= $as_of AND o.created - l.created >= 0)""", {"as_of": as_of}).fetchone()[0]
    h = int(h if h is not None else 30)
    q = {"as_of": as_of, "lo": as_of - dt.timedelta(days=lookback), "hi": as_of - dt.timedelta(days=h)}
    trans = con.execute(f"""
        WITH chosen AS (SELECT lead_id FROM leads WHERE created >= $lo AND created <= $hi),
        wonp AS (SELECT k.lead_id, min(o.closed_raw) AS closed FROM links k JOIN opps o ON o.opportunity_id = k.opportunity_id
                  WHERE o.outcome = 'won' AND o.closed_raw <= $as_of AND k.lead_id IN (SELECT lead_id FROM chosen) GROUP BY 1),
        pt AS (SELECT DISTINCT lead_id, pos FROM (
                 SELECT lead_id, pos FROM t WHERE lead_id IN (SELECT lead_id FROM chosen)
                 UNION ALL SELECT k.lead_id, t.pos FROM t JOIN links k ON t.opportunity_id = k.opportunity_id
                  WHERE k.lead_id IN (SELECT lead_id FROM chosen))),
        seq AS (SELECT pt.lead_id, t.channel, t.ts, coalesce(t.touch_id, '') AS tid, t.pos, w.closed IS NOT NULL AS conv
                  FROM pt JOIN t USING (pos) LEFT JOIN wonp w ON w.lead_id = pt.lead_id
                 WHERE t.d <= coalesce(w.closed, $as_of)),
        o2 AS (SELECT *, lag(channel) OVER w AS prev, lead(channel) OVER w AS nxt FROM seq
               WINDOW w AS (PARTITION BY lead_id ORDER BY ts, tid, pos))
        SELECT frm, too, count(*) FROM (
          SELECT coalesce(prev, '{START}') AS frm, channel AS too FROM o2
          UNION ALL SELECT channel, CASE WHEN conv THEN '{CONV}' ELSE '{NULL}' END FROM o2 WHERE nxt IS NULL)
        GROUP BY 1, 2""", q).fetchall()
    return {f"{a} > {b}": int(n) for a, b, n in trans}, h


def figures(data: Path, settings: dict) -> dict:
    """{won, pipeline, transitions, horizon_days, checks} of the latest complete period (see the module's docstring)."""
    import duckdb

    from benchmarks.scale_reference import checks

    con = duckdb.connect()
    load(con, data)
    as_of = (dt.date.fromisoformat(settings["as_of"]) if settings["as_of"] else con.execute("""SELECT greatest(
        (SELECT max(greatest(created, mql, sqld, touch)) FROM leads), (SELECT max(greatest(created, closed_raw)) FROM opps))""").fetchone()[0])
    first = con.execute("SELECT least((SELECT min(created) FROM opps), (SELECT min(created) FROM leads))").fetchone()[0]
    _, start, end = latest_period(first, as_of, settings["fiscal_year_start_month"])
    found = checks(con, as_of) | touch_checks(con, as_of)
    lookback, half = int(settings["lookback_days"]), float(settings["half_life_days"])
    out = credits(con, {"as_of": as_of, "start": start, "end": end}, lookback, half)
    trans, h = transitions(con, as_of, lookback)
    return out | {"transitions": trans, "horizon_days": h, "checks": found}


def main(argv: list[str]) -> int:
    return run(figures, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
