"""One notebook's working context: settings, the validated data, the period, the language and the recorder.

Every notebook starts with `s = open_session(data_dir, config_path, period, as_of, lang, metrics_path)`
right after its parameters cell.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field

from helpers.config import Config, load_config, stated_language
from helpers.data.load import Workbook, first_data_date
from helpers.data.periods import Period, parse_period
from helpers.data.snapshot import load_cached
from helpers.errors import WorkbookError
from helpers.report.record import Recorder


@dataclass
class Session:
    """Settings, data, period, language and recorder for one notebook run."""

    config: Config
    wb: Workbook
    period: Period
    lang: str
    recorder: Recorder
    _source: object = field(default=None, init=False, repr=False, compare=False)  # not copied by dataclasses.replace

    @property
    def as_of(self):
        return self.wb.as_of

    @property
    def source(self):
        """Where this notebook's figures are computed (helpers.metrics.source.Source, built on first use): the runner's
        warehouse in a ``--warehouse`` run (helpers.metrics.source.WAREHOUSE_ENV), else the workbook's frames in the
        in-process DuckDB. Metric functions named ``*_of`` take it; only aggregates and bounded samples come back."""
        if self._source is None:
            self._source = session_source(self.wb, self.config)
        return self._source



def open_session(data_dir: str, config_path: str = "", period: str = "", as_of: str = "", lang: str = "",
                 metrics_path: str = "", theme: bool = True) -> Session:
    """Load settings and data (one load per run: helpers.data.snapshot); resolve the period ("" = the latest complete one) and apply the chart theme.

    `data_dir` "" means $WORKBOOK_DATA, else the default folder (helpers.report.lab.resolve_data_dir).
    """
    from helpers.report.lab import resolve_data_dir

    data = resolve_data_dir(data_dir)
    say_errors_in(lang or stated_language(data, config_path or None) or "en")   # a settings file's own error too
    config = load_config(data, config_path or None, overrides={"language": lang or None, "as_of": as_of or None})
    say_errors_in(config.language)
    wb = _warehouse_workbook(data, config) or load_cached(data, config)  # the run's snapshot, or a cached one
    fy = config.fiscal_year_start_month
    if period:
        chosen = parse_period(period, fy)
    else:
        from helpers.data.load import last_data_date
        from helpers.data.periods import latest_period

        chosen, _ = latest_period(first_data_date(wb), wb.as_of, fy, last_data_date(wb))
    if theme:
        from helpers.views.theme import set_theme

        set_theme("report" if os.environ.get("WORKBOOK_STATIC") == "1" else "notebook")
    return Session(config=config, wb=wb, period=chosen, lang=config.language, recorder=Recorder(metrics_path))


def say_errors_in(lang: str) -> None:
    """In a notebook (an IPython shell), show every WorkbookError a cell raises in `lang`: its traceback's last line,
    and the error the report runner names for a failed notebook, say its message and fix from the label table
    (WorkbookError.shown_in; a coded error, or a DataValidationError's coded findings). Outside IPython nothing is done."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def show(shell, etype, value, tb, tb_offset=None):
        value.shown_in = lang
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)

    shell.set_custom_exc((WorkbookError,), show)


def _warehouse_workbook(data, config):
    """In a warehouse run (helpers.metrics.source.WAREHOUSE_ENV, with the run's snapshot), the run's Workbook without
    rows (helpers.data.rowless.read_rowless): as_of, first date, findings, files and the small tables; the leads,
    opportunities and touches stay in the warehouse (the notebooks compute on ``s.source``). None otherwise."""
    from helpers.data.snapshot import SNAPSHOT_ENV
    from helpers.metrics.source import warehouse_spec

    snapshot = os.environ.get(SNAPSHOT_ENV)
    if warehouse_spec() is None or not snapshot:
        return None
    from helpers.data.rowless import read_rowless

    return read_rowless(snapshot, data, config)


#: Container allocations between two collections of the youngest generation in the runner's kernels (Python's is 700).
KERNEL_GC_YOUNG = 10_000


