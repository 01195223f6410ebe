"""Old name of benchmarks.bench_save (README "Stable names"): ``python -m helpers.report.bench_save`` runs it, ``import helpers.report.bench_save`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
