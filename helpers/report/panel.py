"""The control panel at the top of every notebook: period, language, snapshot date (and in 03 the initiative) without Python.

A notebook calls `control_panel(globals())` in the cell right after its papermill `parameters`
cell. Under the report runner and nbval (static: helpers.views.display.is_static) it shows
nothing and changes nothing: the parameters cell rules there.

In JupyterLab (and in the `make app` view) it shows the data folder being read and one control
per parameter. The mechanism ("each view is re-run in place"):

1. From the panel on, each cell the kernel runs is recorded (its code, keyed by the cell's id)
   and its outputs are captured in the kernel (helpers.report.cell_capture, which says why) and
   shown in an ipywidgets Output placed in that cell's output area (IPython events pre_run_cell /
   post_run_cell).
2. Changing a control writes the parameter into the notebook's namespace (the same variables
   the parameters cell sets, as the same strings) and re-runs the recorded cells in notebook
   order, each into its own Output: the views below change in place, the page keeps its cells.
A cell that fails stops the re-run there (its traceback shows in its place); the controls are
disabled while the re-run works. A saved notebook keeps the widgets' one-line hint (see
helpers.report.lab.pre_save_hook): run the notebook again after opening it.
"""
from __future__ import annotations

import datetime as dt
import os

from helpers.labels import t
from helpers.report.cell_capture import CellCapture
from helpers.views.display import note

#: Parameters the panel sets, in the order of its controls.
PANEL_PARAMS = ("period", "lang", "as_of", "initiative")
#: Set by `make app` (helpers.report.app): the panel's advice names make app instead of make lab.
APP_ENV = "WORKBOOK_APP"
#: The panel's own cell is never recorded (re-running it makes a new panel).
PANEL_CALL = "control_panel("


def period_options(wb, fiscal_year_start_month: int, lang: str) -> list[tuple[str, str]]:
    """Dropdown options for the period: ("latest complete (label)", "") then every complete period, newest first, and the current one.

    `wb` is a loaded Workbook; labels are period labels such as 2025Q3 / FY2026Q1.
    """
    from helpers.data.load import first_data_date, last_data_date
    from helpers.data.periods import complete_periods, latest_period, period_of

    complete = complete_periods(first_data_date(wb), wb.as_of, fiscal_year_start_month)
    current = period_of(wb.as_of, fiscal_year_start_month)
    default, _ = latest_period(first_data_date(wb), wb.as_of, fiscal_year_start_month, last_data_date(wb))
    labels = [p.label for p in reversed(complete)]
    if current.label not in labels:
        labels.insert(0, current.label)
    return [(t("panel_latest_period", lang).format(period=default.label), "")] + [(x, x) for x in labels]


def initiative_options(wb, lang: str) -> list[tuple[str, str]]:
    """Dropdown options for the initiative: the default rule ("") then each name of initiatives.csv once, in file order."""
    frame = wb.initiatives
    names = [] if frame is None or "name" not in frame.columns else list(dict.fromkeys(
        str(n).strip() for n in frame["name"].dropna() if str(n).strip()))
    return [(t("velocity_default_initiative", lang), "")] + [(n, n) for n in names]


