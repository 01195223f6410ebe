"""Issue 13: the loader's, the data checks' and the ingest's warnings in the report's language, and a checklist
report without checklist.csv that explains instead of showing empty sections.

- Every warning code the code base can emit has its sentence (and fix) in English and Japanese in the label
  table, with the same placeholders; the codes are collected by scanning helpers/ and must all be registered.
- A data folder of our own that triggers many warnings at once (a bulk-load created_at, no lost deal, channel
  variants and placeholders, dates running backwards, ids not found, dates after as_of, duplicate spend rows,
  and the ingest's notes in ingest_report.json) run through the runner (helpers.report.run.main) in English and in
  Japanese: the Japanese data health page says every warning in Japanese and no English warning sentence
  remains; metrics.json keeps the English messages.
- The same folder has no checklist.csv: the checklist report shows the one explanation (how to add answers)
  and none of its section headings, in both languages; and no lost deal: the velocity report keeps the reason
  and the seasonality, not the sections of a comparison it cannot make.
"""
from __future__ import annotations

import json
import re
import string
from pathlib import Path

import bs4
import pytest

from conftest import write_folder
from helpers.errors import NO_FIX, SHARED_FIX, WARNING_CODES, Finding, warning, warning_keys, warning_text
from helpers.data.ingest import warning_record
from helpers.labels import label_table, t
from helpers.metrics.limits import warning_sentences
from helpers.paths import PROJ_ROOT
from helpers.report.run import main, notebook_paths
from report_scan import visible_text
from test_report_language import CJK, mainly_ascii, mainly_japanese

HELPERS = PROJ_ROOT / "helpers"
BASE_FIELDS = {"count", "file", "column"}


# --------------------------------------------------------------------------- every code has both sentences
def emitted_codes() -> set[str]:
    """Every warning code written in helpers/: the code argument of a warning (helpers.errors.warning, validate's
    _warn, a Finding of severity "warning"), of an ingest note (mapping.note), the data checks of limits.py and the
    goals' plausibility notes."""
    patterns = [r'\bwarning\(\s*[^,()]+(?:\([^()]*\))?,\s*"([a-z0-9_]+)"',      # warning(file, "code", ...)
                r'\b_warn\(\s*[^,()]+(?:\[[^\]]*\])?,\s*"([a-z0-9_]+)"',         # _warn(fname, "code", ...)
                r'Finding\(\s*"warning",\s*[^,]+,\s*"([a-z0-9_]+)"',              # Finding("warning", file, "code", ...)
                r'\bnote\(\s*\w+,\s*"([a-z0-9_]+)"',                              # note(report, "code", ...)
                r'\bchecked\(\s*"([a-z0-9_]+)"',                                   # limits.workbook_warnings' data checks
                r'"code":\s*"([a-z0-9_]+)",\s*"variant"']                           # a note carrying a warning's code and variant (goals.target_notes)
    found = set()
    for path in HELPERS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            found |= set(re.findall(pattern, text))
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_emitted_warning_code_is_registered():
    found = emitted_codes()
    # the scan sees the codes of every emitting module (a scan that finds nothing would pass anything)
    assert {"no_lost_deals", "no_opportunities", "channel_variants", "ingest_report_unreadable", "no_channel",
            "footer_dropped", "date_order_detected"} <= found
    # and the dates running backwards, emitted under the keys of limits.negative_intervals
    found |= {"opportunity_before_lead", "won_before_lead"}
    assert sorted(found - set(WARNING_CODES)) == []
    assert sorted(set(WARNING_CODES) - found) == []   # no registered code that nothing emits


def test_every_warning_code_has_a_sentence_and_fix_in_both_languages():
    labels = label_table()
    checked = 0
    for code, variants in WARNING_CODES.items():
        for variant in variants:
            message_key, fix_key = warning_keys(code, variant)
            for key in [message_key] + ([fix_key] if fix_key else []):
                assert key in labels, f"{code}/{variant}: no label {key}"
                en, ja = labels[key]["en"], labels[key]["ja"]
                assert en.strip() and CJK.search(ja) and not mainly_japanese(en) and not mainly_ascii(names_removed(re.sub(r"\{\w+\}", " ", ja))), key
                # the Japanese sentence fills from the same values (it may leave out an English-only form)
                assert placeholders(ja) <= placeholders(en) | {"column_list", "counts_ja", "encoding"}, key
                checked += 1
            assert (fix_key is None) == (code in NO_FIX)
    assert checked >= 2 * len(WARNING_CODES) - len(NO_FIX)
    assert all(v in labels for v in SHARED_FIX.values())
    with pytest.raises(KeyError):
        warning_keys("not_a_code")


