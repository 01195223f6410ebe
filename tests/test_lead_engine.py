"""Lead quality's counts per attribute value and the score's fit from engine aggregates (helpers/metrics/lead_engine.py,
issue 26): the same counts, conditions, guard and scorecard as the folder path, from a DuckDB database file, and the
rows fetched do not grow when the table's rows are doubled."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from helpers.config import load_config
from helpers.data.load import load_workbook
from helpers.data.periods import parse_period
from helpers.metrics import engine, lead_conditions, lead_engine, lead_score
from helpers.metrics.lead_section import lead_quality
from helpers.paths import SAMPLE_DATA_DIR


@pytest.fixture(scope="module")
def folder():
    """The sample's lead-quality result (folder path), its observed leads' raw columns as a warehouse would hold them
    (text as read, converted, train = not in the out-of-time test set) and the observed attributes."""
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    p = parse_period("FY2026Q1", 4)
    lq = lead_quality(wb.leads, wb.opportunities, wb.extras.get("leads"), config.lead_quality, p.start, p.end, wb.as_of)
    obs = lq.frame["observed"].to_numpy(dtype=bool)
    index = lq.frame.index[obs]
    conv = lq.frame.loc[obs, "converted"]
    train = ~lead_score.split(lq.frame.loc[obs, "created_at"], conv, False)
    cols = {"converted": pa.array(conv.to_numpy(dtype=bool)), "train": pa.array(train)}
    for name in lq.attrs:
        raw = lq.columns[name].reindex(index)
        cols[name] = pa.array([None if pd.isna(v) else str(v) for v in raw], type=pa.string())
    observed = {k: (v[obs], n) for k, (v, n) in lq.attrs.items()}
    return lq, pa.table(cols), observed, conv, train


def _warehouse(tmp_path, arrow):
    import ibis

    engine.duckdb_compat()
    tmp_path.mkdir(parents=True, exist_ok=True)
    con = ibis.duckdb.connect(str(tmp_path / "w.duckdb"))
    with engine._quiet():
        con.create_table("observed_leads", arrow)
        return con, con.table("observed_leads")


def test_the_counts_conditions_and_guard_of_a_warehouse_table_are_the_folders(folder, tmp_path):
    lq, arrow, observed, conv, _ = folder
    assert any(n for _, n in observed.values()) and any(not n for _, n in observed.values())   # both kinds read
    con, table = _warehouse(tmp_path, arrow)
    kinds = {k: n for k, (_, n) in observed.items()}
    got = lead_engine.attribute_counts(table, kinds, backend=con)
    want = lead_conditions.attribute_counts(observed, conv)
    assert list(got) == list(want)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_names=False)
    explicit = {a["attribute"] for a in lq.section["attributes"] if a["explicit"] and a["known"] == "before_contact"}
    both = lead_engine.conditions_and_guard(table, kinds, lq.known, explicit, lq.section["min_leads"], backend=con)
    assert both["suspect"] == lq.section["suspect"] and both["suspect"]          # rating: separates_alone
    assert both["conditions"] == lq.section["conditions"] and both["conditions"]
    assert both["clean"] == list(lq.section["score"]["points"])


def test_the_fit_on_aggregated_design_rows_is_the_fit_on_the_rows(folder, tmp_path):
    """Distinct design rows with their counts as frequency weights: the same estimate as the leads' rows (the folder's
    lead_score.fit on every training lead), so the same scorecard."""
    lq, arrow, observed, conv, train = folder
    con, table = _warehouse(tmp_path, arrow)
    clean = {k: observed[k] for k in lq.section["score"]["points"]}
    d = lead_score.design(clean, train, lq.section["min_leads"])
    rows = np.flatnonzero(train)
    params, penalty, _ = lead_score.fit(d.matrix(rows), conv.to_numpy(dtype=bool)[rows],
                                        aggregate=not any(m["kind"] == "number" for m in d.meta.values()))
    got = lead_engine.fit_score(table, {k: n for k, (_, n) in clean.items()}, lq.section["min_leads"], backend=con)
    assert got["columns"] == d.columns and got["penalty"] == penalty and got["fit_leads"] == len(rows)
    np.testing.assert_allclose(got["params"].to_numpy(), params, rtol=1e-7, atol=1e-9)
    assert got["points"].keys() == lq.section["score"]["points"].keys()
    for name, card in lq.section["score"]["points"].items():
        assert got["points"][name] == pytest.approx(card, rel=1e-7, abs=1e-9), name
    assert got["dropped"] == lq.section["score"]["dropped"]


def test_fetched_rows_do_not_grow_with_the_table(folder, tmp_path):
    """Issue 26: counts per value and per distinct design row come back, so twice the leads fetch the same rows."""
    from counting_backend import Counting

    lq, arrow, observed, _, _ = folder
    kinds = {k: n for k, (_, n) in observed.items()}
    fetched = []
    for copies in (1, 2):
        con, table = _warehouse(tmp_path / str(copies), pa.concat_tables([arrow] * copies))
        counting = Counting(con)
        counts = lead_engine.attribute_counts(table, kinds, backend=counting)
        fitted = lead_engine.fit_score(table, kinds, lq.section["min_leads"], backend=counting)
        fetched.append((counting.fetched, counting.queries, counts, fitted["fit_leads"]))
    (once, q1, c1, n1), (twice, q2, c2, n2) = fetched
    assert once == twice and q1 == q2 and once < len(arrow)
    assert n2 == 2 * n1
    for name, numeric in kinds.items():   # text values: twice the counts (quintile edges move: (n - 1) × q interpolates)
        if numeric:
            assert c2[name].sum().tolist() == (2 * c1[name]).sum().tolist()
        else:
            pd.testing.assert_frame_equal(c2[name], 2 * c1[name])
    assert any(kinds.values()) and not all(kinds.values())
