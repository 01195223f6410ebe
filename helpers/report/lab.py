"""JupyterLab for analysts: which data folder the notebooks read, working copies, and widget-safe saving.

`make lab` runs `python -m helpers.report.lab`, which
  1. chooses the data folder: `--data DIR` (make lab DATA=DIR), else the working copy
     `work/data`, created from data/sample on first use (git-ignored);
  2. copies the tracked notebooks into `work/notebooks/<lang>/` (git-ignored; one language, see
     working_copy) when a copy is absent,
     so nothing JupyterLab saves (outputs, edited parameters) ever lands in a tracked file;
  3. starts JupyterLab there with `WORKBOOK_DATA` set (every notebook's setup reads it) and with
     `pre_save_hook`, which saves each live widget as its one-line text ("Run the notebook to
     use this form") instead of a view that would read "model not found" after a reopen.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from helpers.labels import t
from helpers.paths import PROJ_ROOT, SAMPLE_DATA_DIR, is_tracked_sample

#: Environment variable naming the data folder of every notebook whose `data_dir` parameter is empty.
DATA_ENV = "WORKBOOK_DATA"
#: The analyst's git-ignored working folder: `data/` (a copy of the sample) and `notebooks/` (working copies).
WORK_DIR = PROJ_ROOT / "work"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SOURCE_KEY = "source_sha256"


def working_data_dir(work: Path = WORK_DIR) -> Path:
    """`work/data`, created as a copy of data/sample when absent (copied aside, then renamed into place)."""
    target = Path(work) / "data"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".data-", dir=target.parent))
    try:
        shutil.copytree(SAMPLE_DATA_DIR, staging / "data")
        try:
            os.rename(staging / "data", target)
        except OSError:
            if not target.is_dir():  # another process created it meanwhile: use theirs
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def resolve_data_dir(data_dir: str | os.PathLike = "", static: bool | None = None) -> Path:
    """The data folder a notebook reads: `data_dir` if given, else $WORKBOOK_DATA, else a default.

    The default is data/sample under the report runner and nbval (static: they only read), and
    the working copy `work/data` in JupyterLab, where the answer form writes. A relative
    $WORKBOOK_DATA is taken from the project root (where `make lab` runs).
    """
    if str(data_dir):
        return Path(data_dir)
    env = os.environ.get(DATA_ENV, "").strip()
    if env:
        path = Path(env).expanduser()
        return path if path.is_absolute() else PROJ_ROOT / path
    if static is None:
        from helpers.views.display import is_static

        static = is_static()
    return SAMPLE_DATA_DIR if static else working_data_dir()



def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: Markdown cells of a language carry the tag lang-<code>; a working copy keeps one language's.
LANG_TAG = "lang-{}"
# A cell that only prints the figures nbval compares (it starts with `# NBVAL_CHECK_OUTPUT`) carries the tag
# hide-in-report (helpers.report.export.HIDE_TAG): the one rule by which reports and working copies leave it out.


def language_info() -> dict:
    """The kernel's language_info (IPython kernel, this Python), as JupyterLab writes it when a kernel connects.

    A working copy carries it already, so opening one changes nothing (no "modified" dot before any edit).
    """
    import platform

    return {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py", "mimetype": "text/x-python",
            "name": "python", "nbconvert_exporter": "python", "pygments_lexer": "ipython3", "version": platform.python_version()}


def notebook_title(nb: dict, fallback: str = "") -> str:
    """A notebook's title: metadata.title, else its first markdown heading line without the '#', else `fallback`."""
    title = str((nb.get("metadata") or {}).get("title") or "").strip()
    if title:
        return title
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", "")).lstrip()
        if cell.get("cell_type") == "markdown" and source.startswith("#"):
            return source.splitlines()[0].lstrip("#").strip() or fallback
    return fallback


#: The parameters cell's language line as the tracked notebooks write it (empty: from the settings).
LANG_PARAMETER = re.compile(r'^(lang: str = )""', re.MULTILINE)


def _with_language_parameter(cell: dict, lang: str) -> dict:
    """The papermill parameters cell with `lang` as its language (other cells as they are)."""
    if "parameters" not in cell.get("metadata", {}).get("tags", []):
        return cell
    source = LANG_PARAMETER.sub(lambda m: f'{m.group(1)}"{lang}"', "".join(cell.get("source", "")))
    return dict(cell, source=source.splitlines(keepends=True))


