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

#: Old module name -> the module it now is. Every ``python -m helpers.X`` the README, docs or Makefile ever
#: documented whose module moved (git log -p -- README.md docs Makefile).
OLD_NAMES = {
    "helpers.run": "helpers.report.run",
    "helpers.ingest": "helpers.data.ingest",
    "helpers.sample": "helpers.data.sample",
    "helpers.warehouse": "helpers.metrics.warehouse",
    "helpers.lab": "helpers.report.lab",
    "helpers.nbtools": "helpers.report.nbtools",
    "helpers.bench": "helpers.report.bench",
    "helpers.bench_save": "helpers.report.bench_save",
    "helpers.bench_scale": "helpers.report.bench_scale",
}


def stand_in(name: str, spec) -> None:
    """Make the old module being executed (its ``__name__`` and ``__spec__``) its new one, :data:`OLD_NAMES`.

    Under ``python -m`` (`name` is ``"__main__"``) the new module runs as the main program, as
    ``python -m <new name>`` would run it (``sys.argv[0]`` its file; its ``SystemExit`` ends the process);
    on import, ``sys.modules`` maps the old name to the new module, so both names are one module object.
    KeyError for a name not in OLD_NAMES."""
    old = spec.name if name == "__main__" else name
    new = OLD_NAMES[old]
    if name == "__main__":
        runpy.run_module(new, run_name="__main__", alter_sys=True)
    else:
        sys.modules[old] = importlib.import_module(new)
