"""Benchmark at scale (`make bench-scale`): the workbook's load + metrics against plain DuckDB SQL and a bare read.

For each size (100k and 1M leads; 10M more with ``--big``) it generates a data folder
with ``helpers.data.sample --leads N`` (kept in ``--cache`` and reused), then times, each in
a fresh Python process so CPU and peak memory are that measurement's own:

- (a) ``workbook``: :func:`helpers.data.load.load_workbook` (read, type, validate) and one
  period's metrics.json core figures (:func:`helpers.metrics.core.core_metrics`: pipeline,
  funnel period and cohort, by channel, by segment; without the explanations
  ``null_reasons`` and ``coverage``);
- (b) ``sql``: the reference, the best plain DuckDB SQL an analyst would write for the same figures
  (benchmarks.scale_reference, in a process that imports only DuckDB: a typed read of the needed columns, the
  workbook's validation checks as SQL counts, owner pseudonyms over the distinct names, every breakdown in one
  GROUPING SETS scan), checked equal to (a) figure by figure (relative tolerance 1e-9) and count by count (the
  validation findings);
- (c) ``read``: reading every CSV file once (pyarrow.csv).

- (d) ``lead_quality``: the same load and notebook 05's lead_quality section (10 lead attributes,
  :data:`LEAD_SETTINGS`), against (e) ``lead_sql``: the same counts (horizon, observed, converted, flagged, by
  channel, leads and converted per attribute value) in plain DuckDB SQL plus one statsmodels logistic fit, checked
  equal. The aim (issue 22): (d)/(e) CPU <= 2, peak < 1.5 GiB at 1M leads.

With ``--report`` it then runs one period's full report (``python -m helpers.report.run``: snapshot,
all notebooks, HTML) on the largest size and prints its wall and CPU seconds and peak memory (the
runner and its kernel). The aim (issue 14): at 10M leads (``--big --report``) it finishes.

Every workbook process (a, c, d, the report) gets an empty compiled-SQL store of its own (``WORKBOOK_SQL_CACHE``,
helpers.metrics.sql_store): each compiles its query shapes as a first run does, whatever ran before.

(a) and (b) run in ``--rounds`` interleaved rounds (default 3: a, b, a, b, a, b), so a load change on a shared
machine falls on both. It prints CPU seconds (user + system), wall seconds and peak resident memory (MiB) of each
run, the medians of the per-round ratios (a)/(b) of CPU and of peak, the agreement count, and as a last line
``1M leads: workbook/SQL CPU ratio R, peak ratio P (medians of 3 interleaved rounds), workbook peak MiB M``. The aims
(issue 26): R <= 1.3 and P <= 1.3. Exit status 1 when (a) and (b) disagree on any figure. ``--core-only`` stops
there (no lead quality, no attribution).

Then attribution (issue 23, benchmarks.bench_attribution) on the largest size up to 1M leads, generated with
touches (``leads-N-touches``; the folders above have none): the workbook's load, position models and Markov
transition count against the same in plain DuckDB SQL (benchmarks.attribution_reference, in a process that imports
only DuckDB: a typed read of the needed columns and the workbook's validation checks of the three tables as SQL
counts), checked equal figure by figure and count by count, in ``--rounds`` interleaved rounds, with the
line ``attribution 1M leads: workbook/SQL CPU ratio R, workbook peak MiB M`` (medians; aims: R <= 2, M < 2048).
``--attribution-only`` runs only this comparison (``--sizes 100000``: at 100k leads).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
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
    return figures(core_metrics(wb, period)) | {"checks": checks(wb.findings)}


def checks(findings) -> dict:
    """The validation findings as counts keyed ``file/code/column`` (the reference's keys; dates beyond the two-year
    gap summed per end, ``far_date_before`` / ``far_date_after``)."""
    out: dict = {}
    for f in findings:
        key = f.code if f.code.startswith("far_date_") else f"{Path(f.file).stem}/{f.code}/{f.column}"
        out[key] = out.get(key, 0) + (f.count or len(f.rows))
    return out


#: What core_metrics adds to the figures to explain them (helpers.metrics.limits); not figures, so not compared.
EXPLANATIONS = ("null_reasons", "coverage")


def figures(tree):
    """A metrics tree without its explanations (:data:`EXPLANATIONS`): the figures only."""
    if isinstance(tree, dict):
        return {k: figures(v) for k, v in tree.items() if k not in EXPLANATIONS}
    return tree


# --------------------------------------------------------------------------- (b) the reference: plain DuckDB SQL
def reference_settings(data: Path) -> dict:
    """What the reference reads of the folder's workbook.yaml (benchmarks.scale_reference), as JSON-ready values."""
    from helpers.config import load_config

    config = load_config(data)
    return {"as_of": None if config.as_of is None else f"{config.as_of:%Y-%m-%d}",
            "fiscal_year_start_month": config.fiscal_year_start_month,
            "target_industries": list(config.target_industries or []),
            "target_company_sizes": list(config.target_company_sizes or []),
            "pseudonymize_owners": bool(config.pseudonymize_owners)}