def working_copy(nb: dict, lang: str | None, sha: str) -> dict:
    """A tracked notebook as the analyst's copy: one language's text, no test printouts, the kernel's language_info.

    Leaves out the markdown cells tagged with the other language (lang-en / lang-ja; `lang`
    None keeps both) and the cells tagged hide-in-report (the plain-text figure printouts that
    nbval compares, `# NBVAL_CHECK_OUTPUT`; the report runner leaves them out by the same tag);
    records the tracked notebook's sha256 and the language in metadata.workbook. A copy in one
    language also has that language as the default of its `lang` parameter (its charts and
    tables in the language of its text) and its title in metadata.title (the browser tab of
    `make app`). The tracked notebook keeps everything (the runner and nbval use it).
    """
    from helpers.report.run import HIDE_TAG

    drop = {LANG_TAG.format(code) for code in ("en", "ja") if lang and code != lang}
    cells = [c for c in nb.get("cells", [])
             if not (c.get("cell_type") == "markdown" and drop & set(c.get("metadata", {}).get("tags", [])))
             and HIDE_TAG not in c.get("metadata", {}).get("tags", [])]
    if lang:
        cells = [_with_language_parameter(c, lang) for c in cells]
    metadata = dict(nb.get("metadata", {}), language_info=language_info())
    metadata["workbook"] = dict(metadata.get("workbook", {}), **{SOURCE_KEY: sha, "lang": lang or ""})
    copy = dict(nb, cells=cells, metadata=metadata)
    title = notebook_title(copy) if lang else ""
    if title:
        metadata["title"] = title
    return copy


def prepare_notebooks(target: Path, sources: list[Path] | None = None, lang: str | None = None,
                      command: str = "make lab") -> list[str]:
    """Copy each tracked notebook into `target` unless a working copy exists; return notices for outdated copies.

    Each copy is :func:`working_copy` (one language when `lang` is en or ja). A copy records
    the sha256 of the tracked notebook it came from (metadata.workbook); an existing copy is
    never overwritten (it holds the analyst's work), but a notice says when the tracked
    notebook changed since (and to run `command` again after renaming the copy). The notices are helpers.errors.Phrase
    texts (English as str, Japanese by in_language).
    """
    from helpers.errors import Phrase
    from helpers.report.run import notebook_paths

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    notices = []
    for src in sources or notebook_paths():
        dest = target / src.name
        sha = _sha(src)
        if not dest.exists():
            nb = working_copy(json.loads(src.read_text(encoding="utf-8")), lang, sha)
            dest.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            continue
        try:
            recorded = json.loads(dest.read_text(encoding="utf-8")).get("metadata", {}).get("workbook", {}).get(SOURCE_KEY)
        except (OSError, ValueError):
            recorded = None
        if recorded != sha:
            notices.append(Phrase("lab_copy_outdated", src=str(src), dest=str(dest), command=command))
    return notices


def strip_widget_views(nb: dict) -> int:
    """Replace every widget view in a notebook's outputs by its plain text; drop saved widget state. Returns how many.

    A widget output carries `text/plain` (the workbook's widgets set it to one line saying
    what to do); without the widget view, a reopened notebook shows that line instead of
    JupyterLab's "Error displaying widget: model not found".
    """
    count = 0
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data")
            if isinstance(data, dict) and WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                count += 1
    (nb.get("metadata") or {}).pop("widgets", None)
    return count


def pre_save_hook(model: dict, **kwargs) -> None:
    """jupyter_server ContentsManager.pre_save_hook: save notebooks without widget views (see strip_widget_views)."""
    if model.get("type") == "notebook" and isinstance(model.get("content"), dict):
        strip_widget_views(model["content"])


def lab_command(notebooks: Path, extra: list[str]) -> list[str]:
    """The `jupyter lab` command line: rooted at the working copies, with the save hook."""
    jupyter = Path(sys.executable).with_name("jupyter")
    return [str(jupyter), "lab", f"--ServerApp.root_dir={notebooks}",
            "--ContentsManager.pre_save_hook=helpers.report.lab.pre_save_hook", *extra]


def copy_language(data: Path) -> str:
    """The language of the working copies when none is given: the data folder's settings (language), else en."""
    from helpers.config import load_config

    try:
        return load_config(data).language
    except Exception:  # an unreadable settings file is the notebook's error to show, with its fix
        return "en"


def interface_language(work: Path, lang: str) -> list[str]:
    """jupyter lab options giving its own menus in `lang`: a settings folder in `work` choosing the language pack's locale.

    Japanese uses the language pack jupyterlab-language-pack-ja-JP (requirements.lock);
    English is JupyterLab's own. The analyst's other JupyterLab settings are not touched.
    """
    settings = Path(work) / "lab-settings" / lang
    plugin = settings / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    plugin.parent.mkdir(parents=True, exist_ok=True)
    plugin.write_text(json.dumps({"locale": "ja_JP" if lang == "ja" else "en"}) + "\n", encoding="utf-8")
    return [f"--LabApp.user_settings_dir={settings}"]


