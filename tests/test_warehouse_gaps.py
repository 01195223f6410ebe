"""A warehouse says what the same data says as a folder, where the two used to differ (issue 26):

- channel spellings that differ only in case, width, spaces or invisible characters ('Webinar', 'webinar ') are one
  channel in both, folded by the loader's rule (helpers.data.channels.channel_mapping) over the distinct values;
- an optional column the table lacks is absent in both (not a column of nulls, which would list 'unknown' rows);
- text is ordered by code point in both, whatever the database's collation;
- the forecast fetches aggregated rows, not one per deal.

Each test builds data that showed the difference, writes it as CSV files (the folder) and uploads it typed (as a CRM
replica holds it) into a DuckDB file and, when `.ci/with-postgres` set WORKBOOK_TEST_PG, into PostgreSQL; the
figures compared are computed by the same functions on a FrameSource and on a WarehouseSource.
"""
from __future__ import annotations

import json
import os
import uuid

import pandas as pd
import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.data.schema import TABLES
from helpers.paths import SAMPLE_DATA_DIR
from helpers.storage import to_jsonable

PG = os.environ.get("WORKBOOK_TEST_PG")
PERIOD = "FY2026Q1"
ROW_TABLES = ("leads", "opportunities", "spend", "touches")


def raw_sample() -> dict[str, pd.DataFrame]:
    """The sample's leads, opportunities, spend and touches as text, as the CSV files hold them."""
    return {name: pd.read_csv(SAMPLE_DATA_DIR / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""])
            for name in ROW_TABLES}


def typed(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """`frames` as a warehouse holds them: dates and datetimes typed, amounts as numbers, everything else text."""
    out = {}
    for name, frame in frames.items():
        frame = frame.copy()
        for column in TABLES[name].columns:
            if column.name in frame and column.kind in ("date", "datetime"):
                frame[column.name] = pd.to_datetime(frame[column.name], format="ISO8601").astype("datetime64[ns]")
            elif column.name in frame and column.kind == "number":
                frame[column.name] = frame[column.name].astype(float)
        out[name] = frame
    return out


def plain(value):
    return json.loads(json.dumps(to_jsonable(value), ensure_ascii=False))


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/with-postgres starts one)"))])
def warehouse(request, tmp_path):
    """upload(frames) -> a WarehouseSource over `frames` typed in a DuckDB file or a PostgreSQL schema (dropped after)."""
    from helpers.metrics.warehouse import WarehouseSource, connect, upload

    opened = []

    def make(frames: dict[str, pd.DataFrame], config):
        schema = f"gaps_{uuid.uuid4().hex[:8]}"
        if request.param == "duckdb":
            url = f"duckdb://{tmp_path / f'crm_{schema}.duckdb'}"
            con = connect(url, writable=True)
            upload(typed(frames), con, schema)
            con.disconnect()
            con = connect(url)
        else:
            con = connect(PG)
            upload(typed(frames), con, schema)
            opened.append((con, schema))
        return WarehouseSource(con, config, schema)

    yield make
    for con, schema in opened:
        con.drop_database(schema, force=True, cascade=True)
        con.disconnect()


def folder(frames: dict[str, pd.DataFrame], path):
    """The loaded Workbook of `frames` written as CSV files (with the sample's settings)."""
    path.mkdir()
    for name, frame in frames.items():
        frame.to_csv(path / f"{name}.csv", index=False)
    (path / "workbook.yaml").write_bytes((SAMPLE_DATA_DIR / "workbook.yaml").read_bytes())
    return load_workbook(path, load_config(path))


def figures(wb, source) -> dict:
    """The core figures and notebook 00's value counts of `wb`'s period computed on `source`."""
    from helpers.metrics.core import core_metrics
    from helpers.metrics.health_engine import value_counts_of

    period = parse_period(PERIOD, wb.config.fiscal_year_start_month)
    core = core_metrics(wb, period, source=source)
    counts = {c: value_counts_of(source, c).to_dict("records") for c in ("channel", "industry", "company_size")}
    return plain({"core": core, "counts": counts})


# --------------------------------------------------------------------------- channel spellings
def with_spelling_variants(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The sample with some channels spelled as CRMs spell them: 'Web' / 'web ' / 'ＷＥＢ', 'seminar' with a zero-width
    space, a placeholder '(none)' on some deals (their channel falls back to the lead's)."""
    out = {k: v.copy() for k, v in frames.items()}
    leads, opps = out["leads"], out["opportunities"]
    web = leads.index[leads["channel"] == "web"]
    leads.loc[web[::3], "channel"] = "Web"
    leads.loc[web[1::7], "channel"] = "web "
    leads.loc[web[2::11], "channel"] = "ＷＥＢ"
    seminar = leads.index[leads["channel"] == "seminar"]
    leads.loc[seminar[::5], "channel"] = "seminar\u200b"
    own = opps.index[opps["channel"].notna()]
    opps.loc[own[::9], "channel"] = "(none)"
    opps.loc[own[1::13], "channel"] = "Referral"
    return out


def test_channel_spelling_variants_are_folded_in_the_warehouse_as_in_the_folder(warehouse, tmp_path):
    frames = with_spelling_variants(raw_sample())
    wb = folder(frames, tmp_path / "data")
    from helpers.metrics.core import workbook_source

    expected = figures(wb, workbook_source(wb))
    source = warehouse(frames, wb.config)
    got = figures(wb, source)
    channels = [r["value"] for r in got["counts"]["channel"]]
    assert "web" in channels and not {"Web", "web ", "ＷＥＢ", "seminar\u200b", "(none)", "Referral"} & set(channels)
    assert got == expected
    variants = [f for f in wb.findings if f.code == "channel_variants"]
    assert [f.params["chosen"] for f in variants] == ["referral", "web"]
    assert {"channel_placeholder"} <= {f.code for f in wb.findings}
    assert source.channel_findings == variants
    assert [f.params for f in source.channel_findings] == [f.params for f in variants]


# --------------------------------------------------------------------------- an optional column the table lacks
def without_columns(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The sample without the optional columns industry (both tables) and company_size (opportunities only)."""
    out = dict(frames)
    out["leads"] = frames["leads"].drop(columns=["industry"])
    out["opportunities"] = frames["opportunities"].drop(columns=["industry", "company_size"])
    return out


def test_an_optional_column_the_warehouse_lacks_is_absent_as_in_the_folder(warehouse, tmp_path):
    """A missing optional column is not a column of nulls: notebook 00 lists no 'unknown' industry, the breakdowns
    have no industry rows, and the source says the column is absent, as the folder's does."""
    from helpers.metrics.core import workbook_source

    frames = without_columns(raw_sample())
    wb = folder(frames, tmp_path / "data")
    mine = workbook_source(wb)
    expected = figures(wb, mine)
    source = warehouse(frames, wb.config)
    got = figures(wb, source)
    assert got["counts"]["industry"] == expected["counts"]["industry"] == []
    assert [r["value"] for r in got["counts"]["company_size"]] == ["50-299", "1-49", "300-999", "1000+"]
    assert "industry" not in got["core"]["by_segment"] and "company_size" in got["core"]["by_segment"]
    assert got == expected
    for table, column in (("leads", "industry"), ("opportunities", "industry"), ("opportunities", "company_size"),
                          ("leads", "company_size"), ("opportunities", "channel"), ("leads", "target_fit")):
        assert source.has_column(table, column) == mine.has_column(table, column), (table, column)
        assert source.has_values(table, column) == mine.has_values(table, column), (table, column)
    assert "industry" not in source.lead_columns() and "company_size" in source.lead_columns()
