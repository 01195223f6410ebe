"""Benchmark of ingest's repeated-deal check (`make bench-ingest`): check_products_report against a plain pandas pass.

`python -m benchmarks.bench_ingest_checks [--rows 50000] [--rounds 5]`. Every ingest with an opportunities export
runs :func:`helpers.data.ingest_checks.check_products_report`. For two opportunities exports of ``--rows`` rows
(Salesforce's English headers, mapped by the shipped ``salesforce_en`` mapping outside the timing) it times

- (a) the check: ``distinct``, every id once but the last row a repeat of the first that differs in the amount
  (a plain duplicate, left to the loader: the check returns); ``products``, every deal on two product lines (an
  "Opportunities with Products" report: the check compares every pair, then refuses the file);
- (b) the reference: ``ids.duplicated(keep="first")`` on the same column, the one pandas pass that finds the repeats.

The two run in ``--rounds`` interleaved rounds (a, b, a, b, ...) and it prints the median of the per-round CPU
ratios (a)/(b) of each shape. A check that compares each row with the rows before it (quadratic: 15 CPU s at 5,000
rows before 2026-12-08) shows as a ratio that grows with ``--rows``; a single pass stays about the same at any size.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from helpers.data.ingest_checks import check_products_report
from helpers.data.mapping import apply_mapping, load_mapping
from helpers.errors import WorkbookError

HEADER = ["Opportunity ID", "Opportunity Name", "Created Date", "Close Date", "Stage", "Amount", "Product Name",
          "Quantity", "Total Price", "Lead Source"]


def export(rows: int, shape: str) -> pd.DataFrame:
    """An opportunities export of `rows` rows as read from a CSV file (text cells): `shape` ``distinct`` or ``products``."""
    per = 2 if shape == "products" else 1
    out = []
    for r in range(rows):
        deal, line = divmod(r, per)
        out.append([f"006{deal:012d}", f"Deal {deal}", "1/10/2025", "2/20/2025", "Closed Won", "$30,000.00",
                    ("Licence", "Onboarding")[line], str(line + 1), "$15,000.00", "Web"])
    if shape == "distinct":
        out[-1] = out[0][:5] + ["$31,000.00"] + out[0][6:]
    return pd.DataFrame(out, columns=HEADER, dtype=object)


def inputs(rows: int, shape: str) -> tuple:
    """(frames, reports, raws, mapping) as ingest passes them to the check."""
    mp = load_mapping("salesforce_en")
    raw = export(rows, shape)
    frame, report = apply_mapping(raw, mp.tables["opportunities"], "opportunities.csv")
    return {"opportunities": frame}, {"opportunities": report}, {"opportunities": raw}, mp


def cpu(fn) -> float:
    """CPU seconds of this process spent in `fn()` (a WorkbookError it raises is the expected refusal)."""
    started = time.process_time()
    try:
        fn()
    except WorkbookError:
        pass
    return time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_ingest_checks", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000, help="rows of each export (default 50000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (the median ratio is reported)")
    args = parser.parse_args(argv)
    for shape in ("distinct", "products"):
        frames, reports, raws, mp = inputs(args.rows, shape)
        ids = frames["opportunities"]["opportunity_id"]
        check, plain = [], []
        for _ in range(args.rounds):
            check.append(cpu(lambda: check_products_report(frames, reports, raws, mp)))
            plain.append(cpu(lambda: ids.duplicated(keep="first")))
        ratio = statistics.median(a / max(b, 1e-6) for a, b in zip(check, plain))
        print(f"{shape}, {args.rows} rows: check {statistics.median(check):.4f} CPU s, pandas duplicated() "
              f"{statistics.median(plain):.4f} CPU s, ratio {ratio:.1f}x (median of {args.rounds} interleaved rounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
