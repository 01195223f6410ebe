"""One notebook cell's outputs captured in the kernel, for the control panel (helpers.report.panel).

The panel shows each cell's outputs inside an ipywidgets Output so that a re-run replaces them in
place. An Output's own capture (`with out:`) only tags the kernel's messages with the cell's
request id and leaves the routing to whoever executes the cell: JupyterLab does it, but Voilà
(`make app`) executes a notebook on the server with nbclient, whose stand-in for the Output widget
can stop the page part-way ("Executing 12 of 27" forever, voila issue #1428). So the outputs are
taken in the kernel instead (IPython's capture_output: stdout, stderr, every display and the
cell's own result) and written into the Output's `outputs` when the cell ends, already formatted
(as helpers.views.interactive.show_in does for the explorers): nothing depends on message routing.
"""
from __future__ import annotations

import base64
import sys


class CellCapture:
    """Context manager capturing what one cell shows, in the kernel; `outputs()` gives them as notebook outputs.

    Entered before a cell runs (IPython's pre_run_cell, or around `shell.run_cell`) and left after
    it. The cell's result (its last expression) is captured too: IPython's DisplayTrap puts its own
    display hook in place while a cell runs, so the trap is pointed at the capturing one meanwhile.
    """

    def __init__(self, shell):
        self.shell = shell
        self._capture = self._captured = self._trap_hook = None

    def __enter__(self) -> "CellCapture":
        from IPython.utils.capture import capture_output

        self._capture = capture_output(stdout=True, stderr=True, display=True)
        self._captured = self._capture.__enter__()
        trap = getattr(self.shell, "display_trap", None)
        if trap is not None:
            self._trap_hook, trap.hook = trap.hook, sys.displayhook  # the capturing hook capture_output set
        return self

    def __exit__(self, *exc) -> None:
        trap = getattr(self.shell, "display_trap", None)
        if trap is not None and self._trap_hook is not None:
            trap.hook = self._trap_hook
        self._capture.__exit__(*exc)

    def outputs(self, result=None) -> tuple[dict, ...]:
        """The captured outputs as notebook outputs: stdout, stderr, then each display in order (binary data base64).

        With `result` (IPython's ExecutionResult of the cell), an error it records is added as an
        error output with its traceback (a re-run's error shows in the cell's place).
        """
        io = self._captured
        found = [{"output_type": "stream", "name": name, "text": text}
                 for name, text in (("stdout", io.stdout), ("stderr", io.stderr)) if text]
        for rich in io.outputs:
            data = {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for k, v in (rich.data or {}).items()}
            found.append({"output_type": "display_data", "data": data, "metadata": dict(rich.metadata or {})})
        error = getattr(result, "error_before_exec", None) or getattr(result, "error_in_exec", None)
        if error is not None:
            tb = self.shell.InteractiveTB.structured_traceback(type(error), error, error.__traceback__)
            found.append({"output_type": "error", "ename": type(error).__name__, "evalue": str(error), "traceback": tb})
        return tuple(found)
