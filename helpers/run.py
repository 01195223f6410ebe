"""Old name of helpers.report.run (README "Stable names"): ``python -m helpers.run`` runs it, ``import helpers.run`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
