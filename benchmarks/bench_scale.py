"""Benchmark at scale (`make bench-scale`): the workbook's load + metrics against plain DuckDB SQL and a bare read.

For each size (100k and 1M leads; 10M more with ``--big``) it generates a data folder
with ``helpers.data.sample --leads N`` (kept in ``--cache`` and reused), then times, each in
a fresh Python process so CPU and peak memory are that measurement's own:

- (a) ``workbook``: :func:`helpers.data.load.load_workbook` (read, type, validate) and one
  period's metrics.json core figures (:func:`helpers.metrics.core.core_metrics`: pipeline,
  funnel period and cohort, by channel, by segment; without the explanations
  ``null_reasons`` and ``coverage``);
- (b) ``sql``: the same figures written independently here as plain DuckDB SQL over the
  same CSV files, checked equal to (a) figure by figure (relative tolerance 1e-9);
- (c) ``read``: reading every CSV file once (pyarrow.csv).

- (d) ``lead_quality``: the same load and notebook 05's lead_quality section (10 lead attributes,
  :data:`LEAD_SETTINGS`), against (e) ``lead_sql``: the same counts (horizon, observed, converted, flagged, by
  channel, leads and converted per attribute value) in plain DuckDB SQL plus one statsmodels logistic fit, checked
  equal. The aim (issue 22): (d)/(e) CPU <= 2, peak < 1.5 GiB at 1M leads.

With ``--report`` it then runs one period's full report (``python -m helpers.report.run``: snapshot,
all notebooks, HTML) on the largest size and prints its wall and CPU seconds and peak memory (the
runner and its kernel). The aim (issue 14): at 10M leads (``--big --report``) it finishes.

It prints CPU seconds (user + system), wall seconds and peak resident memory (MiB) of
each, the ratios (a)/(b) and (a)/(c), and as its last line
``1M leads: workbook/SQL CPU ratio R, workbook peak MiB M``. The aims (issue 14):
R <= 1.5 and M <= 1024. Exit status 1 when (a) and (b) disagree on any figure.

Then attribution (issue 23, benchmarks.bench_attribution) on the largest size up to 1M leads, generated with
touches (``leads-N-touches``; the folders above have none): the workbook's load, position models and Markov
transition count against the same in plain DuckDB SQL, checked equal, with the line
``attribution 1M leads: workbook/SQL CPU ratio R, workbook peak MiB M`` (aims: R <= 2, M < 2048).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from helpers.paths import PROJ_ROOT, SAMPLE_DATA_DIR

SIZES = (100_000, 1_000_000)
BIG = 10_000_000
DEFAULT_CACHE = PROJ_ROOT / "build" / "bench-scale"
REL_TOL = 1e-9


# --------------------------------------------------------------------------- (a) the workbook
def workbook_figures(data: Path) -> dict:
    """(a): load + validate the folder and compute the latest complete period's core figures."""
    from helpers.data.load import load_workbook
    from helpers.metrics.core import core_metrics
    from helpers.data.periods import complete_periods
    from helpers.data.load import first_data_date

    wb = load_workbook(data)
    period = complete_periods(first_data_date(wb), wb.as_of, wb.config.fiscal_year_start_month)[-1]
    return figures(core_metrics(wb, period))


#: What core_metrics adds to the figures to explain them (helpers.metrics.limits); not figures, so not compared.
EXPLANATIONS = ("null_reasons", "coverage")


def figures(tree):
    """A metrics tree without its explanations (:data:`EXPLANATIONS`): the figures only."""
    if isinstance(tree, dict):
        return {k: figures(v) for k, v in tree.items() if k not in EXPLANATIONS}
    return tree


# --------------------------------------------------------------------------- (b) plain DuckDB SQL
def _label(expr: str) -> str:
    """A null or blank value is the key 'unknown' (trimmed text otherwise)."""
    return f"coalesce(nullif(trim({expr}), ''), 'unknown')"


def _target_fit(industries: list[str], sizes: list[str]) -> str:
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


