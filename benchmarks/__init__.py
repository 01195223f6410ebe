"""The benchmarks (`make bench-report`, `bench-scale`, `bench-save`, `bench-forecast`): beside the shipped package, not in it.

They measure the workbook (``helpers``) against a yardstick and print ratios; nothing in ``helpers`` imports them. Run
them from the checkout (``python -m benchmarks.bench_scale``); the old names ``helpers.bench*`` and
``helpers.report.bench*`` stand for them (helpers/aliases.py). Importing this package imports nothing.
"""
