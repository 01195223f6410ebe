"""A cell's outputs captured in the kernel (helpers.report.cell_capture), as the control panel uses them in JupyterLab and the app."""
import re
import sys

import pytest

from helpers.report.cell_capture import CellCapture


@pytest.fixture
def shell():
    """A real IPython shell (the kernel's run_cell, display hook and DisplayTrap), removed again after the test."""
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()  # a shell an earlier test of this worker left (with a panel's hooks) is not this one
    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()


def test_prints_displays_and_the_cells_result_are_captured_in_order_and_nothing_else_shows(shell, capsys):
    hook, trap_hook = sys.displayhook, shell.display_trap.hook
    with CellCapture(shell) as capture:
        result = shell.run_cell("from IPython.display import HTML, display\nprint('checked')\n"
                                "display(HTML('<b>x</b>'))\n40 + 2", store_history=False)
    assert result.success
    assert capture.outputs(result) == (
        {"output_type": "stream", "name": "stdout", "text": "checked\n"},
        {"output_type": "display_data", "data": {"text/html": "<b>x</b>", "text/plain": "<IPython.core.display.HTML object>"}, "metadata": {}},
        {"output_type": "display_data", "data": {"text/plain": "42"}, "metadata": {}})
    assert capsys.readouterr().out == ""  # the result went into the capture, not to the cell
    assert (sys.displayhook, shell.display_trap.hook) == (hook, trap_hook)  # both put back


def test_binary_data_is_base64_and_an_error_shows_with_its_traceback(shell):
    with CellCapture(shell) as capture:
        shell.run_cell("from IPython.display import Image, display\n"
                       "display(Image(data=b'\\x89PNG\\r\\n\\x1a\\n', format='png'))", store_history=False)
    [png] = capture.outputs()
    assert png["data"]["image/png"] == "iVBORw0KGgo="  # base64 of the 8 bytes of a PNG signature
    with CellCapture(shell) as capture:
        result = shell.run_cell("1 / 0", store_history=False)
    assert not result.success
    *_, error = capture.outputs(result)
    assert (error["output_type"], error["ename"], error["evalue"]) == ("error", "ZeroDivisionError", "division by zero")
    assert any("1 / 0" in re.sub(r"\x1b\[[0-9;]*m", "", line) for line in error["traceback"])  # colours aside
    assert capture.outputs() == capture.outputs(None)  # without the result, no error output (the cell shows it)