def sql_figures(data: Path) -> dict:
    """(b): the core figures of the same period as DuckDB SQL over the CSV files (no helpers.metrics.core code)."""
    import duckdb

    from helpers.config import load_config
    from helpers.data.periods import complete_periods

    config = load_config(data)
    con = duckdb.connect()
    csv = "read_csv('{}', all_varchar = true, header = true)"
    con.execute(f"""CREATE TABLE raw_leads AS SELECT * FROM {csv.format(data / 'leads.csv')}""")
    con.execute(f"""CREATE TABLE raw_opps AS SELECT * FROM {csv.format(data / 'opportunities.csv')}""")
    # Owners are pseudonymised (Owner 01, ... in sorted name order over both tables) when the config says so.
    def owner(col: str) -> str:
        return col
    if config.pseudonymize_owners:
        con.execute("""CREATE TABLE owners AS SELECT name, printf('Owner %02d', row_number() OVER (ORDER BY name)) AS alias
                       FROM (SELECT DISTINCT nullif(trim(owner), '') AS name FROM raw_leads
                             UNION SELECT DISTINCT nullif(trim(owner), '') FROM raw_opps) WHERE name IS NOT NULL""")

        def owner(col: str) -> str:
            return f"(SELECT alias FROM owners WHERE name = nullif(trim({col}), ''))"
    fit = _target_fit(config.target_industries or [], config.target_company_sizes or [])
    con.execute(f"""CREATE TABLE leads AS
        SELECT *, {fit} AS target_fit FROM (
          SELECT trim(lead_id) AS lead_id, CAST(created_at AS DATE) AS created, CAST(mql_at AS DATE) AS mql,
                 CAST(sql_at AS DATE) AS sqld, CAST(CAST(first_sales_touch_at AS TIMESTAMP) AS DATE) AS touch,
                 nullif(trim(opportunity_id), '') AS opportunity_id, {_label('channel')} AS channel,
                 {_label('industry')} AS industry, {_label('company_size')} AS company_size,
                 {_label(owner('owner'))} AS owner
          FROM raw_leads)""")
    con.execute(f"""CREATE TABLE opps AS
        SELECT *, {fit} AS target_fit FROM (
          SELECT trim(o.opportunity_id) AS opportunity_id, CAST(o.created_at AS DATE) AS created,
                 CAST(o.closed_at AS DATE) AS closed_raw,
                 CASE WHEN lower(trim(o.outcome)) = 'open' THEN NULL ELSE CAST(o.closed_at AS DATE) END AS closed,
                 lower(trim(o.outcome)) AS outcome, CAST(o.amount AS DOUBLE) AS amount,
                 nullif(trim(o.lead_id), '') AS lead_id,
                 coalesce(nullif(trim(o.channel), ''), l.channel, 'unknown') AS channel,
                 {_label('o.industry')} AS industry, {_label('o.company_size')} AS company_size,
                 {_label(owner('o.owner'))} AS owner
          FROM raw_opps o LEFT JOIN leads l ON l.lead_id = nullif(trim(o.lead_id), ''))""")
    as_of = config.as_of or con.execute("""SELECT max(d) FROM (
        SELECT max(created) AS d FROM leads UNION ALL SELECT max(mql) FROM leads UNION ALL SELECT max(sqld) FROM leads
        UNION ALL SELECT max(touch) FROM leads UNION ALL SELECT max(created) FROM opps UNION ALL SELECT max(closed_raw) FROM opps)""").fetchone()[0]
    first = con.execute("SELECT least((SELECT min(created) FROM opps), (SELECT min(created) FROM leads))").fetchone()[0]
    import pandas as pd

    period = complete_periods(pd.Timestamp(first), pd.Timestamp(as_of), config.fiscal_year_start_month)[-1]
    s, e, a = period.start.date(), period.end.date(), pd.Timestamp(as_of).date()
    c = min(e, a)
    params = {"s": s, "c": c, "a": a, "e": e}
    con.execute("""CREATE TABLE pairs AS
        SELECT DISTINCT lead_id, opportunity_id FROM (
          SELECT lead_id, opportunity_id FROM leads WHERE lead_id IS NOT NULL AND opportunity_id IS NOT NULL
          UNION ALL SELECT lead_id, opportunity_id FROM opps WHERE lead_id IS NOT NULL AND opportunity_id IS NOT NULL)""")
    # A negative gap (dates running backwards) is left out, never 0 days.
    typical = con.execute("""SELECT quantile_cont(o.created - l.created, 0.8)
        FROM pairs p JOIN leads l ON l.lead_id = p.lead_id JOIN opps o ON o.opportunity_id = p.opportunity_id
        WHERE l.created <= $a AND o.created <= $a AND o.created >= l.created""", {"a": a}).fetchone()[0]
    typical = None if typical is None else float(typical)
    # Maturity: p90 of lead created -> linked deal won (by as_of), else the typical days to opportunity.
    won_days = con.execute("""SELECT quantile_cont(o.closed - l.created, 0.9)
        FROM pairs p JOIN leads l ON l.lead_id = p.lead_id JOIN opps o ON o.opportunity_id = p.opportunity_id
        WHERE l.created <= $a AND o.created <= $a AND o.outcome = 'won' AND o.closed <= $a AND o.closed >= l.created""",
                           {"a": a}).fetchone()[0]
    maturity, measure = ((float(won_days), "p90_lead_to_won_days") if won_days is not None
                         else (typical, None if typical is None else "p80_lead_to_opportunity_days"))
    # Per lead: its cohort flags (reached an opportunity / a win by as_of through any link).
    con.execute("""CREATE TABLE lead_flags AS
        SELECT l.*, coalesce(r.reached_opp, false) OR coalesce(r.reached_won, false) AS reached_opp,
               coalesce(r.reached_won, false) AS reached_won
        FROM leads l LEFT JOIN (
          SELECT p.lead_id, bool_or(o.created <= $a) AS reached_opp,
                 bool_or(o.outcome = 'won' AND o.closed <= $a AND o.created <= $a) AS reached_won
          FROM pairs p JOIN opps o ON o.opportunity_id = p.opportunity_id GROUP BY p.lead_id) r ON r.lead_id = l.lead_id""", {"a": a})

    pipeline_sql = """SELECT {key} AS k,
          count(*) FILTER (created BETWEEN $s AND $c) AS created,
          count(*) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a) AS won,
          count(*) FILTER (outcome = 'lost' AND closed BETWEEN $s AND $c AND created <= $a) AS lost,
          coalesce(sum(amount) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a), 0) AS won_amount,
          coalesce(sum(amount) FILTER (outcome = 'lost' AND closed BETWEEN $s AND $c AND created <= $a), 0) AS lost_amount,
          count(amount) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a) AS won_known,
          count(amount) FILTER (outcome = 'lost' AND closed BETWEEN $s AND $c AND created <= $a) AS lost_known,
          avg(closed - created) FILTER (outcome = 'won' AND closed BETWEEN $s AND $c AND created <= $a) AS cycle,
          count(*) FILTER (created <= $c AND NOT coalesce(outcome IN ('won', 'lost') AND closed <= $c, false)) AS open_count,
          coalesce(sum(amount) FILTER (created <= $c AND NOT coalesce(outcome IN ('won', 'lost') AND closed <= $c, false)), 0) AS open_amount,
          count(*) FILTER (created <= $c AND NOT coalesce(outcome IN ('won', 'lost') AND closed <= $c, false) AND amount IS NULL) AS open_unknown
        FROM opps GROUP BY ALL"""
    cohort_sql = """SELECT {key} AS k,
          count(*) FILTER (created BETWEEN $s AND $c) AS p_leads,
          count(*) FILTER (created <= $a AND mql BETWEEN $s AND $c) AS p_mqls,
          count(*) FILTER (created <= $a AND sqld BETWEEN $s AND $c) AS p_sqls,
          count(*) FILTER (created BETWEEN $s AND $c) AS c_leads,
          count(*) FILTER (created BETWEEN $s AND $c AND (mql <= $a OR sqld <= $a OR reached_opp)) AS c_mql,
          count(*) FILTER (created BETWEEN $s AND $c AND (sqld <= $a OR reached_opp)) AS c_sql,
          count(*) FILTER (created BETWEEN $s AND $c AND reached_opp) AS c_opp,
          count(*) FILTER (created BETWEEN $s AND $c AND reached_won) AS c_won,
          count(*) FILTER (created BETWEEN $s AND $c AND (sqld <= $a OR reached_opp) AND NOT coalesce(mql <= $a, false)) AS skipped_mql,
          count(*) FILTER (created BETWEEN $s AND $c AND reached_opp AND NOT coalesce(sqld <= $a, false)) AS skipped_sql
        FROM lead_flags GROUP BY ALL"""
    linked_sql = """SELECT k,
          count(*) FILTER (o.created BETWEEN $s AND $c) AS opps,
          count(*) FILTER (o.outcome = 'won' AND o.closed BETWEEN $s AND $c AND o.created <= $a) AS won
        FROM (SELECT DISTINCT l.{key} AS k, p.opportunity_id FROM pairs p JOIN leads l ON l.lead_id = p.lead_id
              WHERE l.created <= $a) x
        JOIN opps o ON o.opportunity_id = x.opportunity_id GROUP BY k"""

    def rows(sql: str, key: str) -> dict:
        cur = con.execute(sql.format(key=key), {n: v for n, v in params.items() if "$" + n in sql})
        names = [d[0] for d in cur.description]
        return {r[0]: dict(zip(names[1:], r[1:])) for r in cur.fetchall()}

    def ratio(n, d):
        return None if n is None or d is None or d == 0 else float(n) / float(d)

    def pipeline(agg: dict | None) -> dict:
        agg = agg or dict.fromkeys(("created", "won", "lost", "won_known", "lost_known", "open_count", "open_unknown"), 0) | {
            "won_amount": 0.0, "lost_amount": 0.0, "cycle": None, "open_amount": 0.0}
        won, lost = agg["won"], agg["lost"]
        win_rate = ratio(won, won + lost)
        # A sum over rows none of which has an amount is unknown (None), never 0.
        won_revenue = None if won and not agg["won_known"] else float(agg["won_amount"])
        avg_deal = ratio(won_revenue, agg["won_known"])
        by_amount = (ratio(agg["won_amount"], agg["won_amount"] + agg["lost_amount"])
                     if agg["won_known"] or agg["lost_known"] else None)
        open_amount = (None if agg["open_count"] and agg["open_unknown"] == agg["open_count"]
                       else float(agg["open_amount"]))
        cycle = None if not won else float(agg["cycle"])
        parts = (agg["created"], avg_deal, win_rate, cycle)
        velocity = None if any(p is None for p in parts) or cycle == 0 else parts[0] * avg_deal * win_rate / cycle
        return {"opportunities_created": agg["created"], "won_count": won, "lost_count": lost, "win_rate": win_rate,
                "win_rate_by_amount": by_amount,
                "won_revenue": won_revenue, "avg_deal_size": avg_deal, "sales_cycle_days": cycle,
                "sales_velocity": velocity,
                "open_pipeline": {"count": agg["open_count"], "amount": open_amount,
                                  "amount_unknown_count": agg["open_unknown"]}}

    days_observed = (a - e).days

    def funnel(lead_agg: dict | None, opps_count: int, won_count: int) -> dict:
        z = lead_agg or {}
        n, mql, sql, opp, won = (z.get(k, 0) for k in ("c_leads", "c_mql", "c_sql", "c_opp", "c_won"))
        return {"period": {"leads": z.get("p_leads", 0), "mqls": z.get("p_mqls", 0), "sqls": z.get("p_sqls", 0),
                           "opportunities": opps_count, "won": won_count},
                "cohort": {"leads": n, "mql": mql, "sql": sql, "opportunity": opp, "won": won,
                           "mql_rate": ratio(mql, n), "sql_rate": ratio(sql, mql), "opportunity_rate": ratio(opp, sql),
                           "won_rate": ratio(won, opp), "lead_to_opportunity_rate": ratio(opp, n),
                           "lead_to_won_rate": ratio(won, n),
                           "immature": None if maturity is None else days_observed < maturity,
                           "days_observed": days_observed, "typical_days_to_opportunity": typical,
                           "skipped_mql": z.get("skipped_mql", 0), "skipped_sql": z.get("skipped_sql", 0),
                           "maturity_days": maturity, "maturity_measure": measure}}

    total_pipe = rows(pipeline_sql, "'all'").get("all")
    total_funnel = funnel(rows(cohort_sql, "'all'").get("all"), total_pipe["created"] if total_pipe else 0,
                          total_pipe["won"] if total_pipe else 0)

    def breakdown(column: str) -> dict:
        pipe, lead, linked = rows(pipeline_sql, column), rows(cohort_sql, column), rows(linked_sql, column)
        keys = {r[0] for r in con.execute(f"""SELECT DISTINCT {column} FROM opps WHERE created <= $a
                                              UNION SELECT DISTINCT {column} FROM leads WHERE created <= $a""", {"a": a}).fetchall()}
        return {k: pipeline(pipe.get(k)) | {"funnel": funnel(lead.get(k), linked.get(k, {}).get("opps", 0),
                                                                linked.get(k, {}).get("won", 0))} for k in keys}

    segments = [col for col in ("industry", "company_size", "owner")
                if con.execute(f"""SELECT count(*) FROM (SELECT {col} FROM leads UNION ALL SELECT {col} FROM opps)
                                   WHERE {col} <> 'unknown'""").fetchone()[0]]
    by_segment = {col: breakdown(col) for col in segments}
    if config.target_industries or config.target_company_sizes:
        by_segment["target_fit"] = breakdown("target_fit")
    return {"period": period.label, "start": period.start, "end": period.end, "as_of": pd.Timestamp(as_of),
            "pipeline": pipeline(total_pipe), "funnel": total_funnel, "by_channel": breakdown("channel"),
            "by_segment": by_segment}


