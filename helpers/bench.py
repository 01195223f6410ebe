"""Old name of benchmarks.bench (README "Stable names"): ``python -m helpers.bench`` runs it, ``import helpers.bench`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
