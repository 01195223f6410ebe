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

import numpy as np
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


needs_pg = pytest.mark.skipif(not PG, reason="no PostgreSQL server (WORKBOOK_TEST_PG unset; .ci/with-postgres starts one)")


@pytest.fixture(scope="module")
def icu_url():
    """A PostgreSQL database whose collation is ICU's root collation ('und': 'a' < 'B', kana interleaved), unlike the
    server's C.UTF-8: its URL (the database dropped after the module)."""
    from helpers.metrics.warehouse import connect

    name = f"workbook_icu_{uuid.uuid4().hex[:8]}"
    admin = connect(PG)
    admin.raw_sql(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'und' LOCALE 'C.UTF-8'").close()
    url = PG.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        admin.raw_sql(f"DROP DATABASE {name} WITH (FORCE)").close()
        admin.disconnect()


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=needs_pg), pytest.param("postgresql-icu", marks=needs_pg)])
def warehouse(request, tmp_path):
    """upload(frames) -> a WarehouseSource over `frames` typed in a DuckDB file, a PostgreSQL schema, or a schema of
    a PostgreSQL database with an ICU collation (dropped after)."""
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
            con = connect(request.getfixturevalue("icu_url") if request.param.endswith("icu") else PG)
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


# --------------------------------------------------------------------------- text order, whatever the collation
#: Names whose order differs between collations: C / code point puts upper case first, 'a_b' before 'ab', hiragana
#: before katakana; ICU's root collation puts 'a' before 'B' and interleaves あ / ア.
NAMES = ["alice", "Bob", "carol", "Dave", "あい", "アア", "a_b", "ab", "Zed", "émile"]


