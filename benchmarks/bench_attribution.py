"""Attribution at scale (part of `make bench-scale`): the workbook's position models and Markov transition count
against the same computation written as plain DuckDB SQL.

On a generated folder with touches (``helpers.data.sample --leads N``: about 4.7 touches per lead, so 1M leads
bring about 4.7M touches) it measures, each in a fresh process (benchmarks.bench_scale.measure):

- ``attribution``: :func:`helpers.data.load.load_workbook` (read, type, validate every table, touches included),
  then what notebook 06 computes in the engine: the latest complete period's credits of every position model
  (:func:`helpers.metrics.attribution.pairs_table` kept as one engine table, then
  :func:`~helpers.metrics.attribution.position_credits`: one grouped sum per channel) and the paths of the observed
  leads of the last lookback_days counted by distinct path (:func:`helpers.metrics.attribution_paths.path_counts`),
  whose transitions (:func:`~helpers.metrics.attribution_paths.transitions`) are the Markov chain's;
- ``attribution_sql``: the same figures as plain DuckDB SQL over the CSV files (written here, independently),
  checked equal to the workbook's: transitions exactly, each channel's credit within one currency unit (the
  workbook rounds channel sums to the yen by the largest remainder).
"""
from __future__ import annotations

from pathlib import Path


def _period(data: Path):
    from helpers.config import load_config
    from helpers.data.periods import complete_periods

    import duckdb

    config = load_config(data)
    con = duckdb.connect()
    first, as_of = con.execute(f"""
        SELECT least(min(o.c), min(l.c)), greatest(max(o.m), max(l.m)) FROM
          (SELECT min(CAST(created_at AS DATE)) c,
                  greatest(max(CAST(created_at AS DATE)), max(CAST(closed_at AS DATE))) m
             FROM read_csv('{data / 'opportunities.csv'}', all_varchar = true)) o,
          (SELECT min(CAST(created_at AS DATE)) c,
                  greatest(max(CAST(created_at AS DATE)), max(CAST(mql_at AS DATE)), max(CAST(sql_at AS DATE)),
                           max(CAST(first_sales_touch_at AS TIMESTAMP))::DATE) m
             FROM read_csv('{data / 'leads.csv'}', all_varchar = true)) l""").fetchone()
    return config, complete_periods(first, as_of, config.fiscal_year_start_month)[-1], as_of


def workbook_attribution(data: Path) -> dict:
    """The workbook's figures: {won: {model: {channel: revenue}}, pipeline: {model: {channel: amount}}, transitions:
    {"from > to": count}, horizon_days}."""
    from helpers.data.load import first_data_date, load_workbook
    from helpers.data.periods import complete_periods
    from helpers.metrics import attribution as A
    from helpers.metrics import attribution_paths as P
    from helpers.metrics import engine as E
    from helpers.metrics.lead_quality import horizon_days

    import pandas as pd

    wb = load_workbook(data)
    period = complete_periods(first_data_date(wb), wb.as_of, wb.config.fiscal_year_start_month)[-1]
    cfg = P.settings(wb.config)
    with E.reusing_tables(), E.materialized(A.pairs_table(wb.touches, wb.leads, wb.opportunities, wb.as_of,
                                                          cfg["lookback_days"], cfg["half_life_days"])) as pairs:
        credits = A.position_credits(pairs, wb.opportunities, wb.leads, period.start, period.end, wb.as_of)
        h = horizon_days(wb.leads, wb.opportunities, wb.as_of)
        paths = P.path_counts(wb.touches, wb.leads, wb.opportunities, wb.as_of, h,
                              wb.as_of - pd.Timedelta(days=cfg["lookback_days"]), wb.as_of)
    trans = P.transitions(paths)
    return {"won": {m: {c: r["revenue"] for c, r in credits[m]["won"].items() if r["deals"]} for m in A.POSITION_MODELS},
            "pipeline": {m: {c: r["amount"] for c, r in credits[m]["pipeline"].items() if r["deals"]} for m in A.POSITION_MODELS},
            "transitions": {f"{a} > {b}": int(n) for (a, b), n in trans.items()}, "horizon_days": h}