def sql_figures(data: Path) -> dict:
    """(b) in this process: the reference's figures and validation counts (benchmarks.scale_reference)."""
    from benchmarks.scale_reference import figures as reference

    return reference(data, reference_settings(data))


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
    # campaign nests in channel (each campaign belongs to one channel): channel's dummies would repeat campaign's
    # (a rank-deficient design, statsmodels' SingularMatrixWarning), so the plain fit takes campaign alone, and
    # only the dummies of values the training rows hold
    design = pd.get_dummies(x[["campaign", "industry", "company_size", "form_type"]].fillna("(empty)"), drop_first=True, dtype=float)
    for col in ("employees", "web_visits"):
        design[col] = (x[col] - x[col].mean()) / x[col].std()
    train = np.arange(len(x)) < int(0.7 * len(x))
    design = design.loc[:, design[train].to_numpy().any(axis=0)]   # a campaign that starts after the training window: all 0 there
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


#: The measurements of plain DuckDB SQL (their processes import neither the workbook nor Ibis).
REFERENCES = ("sql", "attribution_sql")


def cold_store_env(workdir: Path) -> dict:
    """The environment of a measured workbook process: a compiled-SQL store of its own, empty (``WORKBOOK_SQL_CACHE``,
    helpers.metrics.sql_store), so each round compiles its query shapes as a first run does."""
    from helpers.metrics.sql_store import ENV

    return {**os.environ, ENV: tempfile.mkdtemp(prefix="sql-store-", dir=workdir)}


def measure(name: str, data: Path, workdir: Path) -> tuple[dict, float, float, float]:
    """(result, CPU s, wall s, peak MiB) of one measurement, run in a fresh Python process with an empty compiled-SQL
    store (:func:`cold_store_env`); the references (REFERENCES) in a process of their own module, as before
    (benchmarks.scale_reference, benchmarks.attribution_reference: DuckDB and the standard library, nothing else)."""
    out = workdir / f"{name}.json"
    if name == "sql":
        command = [sys.executable, "-m", "benchmarks.scale_reference", str(data), json.dumps(reference_settings(data)), str(out)]
    elif name == "attribution_sql":
        from benchmarks.bench_attribution import reference_settings as attribution_settings

        command = [sys.executable, "-m", "benchmarks.attribution_reference", str(data),
                   json.dumps(attribution_settings(data)), str(out)]
    else:
        command = [sys.executable, "-m", "benchmarks.bench_scale", "--child", name, "--data", str(data), "--result", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, cwd=PROJ_ROOT, env=None if name in REFERENCES else cold_store_env(workdir))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"the {name} measurement failed on {data} (exit status {proc.returncode})")
    return json.loads(out.read_text(encoding="utf-8")), usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024


def full_report(data: Path, workdir: Path, log: Path) -> tuple[int, float, float, float]:
    """(exit status, CPU s, wall s, peak MiB) of ``helpers.report.run`` for the latest period of `data` (the runner and the
    kernels it started and waited for, with an empty compiled-SQL store: :func:`cold_store_env`); its output goes to
    `log` (its reports to `workdir`, removed after)."""
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen([sys.executable, "-m", "helpers.report.run", "--data", str(data), "--out", str(workdir / "report")],
                                cwd=PROJ_ROOT, stdout=out, stderr=subprocess.STDOUT, env=cold_store_env(workdir))
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
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of (a) and (b) (default 3; the median "
                                                                "of the per-round ratios is printed)")
    parser.add_argument("--core-only", action="store_true", help="only (a) against (b): no lead quality, no attribution")
    parser.add_argument("--attribution-only", action="store_true",
                        help="only the attribution comparison (notebook 06 against plain SQL) on the largest size up to 1M "
                             "(ARGS=\"--attribution-only --sizes 100000\" for 100k), in --rounds interleaved rounds")
    parser.add_argument("--child", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.data, args.result)
        return 0
    sizes = list(args.sizes or SIZES) + ([BIG] if args.big else [])
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.attribution_only:
        return attribution_comparison(args.cache, min(max(sizes), 1_000_000), args.rounds) if sizes else 0
    status, ratios, lead_ratios = 0, {}, {}
    for leads in sizes:
        data = dataset(args.cache, leads)
        ratios[leads], agree = core_comparison(data, leads, args.rounds)
        status = status or (0 if agree else 1)
        if not args.core_only:
            lead_ratios[leads] = lead_quality_bench(data, leads)
            status = status or lead_ratios[leads][2]
    if sizes and not args.core_only:
        status = attribution_comparison(args.cache, min(max(sizes), 1_000_000), args.rounds) or status
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
        r, p, m = ratios[leads]
        print(f"{human(leads)} leads: workbook/SQL CPU ratio {r:.2f}, peak ratio {p:.2f} (medians of {args.rounds} "
              f"interleaved rounds), workbook peak MiB {m:.0f}")
        if leads in lead_ratios:
            r, m, _ = lead_ratios[leads]
            print(f"{human(leads)} leads: lead quality (notebook 05)/SQL+fit CPU ratio {r:.2f}, peak MiB {m:.0f}")
    return status


