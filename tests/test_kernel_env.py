"""The runner's kernels get one BLAS thread unless the user set a number (helpers.report.run.set_kernel_environment)."""
import os

from helpers.report import run


def test_kernels_get_one_blas_thread(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    for name in (run.STATIC_ENV, "MPLBACKEND"):
        monkeypatch.delenv(name, raising=False)
    run.set_kernel_environment()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ[run.STATIC_ENV] == "1"
    assert os.environ["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"


def test_a_users_blas_threads_are_kept(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    run.set_kernel_environment()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"

