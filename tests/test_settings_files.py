"""Settings files (workbook.yaml, --config) and mapping files are read right or refused (helpers.yamlfile):
a key written twice, aliases and merge keys (alias bombs), oversized or over-nested files, Shift_JIS / BOM / undecodable
bytes and control characters. Each refusal names the file, the line and the key, with a fix."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers.config import load_config
from helpers.data.mapping import load_mapping
from helpers.errors import ConfigError, WorkbookError
from helpers.yamlfile import MAX_BYTES, MAX_DEPTH, MAX_NODES, parse_yaml, read_yaml

MAPPING = """\
name: crm export
tables:
  opportunities:
    file: deals.csv
    columns:
      opportunity_id: 商談ID
      created_at: 作成日
      outcome: {column: フェーズ, values: {受注: won, 失注: lost}, open: [提案]}
"""


def settings_error(path: Path, data_dir: Path | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_config(data_dir, None if data_dir else path)
    assert err.value.fix, err.value
    return err.value


def mapping_error(path: Path) -> WorkbookError:
    with pytest.raises(WorkbookError) as err:
        load_mapping(path)
    assert err.value.fix, err.value
    return err.value


# --------------------------------------------------------------------------- a key written twice
def test_a_data_folder_workbook_yaml_with_a_setting_twice_is_refused_naming_both_lines(tmp_path):
    (tmp_path / "workbook.yaml").write_text("language: ja\ncurrency: {code: JPY}\n# later, someone adds\nlanguage: en\n",
                                            encoding="utf-8")
    err = settings_error(None, tmp_path)
    assert err.code == "yaml_duplicate_key"
    assert err.message == (f"{tmp_path / 'workbook.yaml'}: the key 'language' appears twice (line 4, first on line 1); "
                           "the second would silently replace the first")
    assert "Keep one 'language' line" in err.fix
    ja = err.in_language("ja")   # a Japanese terminal (--lang ja) reads it in Japanese
    assert "キー「language」が2回書かれています(4行目。最初は1行目)" in ja and "「language」の行を1つにしてください" in ja


def test_a_nested_setting_twice_is_named_by_its_dotted_path(tmp_path):
    path = tmp_path / "team.yaml"
    path.write_text("sla:\n  follow_up_hours: 24\n  follow_up_hours: 72\n", encoding="utf-8")
    assert "team.yaml: the key 'sla.follow_up_hours' appears twice (line 3, first on line 2)" in settings_error(path).message


def test_keys_that_are_the_same_value_written_differently_are_the_same_key(tmp_path):
    # YAML reads 3 and 0x3 as the number 3: two texts for item 3 would silently keep the last
    path = tmp_path / "items.yaml"
    path.write_text("checklist:\n  items:\n    3: {ja: あ, en: a}\n    0x3: {ja: い, en: b}\n", encoding="utf-8")
    assert "items.yaml: the key 'checklist.items.3' appears twice (line 4, first on line 3)" in settings_error(path).message


def test_a_value_map_entry_twice_in_a_mapping_is_refused(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING.replace("{受注: won, 失注: lost}", "{受注: won, 失注: lost, 受注: lost}"), encoding="utf-8")
    err = mapping_error(path)
    assert err.code == "yaml_duplicate_key"
    assert err.message.startswith("m.yaml: the key 'tables.opportunities.columns.outcome.values.受注' appears twice (line 8, first on line 8)")


# --------------------------------------------------------------------------- aliases, merge keys, size, depth
def _bomb(levels: int = 9, width: int = 9) -> str:
    """Nested anchors as mappings (not the list form): level k holds `width` aliases of level k-1."""
    lines = ["l0: &l0 {v: lol}"]
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} {{" + ", ".join(f"k{i}: *l{k - 1}" for i in range(width)) + "}")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_in_settings_is_refused_before_it_expands(tmp_path):
    path = tmp_path / "workbook.yaml"
    path.write_text("initiatives_catalog:\n" + "".join("  " + line + "\n" for line in _bomb().splitlines()), encoding="utf-8")
    err = settings_error(path)
    assert (err.code, err.params["line"], err.params["anchor"]) == ("yaml_alias", 3, "l0")
    assert err.message.startswith(f"{path}: an alias (*l0) at line 3 repeats an anchored block; aliases are not read here")
    assert "copy the lines instead of &anchor and *alias" in err.fix
    assert "3行目のエイリアス(*l0)" in err.in_language("ja")


def test_one_harmless_alias_is_refused_too_with_the_way_to_write_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("target:\n  industries: &icp [製造]\nsegment_order:\n  industry: *icp\n", encoding="utf-8")
    assert "c.yaml: an alias (*icp) at line 4" in settings_error(path).message


def test_a_merge_key_is_refused_even_without_an_alias(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("velocity:\n  <<: {window_days: 30}\n", encoding="utf-8")
    err = settings_error(path)
    assert (err.code, err.params["variant"]) == ("yaml_alias", "merge")
    assert "c.yaml: a merge key (<<) at line 2 copies another mapping in; merge keys are not read here" in err.message
    assert "instead of <<:" in err.fix


def test_an_alias_bomb_in_a_mapping_is_refused(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(MAPPING.replace("open: [提案]}", "open: [提案]}\n      owner: {column: x, values: *l8}")
                    .replace("name: crm export\n", "name: crm export\ndescription:\n"
                             + "".join("  " + line + "\n" for line in _bomb().splitlines())), encoding="utf-8")
    err = mapping_error(path)
    assert err.code == "yaml_alias" and err.message.startswith("bomb.yaml: an alias (*l0) at line 4")


def test_a_settings_file_over_the_size_cap_is_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    err = settings_error(path)
    assert err.code == "yaml_too_large" and err.message.startswith(f"{path}: the file is larger than 1,000 kB")
    assert "not a data export" in err.fix


def test_a_file_of_more_values_than_the_limit_is_refused_under_the_size_cap(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text("target:\n  industries: [" + ",".join(["x"] * MAX_NODES) + "]\n", encoding="utf-8")
    assert path.stat().st_size < MAX_BYTES
    err = settings_error(path)
    # the root mapping, 'target', its mapping, 'industries' and the list are 5 values: the limit falls inside the list
    assert (err.code, err.params["variant"], err.params["line"]) == ("yaml_too_large", "nodes", 2)
    assert f"wide.yaml: the file holds more than {MAX_NODES:,} values (the limit is reached at line 2)" in err.message


def test_nesting_past_the_limit_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("target: {industries: " + "[" * (MAX_DEPTH + 5) + "x" + "]" * (MAX_DEPTH + 5) + "}\n", encoding="utf-8")
    assert f"deep.yaml: lists and mappings are nested more than {MAX_DEPTH} levels deep (line 1)" in settings_error(path).message


# --------------------------------------------------------------------------- encodings and characters
SHIFT_JIS_SETTINGS = ("# 営業部とマーケティング部の設定\nlanguage: ja\ntarget:\n  industries: [製造, 小売]   # 重点業種\n"
                      "  company_sizes: [50-299名]\nsegment_order:\n  company_size: [1-49名, 50-299名, 300名以上]\n")


def test_a_workbook_yaml_saved_as_shift_jis_reads_its_japanese_labels(tmp_path):
    (tmp_path / "workbook.yaml").write_bytes(SHIFT_JIS_SETTINGS.encode("cp932"))
    c = load_config(tmp_path)
    assert c.language == "ja" and c.target_industries == ("製造", "小売") and c.target_company_sizes == ("50-299名",)
    assert c.segment_order == {"company_size": ("1-49名", "50-299名", "300名以上")}


def test_a_settings_file_with_a_utf8_bom_reads(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(SHIFT_JIS_SETTINGS.encode("utf-8-sig"))
    assert load_config(path=path).target_industries == ("製造", "小売")


def test_an_undecodable_settings_file_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "c.yaml"
    # every byte from 0x80 to 0xff in a row (a binary blob pasted into a comment): no candidate code page decodes it
    # cleanly (0x81 0x8d 0x8f 0x90 0x9d are unassigned in cp1252; the run is malformed UTF-8, cp932 and EUC-JP)
    path.write_bytes(b"language: en\n# " + bytes(range(0x80, 0x100)) + b"\n")
    err = settings_error(path)
    assert err.code == "yaml_encoding"
    assert err.message == f"{path}: the encoding cannot be told: the text decodes cleanly as none of UTF-8, cp932, cp1252, utf_16, euc_jp"
    assert err.fix.startswith("Save the file as UTF-8")
    assert "文字コードを UTF-8 にして保存し直してください" in err.in_language("ja")


def test_a_utf8_bom_followed_by_other_bytes_is_refused_naming_the_byte(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\xef\xbb\xbflanguage: ja\n# " + "営業".encode("cp932") + b"\n")   # a BOM, then Shift_JIS bytes
    err = settings_error(path)
    assert (err.code, err.params["variant"]) == ("yaml_encoding", "bom")
    # BOM 3 bytes + "language: ja\n" 13 + "# " 2: the first Shift_JIS byte is byte 19, on line 2
    assert err.message == f"{path}: the file starts with a byte order mark of UTF-8, but byte 19 (line 2) is not valid UTF-8"


def test_a_mapping_saved_as_shift_jis_reads_its_japanese_column_names(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_bytes(("# 基幹システムの商談一覧\n" + MAPPING).encode("cp932"))
    table = load_mapping(path).tables["opportunities"]
    assert table.rule("opportunity_id").columns == ("商談ID",) and table.rule("created_at").columns == ("作成日",)
    assert dict(table.rule("outcome").labels) == {"受注": "won", "失注": "lost", "提案": "open"}


@pytest.mark.parametrize("encode, refused", [(lambda text: text.encode("utf-8-sig"), None),
                                             (lambda text: text.encode("utf-8") + bytes(range(0x80, 0x100)), "yaml_encoding")])
def test_a_mapping_with_a_bom_reads_and_an_undecodable_one_is_refused(tmp_path, encode, refused):
    path = tmp_path / "m.yaml"
    path.write_bytes(encode(MAPPING + "# "))
    if refused is None:
        assert load_mapping(path).tables["opportunities"].rule("opportunity_id").columns == ("商談ID",)
    else:
        assert mapping_error(path).code == refused


def test_a_control_character_is_refused_by_line_without_printing_it(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("language: en\ntimezone: Asia/Tokyo\x00\n", encoding="utf-8")
    err = settings_error(path)
    assert err.message == f"{path}: the character U+0000 at line 2 is not allowed in a YAML file" and "\x00" not in str(err)


def test_a_mapping_path_that_is_a_folder_is_named_as_such(tmp_path):
    (tmp_path / "mine.yaml").mkdir()
    from helpers.yamlfile import read_text

    with pytest.raises(WorkbookError, match="mine.yaml is a folder, not a YAML file"):
        read_text(tmp_path / "mine.yaml")


def test_a_value_that_cannot_be_read_names_its_line(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING + "      closed_at: {column: 完了日, default: 2025-02-30}\n", encoding="utf-8")
    err = mapping_error(path)
    assert err.code == "yaml_value" and "m.yaml: a value cannot be read (day is out of range for month) at line 9" in err.message


def test_the_reader_keeps_what_a_plain_safe_load_reads():
    # every shipped YAML file reads the same through the safe reader as through yaml.safe_load
    import yaml

    from helpers.data.mapping import shipped_mappings
    from helpers.paths import DEFAULT_CONFIG_FILE

    for path in [DEFAULT_CONFIG_FILE, *shipped_mappings().values()]:
        assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path
    assert parse_yaml("", "empty.yaml") is None
