"""Old name of benchmarks.bench_scale (README "Stable names"): ``python -m helpers.bench_scale`` runs it, ``import helpers.bench_scale`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
