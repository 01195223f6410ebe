"""The workbook as a read-only web app (Voilà): `make app` (`make app LANG=ja`) runs `python -m helpers.report.app`.

For an analyst who reads the figures and uses the controls but never the code:
  1. the data folder and the working copies are the ones `make lab` uses
     (helpers.report.lab.prepare_workspace): `work/data` (a copy of data/sample, made on first use)
     or DATA=folder, and the one-language copies in `work/notebooks/<lang>/`;
  2. Voilà serves those copies on 127.0.0.1 and prints the address with a fresh token (as
     `make lab` does). Each page runs its notebook in a kernel of its own with the code hidden
     (strip_sources) and keeps that kernel for the control panel, the explorers and the answer
     form. The browser cannot send code (Voilà refuses execute requests): a reader can change
     the controls, not the notebooks, and Voilà saves nothing into them;
  3. the landing page lists the notebooks with their titles in the copies' language; the pages
     use the template `app_templates/voila/templates/workbook-app` (Voilà's lab template without
     its CDN stylesheets: the app makes no request outside its own server).
The answer form saves into the data folder through its locked, atomic save, never into data/sample.
A cell that fails shows its error with the traceback (show_tracebacks: the workbook's errors
name the file, row and column and the fix); the app runs on this machine only.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from traitlets import Dict
from voila.app import Voila

from helpers.labels import t
from helpers.report.lab import notebook_title, start_workspace

#: Root of the app's Voilà template (voila/templates/workbook-app), put first on JUPYTER_PATH.
TEMPLATE_ROOT = Path(__file__).parent / "app_templates"
TEMPLATE = "workbook-app"


def landing_pages(notebooks: Path) -> list[dict[str, str]]:
    """The landing page's entries: each numbered notebook `NN_name.ipynb` of the folder, in reading order.

    Keys: path (file name), number (NN) and title (:func:`helpers.report.lab.notebook_title`
    of the copy, so in its language; the file name when the copy cannot be read).
    """
    import json

    from helpers.report.run import notebook_paths

    pages = []
    for path in notebook_paths(Path(notebooks)):
        try:
            title = notebook_title(json.loads(path.read_text(encoding="utf-8")), path.stem)
        except (OSError, ValueError):
            title = path.stem
        pages.append({"path": path.name, "number": path.name[:2], "title": title})
    return pages


def landing(notebooks: Path, data: Path, lang: str) -> dict:
    """What the landing page shows (the template's `workbook`): language, title, intro, data folder and pages."""
    return {"lang": lang, "title": t("app_title", lang), "intro": t("app_intro", lang),
            "data_label": t("panel_data_folder", lang), "data": str(data), "pages_label": t("app_pages", lang),
            "pages": landing_pages(notebooks)}


class WorkbookVoila(Voila):
    """Voilà whose page templates also receive `workbook` (:func:`landing`): the landing page's content."""

    workbook = Dict(help="the landing page's content (helpers.report.app.landing)")

    def init_settings(self) -> dict:
        settings = super().init_settings()
        settings["voila_jinja2_env"].globals["workbook"] = self.workbook
        return settings


def voila_options(notebooks: Path, lang: str, extra: list[str]) -> list[str]:
    """Voilà's command line: the copies' folder on 127.0.0.1 with a generated token, code hidden, the app's template.

    `extra` (arguments after --, e.g. --port=8870 --no-browser or --token=VALUE) come last and win.
    """
    return [str(notebooks), "--Voila.ip=127.0.0.1", "--token", f"--template={TEMPLATE}",
            "--strip_sources=True", "--VoilaConfiguration.classic_tree=True",
            "--VoilaConfiguration.show_tracebacks=True", f"--VoilaExporter.language_code={lang}", *extra]


def main(argv: list[str] | None = None) -> int:
    started = start_workspace(argv, "python -m helpers.report.app", "cli_app_description", "workspace_server_app", "cli_app_epilog",
                              "make app")
    if isinstance(started, int):
        return started
    _args, extra, data, lang, notebooks = started
    from helpers.report.panel import APP_ENV
    from helpers.report.run import STATIC_ENV

    os.environ.pop(STATIC_ENV, None)  # the app is live: the panel and the form need their widgets
    os.environ[APP_ENV] = "1"  # the panel's advice for the other language names make app
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(TEMPLATE_ROOT), os.environ.get("JUPYTER_PATH", "")) if p)
    WorkbookVoila.launch_instance(argv=voila_options(notebooks, lang, extra), workbook=landing(notebooks, data, lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())
