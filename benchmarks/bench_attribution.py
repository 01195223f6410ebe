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
- ``attribution_sql``: the same figures as plain DuckDB SQL over the CSV files, written independently in
  benchmarks.attribution_reference and run in a process of its own that imports only DuckDB (a typed read of the
  needed columns, the workbook's validation checks of leads, opportunities and touches as SQL counts), checked equal
  to the workbook's: transitions exactly, each channel's credit within one currency unit (the workbook rounds channel
  sums to the yen by the largest remainder), and the validation counts count by count (the workbook's findings).
"""
from __future__ import annotations

from pathlib import Path


def workbook_attribution(data: Path) -> dict:
    """The workbook's figures: {won: {model: {channel: revenue}}, pipeline: {model: {channel: amount}}, transitions:
    {"from > to": count}, horizon_days, checks: {file/code/column: rows} (the load's validation findings)}."""
    from benchmarks.bench_scale import checks
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
    return {"checks": checks(wb.findings),
            "won": {m: {c: r["revenue"] for c, r in credits[m]["won"].items() if r["deals"]} for m in A.POSITION_MODELS},
            "pipeline": {m: {c: r["amount"] for c, r in credits[m]["pipeline"].items() if r["deals"]} for m in A.POSITION_MODELS},
            "transitions": {f"{a} > {b}": int(n) for (a, b), n in trans.items()}, "horizon_days": h}


def reference_settings(data: Path) -> dict:
    """What the reference reads of the folder's workbook.yaml: the core reference's settings
    (:func:`benchmarks.bench_scale.reference_settings`) and the attribution's lookback_days and half_life_days."""
    from benchmarks.bench_scale import reference_settings as core
    from helpers.config import load_config

    a = dict(load_config(data).attribution)
    return core(data) | {"lookback_days": int(a.get("lookback_days", 365)), "half_life_days": float(a.get("half_life_days", 7))}


def sql_attribution(data: Path) -> dict:
    """(e) in this process: the same figures and validation counts as plain DuckDB SQL over the CSV files
    (benchmarks.attribution_reference; no helpers.metrics code)."""
    from benchmarks.attribution_reference import figures

    return figures(data, reference_settings(data))


def differences(a: dict, b: dict) -> list[str]:
    """Where the workbook (a) and SQL (b) disagree: validation counts and transitions exactly, credits within one
    unit per channel."""
    out = [f"checks/{k}: {a['checks'].get(k)} != {b['checks'].get(k)}" for k in sorted(set(a["checks"]) | set(b["checks"]))
           if a["checks"].get(k) != b["checks"].get(k)]
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