def fresh_kernel_state(shell) -> None:
    """Make a kernel that ran one notebook look new to the next (helpers.report.run runs a period's notebooks in one kernel).

    `shell` is the kernel's IPython shell (``get_ipython()``). Empties the user namespace and
    sets the execution count back to 1 (IPython's ``reset(new_session=True)``; imported
    modules and their caches stay, which is the point), closes every open figure, and lets
    each Python warning be shown again (a new kernel has shown none). The chart theme needs
    no reset: every notebook applies it in :func:`open_session`.

    The figures are closed before the reset, whose garbage collection then frees them with the
    notebook's objects; what survives it (modules, their caches) is moved out of the collector's
    reach (``gc.freeze``), so neither the next reset nor the collections while the next notebook
    runs scan those few hundred thousand objects again (about 1.5 CPU s of a period on the sample).
    Reference counting still frees them; only a cycle among them that later becomes garbage stays.

    The youngest generation is collected every :data:`KERNEL_GC_YOUNG` container allocations instead of Python's 700
    (``gc.set_threshold``; the older generations' thresholds as Python's): the first notebook's imports and every
    notebook's frames and charts allocate in bursts that mostly survive, which 700 scanned again and again. The latest
    period on the sample, the kernel's CPU inside collections (``gc.callbacks``): 0.65 → 0.48 s, 16 → 11 full ones
    (7 of them the resets'). Garbage in a cycle waits at most that many allocations longer: small objects.
    """
    import gc
    import sys

    gc.set_threshold(KERNEL_GC_YOUNG, *gc.get_threshold()[1:])
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
    shell.reset(new_session=True)
    gc.freeze()
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)  # not the module's own __getattr__ (lazy imports)
        registry = namespace.get("__warningregistry__") if isinstance(namespace, dict) else None
        if isinstance(registry, dict):
            registry.clear()


def session_source(wb, config):
    """The source of a notebook's figures: the runner's warehouse (helpers.metrics.source.WAREHOUSE_ENV) when it
    named one (one connection per process: helpers.metrics.warehouse.WarehouseSource), else the loaded Workbook
    `wb`'s frames (helpers.metrics.core.workbook_source; one per process for a Workbook read from a snapshot:
    :func:`_snapshot_source`)."""
    from helpers.metrics.core import workbook_source
    from helpers.metrics.source import warehouse_spec

    spec = warehouse_spec()
    if spec is None:
        return _snapshot_source(wb, config) if wb.snapshot_id else workbook_source(wb)
    key = (spec["url"], spec.get("schema"), json.dumps(spec.get("tables") or {}, sort_keys=True), repr(config))
    with _OPEN_LOCK:
        if key not in _OPEN:
            from helpers.metrics.warehouse import WarehouseSource, connect

            _OPEN.clear()   # one warehouse connection per process (a kernel runs a period's notebooks in turn)
            _OPEN[key] = WarehouseSource(connect(spec["url"]), config, spec.get("schema"), spec.get("tables") or {})
        return _OPEN[key]


def _snapshot_source(wb, config):
    """The FrameSource of a Workbook read unchanged from a snapshot (``wb.snapshot_id``), one per process and snapshot
    and settings, as a warehouse run's source is one per process: the notebooks of a run's kernel, every period, share
    its engine tables (built once per table and breakdown keys, not once per notebook) and its memo of the figures
    that depend only on the data and as_of (:meth:`helpers.metrics.source.Source.memo`). It holds its own shallow
    copies of the tables (copy-on-write), so a notebook that changes its own frames does not change it."""
    import copy

    from helpers.metrics.core import workbook_source

    key = ("snapshot", wb.snapshot_id, repr(config))
    with _OPEN_LOCK:
        if key not in _FRAMES:
            _FRAMES.clear()   # one snapshot per process (a run's kernel; JupyterLab reloads a changed folder)
            own = copy.copy(wb)
            for name in ("leads", "opportunities", "touches"):
                frame = getattr(own, name)
                setattr(own, name, None if frame is None else frame.copy(deep=False))
            own.extras = {name: frame.copy(deep=False) for name, frame in wb.extras.items()}
            _FRAMES[key] = workbook_source(own)
        return _FRAMES[key]


_OPEN: dict[tuple, object] = {}
_FRAMES: dict[tuple, object] = {}
_OPEN_LOCK = threading.Lock()
