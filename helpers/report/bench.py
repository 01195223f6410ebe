"""Old name of benchmarks.bench (README "Stable names"): ``python -m helpers.report.bench`` runs it, ``import helpers.report.bench`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