# --------------------------------------------------------------------------- (d)/(e) notebook 05's figures
#: The lead-quality settings of the benchmark: 10 attributes (with industry and company_size) and the sample's rule.
LEAD_SETTINGS = {"attributes": ["channel", "campaign", "employees", "web_visits", "form_type", "rating",
                                {"column": "owner", "known": "after_contact"},
                                {"column": "disqualify_reason", "known": "after_contact"}],
                 "mql_rule": {"any": [{"column": "form_type", "op": "==", "value": "デモ依頼"},
                                      {"column": "web_visits", "op": ">=", "value": 5}]}}
LEAD_TEXT = ("channel", "campaign", "industry", "company_size", "form_type", "rating", "owner", "disqualify_reason")


def lead_quality_figures(data: Path) -> dict:
    """(d): load + validate the folder and compute notebook 05's lead_quality section for the latest complete period;
    returns the counts (e) recomputes."""
    from helpers.data.load import first_data_date, load_workbook
    from helpers.data.periods import complete_periods
    from helpers.metrics.lead_section import lead_quality

    wb = load_workbook(data)
    period = complete_periods(first_data_date(wb), wb.as_of, wb.config.fiscal_year_start_month)[-1]
    sec = lead_quality(wb.leads, wb.opportunities, wb.extras.get("leads"), LEAD_SETTINGS, period.start, period.end,
                       wb.as_of).section
    a = sec["mql_audit"]["all_history"]
    counts = {f"{c['attribute']}={c['value']}": [c["n"], c["converted"]] for c in sec["conditions"]
              if c["attribute"] in LEAD_TEXT and c["value"] not in ("other", "(empty)")}
    return {"horizon_days": sec["horizon_days"], "observed": a["observed"], "flagged": a["flagged"],
            "converted": a["converted"], "by_channel": {k: [v["flagged"], v["converted"]]
                                                        for k, v in sec["mql_audit"]["by_channel_all_history"].items()},
            "conditions": counts}


