"""Old name of helpers.report.lab (README "Stable names"): ``python -m helpers.lab`` runs it, ``import helpers.lab`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
