"""Old name of helpers.data.ingest (README "Stable names"): ``python -m helpers.ingest`` runs it, ``import helpers.ingest`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
