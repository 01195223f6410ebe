"""Widgets for JupyterLab that never reach the papermill path.

`explore(view, **choices)` renders `view(first choice of each)` statically under the
report runner (no live frontend: widgets there have hung papermill runs, papermill #723),
and in JupyterLab shows a dropdown per choice that re-renders the view.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from helpers.display import is_static


def _options(values) -> list[tuple[str, object]]:
    """Dropdown options as (label, value) pairs; a plain value is its own label."""
    return [v if isinstance(v, tuple) and len(v) == 2 else (str(v), v) for v in values]


def explore(view: Callable, static: bool | None = None, **choices: Sequence):
    """Show `view(**first choices)`; in JupyterLab, with one dropdown per choice to change it."""
    defaults = {name: _options(values)[0][1] for name, values in choices.items()}
    if is_static() if static is None else static:
        return view(**defaults)
    import ipywidgets as widgets
    from IPython.display import display

    controls = {name: widgets.Dropdown(options=_options(values), value=defaults[name], description=name)
                for name, values in choices.items()}
    out = widgets.Output()

    def render(_change=None):
        out.clear_output(wait=True)
        with out:
            display(view(**{name: c.value for name, c in controls.items()}))

    for control in controls.values():
        control.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox(list(controls.values())), out])