def test_the_output_folder_and_save_error_codes_are_emitted_and_said_in_both_languages():
    from helpers.errors import ERROR_CODES, coded_error, error_keys

    ours = {"out_not_runners_file", "out_foreign_files", "save_link_dangling", "save_hard_link", "save_no_space",
            "save_not_writable", "lock_not_a_lock", "save_sample_refused"}
    emitted = set()
    for path in HELPERS.rglob("*.py"):
        emitted |= set(re.findall(r'\bcoded_error\(\s*"([a-z0-9_]+)"', path.read_text(encoding="utf-8")))
    assert ours <= emitted and ours <= set(ERROR_CODES)
    labels = label_table()
    for code in sorted(ours):
        for key in error_keys(code):
            en, ja = labels[key]["en"], labels[key]["ja"]
            assert en.strip() and CJK.search(ja) and not mainly_japanese(en), key
            assert placeholders(ja) <= placeholders(en), key
    # English where raised, the reader's language where shown (the runner with --lang ja, the answer form)
    exc = coded_error("save_not_writable", "/srv/share/checklist.csv", folder="/srv/share", reason="Read-only file system")
    assert str(exc) == ("/srv/share/checklist.csv: the folder refuses the save (Read-only file system); nothing was written.\n"
                        "  How to fix: Make /srv/share writable for your user (or ask its owner to), or work in a data folder "
                        "you can write to, then save again.")
    assert exc.in_language("ja") == ("/srv/share/checklist.csv: このフォルダには保存できません(Read-only file system)。何も書き込んで"
                                     "いません。\n  対処方法: /srv/share を自分のユーザーで書き込めるようにする(または所有者に依頼する)"
                                     "か、書き込めるデータフォルダで作業してから、もう一度保存してください。")


def test_warning_sentences_fill_from_params_and_keep_english_for_an_old_record():
    w = warning("leads / opportunities / spend", "channel_variants", "channel", count=1, spellings="'Web' (1), 'ｗｅｂ' (1)",
                chosen="Web")
    assert w.message == "channel labels that differ only in case, width or underscores for spaces: 'Web' (1), 'ｗｅｂ' (1); counted as one channel 'Web'"
    assert warning_text("channel_variants", w.params, "ja") == (
        "大文字・小文字、全角・半角、アンダースコアと空白だけが異なるチャネル名があります: 'Web' (1), 'ｗｅｂ' (1)。1つのチャネル「Web」として数えます",
        "対応は不要です(channels.normalize: true で統一しています)。出力をきれいに保つには元データの表記を直してください。")
    # an ingest_report.json written before the ingest kept params: its own (English) text, never a KeyError
    old = {"code": "moved_date", "message": "closed_at was later than ...", "fix": "Check the dates", "count": 2, "params": {}}
    assert warning_sentences(old, "ja") == ("closed_at was later than ...", "Check the dates")
    assert warning_sentences(dict(old, code="not_known_here"), "ja")[0] == "closed_at was later than ..."
    # the ingest's record keeps the params the report needs
    record = warning_record(warning("Opportunity.csv", "footer_dropped", count=2, footer_rows="8, 9"))
    assert record["params"] == {"footer_rows": "8, 9"} and record["message"].startswith("2 report footer line(s)")
    assert isinstance(Finding("warning", "f", "c", "m"), Finding)  # a finding without params still builds


# --------------------------------------------------------------------------- through the runner
AS_OF = "2025-06-30"
# Every opportunity created 2025-04-01 (a bulk load); none lost; O1 created and won before its lead A1;
# A2's mql_at before its created_at; Web / ｗｅｂ variants, Select and - placeholders; a lead and a close after as_of;
# O2 won without an amount; O3's lead_id unknown; O4 open with a closed_at; spend 2025-04 x Web twice.
LEADS = ("lead_id,created_at,channel,mql_at,opportunity_id\n"
         "A1,2025-04-10,Web,2025-04-12,O1\nA2,2025-03-20,ｗｅｂ,2025-03-15,O2\nA3,2025-05-02,Select,,\n"
         "A4,2025-05-03,-,,\nA5,2025-07-15,Web,,\n")
OPPS = ("opportunity_id,lead_id,created_at,closed_at,outcome,amount,channel\n"
        "O1,A1,2025-04-01,2025-04-05,won,100000,Web\nO2,A2,2025-04-01,2025-05-10,won,,\n"
        "O3,ZZ,2025-04-01,2025-06-01,won,200000,Web\nO4,,2025-04-01,2025-08-01,open,50000,Web\n")
