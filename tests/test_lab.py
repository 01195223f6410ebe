"""JupyterLab set-up (helpers/report/lab.py): the data folder, working copies, widget-free saving; segment order (helpers/views/order.py)."""
import json

import pytest

from helpers import paths
from helpers.config import load_config
from helpers.errors import ConfigError
from helpers.paths import PROJ_ROOT, SAMPLE_DATA_DIR
from helpers.report import lab
from helpers.views.order import order_rows, ordered


def test_data_folder_from_parameter_then_environment_then_default(tmp_path, monkeypatch):
    monkeypatch.delenv(lab.DATA_ENV, raising=False)
    assert lab.resolve_data_dir(str(tmp_path)) == tmp_path
    assert lab.resolve_data_dir("", static=True) == SAMPLE_DATA_DIR  # reports and nbval only read
    monkeypatch.setenv(lab.DATA_ENV, str(tmp_path / "mine"))
    assert lab.resolve_data_dir("") == tmp_path / "mine"
    monkeypatch.setenv(lab.DATA_ENV, "data/other")  # relative: from the project root, where make lab runs
    assert lab.resolve_data_dir("") == PROJ_ROOT / "data" / "other"


def test_working_copy_of_the_sample_is_created_once(tmp_path):
    data = lab.working_data_dir(tmp_path / "work")
    assert data == tmp_path / "work" / "data"
    assert (data / "checklist.csv").read_bytes() == (SAMPLE_DATA_DIR / "checklist.csv").read_bytes()
    (data / "checklist.csv").write_text("mine", encoding="utf-8")
    assert lab.working_data_dir(tmp_path / "work") == data
    assert (data / "checklist.csv").read_text(encoding="utf-8") == "mine"  # never overwritten
    assert [p.name for p in (tmp_path / "work").iterdir()] == ["data"]  # no staging folder left behind


def test_only_the_shipped_sample_counts_as_tracked(tmp_path):
    assert paths.is_tracked_sample(SAMPLE_DATA_DIR / "checklist.csv")
    assert not paths.is_tracked_sample(tmp_path / "checklist.csv")


