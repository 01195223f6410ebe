"""Benchmark: saving 15 checklist answers into a large checklist.csv vs into a small one (prints the ratio).

`python -m benchmarks.bench_save [--rows 188000] [--repeat 3]`. The save path copies the existing bytes and
appends (helpers.metrics.checklist.append_answers), so the ratio shows what a large file costs over a small one;
re-parsing every row (the old save path took 17.6 s at 188k rows) would show as a ratio in the hundreds.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from helpers.metrics.checklist import FILE_COLUMNS, append_answers


def existing_file(path: Path, rows: int) -> Path:
    """A checklist.csv of `rows` answers (respondents of 15 items each, one date)."""
    n = max(rows // 15, 1)
    frame = pd.DataFrame({"respondent": [f"R{i:06d}" for i in range(n) for _ in range(15)], "department": "sales",
                          "answered_on": "2025-04-01", "item": list(range(1, 16)) * n, "answer": "yes", "note": ""})
    frame[list(FILE_COLUMNS)].head(rows).to_csv(path, index=False, lineterminator="\n")
    return path


def one_save(path: Path, who: str) -> float:
    """Seconds to save one answer set of 15 items."""
    rows = pd.DataFrame({"respondent": who, "department": "marketing", "answered_on": "2025-08-01",
                         "item": range(1, 16), "answer": "partial"})
    started = time.perf_counter()
    append_answers(path, rows)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_save", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=188_000, help="rows in the large file (default 188000)")
    parser.add_argument("--repeat", type=int, default=3, help="saves of each (the median is reported)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("small", "large"):
            (Path(tmp) / name).mkdir()
        small = existing_file(Path(tmp) / "small" / "checklist.csv", 15)
        large = existing_file(Path(tmp) / "large" / "checklist.csv", args.rows)
        t_small = statistics.median(one_save(small, f"S{i}") for i in range(args.repeat))
        t_large = statistics.median(one_save(large, f"L{i}") for i in range(args.repeat))
    print(f"save 15 answers into 15 rows:  {t_small:.3f} s (median of {args.repeat})")
    print(f"save 15 answers into {args.rows} rows: {t_large:.3f} s (median of {args.repeat})")
    print(f"ratio large / small: {t_large / t_small:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
