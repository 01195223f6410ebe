"""Old name of benchmarks.bench_scale (README "Stable names"): ``python -m helpers.report.bench_scale`` runs it, ``import helpers.report.bench_scale`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