def test_notebook_working_copies_are_made_once_and_flagged_when_outdated(tmp_path):
    src = tmp_path / "src" / "01_x.ipynb"
    src.parent.mkdir()
    src.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    assert lab.prepare_notebooks(tmp_path / "work", [src]) == []
    copy = tmp_path / "work" / "01_x.ipynb"
    assert json.loads(copy.read_text(encoding="utf-8"))["metadata"]["workbook"][lab.SOURCE_KEY]
    copy.write_text(copy.read_text(encoding="utf-8").replace('"cells": []', '"cells": [{"cell_type": "raw", "source": "mine", "metadata": {}}]'), encoding="utf-8")
    assert lab.prepare_notebooks(tmp_path / "work", [src]) == []
    src.write_text(json.dumps({"cells": [], "metadata": {"x": 1}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    notices = lab.prepare_notebooks(tmp_path / "work", [src])
    assert len(notices) == 1 and "has changed since your working copy" in notices[0]
    assert "mine" in copy.read_text(encoding="utf-8")  # the analyst's copy is kept


def test_working_copies_hold_one_language_and_no_test_printouts(tmp_path):
    from helpers.paths import PROJ_ROOT

    src = PROJ_ROOT / "notebooks" / "01_checklist_diagnostic.ipynb"
    tracked = json.loads(src.read_text(encoding="utf-8"))
    lab.prepare_notebooks(tmp_path / "ja", [src], lang="ja")
    copy = json.loads((tmp_path / "ja" / src.name).read_text(encoding="utf-8"))
    tags = [c["metadata"].get("tags", []) for c in copy["cells"]]
    assert not any("lang-en" in tg for tg in tags)
    assert sum("lang-ja" in tg for tg in tags) == sum("lang-ja" in c["metadata"].get("tags", []) for c in tracked["cells"]) > 0
    printouts = [c for c in tracked["cells"] if "".join(c["source"]).startswith("# NBVAL_CHECK_OUTPUT")]
    assert len(printouts) == 1 and not any("NBVAL_CHECK_OUTPUT" in "".join(c["source"]) for c in copy["cells"])
    code = lambda nb: [c["source"] for c in nb["cells"] if c["cell_type"] == "code"]  # noqa: E731
    assert len(code(copy)) == len(code(tracked)) - 1  # every other code cell kept
    assert copy["metadata"]["workbook"]["lang"] == "ja"
    # its charts and tables default to Japanese too: the parameters cell's lang, and nothing else of it, changed
    params = lambda nb: "".join(next(c["source"] for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])))  # noqa: E731
    assert 'lang: str = ""' in params(tracked)
    assert params(copy) == params(tracked).replace('lang: str = ""', 'lang: str = "ja"')
    # the kernel's language_info is already there: JupyterLab finds nothing to change on opening
    import platform

    assert copy["metadata"]["language_info"]["version"] == platform.python_version()
    assert copy["metadata"]["language_info"]["pygments_lexer"] == "ipython3"
    assert "lang-en" in json.dumps(tracked)  # the tracked notebook keeps both languages


def test_test_printouts_are_left_out_by_their_tag_in_every_copy_and_kept_in_the_tracked_notebooks(tmp_path):
    from helpers.report.nbtools import CHECK_MARK
    from helpers.report.run import HIDE_TAG, notebook_paths

    sources = notebook_paths()
    assert len(sources) == 7
    tracked = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sources}
    checks = {name: [c for c in nb["cells"] if "".join(c["source"]).lstrip().startswith(CHECK_MARK)] for name, nb in tracked.items()}
    assert all(checks.values())  # every notebook has a printout nbval compares, with its stored output
    assert all(c["metadata"].get("tags") == [HIDE_TAG] and c["outputs"] for cs in checks.values() for c in cs)
    for lang in ("en", "ja"):
        lab.prepare_notebooks(tmp_path / lang, sources, lang=lang)
        for name, nb in tracked.items():
            copy = json.loads((tmp_path / lang / name).read_text(encoding="utf-8"))
            assert not any(CHECK_MARK in "".join(c["source"]) or HIDE_TAG in c["metadata"].get("tags", []) for c in copy["cells"])
            kept = [c for c in nb["cells"] if f"lang-{'ja' if lang == 'en' else 'en'}" not in c["metadata"].get("tags", [])]
            assert len(copy["cells"]) == len(kept) - len(checks[name])  # nothing else left out


def test_the_tag_not_the_text_decides_and_a_copy_carries_its_title(tmp_path):
    src = tmp_path / "src" / "09_x.ipynb"
    src.parent.mkdir()
    cell = lambda kind, text, tags: {"cell_type": kind, "source": text, "metadata": {"tags": tags}}  # noqa: E731
    src.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        cell("markdown", "# Plan\n\nWhy.", ["lang-en"]), cell("markdown", "# 計画\n\n理由。", ["lang-ja"]),
        cell("code", "print(total)", ["hide-in-report"]), cell("code", "# NBVAL_CHECK_OUTPUT\nprint(1)", [])]}), encoding="utf-8")
    lab.prepare_notebooks(tmp_path / "ja", [src], lang="ja")
    copy = json.loads((tmp_path / "ja" / src.name).read_text(encoding="utf-8"))
    assert [c["source"] for c in copy["cells"]] == ["# 計画\n\n理由。", "# NBVAL_CHECK_OUTPUT\nprint(1)"]
    assert copy["metadata"]["title"] == "計画"
    lab.prepare_notebooks(tmp_path / "both", [src], lang=None)  # both languages: no one title
    assert "title" not in json.loads((tmp_path / "both" / src.name).read_text(encoding="utf-8"))["metadata"]
    assert lab.notebook_title({"cells": [], "metadata": {}}, "09_x") == "09_x"