SPEND = "month,channel,amount\n2025-04,Web,1000\n2025-04,Web,2000\n"
INGEST_NOTES = [warning("Opportunity.csv", "footer_dropped", count=2, footer_rows="8, 9"),
                warning("Lead.csv", "encoding_detected", count=5, encoding="cp1252",
                        encoding_name="cp1252 (Windows Western, Excel's \"ANSI\")"),
                warning("Lead.csv", "date_order_detected", "created_at", count=5, source_column="Created Date",
                        example="'13/04/2025'", row=3)]
WARNED = {"leads.csv": LEADS, "opportunities.csv": OPPS, "spend.csv": SPEND,
          "ingest_report.json": json.dumps({"mapping": "salesforce_en", "warnings": [warning_record(w) for w in INGEST_NOTES]})}
EXPECTED_CODES = {"no_lost_deals", "one_created_at", "won_without_amount", "open_with_closed_at", "unknown_lead_id",
                  "stage_before_created", "after_as_of", "duplicate_month_channel", "channel_placeholder", "channel_variants",
                  "opportunity_before_lead", "won_before_lead", "footer_dropped", "encoding_detected", "date_order_detected"}


@pytest.fixture(scope="module", params=("en", "ja"))
def warned(request, tmp_path_factory) -> tuple[str, Path]:
    """(lang, the 2025Q2 report folder) of the warning-laden data, notebooks 00, 01 and 03 only."""
    lang = request.param
    base = tmp_path_factory.mktemp(f"warned-{lang}")
    data = write_folder(base / "data", WARNED)
    notebooks = base / "notebooks"
    notebooks.mkdir()
    for nb in notebook_paths():
        if nb.stem in ("00_data_health", "01_checklist_diagnostic", "03_velocity_comparison"):
            (notebooks / nb.name).write_bytes(nb.read_bytes())
    out = base / "out"
    assert main(["--data", str(data), "--out", str(out), "--lang", lang, "--period", "2025Q2", "--as-of", AS_OF,
                 "--notebooks", str(notebooks)]) == 0
    return lang, out / "2025Q2"


def warnings_of(folder: Path) -> list[dict]:
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["data_health"]["warnings"]


def sentence_cells(html: str, lang: str) -> list[str]:
    """The text of the warning table's sentence and fix columns."""
    soup = bs4.BeautifulSoup(html, "html.parser")
    wanted = {t("message", lang), t("fix", lang)}
    for table in soup.find_all("table"):
        headers = [th.get_text(strip=True) for th in table.find_all("th")]
        if wanted <= set(headers):
            cols = [i for i, h in enumerate(headers) if h in wanted]
            return [row.find_all("td")[i].get_text(" ", strip=True) for row in table.find_all("tr") if row.find_all("td")
                    for i in cols]
    raise AssertionError("no warnings table")