def workspace_parser(prog: str, description: str, server: str, epilog: str, lang: str = "en") -> argparse.ArgumentParser:
    """The options `make lab` and `make app` share: --data, --work, --lang, --prepare-only (`server` names what is
    started), their help in `lang` (labels cli_workspace_*, helpers.cli_help)."""
    from helpers.cli_help import HelpText

    say = HelpText("workspace", lang)
    parser = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog, add_help=False)
    parser.add_argument("-h", "--help", action="help", help=t("cli_help", lang))
    parser.add_argument("--data", default="", help=say("data", env=DATA_ENV))
    parser.add_argument("--work", default=str(WORK_DIR), help=say("work"))
    parser.add_argument("--lang", default="", choices=["", "en", "ja"], help=say("lang", server=server))
    parser.add_argument("--prepare-only", action="store_true", help=say("prepare_only", server=server))
    return parser


def prepare_workspace(args: argparse.Namespace, command: str) -> tuple[Path, str, Path] | None:
    """The data folder, the language and the working copies' folder for `args` of :func:`workspace_parser`.

    The data folder is --data, else $WORKBOOK_DATA, else `<work>/data` (made from data/sample on
    first use); the copies of the tracked notebooks in that language are made in
    `<work>/notebooks/<lang>` when missing (:func:`prepare_notebooks`). Prints the folders and any
    notice to stderr, naming `command` (make lab, make app) in its advice. None, after printing
    why and how to fix it, when the data folder does not exist.
    """
    from helpers.errors import cli_language, fill

    work = Path(args.work).resolve()
    chosen = args.data or os.environ.get(DATA_ENV, "").strip()
    data = (Path(chosen).expanduser() if chosen else working_data_dir(work)).resolve()
    if not data.is_dir():
        print(fill("lab_data_missing", {"data": data, "command": command}, cli_language(args.lang or None)), file=sys.stderr)
        return None
    lang = args.lang or copy_language(data)
    if is_tracked_sample(data):
        print(fill("lab_sample_note", {"data": data, "command": command}, lang), file=sys.stderr)
    notebooks = work / "notebooks" / lang
    for notice in prepare_notebooks(notebooks, lang=lang, command=command):
        print(fill("lab_note", {"notice": notice}, lang), file=sys.stderr)
    print(fill("lab_folders", {"data": data, "notebooks": notebooks}, lang), file=sys.stderr)
    return data, lang, notebooks


def start_workspace(argv: list[str] | None, prog: str, description: str, server: str, epilog: str, command: str):
    """Parse `make lab` / `make app`'s command line, prepare the workspace and point notebooks at its data.
    `description`, `server` and `epilog` are label keys (cli_lab_description, ...), said in the language of --lang,
    else the locale's (helpers.cli_help.help_language).

    Returns ``(args, extra, data, lang, notebooks)`` (`extra`: the arguments after --, for the server),
    or an exit status: 2 when the data folder does not exist (:func:`prepare_workspace` said why),
    0 after --prepare-only. Sets $WORKBOOK_DATA to the data folder and the working directory to
    the project root, so every notebook the server opens reads that folder.
    """
    from helpers.cli_help import help_language

    lang = help_language(argv)
    parser = workspace_parser(prog, t(description, lang), t(server, lang), t(epilog, lang), lang)
    args, extra = parser.parse_known_args(argv)
    extra = [a for a in extra if a != "--"]
    prepared = prepare_workspace(args, command)
    if prepared is None:
        return 2
    if args.prepare_only:
        return 0
    data, lang, notebooks = prepared
    os.environ[DATA_ENV] = str(data)
    os.chdir(PROJ_ROOT)
    return args, extra, data, lang, notebooks


def main(argv: list[str] | None = None) -> int:
    started = start_workspace(argv, "python -m helpers.report.lab", "cli_lab_description", "workspace_server_lab", "cli_lab_epilog",
                              "make lab")
    if isinstance(started, int):
        return started
    args, extra, _data, lang, notebooks = started
    cmd = lab_command(notebooks, extra + interface_language(Path(args.work).resolve(), lang))
    os.execv(cmd[0], cmd)
    return 0  # not reached

if __name__ == "__main__":
    raise SystemExit(main())