def sql_attribution(data: Path) -> dict:
    """The same figures as plain DuckDB SQL over the CSV files (no helpers.metrics code)."""
    import datetime as dt

    import duckdb

    from helpers.metrics.attribution_paths import CONV, NULL, START

    config, period, as_of = _period(data)
    a = dict(config.attribution)
    lookback, half = int(a.get("lookback_days", 365)), float(a.get("half_life_days", 7))
    con = duckdb.connect()
    csv = "read_csv('{}', all_varchar = true, header = true)"
    con.execute(f"CREATE TABLE t AS SELECT row_number() OVER () - 1 AS pos, touch_id, lead_id, channel, opportunity_id, "
                f"CAST(touched_at AS TIMESTAMP) AS ts, CAST(touched_at AS TIMESTAMP)::DATE AS d FROM {csv.format(data / 'touches.csv')}")
    con.execute(f"CREATE TABLE l AS SELECT lead_id, CAST(created_at AS DATE) AS lc, opportunity_id FROM {csv.format(data / 'leads.csv')}")
    con.execute(f"CREATE TABLE o AS SELECT opportunity_id, CAST(created_at AS DATE) AS created, CAST(closed_at AS DATE) AS closed, "
                f"lower(trim(outcome)) AS outcome, CAST(amount AS DOUBLE) AS amount, lead_id FROM {csv.format(data / 'opportunities.csv')}")
    p = {"as_of": as_of, "start": period.start.date(), "end": period.end.date()}
    con.execute("""CREATE TABLE links AS SELECT DISTINCT lead_id, opportunity_id FROM (
                     SELECT lead_id, opportunity_id FROM l WHERE opportunity_id IS NOT NULL
                     UNION ALL SELECT lead_id, opportunity_id FROM o WHERE lead_id IS NOT NULL)""")
    con.execute("""CREATE TABLE deals AS SELECT o.opportunity_id, created, amount,
                     CASE WHEN outcome IN ('won', 'lost') AND closed <= $as_of THEN closed ELSE $as_of END AS end_day,
                     outcome = 'won' AND closed BETWEEN $start AND least($end, $as_of) AS won_in_p,
                     created BETWEEN $start AND least($end, $as_of) AS made_in_p,
                     (SELECT min(l.lc) FROM links k JOIN l USING (lead_id) WHERE k.opportunity_id = o.opportunity_id) AS lc
                   FROM o WHERE created <= $as_of""", p)
    weights = {"first_touch": ({"ft": 1.0}, 0.0), "lead_creation": ({"lcm": 1.0}, 0.0), "last_touch": ({"ocm": 1.0}, 0.0),
               "u_shaped": ({"ft": 0.4, "lcm": 0.4}, 0.2), "w_shaped": ({"ft": 0.3, "lcm": 0.3, "ocm": 0.3}, 0.1),
               "full_path": ({"ft": 0.225, "lcm": 0.225, "ocm": 0.225, "cw": 0.225}, 0.1)}
    credit_sql = []
    for model, (ms, rest) in weights.items():
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
    models = list(weights) + ["linear", "time_decay"]
    credits = {}
    for kind, flag in (("won", "won_in_p"), ("pipeline", "made_in_p")):
        rows = con.execute(f"SELECT channel, {', '.join(f'sum({m} * coalesce(amount, 0))' for m in models)} "
                           f"FROM credits WHERE {flag} GROUP BY channel").fetchall()
        credits[kind] = {m: {r[0]: r[i + 1] for r in rows if r[i + 1] is not None} for i, m in enumerate(models)}
        untouched = con.execute(f"SELECT count(*), sum(coalesce(amount, 0)) FROM deals WHERE {flag} AND opportunity_id NOT IN "
                                "(SELECT opportunity_id FROM credits)").fetchone()
        for m in models:
            if untouched[0]:
                credits[kind][m]["no_touches"] = untouched[1]
    h = con.execute("""SELECT greatest(30, ceil(quantile_cont(days, 0.9))) FROM (
                         SELECT o.created - l.lc AS days FROM links k JOIN l ON l.lead_id = k.lead_id
                                                 JOIN o ON o.opportunity_id = k.opportunity_id
                          WHERE o.created <= $as_of AND o.created - l.lc >= 0)""", {"as_of": as_of}).fetchone()[0]
    h = int(h if h is not None else 30)
    q = {"as_of": as_of, "lo": as_of - dt.timedelta(days=lookback), "hi": as_of - dt.timedelta(days=h)}
    trans = con.execute(f"""
        WITH chosen AS (SELECT lead_id FROM l WHERE lc >= $lo AND lc <= $hi),
        wonp AS (SELECT k.lead_id, min(o.closed) AS closed FROM links k JOIN o ON o.opportunity_id = k.opportunity_id
                  WHERE o.outcome = 'won' AND o.closed <= $as_of AND k.lead_id IN (SELECT lead_id FROM chosen) GROUP BY 1),
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
    return {**credits, "transitions": {f"{a} > {b}": int(n) for a, b, n in trans}, "horizon_days": h}


def differences(a: dict, b: dict) -> list[str]:
    """Where the workbook (a) and SQL (b) disagree: transitions exactly, credits within one unit per channel."""
    out = []
    if a["horizon_days"] != b["horizon_days"]:
        out.append(f"horizon_days: {a['horizon_days']} != {b['horizon_days']}")
    if a["transitions"] != b["transitions"]:
        keys = set(a["transitions"]) | set(b["transitions"])
        out += [f"transitions/{k}: {a['transitions'].get(k)} != {b['transitions'].get(k)}" for k in sorted(keys)
                if a["transitions"].get(k) != b["transitions"].get(k)][:10]
    for kind in ("won", "pipeline"):
        for model, chans in a[kind].items():
            other = b[kind].get(model, {})
            for c in set(chans) | {c for c, v in other.items() if abs(v or 0) > 0.5}:
                if abs((chans.get(c) or 0) - (other.get(c) or 0)) > 1.0 + 1e-6:
                    out.append(f"{kind}/{model}/{c}: {chans.get(c)} != {other.get(c)}")
    return out
