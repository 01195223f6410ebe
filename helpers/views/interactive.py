"""Widgets for JupyterLab that never reach the papermill path.

`explore(view, **choices)` renders `view(first choice of each)` statically under the
report runner (no live frontend: widgets there have hung papermill runs, papermill #723),
and in JupyterLab shows a dropdown per choice that re-renders the view, with a busy line
under it while it works (the previous view stays until the new one replaces it, so a redraw
never collapses the page). Its results are put into the output area directly (never through a
captured `display`), so nothing lands in JupyterLab's log console.

Every widget is shown through `Live`: its plain text is one line saying what to do, which
is what a saved notebook keeps (helpers.report.lab strips the widget view when saving), so a
reopened notebook shows that line instead of "Error displaying widget: model not found".
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Sequence

from helpers.views.display import is_static, note


class Live:
    """A widget shown with `hint` as its text/plain (the line a saved or exported notebook shows)."""

    def __init__(self, widget, hint: str):
        self.widget = widget
        self.hint = hint

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude, **kwargs) or {})
        bundle["text/plain"] = self.hint
        return bundle


def _options(values) -> list[tuple[str, object]]:
    """Dropdown options as (label, value) pairs; a plain value is its own label."""
    return [v if isinstance(v, tuple) and len(v) == 2 else (str(v), v) for v in values]


def _items(result) -> list:
    """A view's result as a list of displayable objects (a view may return one object, a list or None)."""
    items = list(result) if isinstance(result, (list, tuple)) else [result]
    return [i for i in items if i is not None]


def output_of(obj) -> dict:
    """`obj` as a display_data output (binary data such as PNG base64-encoded, as in a notebook file)."""
    from IPython.core.formatters import format_display_data

    data, metadata = format_display_data(obj)
    data = {k: base64.b64encode(v).decode("ascii") if isinstance(v, bytes) else v for k, v in data.items()}
    return {"output_type": "display_data", "data": data, "metadata": metadata}


def show_in(out, objects) -> None:
    """Replace an Output widget's content by `objects` (formatted here, so no display message can go astray)."""
    out.outputs = tuple(output_of(obj) for obj in objects)


def explore(view: Callable, static: bool | None = None, labels: dict[str, str] | None = None,
            busy: str = "…", hint: str = "", **choices: Sequence):
    """Show `view(**first choices)`; in JupyterLab, with one dropdown per choice to change it.

    `view` returns one displayable object, a list of them, or None. `labels` names each
    dropdown (default: the choice's keyword); `busy` is shown while the view works;
    `hint` is the widget's plain text (see `Live`).
    """
    defaults = {name: _options(values)[0][1] for name, values in choices.items()}
    if is_static() if static is None else static:
        return view(**defaults)
    import ipywidgets as widgets

    labels = labels or {}
    controls = {name: widgets.Dropdown(options=_options(values), value=defaults[name], description=labels.get(name, name),
                                       style={"description_width": "initial"}, layout=widgets.Layout(width="auto"))
                for name, values in choices.items()}
    out = widgets.Output()
    status = widgets.HTML(value="")

    def render(_change=None):
        for control in controls.values():
            control.disabled = True
        # the old view stays (the page keeps its height) while the new one is computed; the busy line says so
        status.value = note(busy).data
        try:
            items = _items(view(**{name: c.value for name, c in controls.items()}))
        except Exception as exc:  # shown to the analyst, never swallowed
            items = [note(f"{type(exc).__name__}: {exc}", warn=True)]
        finally:
            for control in controls.values():
                control.disabled = False
        show_in(out, items)
        status.value = ""

    for control in controls.values():
        control.observe(render, names="value")
    render()
    return Live(widgets.VBox([widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap")), out, status]), hint)
