"""Attack: settings files (workbook.yaml, --config) and mapping files that are hostile or damaged.

Alias bombs run in a real child process under a memory limit (RLIMIT_AS), so a reader that expands them dies
(MemoryError) instead of taking the machine; raw YAML text is fuzzed with hypothesis for a bounded number of
examples: every file is read or refused with the workbook's own error and its fix, never a traceback.
"""
from __future__ import annotations

import resource

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.config import load_config
from helpers.data.mapping import load_mapping
from helpers.errors import ConfigError, WorkbookError
from helpers_attack import RUNNER, assert_no_traceback, run_child

#: Address space the child may use: importing the workbook takes under 400 MB; the bombs below expand past 2.8 GB.
MEMORY_LIMIT = 1_500_000_000


def limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def list_bomb(indent: str = "") -> str:
    """Nine levels of nine aliases each in flow lists (9**9 = 387 million values once expanded)."""
    lines = [f'{indent}a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"{indent}a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, 9)]
    return "\n".join(lines) + "\n"


def block_bomb(indent: str = "") -> str:
    """The same in block style, as mappings of ten keys (10**8 values)."""
    lines = [f"{indent}b0: &b0 lol"]
    for k in range(1, 9):
        lines.append(f"{indent}b{k}: &b{k}")
        lines += [f"{indent}  k{i}: *b{k - 1}" for i in range(10)]
    return "\n".join(lines) + "\n"


CHILD_SETTINGS = """
import sys
from helpers.config import load_config
from helpers.errors import WorkbookError
try:
    load_config(sys.argv[1])
except WorkbookError as exc:
    print("REFUSED", exc)
"""

CHILD_MAPPING = """
import sys
from helpers.data.mapping import load_mapping
from helpers.errors import WorkbookError
try:
    load_mapping(sys.argv[1])
except WorkbookError as exc:
    print("REFUSED", exc)
"""


def test_the_memory_limit_bites():
    # the limit is real: a child asking for more than it dies with MemoryError (so a bomb that expanded would fail the tests below)
    done = run_child("b = bytearray(2_000_000_000)\nprint('allocated')", preexec_fn=limit_memory, timeout=120)
    assert done.returncode != 0 and "MemoryError" in done.stderr and "allocated" not in done.stdout


@pytest.mark.parametrize("where, bomb, alias, line", [("initiatives_catalog", list_bomb, "a0", 4),
                                                      ("segment_order", block_bomb, "b0", 5)])
def test_an_alias_bomb_in_a_data_folder_workbook_yaml_is_refused_within_the_memory_limit(tmp_path, where, bomb, alias, line):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    (data / "workbook.yaml").write_text("language: ja\n" + where + ":\n" + bomb("  "), encoding="utf-8")
    done = run_child(CHILD_SETTINGS, str(data), preexec_fn=limit_memory, timeout=300)
    assert_no_traceback(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    assert f"REFUSED {data / 'workbook.yaml'}: an alias (*{alias}) at line {line} repeats an anchored block" in done.stdout
    assert "How to fix: Write each value out in full" in done.stdout


def test_a_file_of_half_a_million_values_under_the_size_cap_is_refused_within_the_memory_limit(tmp_path):
    # no alias, under 1 MB: PyYAML would build 500,000 objects (~360 MB, tens of seconds); refused at 50,000
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    (data / "workbook.yaml").write_text("segment_order:\n  industry: [" + ",".join(["z"] * 499_000) + "]\n", encoding="utf-8")
    done = run_child(CHILD_SETTINGS, str(data), preexec_fn=limit_memory, timeout=300)
    assert_no_traceback(done.stdout, done.stderr)
    assert f"REFUSED {data / 'workbook.yaml'}: the file holds more than 50,000 values" in done.stdout, done.stdout + done.stderr


def test_an_alias_bomb_in_a_mapping_is_refused_within_the_memory_limit(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text("tables:\n  opportunities:\n    file: deals.csv\n    columns:\n      opportunity_id: Id\n"
                    "      created_at: Created\n      outcome:\n        column: Stage\n        values:\n"
                    + list_bomb("          ") + "        open: *a8\n", encoding="utf-8")
    done = run_child(CHILD_MAPPING, str(path), preexec_fn=limit_memory, timeout=300)
    assert_no_traceback(done.stdout, done.stderr)
    assert "REFUSED bomb.yaml: an alias (*a0) at line 11" in done.stdout, done.stdout + done.stderr


def test_the_report_runner_refuses_a_bombed_config_by_name_within_the_memory_limit(tmp_path):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    config = tmp_path / "team.yaml"
    config.write_text("target:\n  industries:\n" + "".join(f"    - {line}\n" for line in
                                                           ["&t0 [IT, IT]"] + [f"&t{k} [*t{k - 1}, *t{k - 1}]" for k in range(1, 40)]),
                      encoding="utf-8")
    done = run_child(RUNNER, "--data", str(data), "--config", str(config), "--out", str(tmp_path / "out"), "--lang", "ja",
                     preexec_fn=limit_memory, timeout=300)
    assert_no_traceback(done.stdout, done.stderr)
    assert done.returncode != 0
    # said in the report's language (a coded error): the file, the line, the alias and the fix
    assert f"{config}: 4行目のエイリアス(*t0)はアンカーを付けたブロックを繰り返しています" in done.stderr
    assert "対処方法: 値は使う場所ごとにそのまま書いてください" in done.stderr
    assert not (tmp_path / "out" / "index.html").exists()


INGEST = """
import sys
from helpers.data.ingest import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_runner_refuses_a_setting_written_twice_in_the_data_folder_by_file_line_and_key(tmp_path):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    (data / "workbook.yaml").write_text("currency: {code: JPY}\nsla:\n  follow_up_hours: 24\nstale_open_days: 90\n"
                                        "sla:\n  follow_up_hours: 72\n", encoding="utf-8")
    done = run_child(RUNNER, "--data", str(data), "--out", str(tmp_path / "out"), "--lang", "en", timeout=300)
    assert_no_traceback(done.stdout, done.stderr)
    assert done.returncode != 0 and not (tmp_path / "out" / "index.html").exists()
    assert (f"{data / 'workbook.yaml'}: the key 'sla' appears twice (line 5, first on line 2); the second would silently "
            "replace the first") in done.stderr


def test_the_runner_refuses_an_undecodable_config_with_the_fix_and_reads_a_shift_jis_one(tmp_path):
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    config = tmp_path / "team.yaml"
    config.write_bytes(b"language: ja\n# \x80\x81\x8d\x8f\x90\x9d" + bytes(range(0xa0, 0x100)) + b"\n")
    done = run_child(RUNNER, "--data", str(data), "--config", str(config), "--out", str(tmp_path / "out"), "--lang", "en",
                     timeout=300)
    assert_no_traceback(done.stdout, done.stderr)
    assert done.returncode != 0 and f"{config}: the encoding cannot be told" in done.stderr
    assert "How to fix: Save the file as UTF-8" in done.stderr
    config.write_bytes("# 営業とマーケの共通設定\nlanguage: ja\ntarget: {industries: [製造]}  # 重点業種\n".encode("cp932"))
    read = run_child("import sys\nfrom helpers.config import load_config\nprint(load_config(path=sys.argv[1]).target_industries)",
                     str(config), timeout=120)
    assert read.returncode == 0 and read.stdout.strip() == "('製造',)", read.stderr


def test_the_ingest_reads_a_mapping_saved_as_shift_jis(tmp_path):
    exports = write_folder(tmp_path / "exports", {"商談.csv": "商談ID,作成日,完了日,フェーズ\nA-1,2025/04/01,2025/05/20,受注\nA-2,2025/04/03,,提案\n"},
                           encoding="cp932")
    mapping = tmp_path / "基幹.yaml"
    mapping.write_bytes(("# 基幹システムの商談一覧(Shift_JIS で保存)\ntables:\n  opportunities:\n    file: 商談.csv\n"
                         "    columns:\n      opportunity_id: 商談ID\n      created_at: {column: 作成日, format: \"%Y/%m/%d\"}\n"
                         "      closed_at: {column: 完了日, format: \"%Y/%m/%d\"}\n      outcome: {column: フェーズ, values: {受注: won}, open: [提案]}\n").encode("cp932"))
    done = run_child(INGEST, "--exports", str(exports), "--mapping", str(mapping), "--out", str(tmp_path / "out"), timeout=300)
    assert_no_traceback(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "out" / "opportunities.csv").read_text(encoding="utf-8").splitlines()
    assert written[0].startswith("opportunity_id,created_at,closed_at,outcome")
    assert written[1].startswith("A-1,2025-04-01,2025-05-20,won") and written[2].startswith("A-2,2025-04-03,,open")


# --------------------------------------------------------------------------- fuzzing raw YAML text (bounded)
YAML_BITS = st.sampled_from(["&a ", "*a", "<<: ", ": ", "- ", "[", "]", "{", "}", ",", "\n", "  ", "#", "'", '"', "!!str ",
                             "!!python/object:os.system ", "? ", "|", ">", "%YAML 1.1\n", "---\n", "...\n", "\t", "\x00",
                             "\ufeff", "language", "fiscal_year_start_month", "target", "industries", "12", "0x3",
                             "2025-02-30", "1e999", "yes", "null", "製造", "\u202e"])
SETTINGS_TEXT = st.lists(YAML_BITS, max_size=30).map("".join)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp932", "utf-16"])


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(text=SETTINGS_TEXT, encoding=ENCODINGS)
def test_fuzzed_settings_text_loads_or_gives_a_config_error(tmp_path_factory, text, encoding):
    path = tmp_path_factory.mktemp("cfg") / "workbook.yaml"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        config = load_config(path=path)
    except ConfigError as exc:
        assert "How to fix:" in str(exc)
        assert "\x00" not in str(exc)
        return
    assert 1 <= config.fiscal_year_start_month <= 12 and config.language in ("en", "ja")


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(text=SETTINGS_TEXT)
def test_fuzzed_mapping_text_loads_or_gives_a_workbook_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("map") / "m.yaml"
    path.write_text("tables:\n  opportunities:\n    file: d.csv\n    columns:\n      opportunity_id: " + text, encoding="utf-8")
    try:
        load_mapping(path)
    except WorkbookError as exc:
        assert exc.fix
