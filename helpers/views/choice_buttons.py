"""Accessible one-of-several buttons (the checklist form's Yes / Partial / No) for JupyterLab and the app.

ipywidgets' ToggleButtons marks the chosen button only by a slightly darker grey and gives assistive technology
nothing (no ARIA attribute: ipywidgets 8 has none). This widget, built with anywidget (a maintained Jupyter
widget toolkit that runs in JupyterLab and Voilà), draws a group of HTML buttons (role="group", named by `label`)
where the chosen one is filled in the primary colour, starts with "✓ " and carries aria-pressed="true" (the others
aria-pressed="false"). Pressing the chosen button again clears the choice (value None). Imported only where widgets
are shown (never under the report runner).
"""
from __future__ import annotations

import anywidget
import traitlets

#: The mark the chosen button's text starts with (besides its colour: never colour alone).
CHOSEN_MARK = "✓ "

_ESM = """
function render({ model, el }) {
  const group = document.createElement("div");
  group.setAttribute("role", "group");
  group.className = "wb-choice";
  let buttons = [];
  function build() {
    group.replaceChildren();
    buttons = model.get("options").map(([text, value]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "wb-choice-button";
      b.dataset.value = value;
      b.dataset.text = text;
      b.addEventListener("click", () => {
        model.set("value", model.get("value") === value ? null : value);
        model.save_changes();
      });
      group.appendChild(b);
      return b;
    });
    update();
  }
  function update() {
    group.setAttribute("aria-label", model.get("label"));
    for (const b of buttons) {
      const on = model.get("value") === b.dataset.value;
      b.setAttribute("aria-pressed", on ? "true" : "false");
      b.classList.toggle("wb-choice-on", on);
      b.textContent = (on ? MARK : "") + b.dataset.text;
      b.disabled = model.get("disabled");
    }
  }
  model.on("change:options", build);
  model.on("change:value", update);
  model.on("change:label", update);
  model.on("change:disabled", update);
  build();
  el.appendChild(group);
}
export default { render };
""".replace("MARK", repr(CHOSEN_MARK))

_CSS = """
.wb-choice { display: inline-flex; gap: 4px; margin: 2px 6px; }
.wb-choice-button {
  font: inherit; font-size: var(--jp-widgets-font-size, 13px); min-width: 5.5em; padding: 2px 10px; cursor: pointer;
  color: var(--jp-ui-font-color1, #1a1a1a); background: var(--jp-layout-color2, #eeeeee);
  border: 1px solid var(--jp-border-color1, #9e9e9e); border-radius: 2px;
}
.wb-choice-button:hover { background: var(--jp-layout-color3, #dddddd); }
.wb-choice-button.wb-choice-on {
  color: #ffffff; background: var(--jp-brand-color1, #1565c0); border-color: var(--jp-brand-color0, #0d47a1); font-weight: 600;
}
.wb-choice-button:focus-visible { outline: 2px solid var(--jp-brand-color0, #0d47a1); outline-offset: 1px; }
.wb-choice-button:disabled { cursor: default; opacity: 0.6; }
"""


class ChoiceButtons(anywidget.AnyWidget):
    """One-of-several buttons with aria-pressed: `options` [(text, value), ...], `value` the chosen value or None,
    `label` the group's accessible name (e.g. the question), `disabled`. Values are strings."""

    _esm = _ESM
    _css = _CSS
    options = traitlets.List(trait=traitlets.Tuple(traitlets.Unicode(), traitlets.Unicode())).tag(sync=True)
    value = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    label = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    @traitlets.validate("value")
    def _known(self, proposal):
        value = proposal["value"]
        if value is not None and value not in [v for _, v in self.options]:
            raise traitlets.TraitError(f"{value!r} is not one of the options {[v for _, v in self.options]}")
        return value
