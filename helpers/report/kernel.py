"""The runner's Jupyter kernels: one kernel a period's notebooks share (and the periods one process runs one after
another, :class:`SharedKernel`), the papermill engine that runs each notebook in it after making it fresh
(:func:`period_engine`), the preflight that the kernel is installed (:func:`check_kernel`), and the environment the
kernels inherit (:func:`set_kernel_environment`). Used by :mod:`helpers.report.run`, which still names all of them.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
from pathlib import Path

from helpers.errors import coded_error
from helpers.paths import KERNEL_NAME

STATIC_ENV = "WORKBOOK_STATIC"
KERNEL_LOG = "kernel.log"


def quiet_kernel_manager(log_path: Path):
    """A kernel manager class whose kernel writes its own log lines (stderr) to `log_path`, not the console."""
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd, **kw):  # "override in a subclass" (jupyter_client)
            kw.setdefault("stderr", open(log_path, "ab"))  # noqa: SIM115 - closed when the kernel exits
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return QuietKernelManager


#: The papermill engine of :func:`period_engine` (registered on first use).
PERIOD_ENGINE = "workbook-period-kernel"
#: Code run (silently, out of any notebook) in the period's kernel before each notebook.
FRESH_STATE = "__import__('helpers.report.session', fromlist=['_']).fresh_kernel_state(get_ipython())"  # leaves no name behind


@functools.lru_cache(maxsize=1)
def period_engine() -> str:
    """Register (once per process) and name a papermill engine that runs a notebook in the kernel of the kernel manager passed
    as ``km`` (papermill hands engine keyword arguments on to nbclient's NotebookClient, whose ``km`` it uses and,
    not owning it, leaves running): the kernel starts with the period's first notebook and :func:`stop_kernel`
    ends it. Before each notebook it runs :data:`FRESH_STATE`; after it, the notebook's kernel client is closed.
    The executed copy is written once, when the notebook ends (papermill's default rewrites the whole notebook, its
    charts included, before and after every cell: about a tenth of a period's CPU on the sample); the runner asks for
    that with ``request_save_on_cell_execute=False`` and names the copy in ``failure_path``, where this engine writes
    the notebook as far as it ran when the kernel dies or the client fails (papermill itself writes it on a cell's
    error). The runner hands papermill the notebook without its lab-only cells as an object, which papermill records
    whole as the executed copy's ``input_path``; ``source_path`` names the notebook's file there instead (each copy was
    carrying, writing, reading and copying the notebook's text again). Everything else (parameters, the failed cell,
    timeouts) is papermill's NBClientEngine."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    class PeriodKernelClient(PapermillNotebookClient):
        def papermill_execute_cells(self):
            reply = self.wait_for_reply(self.kc.execute(FRESH_STATE, silent=True, store_history=False))
            content = (reply or {}).get("content", {})
            if content.get("status") != "ok":
                raise RuntimeError(f"the kernel could not be made fresh for the next notebook: {content.get('ename')}: "
                                   f"{content.get('evalue')}")
            super().papermill_execute_cells()

    class PeriodKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                     start_timeout=60, execution_timeout=None, **kwargs):
            # NBClientEngine.execute_managed_notebook's arguments, with PeriodKernelClient
            from papermill.engines import logger

            from papermill.iorw import write_ipynb

            failure_path = kwargs.pop("failure_path", None)
            source_path = kwargs.pop("source_path", None)
            if source_path:  # papermill recorded the notebook object it was given, its whole text, as the input path
                nb_man.nb.metadata.papermill["input_path"] = source_path
            kwargs = {k: v for k, v in kwargs.items() if k not in ("input_path", "timeout", "startup_timeout")}
            client = PeriodKernelClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout, kernel_name=kernel_name,
                                        log=logger, log_output=log_output, stdout_file=stdout_file, stderr_file=stderr_file,
                                        **kwargs)
            try:
                return client.execute()
            except BaseException:
                if failure_path:  # the kernel died, a timeout, an interrupt: keep what ran for the failure report
                    with contextlib.suppress(Exception):
                        write_ipynb(nb_man.nb, failure_path)
                raise
            finally:
                if client.kc is not None:
                    client.kc.stop_channels()

    papermill_engines.register(PERIOD_ENGINE, PeriodKernelEngine)
    return PERIOD_ENGINE