class Panel:
    """The live panel: its controls, the parameter values they hold and the cells recorded below it."""

    def __init__(self, namespace: dict, shell, data_dir, wb, fiscal_year_start_month: int, lang: str):
        import ipywidgets as widgets

        self.namespace, self.shell, self.cells, self.rerunning, self._current = namespace, shell, {}, False, None
        self.data_latest = wb.as_of.date()
        style, wide = {"description_width": "initial"}, widgets.Layout(width="auto")
        ns = namespace
        self.period = widgets.Dropdown(options=period_options(wb, fiscal_year_start_month, lang), value=None,
                                       description=t("panel_period", lang), style=style, layout=wide)
        self.period.value = ns.get("period", "") if ns.get("period", "") in [v for _, v in self.period.options] else ""
        self.lang = widgets.Dropdown(options=[("English", "en"), ("日本語", "ja")], value=ns.get("lang") or lang,
                                     description=t("panel_language", lang), style=style, layout=wide)
        self.as_of = widgets.DatePicker(value=_date(ns.get("as_of")) or self.data_latest, description=t("panel_as_of", lang),
                                        max=self.data_latest, style=style, layout=wide)
        controls = [self.period, self.lang, self.as_of]
        self.initiative = self.start = None
        if "initiative" in ns:
            chosen = str(ns.get("initiative") or "")
            options = initiative_options(wb, lang)
            named = chosen if chosen in [v for _, v in options] else ""
            self.initiative = widgets.Dropdown(options=options, value=named, description=t("initiative", lang),
                                               style=style, layout=wide)
            self.start = widgets.DatePicker(value=None if named or not chosen else _date(chosen),
                                            description=t("panel_initiative_date", lang), style=style, layout=wide)
            controls += [self.initiative, self.start]
        self.status = widgets.HTML(value="")
        folder = widgets.HTML(value=f"<span class='wb-panel-data'>{_esc(t('panel_data_folder', lang))}: <code>{_esc(str(data_dir))}</code></span>")
        self.widget = widgets.VBox([folder, widgets.HBox(controls, layout=widgets.Layout(flex_flow="row wrap")), self.status])
        self.widget.add_class("wb-panel")
        for control in controls:
            control.observe(self.changed, names="value")
        self.ui_lang = lang

    # ---------------------------------------------------------------- values
    def values(self) -> dict[str, str]:
        """The parameters as the parameters cell writes them: strings, "" for the default."""
        as_of = self.as_of.value
        values = {"period": self.period.value or "", "lang": self.lang.value or "",
                  "as_of": "" if as_of is None or as_of == self.data_latest else as_of.isoformat()}
        if self.initiative is not None:
            values["initiative"] = self.start.value.isoformat() if self.start.value is not None else (self.initiative.value or "")
        return values

    def apply(self) -> None:
        """Write the panel's values into the notebook's namespace."""
        self.namespace.update(self.values())

    # ---------------------------------------------------------------- recording
    def before(self, info) -> None:
        """pre_run_cell: record the cell and capture its outputs in an Output placed in its output area."""
        if self.rerunning or PANEL_CALL in (info.raw_cell or ""):
            return
        import ipywidgets as widgets
        from IPython.display import display

        from helpers.views.interactive import Live

        key = getattr(info, "cell_id", None) or info.raw_cell
        out = widgets.Output()
        display(Live(out, t("panel_hint", self.ui_lang)))
        self.cells[key] = (info.raw_cell, out)
        self._current = (out, CellCapture(self.shell).__enter__())

    def after(self, result) -> None:
        """post_run_cell: stop capturing and show the cell's outputs in its Output (its error shows below, as any cell's)."""
        if self._current is not None and not self.rerunning:
            (out, capture), self._current = self._current, None
            capture.__exit__(None, None, None)
            out.outputs = capture.outputs()

    # ---------------------------------------------------------------- re-running
    def changed(self, change=None) -> None:
        """A control changed: apply the values and re-run every recorded cell in its own output, in order."""
        if self.rerunning:
            return
        if self.initiative is not None and change is not None:
            if change["owner"] is self.initiative and change["new"]:
                self.rerunning = True
                self.start.value = None  # a listed initiative replaces a typed date
                self.rerunning = False
            elif change["owner"] is self.start and change["new"] is not None:
                self.rerunning = True
                self.initiative.value = ""
                self.rerunning = False
        controls = [w for w in (self.period, self.lang, self.as_of, self.initiative, self.start) if w is not None]
        lang = self.lang.value
        self.status.value = note(t("explore_busy", lang)).data
        for control in controls:
            control.disabled = True
        self.rerunning = True
        failed = False
        self.apply()  # also with no cell recorded yet: the cells run next read the values shown
        try:
            for code, out in list(self.cells.values()):
                self.apply()  # a re-run parameters cell must not undo the panel
                with CellCapture(self.shell) as capture:
                    result = self.shell.run_cell(code, store_history=False)
                out.outputs = capture.outputs(result)  # the previous view stays until this replaces it
                if not result.success:
                    failed = True
                    break
        finally:
            self.rerunning = False
            for control in controls:
                control.disabled = False
        message = t("panel_failed", lang) if failed else t("panel_updated", lang)
        if lang != self.ui_lang:
            message += " " + t("panel_other_language", lang).format(command="make app" if os.environ.get(APP_ENV) else "make lab")
        self.status.value = note(message, warn=failed).data


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=True)


def _date(value) -> dt.date | None:
    """A 'YYYY-MM-DD' string as a date; None for "" or anything else."""
    try:
        return dt.date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


def control_panel(namespace: dict, static: bool | None = None):
    """Show the notebook's control panel (JupyterLab, Voilà); None under the report runner and nbval.

    `namespace` is the notebook's globals(), holding the parameters cell's variables
    (data_dir, config_path, period, as_of, lang and, in 03, initiative). Returns the panel's
    widget (shown with a one-line hint as its text). Raises WorkbookError as open_session does
    for an unreadable data folder or settings file.
    """
    from helpers.views.display import is_static

    if is_static() if static is None else static:
        return None
    from IPython import get_ipython

    from helpers.config import load_config
    from helpers.data.snapshot import load_cached
    from helpers.report.lab import resolve_data_dir
    from helpers.views.interactive import Live

    data = resolve_data_dir(namespace.get("data_dir", ""))
    config = load_config(data, namespace.get("config_path") or None, overrides={"language": namespace.get("lang") or None})
    wb = load_cached(data, config)
    shell = get_ipython()
    old = getattr(shell, "_workbook_panel", None)
    if old is not None and shell is not None:
        for event, hook in (("pre_run_cell", old.before), ("post_run_cell", old.after)):
            try:
                shell.events.unregister(event, hook)
            except ValueError:
                pass
    panel = Panel(namespace, shell, data, wb, config.fiscal_year_start_month, config.language)
    panel.apply()
    if shell is not None:
        shell._workbook_panel = panel
        shell.events.register("pre_run_cell", panel.before)
        shell.events.register("post_run_cell", panel.after)
    shown = Live(panel.widget, t("panel_hint", config.language))
    shown.panel = panel
    return shown