def lead_quality_sql(data: Path) -> dict:
    """(e): the same counts as plain DuckDB SQL over the CSV files (horizon, observed, converted, flagged, by channel,
    leads and converted per attribute value), plus one statsmodels logistic fit on the observed leads."""
    import duckdb
    import numpy as np
    import pandas as pd
    import statsmodels.api as sm

    con = duckdb.connect()
    csv = "read_csv('{}', all_varchar = true, header = true)"
    con.execute(f"CREATE TABLE l AS SELECT * FROM {csv.format(data / 'leads.csv')}")
    con.execute(f"CREATE TABLE o AS SELECT * FROM {csv.format(data / 'opportunities.csv')}")
    a = con.execute("SELECT max(d) FROM (SELECT max(CAST(created_at AS DATE)) d FROM l UNION ALL SELECT max(CAST(created_at AS DATE)) FROM o "
                    "UNION ALL SELECT max(CAST(closed_at AS DATE)) FROM o)").fetchone()[0]
    con.execute("""CREATE TABLE p AS SELECT DISTINCT lead_id, opportunity_id FROM (
                     SELECT trim(lead_id) lead_id, nullif(trim(opportunity_id), '') opportunity_id FROM l
                     UNION ALL SELECT nullif(trim(lead_id), ''), trim(opportunity_id) FROM o) WHERE lead_id IS NOT NULL AND opportunity_id IS NOT NULL""")
    con.execute("""CREATE TABLE g AS SELECT p.lead_id, CAST(o.created_at AS DATE) - CAST(l.created_at AS DATE) AS days
                   FROM p JOIN o ON trim(o.opportunity_id) = p.opportunity_id JOIN l ON trim(l.lead_id) = p.lead_id
                   WHERE CAST(o.created_at AS DATE) <= $a""", {"a": a})
    h = max(30, math.ceil(con.execute("SELECT quantile_cont(greatest(days, 0), 0.9) FROM g").fetchone()[0]))
    con.execute(f"""CREATE TABLE f AS SELECT l.*, coalesce(nullif(trim(channel), ''), 'unknown') ch,
                      ($a - CAST(created_at AS DATE)) >= {h} AS observed,
                      trim(lead_id) IN (SELECT lead_id FROM g WHERE days <= {h}) AS converted,
                      (form_type = 'デモ依頼' OR TRY_CAST(web_visits AS DOUBLE) >= 5) IS TRUE AS flagged
                    FROM l WHERE CAST(created_at AS DATE) <= $a""", {"a": a})
    rows = con.execute("""SELECT ch, count(*), count(*) FILTER (flagged), count(*) FILTER (converted), count(*) FILTER (flagged AND converted)
                          FROM f WHERE observed GROUP BY GROUPING SETS ((), (ch))""").fetchall()
    total = next(r for r in rows if r[0] is None)
    conditions = {}
    for col in LEAD_TEXT:
        for value, n, c in con.execute(f"""SELECT trim({col}), count(*), count(*) FILTER (converted) FROM f
                                           WHERE observed AND nullif(trim({col}), '') IS NOT NULL GROUP BY 1""").fetchall():
            conditions[f"{col}={value}"] = [n, c]
    x = con.execute("""SELECT CAST(created_at AS DATE) created, converted, ch, campaign, industry, company_size, form_type,
                              TRY_CAST(employees AS DOUBLE) employees, TRY_CAST(web_visits AS DOUBLE) web_visits
                       FROM f WHERE observed ORDER BY created""").df()
    design = pd.get_dummies(x[["ch", "campaign", "industry", "company_size", "form_type"]].fillna("(empty)"), drop_first=True, dtype=float)
    for col in ("employees", "web_visits"):
        design[col] = (x[col] - x[col].mean()) / x[col].std()
    train = np.arange(len(x)) < int(0.7 * len(x))
    sm.GLM(x["converted"][train].astype(float).to_numpy(), sm.add_constant(design[train].to_numpy()),
           family=sm.families.Binomial()).fit()
    return {"horizon_days": h, "observed": total[1], "flagged": total[2], "converted": total[3],
            "by_channel": {r[0]: [r[2], r[3]] for r in rows if r[0] is not None}, "conditions": conditions}


