"""One load per run: the snapshot holds exactly what load_workbook returns, and is reused only while inputs and settings are unchanged."""
from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data import snapshot
from helpers.data.load import load_workbook
from helpers.data.snapshot import CANONICAL, load_cached, read_snapshot, write_snapshot
from helpers.errors import DataValidationError
from helpers.paths import SAMPLE_DATA_DIR


def assert_same_workbook(a, b):
    for name in CANONICAL:
        fa, fb = getattr(a, name), getattr(b, name)
        assert (fa is None) == (fb is None), name
        if fa is not None:
            pd.testing.assert_frame_equal(fa, fb, check_exact=True)
    assert a.as_of == b.as_of
    assert a.findings == b.findings
    assert a.files == b.files


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv(snapshot.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(snapshot.SNAPSHOT_ENV, raising=False)
    return tmp_path / "cache"


def test_the_snapshot_of_the_sample_is_the_loaded_workbook(tmp_path):
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    folder = write_snapshot(wb, tmp_path / "snap")
    back = read_snapshot(folder, SAMPLE_DATA_DIR, config)
    assert back is not None
    assert_same_workbook(wb, back)
    assert isinstance(back.opportunities["outcome"].dtype, pd.CategoricalDtype)
    assert back.leads["created_at"].dtype == "datetime64[ns]"
    # extra columns (personal data) are never written, except the lead columns the lead_quality settings name
    assert list(back.extras) == ["leads"]
    assert list(back.extras["leads"].columns) == ["employees", "web_visits", "form_type", "rating"]
    assert not {"contact_name", "email", "phone"} & set(back.extras["leads"].columns)
    pd.testing.assert_frame_equal(back.extras["leads"], wb.extras["leads"][["employees", "web_visits", "form_type", "rating"]]
                                  .astype("string"), check_dtype=False)


def test_every_canonical_table_goes_into_the_snapshot(tmp_path, tiny_folder):
    (tiny_folder / "targets.csv").write_text("period,metric,target,department\n2025Q2,won_revenue,1000000,sales\n", encoding="utf-8")
    config = load_config(tiny_folder)
    wb = load_workbook(tiny_folder, config)
    assert wb.targets is not None and len(wb.targets) == 1
    back = read_snapshot(write_snapshot(wb, tmp_path / "snap"), tiny_folder, config)
    assert_same_workbook(wb, back)


def test_a_snapshot_of_other_settings_or_another_folder_is_not_used(tmp_path, tiny_folder):
    config = load_config(tiny_folder)
    folder = write_snapshot(load_workbook(tiny_folder, config), tmp_path / "snap")
    other_tz = dataclasses.replace(config, timezone="UTC")
    assert read_snapshot(folder, tiny_folder, other_tz) is None
    assert read_snapshot(folder, SAMPLE_DATA_DIR, config) is None
    # the runner passes the resolved as_of on: the snapshot loaded without as_of serves it, not another date
    resolved = load_workbook(tiny_folder, config).as_of
    assert read_snapshot(folder, tiny_folder, dataclasses.replace(config, as_of=resolved)) is not None
    assert read_snapshot(folder, tiny_folder, dataclasses.replace(config, as_of=pd.Timestamp("2025-05-31"))) is None
    # channels.normalize shapes the channel column, the fiscal year the load's warnings: another value, another load
    assert read_snapshot(folder, tiny_folder, dataclasses.replace(config, normalize_channels=False)) is None
    assert read_snapshot(folder, tiny_folder, dataclasses.replace(config, fiscal_year_start_month=4)) is None


def test_a_cached_load_follows_channels_normalize(cache, tmp_path):
    """'Web' and 'web' are one channel under channels.normalize: true, two under false, even right after a cached
    load of the same folder with the other setting (the cache once served the folded spellings to both)."""
    from conftest import LEADS_CSV, OPPS_CSV, write_folder

    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV.replace("L3,2025-05-20,web", "L3,2025-05-20,Web"),
                                            "opportunities.csv": OPPS_CSV})
    config = load_config(data)
    # one row each: a tie, the first spelling in sorted order wins (helpers.data.channels.normalize_channels)
    assert sorted(load_cached(data, config).leads["channel"].astype(str)) == ["Web", "Web", "seminar"]
    apart = dataclasses.replace(config, normalize_channels=False)
    assert sorted(load_cached(data, apart).leads["channel"].astype(str)) == ["Web", "seminar", "web"]


def test_load_cached_reuses_the_snapshot_while_the_checksums_are_unchanged(cache, tiny_folder, monkeypatch):
    config = load_config(tiny_folder)
    first = load_cached(tiny_folder, config)
    assert_same_workbook(first, load_workbook(tiny_folder, config))
    monkeypatch.setattr(snapshot, "load_workbook", lambda *a, **k: pytest.fail("loaded again although nothing changed"))
    assert_same_workbook(load_cached(tiny_folder, config), first)
    monkeypatch.undo()
    monkeypatch.setenv(snapshot.CACHE_ENV, str(cache))
    text = (tiny_folder / "opportunities.csv").read_text(encoding="utf-8").replace("1200000", "1300000")
    (tiny_folder / "opportunities.csv").write_text(text, encoding="utf-8")
    changed = load_cached(tiny_folder, config)
    assert changed.opportunities.loc[changed.opportunities["opportunity_id"] == "O1", "amount"].item() == 1_300_000


def test_a_failed_load_is_not_cached_and_fails_again_with_its_findings(cache, tiny_folder):
    (tiny_folder / "opportunities.csv").write_text(
        "opportunity_id,created_at,closed_at,outcome,amount\nO1,2025-04-12,,maybe,1\n", encoding="utf-8")
    config = load_config(tiny_folder)
    for _ in range(2):
        with pytest.raises(DataValidationError) as err:
            load_cached(tiny_folder, config)
        assert [f.code for f in err.value.findings] == ["bad_outcome"]
    assert not any(cache.glob("*/snapshot.json"))


def test_the_run_snapshot_is_opened_without_reading_the_files(tmp_path, tiny_folder, monkeypatch):
    config = load_config(tiny_folder)
    folder = write_snapshot(load_workbook(tiny_folder, config), tmp_path / "run-snapshot")
    monkeypatch.setenv(snapshot.SNAPSHOT_ENV, str(folder))
    monkeypatch.setattr(snapshot, "load_workbook", lambda *a, **k: pytest.fail("the run's snapshot was not used"))
    monkeypatch.setattr(snapshot, "input_checksums", lambda *a, **k: pytest.fail("the run's snapshot was not used"))
    assert load_cached(tiny_folder, config).opportunities["opportunity_id"].tolist() == ["O1", "O2", "O3"]


def test_the_runner_drops_the_rows_it_wrote_into_the_snapshot(tmp_path):
    """release_rows: after the snapshot the runner keeps only what its index page reads (as_of, files, findings); the
    snapshot still reads back as the loaded Workbook."""
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    loaded = dataclasses.replace(wb)
    folder = write_snapshot(wb, tmp_path / "snap")
    snapshot.release_rows(wb)
    assert wb.leads is None and wb.touches is None and wb.extras == {}
    assert len(wb.opportunities) == 0 and list(wb.opportunities.columns) == list(loaded.opportunities.columns)
    assert (wb.as_of, wb.files, wb.findings, wb.spend is loaded.spend) == (loaded.as_of, loaded.files, loaded.findings, True)
    assert_same_workbook(loaded, read_snapshot(folder, SAMPLE_DATA_DIR, config))
