"""Old name of helpers.metrics.warehouse (README "Stable names"): ``python -m helpers.warehouse`` runs it, ``import helpers.warehouse`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