def core_comparison(data: Path, leads: int, rounds: int) -> tuple[tuple[float, float, float], bool]:
    """(a) against (b) on one folder in `rounds` interleaved rounds (workbook, reference, workbook, reference, ...),
    then (c) once; prints every run, the medians of the per-round CPU and peak ratios and whether every figure and
    validation count agrees. Returns ((median CPU ratio, median peak ratio, median workbook peak MiB), agree)."""
    runs: dict[str, list] = {"workbook": [], "sql": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name in ("workbook", "sql"):
                runs[name].append(measure(name, data, Path(tmp)))
        read = measure("read", data, Path(tmp))
    print(f"\n{human(leads)} leads ({data}), {rounds} interleaved round{'s' if rounds != 1 else ''}:")
    print(f"  {'':<32}{'CPU s':>9}{'wall s':>9}{'peak MiB':>10}")
    for i in range(rounds):
        for name, title in (("workbook", "(a) workbook load+metrics"), ("sql", "(b) reference DuckDB SQL")):
            _, cpu, wall, peak = runs[name][i]
            print(f"  {f'{title} #{i + 1}':<32}{cpu:>9.2f}{wall:>9.2f}{peak:>10.0f}")
    print(f"  {'(c) read files once':<32}{read[1]:>9.2f}{read[2]:>9.2f}{read[3]:>10.0f}")
    cpu = statistics.median(a[1] / b[1] for a, b in zip(runs["workbook"], runs["sql"]))
    peak = statistics.median(a[3] / b[3] for a, b in zip(runs["workbook"], runs["sql"]))
    print(f"  median of the per-round ratios (a)/(b): CPU {cpu:.2f}, peak {peak:.2f}; "
          f"(a)/(c) CPU {statistics.median(a[1] for a in runs['workbook']) / read[1]:.2f}")
    diff = differences(runs["workbook"][0][0], runs["sql"][0][0])
    n = count_figures(runs["sql"][0][0])
    if diff:
        print(f"  (a) and (b) DIFFER on {len(diff)} of {n} figures and validation counts:")
        for line in diff[:20]:
            print(f"    {line}")
    else:
        print(f"  (a) and (b) agree on {n} of {n} figures and validation counts")
    return (cpu, peak, statistics.median(a[3] for a in runs["workbook"])), not diff


def attribution_comparison(cache: Path, leads: int, rounds: int = 1) -> int:
    """Attribution at `leads` leads with touches: the workbook's position models + Markov transition count (d) against
    plain DuckDB SQL (e) (benchmarks.bench_attribution) in `rounds` interleaved rounds (e, d, e, d, ...); prints every
    run, the median of the per-round CPU ratios (d)/(e) and the median peak of (d) (aims: CPU <= 2x, peak < 2 GiB).
    1 when they disagree."""
    from benchmarks.bench_attribution import differences as attribution_differences

    data = dataset(cache, leads, touches=True)
    runs: dict[str, list] = {"attribution_sql": [], "attribution": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name in runs:
                runs[name].append(measure(name, data, Path(tmp)))
    touches = sum(1 for _ in open(data / "touches.csv", encoding="utf-8")) - 1
    print(f"\nattribution at {human(leads)} leads, {touches:,} touches ({data}), {rounds} interleaved round{'s' if rounds != 1 else ''}:")
    print(f"  {'':<40}{'CPU s':>9}{'wall s':>9}{'peak MiB':>10}")
    for i in range(rounds):
        for name, title in (("attribution", "(d) workbook load + models + Markov"), ("attribution_sql", "(e) DuckDB SQL")):
            _, cpu, wall, peak = runs[name][i]
            print(f"  {f'{title} #{i + 1}':<40}{cpu:>9.2f}{wall:>9.2f}{peak:>10.0f}")
    ratio = statistics.median(d[1] / e[1] for d, e in zip(runs["attribution"], runs["attribution_sql"]))
    peak = statistics.median(d[3] for d in runs["attribution"])
    diff = attribution_differences(runs["attribution"][0][0], runs["attribution_sql"][0][0])
    print(f"  (d) and (e) {'DIFFER: ' + '; '.join(diff[:10]) if diff else 'agree (every model, channel, transition and validation count)'}")
    print(f"attribution {human(leads)} leads: workbook/SQL CPU ratio {ratio:.2f}, workbook peak MiB {peak:.0f} "
          f"(medians of {rounds} interleaved round{'s' if rounds != 1 else ''}; aims: <= 2, < 2048)")
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
