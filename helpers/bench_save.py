"""Old name of benchmarks.bench_save (README "Stable names"): ``python -m helpers.bench_save`` runs it, ``import helpers.bench_save`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
