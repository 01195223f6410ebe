"""Config: defaults, the data-folder file, --config, and clear errors."""
import pandas as pd
import re

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
    ("fiscal_year_start_month: 13\n", "c.yaml: setting 'fiscal_year_start_month' must be a whole number from 1 to 12, got 13"),
    ("language: fr\n", "setting 'language' must be one of en, ja, got 'fr'"),
    ("currency: {decimals: -1}\n", "setting 'currency.decimals' must be a whole number from 0 to 4, got -1"),
    ("as_of: yesterday\n", "setting 'as_of' must be a date YYYY-MM-DD or null, got 'yesterday'"),
    ("as_of: 2025-13-45\n", r"c.yaml: a value cannot be read \(month must be in 1..12\)"),
    ("sla: {follow_up_hours: 0}\n", "setting 'sla.follow_up_hours' must be a number greater than 0, got 0"),
    ("checklist: {categories: {a: [1, 2], b: [2, 3]}}\n", r"items \[2\] are in more than one category"),
    ("language: [en\n", "not valid YAML at line"),
    # wrong types that used to pass loading and crash a notebook later (issue 12)
    ("currency: null\n", "setting 'currency' must be a mapping with the keys code, symbol, decimals, rates, got null"),
    ("sla: 5\n", "setting 'sla' must be a mapping with the keys follow_up_hours, got 5"),
    ("privacy: true\n", "setting 'privacy' must be a mapping with the keys pseudonymize_owners, got true"),
    ("velocity: {bootstrap_samples: many}\n", "setting 'velocity.bootstrap_samples' must be a whole number of at least 1, got 'many'"),
    ("initiatives_catalog: {x: 5}\n", "setting 'initiatives_catalog.x' must be an initiative"),
    ("initiatives_catalog: {x: {ja: a, en: b, items: [1], opportunities: 1, win_rate: 1, cycle: 0}}\n",
     "setting 'initiatives_catalog.x.difficulty' is missing"),
    ("privacy: {pseudonymize_owners: 'no'}\n", "setting 'privacy.pseudonymize_owners' must be true or false, got 'no'"),
    ("target: {industries: 製造}\n", "setting 'target.industries' must be a list of industry names or null, got '製造'"),
    ("sla: {follow_up_hours: .inf}\n", "setting 'sla.follow_up_hours' must be a number greater than 0, got '.inf'"),
    ("checklist: {items: {16: {ja: a, en: b}}}\n", "setting 'checklist.items.16' is not a valid name here"),
    ("timezone: Mars/Olympus\n", "timezone 'Mars/Olympus' is not a known time zone"),
])
def test_bad_settings(tmp_path, text, message):
    f = tmp_path / "c.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path=f)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(path=tmp_path / "nope.yaml")


def test_every_problem_is_listed_at_once_with_its_fix(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("language: fr\nstale_open_days: -1\nvelocity: {seed: x}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path=f)
    text = str(err.value)
    assert text.startswith("3 settings are not valid:")
    assert "c.yaml: setting 'stale_open_days' must be a whole number of at least 1, got -1 (how to fix: For example 180.)" in text
    assert "setting 'velocity.seed' must be a whole number of at least 0, got 'x'" in text


def test_the_file_that_set_a_bad_key_is_named(tmp_path):
    (tmp_path / "workbook.yaml").write_text("sla: {follow_up_hours: soon}\n", encoding="utf-8")
    extra = tmp_path / "mine.yaml"
    extra.write_text("language: ja\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^workbook\.yaml: setting 'sla\.follow_up_hours'"):
        load_config(tmp_path, extra)


def test_every_default_key_has_a_schema_entry_and_the_defaults_validate():
    """Adding a setting means adding its schema entry in helpers/settings_schema.py (see its docstring)."""
    import yaml

    from helpers.config import _plain
    from helpers.paths import DEFAULT_CONFIG_FILE
    from helpers.settings_schema import SETTINGS, errors

    defaults = yaml.safe_load(DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    assert [k for k in defaults if k not in SETTINGS] == [], "add these keys to SETTINGS in helpers/settings_schema.py"
    assert [k for k in SETTINGS if k not in defaults] == [], "these schema entries have no default in default_config.yaml"
    assert errors(_plain(defaults)) == []
    for key, schema in SETTINGS.items():
        assert schema.get("x-expect") and schema.get("x-fix"), f"{key}: give x-expect and x-fix"


@pytest.mark.parametrize("text, message", [
    ("currency: {rates: 5}\n", "setting 'currency.rates' must be a list of exchange rates or null, got 5"),
    ("currency: {rates: [{currency: EUR}]}\n", "setting 'currency.rates.0.rate' is missing"),
    ("currency: {rates: [{currency: EUR, rate: lots}]}\n", "setting 'currency.rates.0.rate' must be a number greater than 0, got 'lots'"),
])
def test_currency_rates_types(tmp_path, text, message):
    f = tmp_path / "c.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path=f)


@pytest.mark.parametrize("text, message", [
    ("currency: {code: 円}\n", "currency.code must be an ISO 4217 code, got '円'"),
    ("currency: {code: Yen}\n", "currency.code must be an ISO 4217 code, got 'Yen'"),
    ("currency: {code: USD, rates: [{currency: JYP, rate: 0.0067}]}\n",
     "currency.rates\\[0\\].currency must be an ISO 4217 code other than currency.code USD, got 'JYP'"),
])
def test_currency_codes_in_the_settings_are_iso_codes(tmp_path, text, message):
    """A currency the reports would name and no one has (円, Yen, the typo JYP) is refused, with the code to write;
    a real code in any case is that code."""
    f = tmp_path / "c.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path=f)
    assert "JPY" in info.value.fix
    f.write_text("currency: {code: usd, decimals: 2, rates: [{currency: jpy, rate: 0.0067}]}\n", encoding="utf-8")
    config = load_config(path=f)
    assert (config.currency_code, [r[0] for r in config.currency_rates]) == ("USD", ["JPY"])


@pytest.mark.parametrize("text", ["15/01/2026", "01/02/2026", "2026.01.15", "Jan 02 2026"])
def test_as_of_is_read_year_first_or_refused(text):
    """A day-first or month-first snapshot date (01/02/2026 is 1 February or 2 January) is refused, never guessed."""
    with pytest.raises(ConfigError, match=f"^the command line: --as-of must be a date YYYY-MM-DD, got '{re.escape(text)}'"):
        load_config(overrides={"as_of": text})


def test_as_of_iso_form():
    assert load_config(overrides={"as_of": "2026-01-15"}).as_of == pd.Timestamp("2026-01-15")