def stop_kernel(km) -> None:
    """Shut the period's kernel down (gracefully, as nbclient does with its own kernels) and free its resources;
    a kernel that already died or never started is only cleaned up."""
    from jupyter_core.utils import ensure_async, run_sync

    async def stop():
        try:
            if km.has_kernel and await ensure_async(km.is_alive()):
                await ensure_async(km.shutdown_kernel(now=False))
        except RuntimeError as exc:
            if "No kernel is running" not in str(exc):
                raise
        finally:
            await ensure_async(km.cleanup_resources())

    run_sync(stop)()


class SharedKernel:
    """The kernel the periods of one process share, one period after another: started by the first period's first
    notebook, ended by :meth:`close` (after the last period, or by a period that failed, so the next one starts a new
    kernel). Its log (the kernel's stderr) is appended to `log`; :meth:`log_since` gives a period the part written
    while it ran (kept beside a failed period's notebooks). Saves each further period the kernel's start and the
    imports of the stack (about 1.5 CPU s a period on the sample)."""

    def __init__(self, log: Path):
        self.log = log
        self.km = None

    def manager(self):
        """The kernel manager for the next period (a new one when there is none)."""
        if self.km is None:
            self.km = quiet_kernel_manager(self.log)(kernel_name=KERNEL_NAME)
        return self.km

    def log_size(self) -> int:
        """The log's length now, in bytes (0 before the first kernel wrote to it)."""
        try:
            return self.log.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> bytes:
        """What the kernels wrote to the log from byte `offset` on."""
        try:
            with open(self.log, "rb") as f:
                f.seek(offset)
                return f.read()
        except OSError:
            return b""

    def run_silently(self, code: str, timeout: float = 120.0) -> bool:
        """Run `code` in the kernel, if one runs, as the engine runs :data:`FRESH_STATE` (silently, out of any
        notebook and its history); True when it ran without an error, False when no kernel runs, the code raised or
        no reply came within `timeout` seconds."""
        from jupyter_core.utils import ensure_async, run_sync

        km = self.km

        async def run() -> bool:
            if km is None or not km.has_kernel or not await ensure_async(km.is_alive()):
                return False
            kc = km.client()
            kc.start_channels()
            try:
                msg_id = kc.execute(code, silent=True, store_history=False)
                while True:
                    reply = await ensure_async(kc.get_shell_msg(timeout=timeout))
                    if reply.get("parent_header", {}).get("msg_id") == msg_id:
                        return reply.get("content", {}).get("status") == "ok"
            except Exception:   # queue.Empty (no reply in time), a closed connection: the caller does the work itself
                return False
            finally:
                kc.stop_channels()

        return run_sync(run)()

    def close(self) -> None:
        """End the kernel, if one runs (the next :meth:`manager` starts a new one)."""
        km, self.km = self.km, None
        if km is not None:
            stop_kernel(km)


def __getattr__(name: str):
    """KERNEL_FIX: the fix of a kernel not installed, with {python} and {name} to fill (the label fix_kernel_missing in
    English; kept for callers of the former constant)."""
    if name == "KERNEL_FIX":
        from helpers.labels import t

        return t("fix_kernel_missing")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_kernel(name: str | None = None) -> None:
    """Preflight: the Jupyter kernel the notebooks run on is registered and its Python exists; WorkbookError with the
    command that installs it otherwise (checked before any notebook runs)."""
    import shutil as _shutil

    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = name or KERNEL_NAME
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise coded_error("kernel_missing", None, name=name, python=sys.executable) from None
    program = spec.argv[0] if spec.argv else ""
    if program and not (Path(program).exists() or _shutil.which(program)):
        raise coded_error("kernel_missing", None, "program", name=name, python=sys.executable, program=program)


#: The kernels' BLAS (OpenBLAS, under numpy) runs on one thread unless the user's environment says otherwise: the
#: workbook's matrix products are thin (the velocity bootstrap's draw counts times 20 window sums, the GLM's fits),
#: idle OpenBLAS threads spin for work on a shared machine (the velocity bootstrap at 1M leads: 6.0 -> 3.8 CPU s and
#: 10.1 -> 8.4 s of wall time on this 2-core machine), and the last bits of a BLAS sum depend on how it is split
#: between threads, so metrics.json would otherwise depend on the machine's core count.
#: Only the kernels get it: the runner's own process (the loader's checks) keeps the default (docs/benchmarks.md).
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1"}


def set_kernel_environment() -> None:
    """The environment the runner's kernels inherit: static pages (WORKBOOK_STATIC), charts embedded as PNG
    (MPLBACKEND), and BLAS_THREADS where the user has not set them."""
    os.environ[STATIC_ENV] = "1"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # charts embedded as PNG in the notebook
    for name, value in BLAS_THREADS.items():
        os.environ.setdefault(name, value)
