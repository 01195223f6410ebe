"""Config: defaults, the data-folder file, --config, and clear errors."""
import pandas as pd
import pytest

from helpers.config import load_config
from helpers.errors import ConfigError


def test_defaults():
    c = load_config()
    assert c.fiscal_year_start_month == 1
    assert c.language == "en"
    assert (c.currency_code, c.currency_decimals) == ("JPY", 0)
    assert c.sla_hours == 48.0
    assert c.as_of is None
    assert c.category_of_item(13) == "content" and c.category_of_item(14) == "lead_management"
    assert sorted(i for items in c.checklist_categories.values() for i in items) == list(range(1, 16))
    assert c.checklist_items[3]["ja"].startswith("リードの定義")
    assert len(c.initiatives_catalog) == 7


def test_layers_data_folder_then_file(tmp_path):
    (tmp_path / "workbook.yaml").write_text("fiscal_year_start_month: 4\nlanguage: ja\n", encoding="utf-8")
    extra = tmp_path / "mine.yaml"
    extra.write_text("language: en\nas_of: 2025-12-31\ntarget: {industries: [製造]}\n", encoding="utf-8")
    c = load_config(tmp_path, extra)
    assert c.fiscal_year_start_month == 4 and c.language == "en"
    assert c.as_of == pd.Timestamp("2025-12-31")
    assert c.target_industries == ("製造",) and c.target_company_sizes == ()


def test_unknown_key_is_an_error(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("fiscal_year_start: 4\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown setting 'fiscal_year_start'"):
        load_config(path=f)


@pytest.mark.parametrize("text, message", [
    ("fiscal_year_start_month: 13\n", "fiscal_year_start_month must be 1-12"),
    ("language: fr\n", "language must be one of"),
    ("currency: {decimals: -1}\n", "currency.decimals"),
    ("as_of: yesterday\n", "as_of must be a date"),
    ("sla: {follow_up_hours: 0}\n", "follow_up_hours must be a positive number"),
    ("checklist: {categories: {a: [1, 2], b: [2, 3]}}\n", r"items \[2\] are in more than one category"),
    ("language: [en\n", "not valid YAML at line"),
])
def test_bad_settings(tmp_path, text, message):
    f = tmp_path / "c.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path=f)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(path=tmp_path / "nope.yaml")
