"""Old name of helpers.data.sample (README "Stable names"): ``python -m helpers.sample`` runs it, ``import helpers.sample`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
