"""The module names documented before the package was split into layers, kept working (README "Stable names").

Scheduled jobs call ``python -m helpers.run``, ``python -m helpers.ingest``, ...: each old name is a thin module
at the top of the package (helpers/run.py, ...) that is its new module. ``python -m helpers.run ARGS`` runs
``helpers.report.run`` as the main program (same arguments, output and exit status; nothing printed besides),
and ``import helpers.run`` / ``from helpers.run import main`` give the new module itself. They are the only
foundation modules that import upward (tests/test_layers.py accepts exactly these).
"""
from __future__ import annotations

import importlib
import runpy
import sys
from pathlib import Path

#: Old module name -> the module it now is. Every ``python -m helpers.X`` the README, docs or Makefile ever
#: documented whose module moved (git log -p -- README.md docs Makefile); the benchmarks left the shipped package
#: for the checkout's ``benchmarks/`` folder (issue 26), so both their names of before stand for it.
OLD_NAMES = {
    "helpers.run": "helpers.report.run",
    "helpers.ingest": "helpers.data.ingest",
    "helpers.sample": "helpers.data.sample",
    "helpers.warehouse": "helpers.metrics.warehouse",
    "helpers.lab": "helpers.report.lab",
    "helpers.nbtools": "helpers.report.nbtools",
    "helpers.bench": "benchmarks.bench",
    "helpers.bench_save": "benchmarks.bench_save",
    "helpers.bench_scale": "benchmarks.bench_scale",
    "helpers.report.bench": "benchmarks.bench",
    "helpers.report.bench_save": "benchmarks.bench_save",
    "helpers.report.bench_scale": "benchmarks.bench_scale",
    "helpers.report.bench_forecast": "benchmarks.bench_forecast",
}

#: The folder beside the package holding the benchmarks (``benchmarks/``, issue 26): in a checkout, not shipped.
CHECKOUT = Path(__file__).resolve().parent.parent


def stand_in(name: str, spec) -> None:
    """Make the old module being executed (its ``__name__`` and ``__spec__``) its new one, :data:`OLD_NAMES`.

    Under ``python -m`` (`name` is ``"__main__"``) the new module runs as the main program, as
    ``python -m <new name>`` would run it (``sys.argv[0]`` its file; its ``SystemExit`` ends the process);
    on import, ``sys.modules`` maps the old name to the new module, so both names are one module object.
    KeyError for a name not in OLD_NAMES. A benchmark (``benchmarks.*``) is found in the checkout the package lives
    in (:data:`CHECKOUT`, put on ``sys.path``); SystemExit naming the folder where the package was installed without
    it."""
    old = spec.name if name == "__main__" else name
    new = OLD_NAMES[old]
    if new.startswith("benchmarks."):
        if not (CHECKOUT / "benchmarks" / "__init__.py").is_file():
            raise SystemExit(f"error: {old} is now {new}, in the benchmarks/ folder of a checkout of the workbook; "
                             f"{CHECKOUT} has none. Run it from a clone of the repository (make bench-*).")
        if str(CHECKOUT) not in sys.path:
            sys.path.insert(0, str(CHECKOUT))
    if name == "__main__":
        runpy.run_module(new, run_name="__main__", alter_sys=True)
    else:
        sys.modules[old] = importlib.import_module(new)