def test_make_lab_lang_ja_selects_the_japanese_language_pack(tmp_path):
    options = lab.interface_language(tmp_path, "ja")
    assert options == [f"--LabApp.user_settings_dir={tmp_path / 'lab-settings' / 'ja'}"]
    plugin = tmp_path / "lab-settings" / "ja" / "@jupyterlab" / "translation-extension" / "plugin.jupyterlab-settings"
    assert json.loads(plugin.read_text(encoding="utf-8")) == {"locale": "ja_JP"}
    import importlib.util

    assert importlib.util.find_spec("jupyterlab_language_pack_ja_JP") is not None


def test_saved_notebooks_keep_the_widgets_plain_line_not_the_view():
    nb = {"metadata": {"widgets": {"state": {}}}, "cells": [
        {"cell_type": "code", "outputs": [{"output_type": "execute_result", "data": {
            "text/plain": "Run the notebook (Run ▸ Run All Cells) to use this form.",
            lab.WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0}}}]},
        {"cell_type": "code", "outputs": [{"output_type": "display_data", "data": {"text/html": "<p>kept</p>"}}]},
        {"cell_type": "markdown", "source": "x"}]}
    model = {"type": "notebook", "content": nb}
    lab.pre_save_hook(model=model, path="01.ipynb", contents_manager=None)
    assert nb["cells"][0]["outputs"][0]["data"] == {"text/plain": "Run the notebook (Run ▸ Run All Cells) to use this form."}
    assert nb["cells"][1]["outputs"][0]["data"] == {"text/html": "<p>kept</p>"}
    assert "widgets" not in nb["metadata"]
    lab.pre_save_hook(model={"type": "file", "content": "text"})  # other files untouched


def test_company_sizes_in_natural_order_and_any_segment_configurable(tmp_path):
    config = load_config()
    assert config.segment_order["company_size"] == ("1-49", "50-299", "300-999", "1000+")
    assert ordered(["1000+", "unknown", "300-999", "1-49", "50-299"], "company_size", config) == [
        "1-49", "50-299", "300-999", "1000+", "unknown"]
    # not listed: natural order, numbers by value
    assert ordered(["10-99", "5-9", "100+", "unknown"], "company_size", config) == ["5-9", "10-99", "100+", "unknown"]
    (tmp_path / "mine.yaml").write_text("segment_order:\n  industry: [製造, 小売]\n", encoding="utf-8")
    mine = load_config(path=tmp_path / "mine.yaml")
    assert mine.segment_order["company_size"] == config.segment_order["company_size"]  # merged per column
    assert ordered(["IT", "小売", "unknown", "製造"], "industry", mine) == ["製造", "小売", "IT", "unknown"]
    (tmp_path / "bad.yaml").write_text("segment_order:\n  industry: 製造\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'segment_order.industry' must be a list of the column's values"):
        load_config(path=tmp_path / "bad.yaml")


def test_order_rows_keeps_the_total_last_and_ranked_tables_alone():
    import pandas as pd

    config = load_config()
    table = pd.DataFrame({"company_size": ["300-999", "1-49", "1000+", "all"], "is_total": [False, False, False, True]})
    assert order_rows(table, "company_size", config)["company_size"].tolist() == ["1-49", "300-999", "1000+", "all"]
    ranked = table.rename(columns={"company_size": "channel"})
    assert order_rows(ranked, "channel", config) is ranked


def test_company_sizes_in_natural_order_in_data_health_and_rate_tables(tiny_folder):
    from helpers.views import funnel_views
    from helpers.views import health_views
    from helpers.report.session import open_session

    s = open_session(str(tiny_folder), theme=False)
    counts = health_views.value_counts_view(s.wb, "company_size", "en").data
    positions = [counts.index(f">{v}<") for v in ("1-49", "50-299", "300-999", "1000+", "Unknown")]
    assert positions == sorted(positions)
    rates = funnel_views.rate_view(s, "company_size").data
    positions = [rates.index(f">{v}<") for v in ("1-49", "50-299", "300-999", "1000+", "Unknown", "Total")]
    assert positions == sorted(positions)