def lead_quality_agrees(d: dict, e: dict) -> list[str]:
    """Where (d) and (e) differ: every count of (d), and each attribute value (d) tested found with the same counts in (e)."""
    out = differences({k: v for k, v in d.items() if k != "conditions"}, {k: v for k, v in e.items() if k != "conditions"})
    out += [f"/conditions/{k}: {v} != {e['conditions'].get(k)}" for k, v in d["conditions"].items() if e["conditions"].get(k) != v]
    return out


# --------------------------------------------------------------------------- (c) reading the files once
def read_files(data: Path) -> dict:
    """(c): every CSV file of the folder read once into Arrow tables (row counts returned)."""
    from pyarrow import csv

    return {p.stem: csv.read_csv(p).num_rows for p in sorted(data.glob("*.csv"))}


# --------------------------------------------------------------------------- comparing and measuring
def differences(a, b, where: str = "") -> list[str]:
    """Every figure where `a` and `b` differ (floats within REL_TOL; dict keys compared as sets), as 'path: a != b'."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{where}/{k}: only in {'(a)' if k in a else '(b)'}" for k in set(a) ^ set(b)]
        for k in sorted(set(a) & set(b), key=str):
            out += differences(a[k], b[k], f"{where}/{k}")
        return out
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None or not math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=1e-12):
            return [f"{where}: {a!r} != {b!r}"]
        return []
    return [] if a == b else [f"{where}: {a!r} != {b!r}"]


def _attribution(data: Path) -> dict:
    from benchmarks.bench_attribution import workbook_attribution

    return workbook_attribution(data)


def _attribution_sql(data: Path) -> dict:
    from benchmarks.bench_attribution import sql_attribution

    return sql_attribution(data)


MEASURES = {"workbook": workbook_figures, "sql": sql_figures, "read": read_files,
            "attribution": _attribution, "attribution_sql": _attribution_sql,
            "lead_quality": lead_quality_figures, "lead_sql": lead_quality_sql}


def child(measure: str, data: Path, out: Path) -> None:
    """Run one measurement in this process and write its result (JSON) to `out`."""
    from helpers.storage import to_jsonable

    result = MEASURES[measure](data)
    out.write_text(json.dumps(to_jsonable(result), ensure_ascii=False, sort_keys=True), encoding="utf-8")


def measure(name: str, data: Path, workdir: Path) -> tuple[dict, float, float, float]:
    """(result, CPU s, wall s, peak MiB) of one measurement, run in a fresh Python process."""
    out = workdir / f"{name}.json"
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.bench_scale", "--child", name, "--data", str(data), "--result", str(out)],
                            cwd=PROJ_ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"the {name} measurement failed on {data} (exit status {proc.returncode})")
    return json.loads(out.read_text(encoding="utf-8")), usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def full_report(data: Path, workdir: Path, log: Path) -> tuple[int, float, float, float]:
    """(exit status, CPU s, wall s, peak MiB) of ``helpers.report.run`` for the latest period of `data` (the runner and the
    kernels it started and waited for); its output goes to `log` (its reports to `workdir`, removed after)."""
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "helpers.report.run", "--data", str(data), "--out", str(workdir / "report")],
                                cwd=PROJ_ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    return (os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, time.perf_counter() - started,
            usage.ru_maxrss / 1024)


def dataset(cache: Path, leads: int, touches: bool = False) -> Path:
    """The data folder of `leads` generated leads (seed 42, the sample's settings), generated once into `cache`; without
    touches.csv (the core figures do not read it) unless `touches` (the attribution comparison)."""
    folder = cache / (f"leads-{leads}-touches" if touches else f"leads-{leads}")
    header = (folder / "leads.csv").open(encoding="utf-8").readline() if (folder / "leads.csv").is_file() else ""
    if not (folder / "opportunities.csv").is_file() or "form_type" not in header:   # made before the lead-quality columns
        tmp = cache / f".{folder.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"generating {leads:,} leads into {folder} ...", flush=True)
        subprocess.run([sys.executable, "-m", "helpers.data.sample", "--leads", str(leads), "--out", str(tmp)]
                       + ([] if touches else ["--no-touches"]), check=True, cwd=PROJ_ROOT)
        shutil.copy(SAMPLE_DATA_DIR / "workbook.yaml", tmp / "workbook.yaml")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return folder


def human(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1000}k"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--big", action="store_true", help=f"also {BIG:,} leads")
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="lead counts (default 100000 1000000)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where generated data folders are kept")
    parser.add_argument("--report", action="store_true", help="then time one period's full report on the largest size")
    parser.add_argument("--child", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.result)
        return 0
    sizes = list(args.sizes or SIZES) + ([BIG] if args.big else [])
    args.cache.mkdir(parents=True, exist_ok=True)
    status, ratios, lead_ratios = 0, {}, {}
    for leads in sizes:
        data = dataset(args.cache, leads)
        with tempfile.TemporaryDirectory() as tmp:
            results = {name: measure(name, data, Path(tmp)) for name in ("read", "sql", "workbook")}
        diff = differences(results["workbook"][0], results["sql"][0])
        print(f"\n{human(leads)} leads ({data}):")
        print(f"  {'':<28}{'CPU s':>9}{'wall s':>9}{'peak MiB':>10}")
        for name, title in (("workbook", "(a) workbook load+metrics"), ("sql", "(b) DuckDB SQL"), ("read", "(c) read files once")):
            _, cpu, wall, peak = results[name]
            print(f"  {title:<28}{cpu:>9.2f}{wall:>9.2f}{peak:>10.0f}")
        (_, a_cpu, a_wall, a_peak), (_, b_cpu, b_wall, _), (_, c_cpu, _, _) = results["workbook"], results["sql"], results["read"]
        print(f"  ratios: (a)/(b) CPU {a_cpu / b_cpu:.2f}, wall {a_wall / b_wall:.2f}; (a)/(c) CPU {a_cpu / c_cpu:.2f}")
        if diff:
            status = 1
            print(f"  (a) and (b) DIFFER on {len(diff)} figure(s):")
            for line in diff[:20]:
                print(f"    {line}")
        else:
            print(f"  (a) and (b) agree on every figure ({count_figures(results['sql'][0])} figures)")
        ratios[leads] = (a_cpu / b_cpu, a_peak)
        lead_ratios[leads] = lead_quality_bench(data, leads)
        status = status or lead_ratios[leads][2]
    if sizes:
        status = attribution_comparison(args.cache, min(max(sizes), 1_000_000)) or status
    if args.report and sizes:
        leads = max(sizes)
        log = args.cache / f"report-{human(leads)}.log"
        with tempfile.TemporaryDirectory() as tmp:
            code, cpu, wall, peak = full_report(dataset(args.cache, leads), Path(tmp), log)
        outcome = "finished" if code == 0 else f"FAILED (exit status {code})"
        print(f"\none period's full report at {human(leads)} leads: {outcome}; CPU s {cpu:.0f}, wall s {wall:.0f}, "
              f"peak MiB {peak:.0f} (the runner's output: {log})")
        status = status or (1 if code else 0)
    if ratios:
        leads = 1_000_000 if 1_000_000 in ratios else max(ratios)
        r, m = ratios[leads]
        print(f"{human(leads)} leads: workbook/SQL CPU ratio {r:.2f}, workbook peak MiB {m:.0f}")
        r, m, _ = lead_ratios[leads]
        print(f"{human(leads)} leads: lead quality (notebook 05)/SQL+fit CPU ratio {r:.2f}, peak MiB {m:.0f}")
    return status


def attribution_comparison(cache: Path, leads: int) -> int:
    """Attribution at `leads` leads with touches: the workbook's position models + Markov transition count against
    plain DuckDB SQL (benchmarks.bench_attribution); prints the ratio (aim: CPU <= 2x, peak < 2 GiB). 1 when they
    disagree."""
    from benchmarks.bench_attribution import differences as attribution_differences

    data = dataset(cache, leads, touches=True)
    with tempfile.TemporaryDirectory() as tmp:
        results = {name: measure(name, data, Path(tmp)) for name in ("attribution_sql", "attribution")}
    (a, a_cpu, a_wall, a_peak), (b, b_cpu, b_wall, b_peak) = results["attribution"], results["attribution_sql"]
    touches = sum(1 for _ in open(data / "touches.csv", encoding="utf-8")) - 1
    print(f"\nattribution at {human(leads)} leads, {touches:,} touches ({data}):")
    print(f"  {'':<40}{'CPU s':>9}{'wall s':>9}{'peak MiB':>10}")
    print(f"  {'(d) workbook load + models + Markov':<40}{a_cpu:>9.2f}{a_wall:>9.2f}{a_peak:>10.0f}")
    print(f"  {'(e) DuckDB SQL':<40}{b_cpu:>9.2f}{b_wall:>9.2f}{b_peak:>10.0f}")
    diff = attribution_differences(a, b)
    print(f"  (d) and (e) {'DIFFER: ' + '; '.join(diff[:10]) if diff else 'agree (every model, channel and transition)'}")
    print(f"attribution {human(leads)} leads: workbook/SQL CPU ratio {a_cpu / b_cpu:.2f}, workbook peak MiB {a_peak:.0f} "
          "(aims: <= 2, < 2048)")
    return 1 if diff else 0


def lead_quality_bench(data: Path, leads: int) -> tuple[float, float, int]:
    """(d) against (e) on one folder, printed; returns (CPU ratio, peak MiB of (d), 1 if they disagree else 0)."""
    with tempfile.TemporaryDirectory() as tmp:
        d, e = measure("lead_quality", data, Path(tmp)), measure("lead_sql", data, Path(tmp))
    print(f"  {'(d) notebook 05 load+figures':<28}{d[1]:>9.2f}{d[2]:>9.2f}{d[3]:>10.0f}")
    print(f"  {'(e) DuckDB SQL + one fit':<28}{e[1]:>9.2f}{e[2]:>9.2f}{e[3]:>10.0f}")
    print(f"  ratio (d)/(e) CPU {d[1] / e[1]:.2f}, wall {d[2] / e[2]:.2f} (10 lead attributes, aim <= 2 and peak < 1536 MiB)")
    diff = lead_quality_agrees(d[0], e[0])
    for line in diff[:20]:
        print(f"    (d) and (e) DIFFER: {line}")
    if not diff:
        print(f"  (d) and (e) agree on every count ({len(d[0]['conditions'])} attribute values)")
    return d[1] / e[1], d[3], 1 if diff else 0


def count_figures(tree) -> int:
    """How many leaf figures a metrics tree holds."""
    return sum(count_figures(v) for v in tree.values()) if isinstance(tree, dict) else 1


if __name__ == "__main__":
    raise SystemExit(main())
