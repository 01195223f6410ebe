"""Old name of helpers.report.nbtools (README "Stable names"): ``python -m helpers.nbtools`` runs it, ``import helpers.nbtools`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