def names_removed(text: str) -> str:
    """A sentence without what is a name in any language: quoted data values, column and setting names, options."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)
    text = re.sub(r"--[a-z-]+|\b[a-z]+(?:[._][a-z0-9]+)+\b|\b(?:true|false)\b", " ", text)
    return text


def test_metrics_json_keeps_the_english_messages(warned):
    lang, folder = warned
    found = warnings_of(folder)
    assert EXPECTED_CODES <= {w["code"] for w in found}
    by_code = {w["code"]: w for w in found}
    assert by_code["one_created_at"]["message"] == ("all opportunities share one created_at (2025-04-01): cycle times are "
                                                   "meaningless and are left empty")
    assert by_code["after_as_of"]["message"] == "dates after as_of 2025-06-30; those events are ignored"
    assert by_code["footer_dropped"]["message"] == "2 report footer line(s) after the data were dropped (rows 8, 9); their text is not shown"
    assert by_code["opportunity_before_lead"]["message"].startswith("1 opportunities were created before their lead")


def test_data_health_says_every_warning_in_the_report_language(warned):
    lang, folder = warned
    html = (folder / "00_data_health.html").read_text(encoding="utf-8")
    text = visible_text(html)
    flat = " ".join(text.split())
    found = warnings_of(folder)
    for w in found:
        message, fix = warning_sentences(w, lang)
        assert " ".join(message.split()) in flat, (w["code"], message)
        assert not fix or " ".join(fix.split()) in flat, (w["code"], fix)
        if lang == "ja":
            # no English warning sentence remains
            assert w["message"] not in text and (not w["fix"] or w["fix"] not in text), w["code"]
    cells = sentence_cells(html, lang)
    assert len(cells) == 2 * len(found)
    if lang == "ja":
        bad = [c for c in cells if c and mainly_ascii(names_removed(c))]
        assert bad == [], bad
        assert "Channel" not in text and "leads / opportunities" not in text   # table names labelled: リード / 商談
        assert "リード / 商談" in text
    else:
        assert not any(CJK.search(names_removed(c).replace("ｗｅｂ", "")) for c in cells), cells
    # no raw warning code shown (the code stays in metrics.json)
    assert not re.search(r"\b(?:no_lost_deals|one_created_at|channel_variants|footer_dropped)\b", text)


# --------------------------------------------------------------------------- no checklist.csv
def test_checklist_report_without_answers_explains_and_shows_no_empty_section(warned):
    lang, folder = warned
    assert json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["checklist"] is None
    html = (folder / "01_checklist_diagnostic.html").read_text(encoding="utf-8")
    soup = bs4.BeautifulSoup(html, "html.parser")
    assert [h.get_text(strip=True).rstrip("¶") for h in soup.find_all("h1")] == [
        {"en": "Checklist diagnostic", "ja": "連携チェックリスト診断"}[lang]]
    assert soup.find_all(["h2", "h3"]) == []   # no Scores / Trend / ... heading with nothing under it
    text = " ".join(visible_text(html).split())
    assert t("checklist_missing", lang) in text and text.count("checklist.csv") == 2   # said once (file, then its columns)
    for gone in {"en": ("Item value: yes = 1", "The perception gap per item", "Scores in every period"),
                 "ja": ("各項目の値", "項目ごとの認識ギャップ", "回答のある各期間")}[lang]:
        assert gone not in text
    # the page is otherwise just its introduction: the explanation and the guide's title
    assert len(soup.find_all("p")) <= 3


def test_velocity_report_without_a_comparison_shows_no_section_of_it(warned):
    # no initiatives.csv, and no lost deal: the comparison is null with its reason
    lang, folder = warned
    assert json.loads((folder / "metrics.json").read_text(encoding="utf-8"))["velocity_comparison"] == {
        "sales_velocity": None, "null_reasons": {"sales_velocity": "no_lost_deals"}}
    soup = bs4.BeautifulSoup((folder / "03_velocity_comparison.html").read_text(encoding="utf-8"), "html.parser")
    assert [h.get_text(strip=True).rstrip("¶") for h in soup.find_all("h2")] == {
        "en": ["The comparison", "Seasonality (all history)", "Definitions"], "ja": ["比較結果", "季節性(全期間)", "用語の定義"]}[lang]
    text = " ".join(visible_text(str(soup)).split())
    assert t("reason_velocity_blocked", lang).format(reason=t("reason_no_lost_deals", lang)) in text
    assert t("velocity_no_comparison_here", lang) not in text


def test_a_bulk_loaded_leads_table_does_not_null_the_opportunities_cycle(tmp_path):
    """The ingest's one_created_at about the leads (variant leads) is not the opportunities' bulk load."""
    from helpers.data.load import load_workbook
    from helpers.metrics.limits import warnings_list, workbook_facts

    leads_bulk = warning_record(warning("Lead.csv", "one_created_at", "created_at", count=5, variant="leads", day="2025-01-06"))
    opps = ("opportunity_id,created_at,closed_at,outcome,amount\n"
            "O1,2025-04-01,2025-04-20,won,100\nO2,2025-04-03,2025-05-01,lost,100\n")
    folder = write_folder(tmp_path / "d", {"opportunities.csv": opps,
                                           "ingest_report.json": json.dumps({"warnings": [leads_bulk]})})
    assert workbook_facts(load_workbook(folder)).one_created_at is False
    opps_bulk = dict(leads_bulk, params={"variant": "opportunities", "day": "2025-01-06"})
    (folder / "ingest_report.json").write_text(json.dumps({"warnings": [opps_bulk]}), encoding="utf-8")
    assert workbook_facts(load_workbook(folder)).one_created_at is True
    # the loader's own warning about the opportunities stays beside the ingest's about the leads
    loader = warning("opportunities.csv", "one_created_at", "created_at", count=2, day="2025-04-01")
    from helpers.metrics.limits import ingest_warnings

    (folder / "ingest_report.json").write_text(json.dumps({"warnings": [leads_bulk]}), encoding="utf-8")
    merged = warnings_list([loader], ingest_warnings(folder))
    assert [(w["code"], w["source"]) for w in merged] == [("one_created_at", "load"), ("one_created_at", "ingest")]


def test_every_report_has_its_name_in_both_languages():
    """The index links each report by its name (helpers.report.index_page.report_name), never a file stem such as 04_goals_plan."""
    from helpers.report.index_page import report_name

    for nb in notebook_paths():
        for lang in ("en", "ja"):
            name = report_name(f"{nb.stem}.html", lang)
            assert name != nb.stem and not re.search(r"\d\d_[a-z]", name), (nb.stem, lang)
            assert bool(CJK.search(name)) == (lang == "ja"), name
