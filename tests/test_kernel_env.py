"""The runner's kernels get one BLAS thread unless the user set a number (helpers.report.run.set_kernel_environment),
and make's targets export the same (Makefile)."""
import os
import subprocess
from pathlib import Path

from helpers.report import run

ROOT = Path(__file__).resolve().parents[1]


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


def test_make_exports_one_blas_thread_unless_set():
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "MAKEFLAGS", "MFLAGS")}
    show = ["make", "-s", "--no-print-directory", "-f", "Makefile", "-f", "-", "show"]
    rule = "show:\n\t@echo $$OPENBLAS_NUM_THREADS\n"
    plain = subprocess.run(show, input=rule, text=True, capture_output=True, cwd=ROOT, env=env, check=True)
    assert plain.stdout.strip() == "1"
    mine = subprocess.run(show, input=rule, text=True, capture_output=True, cwd=ROOT,
                          env={**env, "OPENBLAS_NUM_THREADS": "3"}, check=True)
    assert mine.stdout.strip() == "3"