def with_collation_traps(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The sample with the owners renamed to NAMES (numbered apart) and the touch ids half in lower case, the touches
    listed in code point order of their ids (so a folder's file order is the warehouse's order of touch_id)."""
    out = {k: v.copy() for k, v in frames.items()}
    owners = sorted(set(out["leads"]["owner"].dropna()) | set(out["opportunities"]["owner"].dropna()))
    rename = {o: NAMES[i % len(NAMES)] + (str(i) if i >= len(NAMES) else "") for i, o in enumerate(owners)}
    for name in ("leads", "opportunities"):
        out[name]["owner"] = out[name]["owner"].map(rename)
    touches = out["touches"]
    ids = touches["touch_id"].where(touches.index % 2 == 0, touches["touch_id"].str.lower())
    out["touches"] = touches.assign(touch_id=ids).sort_values("touch_id", kind="stable").reset_index(drop=True)
    return out


def test_text_is_ordered_by_code_point_whatever_the_databases_collation(warehouse, tmp_path):
    """Owner pseudonyms (numbered in sorted name order), the touches' tie-breaking positions and every figure on them
    are the folder's on a database whose collation orders text otherwise (ICU: 'alice' < 'Bob', あい / アア)."""
    from helpers.metrics import engine
    from helpers.metrics.core import workbook_source

    frames = with_collation_traps(raw_sample())
    wb = folder(frames, tmp_path / "data")
    mine = workbook_source(wb)
    source = warehouse(frames, wb.config)
    got = figures(wb, source)
    assert got == figures(wb, mine)
    assert sorted(got["core"]["by_segment"]["owner"]) == sorted(figures(wb, mine)["core"]["by_segment"]["owner"])
    columns = ["pos", "touch_id", "lead_id", "channel"]
    there = source.fetch(source.touches().select(*columns).order_by("pos")).to_pylist()
    here = engine.default_backend().to_pyarrow(mine.touches().select(*columns).order_by("pos")).to_pylist()
    assert there == here and len(there) > 1000 and there[0]["touch_id"] < there[-1]["touch_id"]
    assert {t["touch_id"][0] for t in there} == {"T", "t"}


def test_a_warehouse_findings_first_ids_are_in_code_point_order(warehouse):
    """A warehouse finding names its first offending ids in code point order (upper case, then lower case, then
    kana), the same on every collation."""
    from helpers.data.checks_engine import warehouse_findings

    ids = ["b1", "A2", "a3", "B4", "ア5", "あ6", "a_7", "a8"]
    day = pd.Timestamp("2025-01-10")
    leads = pd.DataFrame({"lead_id": ids, "created_at": [day] * len(ids), "mql_at": [day - pd.Timedelta(days=3)] * len(ids),
                          "channel": "web"})
    opps = pd.DataFrame({"opportunity_id": ["O1"], "created_at": [day], "closed_at": [day], "outcome": ["won"],
                         "amount": [100.0], "channel": "web"})
    source = warehouse({"leads": leads.astype({"created_at": str, "mql_at": str}),
                        "opportunities": opps.astype({"created_at": str, "closed_at": str, "amount": str})},
                       load_config(SAMPLE_DATA_DIR))
    found = warehouse_findings(source.backend, {"leads": source.backend.table("leads", database=source.schema),
                                                "opportunities": source.backend.table("opportunities",
                                                                                      database=source.schema)})[0]
    stage = [f for f in found if f.code == "stage_before_created"]
    assert stage and stage[0].ids == tuple(sorted(ids)[:5]) == ("A2", "B4", "a3", "a8", "a_7")


# --------------------------------------------------------------------------- the forecast's rows
def forecast_rows(opps: pd.DataFrame, dates) -> tuple[int, list]:
    """(rows the forecast query fetches for `dates`, its inputs) on the counting backend over the in-process engine."""
    from counting_backend import Counting
    from helpers.metrics import engine, goals_engine

    counting = Counting(engine.default_backend())
    hists, won = goals_engine.forecast_inputs(engine.opps_table(opps), dates, counting)
    assert counting.queries == 1
    return counting.fetched, hists


def test_the_forecast_fetches_no_row_for_wins_before_its_seasonal_horizon():
    """The forecast's rows are bounded by its windows, not by the table: wins closed before the earliest day its
    seasonal term can read (goals_engine.season_horizon: 5 years and a reference year before the period and the
    deseasonalised blocks) are not fetched, so 300 old wins of distinct amounts add no row; wins inside the
    lookback window add at most one cell each (a cell per distinct duration, outcome, recency and amount: the
    bootstrap resamples deals jointly, so the amounts cannot be summed away)."""
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    period = parse_period("FY2026Q2", config.fiscal_year_start_month)
    dates = [(period, wb.as_of), (parse_period("FY2025Q4", config.fiscal_year_start_month), pd.Timestamp("2026-01-15"))]
    opps = wb.opportunities.astype({"outcome": str, "channel": str})
    won = opps[opps["outcome"] == "won"].head(300)

    def shifted(days: int, tag: str) -> pd.DataFrame:
        return won.assign(opportunity_id=won["opportunity_id"] + tag, lead_id=None,
                          created_at=won["created_at"] - pd.Timedelta(days=days),
                          closed_at=won["closed_at"] - pd.Timedelta(days=days),
                          amount=1_000_003.0 + np.arange(len(won)))

    from helpers.metrics.goals_engine import season_horizon

    rows, hists = forecast_rows(opps, dates)
    old = shifted(12 * 366, "-old")
    assert old["closed_at"].max() < pd.Timestamp(season_horizon(dates)) < opps["closed_at"].min() + pd.Timedelta(days=366 * 3)
    rows_old, _ = forecast_rows(pd.concat([opps, old], ignore_index=True), dates)
    assert rows_old == rows > 0
    recent = shifted(60, "-new")
    rows_new, hists_new = forecast_rows(pd.concat([opps, recent], ignore_index=True), dates)
    assert rows < rows_new <= rows + 3 * len(recent)   # a new cell per deal for each date and the seasonal wins at the most
    assert hists_new[0].cells.n.sum() > hists[0].cells.n.sum()
