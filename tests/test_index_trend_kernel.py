"""The index's trend chart drawn in the run's kernel (helpers.report.run._trend_in_kernel): the same PNG as drawn in the
runner's own process, whatever rcParams the notebooks left, and drawn there when no kernel runs."""
import base64
import pickle

import matplotlib
import pandas as pd

from helpers.config import load_config
from helpers.report import run
from helpers.report.index_page import trend_chart_file, trend_chart_png
from helpers.report.kernel import SharedKernel

FRAME = pd.DataFrame({"period": ["FY2025Q4", "FY2026Q1", "FY2026Q2 (partial)"], "sales_velocity": [8.4e5, None, 1.2e6]})


def test_the_kernels_file_is_the_processes_png_after_notebooks_changed_rcparams(tmp_path):
    config = load_config()
    with matplotlib.rc_context():
        matplotlib.rc_file_defaults()
        own = trend_chart_png(FRAME, config)
    with open(tmp_path / "trend.pickle", "wb") as fh:
        pickle.dump((FRAME, config), fh)
    with matplotlib.rc_context({"axes.titlepad": 30.0, "xtick.major.pad": 12.0, "axes.titlelocation": "left"}):
        trend_chart_file(str(tmp_path))   # as a kernel whose notebooks set rcParams of their own
        assert matplotlib.rcParams["axes.titlepad"] == 30.0   # the kernel's settings are left as they were
    assert base64.b64encode((tmp_path / "trend.png").read_bytes()).decode("ascii") == own


def test_without_a_running_kernel_the_chart_is_drawn_in_this_process(tmp_path):
    config = load_config()
    kernel = SharedKernel(tmp_path / "kernel.log")   # never started: no kernel runs
    assert kernel.run_silently("1") is False
    assert run._trend_in_kernel(kernel, tmp_path)(FRAME, config) == trend_chart_png(FRAME, config)
    assert run._trend_in_kernel(None, tmp_path)(FRAME, config) == trend_chart_png(FRAME, config)
