"""Old name of benchmarks.bench_forecast (README "Stable names"): ``python -m helpers.report.bench_forecast`` runs it, ``import helpers.report.bench_forecast`` is it."""
from helpers.aliases import stand_in

stand_in(__name__, __spec__)
