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
from helpers.metrics import engine, lead_engine, lead_score
from helpers.metrics import lead_quality as lead_frames
import lead_reference as ref  # tests/lead_reference.py: the figures lead by lead
from helpers.metrics.lead_section import lead_quality
from helpers.paths import SAMPLE_DATA_DIR


@pytest.fixture(scope="module")
def sample():
    """The sample's lead-quality result (FY2026Q1), its lead columns and tests/lead_reference.py's pandas lead frame."""
    config = load_config(SAMPLE_DATA_DIR)
    wb = load_workbook(SAMPLE_DATA_DIR, config)
    p = parse_period("FY2026Q1", 4)
    lq = lead_quality(wb.leads, wb.opportunities, wb.extras.get("leads"), config.lead_quality, p.start, p.end, wb.as_of)
    columns = lead_frames.lead_columns(wb.leads, wb.extras.get("leads"))
    return lq, columns, ref.lead_frame(wb.leads, wb.opportunities, wb.as_of, lq.section["horizon_days"])


@pytest.fixture(scope="module")
def folder(sample):
    """The sample's lead-quality result, its observed leads' raw columns as a warehouse would hold them (text as read,
    converted, train = not in the out-of-time test set: tests/lead_reference.py's pandas lead frame) and the
    observed attributes."""
    lq, columns, frame = sample
    obs = frame["observed"].to_numpy(dtype=bool)
    index = frame.index[obs]
    conv = frame.loc[obs, "converted"]
    train = ~ref.split(frame.loc[obs, "created_at"], conv, False)
    cols = {"converted": pa.array(conv.to_numpy(dtype=bool)), "train": pa.array(train),
            "lead_id": pa.array(frame.loc[obs, "lead_id"].astype(str).tolist())}
    observed = {}
    for name in lq.attrs:
        raw = columns[name].reindex(index)
        cols[name] = pa.array([None if pd.isna(v) else str(v) for v in raw], type=pa.string())
        values, numeric = columns.typed(name)
        observed[name] = (values.reindex(index), numeric)
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
    want = ref.attribute_counts(observed, conv)
    assert list(got) == list(want)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], check_names=False)
    explicit = {a["attribute"] for a in lq.section["attributes"] if a["explicit"] and a["known"] == "before_contact"}
    both = lead_engine.conditions_and_guard(table, kinds, lq.known, explicit, lq.section["min_leads"], backend=con)
    assert both["suspect"] == lq.section["suspect"] and both["suspect"]          # rating: separates_alone
    assert both["conditions"] == lq.section["conditions"] and both["conditions"]
    assert both["clean"] == list(lq.section["score"]["points"])



def test_the_explorers_audit_and_threshold_are_those_counted_lead_by_lead(sample):
    """The rule explorer's queries (lead_source.audit_of, threshold_of, on the session's engine table) give the
    audit and the top-share threshold that tests/lead_reference.py computes per lead with pandas, on the sample:
    no rule, a number cut, a text value, and both combined with any / all."""
    from helpers.metrics import lead_source

    lq, columns, frame = sample
    observed = frame.index[frame["observed"].to_numpy(dtype=bool)]
    number = next(a for a, numeric in lq.columns.items() if numeric and a in lq.attrs)
    text = next(a for a, numeric in lq.columns.items() if not numeric and a in lq.attrs)
    cuts = {}
    for share in (0.1, 0.25, 0.5):
        cuts[share] = lead_source.threshold_of(lq.frame, number, share, lq.source.backend)
        want = ref.threshold_at(columns.typed(number)[0].reindex(observed), share)
        assert cuts[share] == pytest.approx(want, rel=1e-12) and want is not None
    assert cuts[0.1] > cuts[0.5]
    value = columns.typed(text)[0].reindex(observed).value_counts().index[0]
    cut = {"column": number, "op": ">=", "value": round(cuts[0.25], 2)}
    pick = {"column": text, "op": "in", "value": [str(value)]}
    flat = []
    for rule in (None, cut, pick, {"any": [cut, pick]}, {"all": [cut, pick]}, {"column": text, "op": "==", "value": str(value)}):
        got = lead_source.audit_of(lq.frame, rule, lq.columns, lq.source.backend)
        want = ref.audit_rule(frame, columns, rule)
        assert got.keys() == want.keys()
        for key in want:
            if key == "missed":
                assert got[key]["count"] == want[key]["count"]
                assert got[key]["won_revenue"] == pytest.approx(want[key]["won_revenue"], rel=1e-12)
            elif isinstance(want[key], float):
                assert got[key] == pytest.approx(want[key], rel=1e-12), (rule, key)
            else:
                assert got[key] == want[key], (rule, key)
        flat.append(want["flagged"])
    assert flat[0] == 0 and 0 < flat[4] < min(flat[1], flat[2]) <= max(flat[1], flat[2]) < flat[3]

def test_the_fit_on_aggregated_design_rows_is_the_fit_on_the_rows(folder, tmp_path):
    """Distinct design rows with their counts as frequency weights: the same estimate as the leads' rows (the folder's
    lead_score.fit on every training lead), so the same scorecard."""
    lq, arrow, observed, conv, train = folder
    con, table = _warehouse(tmp_path, arrow)
    clean = {k: observed[k] for k in lq.section["score"]["points"]}
    d = ref.design(clean, train, lq.section["min_leads"])
    rows = np.flatnonzero(train)
    params, penalty, _ = lead_score.fit(d.matrix(rows), conv.to_numpy(dtype=bool)[rows],
                                        aggregate=not any(m["kind"] == "number" for m in d.meta.values()))
    got = lead_engine.fit_score(table, {k: n for k, (_, n) in clean.items()}, lq.section["min_leads"], backend=con)
    assert lq.section["score"]["fit_leads"] == len(rows)
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


def test_the_test_figures_from_design_rows_are_the_per_lead_ones(folder):
    """The score's test figures from the test leads' distinct design rows (helpers.metrics.lead_score_cells) against
    the leads' own predictions (lead_reference.score, pandas, ties in the sample's file order, which is lead_id order):
    the same ranks, deciles, same-size comparison; the fit on weighted rows differs in the last digits only."""
    lq, arrow, observed, conv, train = folder
    clean = {k: observed[k] for k in lq.section["score"]["points"]}
    created = pd.Series(np.where(train, 0, 1), index=conv.index)
    want = ref.score(clean, conv, created, False, lq.section["min_leads"])
    got = lq.section["score"]
    assert (got["train_leads"], got["test_leads"], got["test_converted"]) == \
        (want["train_leads"], want["test_leads"], want["test_converted"])
    assert got["auc"] == pytest.approx(want["auc"], abs=1e-12) and got["auc"] > 0.75
    assert got["auc_low"] == pytest.approx(want["auc_low"], abs=1e-12)
    assert got["brier"] == pytest.approx(want["brier"], rel=1e-12)
    assert [(d["decile"], d["leads"], d["observed"]) for d in got["deciles"]] == \
        [(d["decile"], d["leads"], d["observed"]) for d in want["deciles"]]
    assert [d["predicted"] for d in got["deciles"]] == pytest.approx([d["predicted"] for d in want["deciles"]], rel=1e-12)


def test_ties_at_a_decile_edge_are_split_by_lead_id_as_the_per_lead_figures():
    """Two values of one attribute: two predicted probabilities, so every decile edge and the same-size rule's edge
    fall inside a group of tied leads. From design rows (one query splits the tied group by lead_id) the deciles and
    the same-size comparison are those of the per-lead computation (lead_reference.score / same_size_rule, leads in
    lead_id order), won revenue included (the mean predictions to the fit's last digits: weighted design rows)."""
    rng = np.random.default_rng(7)
    n = 600
    ids = [f"L{i:04d}" for i in range(n)]
    form = np.where(rng.random(n) < 0.5, "a", "b")
    conv = rng.random(n) < np.where(form == "a", 0.35, 0.12)
    visits = rng.integers(0, 8, n)
    created = pd.Timestamp("2023-01-01") + pd.to_timedelta(np.arange(n) // 3, unit="D")
    leads = pd.DataFrame({"lead_id": ids, "created_at": created, "channel": "web", "mql_at": pd.NaT, "sql_at": pd.NaT,
                          "opportunity_id": [f"O{i:04d}" if c else None for i, c in enumerate(conv)]})
    won = rng.integers(1, 50, n) * 1000.0
    deals = [i for i in range(n) if conv[i]]
    opps = pd.DataFrame({"opportunity_id": [f"O{i:04d}" for i in deals], "lead_id": [ids[i] for i in deals],
                         "created_at": created[deals], "closed_at": created[deals] + pd.Timedelta(days=5),
                         "outcome": ["won" if i % 2 else "lost" for i in deals], "amount": won[deals]})
    extras = pd.DataFrame({"form": form, "visits": visits.astype(str)})
    settings = {"attributes": ["form"], "horizon_days": 30, "mql_rule": {"column": "visits", "op": ">=", "value": 4}}
    section = lead_quality(leads, opps, extras, settings, "2023-01-01", "2023-12-31", "2024-12-31").section
    # per lead: the pandas reference, leads in lead_id order
    y = pd.Series(conv, index=leads.index)
    want = ref.score({"form": (pd.Series(form, index=leads.index), False)}, y,
                            pd.Series(created.normalize(), index=leads.index), False, 30)
    revenue = pd.Series(np.where(conv & (np.arange(n) % 2 == 1), won, 0.0), index=leads.index)
    same = ref.same_size_rule(want["_test"], pd.Series(visits >= 4, index=leads.index), revenue)
    got = section["score"]
    assert len({round(d["predicted"], 12) for d in got["deciles"]}) == 2   # ties across every edge
    assert [{**d, "predicted": 0} for d in got["deciles"]] == [{**d, "predicted": 0} for d in want["deciles"]]
    assert [d["predicted"] for d in got["deciles"]] == pytest.approx([d["predicted"] for d in want["deciles"]], rel=1e-12)
    assert section["same_size"] == same and 0 < same["size"] < same["test_leads"]
    assert section["same_size"]["score"]["won_revenue"] > 0


def test_the_split_breaks_ties_by_lead_id_and_a_bulk_load_takes_a_fixed_permutation():
    """Out of time: the newest 30% (rounded up) by created_at, ties by lead_id whatever the rows' order. One shared
    created_at: per class, the leads in lead_id order ranked r = 0, 1, ... are taken in the order of
    (r × 1103515245 + 12345) mod 2³¹, the first round(30%) of each class (counted here with Python integers)."""
    import ibis

    from helpers.metrics.lead_source import _split

    engine.duckdb_compat()
    ids = [f"L{i:03d}" for i in range(50)][::-1]                      # rows in reverse lead_id order
    day = [dt for dt in pd.to_datetime(["2024-01-01"] * 30 + ["2024-02-01"] * 20)]
    conv = [i % 5 == 0 for i in range(50)]
    t = ibis.memtable(pd.DataFrame({"lead_id": ids, "created": [d.date() for d in day], "converted": conv}))

    def test_ids(expr):
        return sorted(r["lead_id"] for r in expr.filter(~expr.train).to_pyarrow().to_pylist())
    # 15 test leads: the 20 of 2024-02-01 are ids[30:] (L019 ... L000), the newest 15 by (created, lead_id): L005 ... L019
    assert test_ids(_split(t, 50, sum(conv), False)) == [f"L{i:03d}" for i in range(5, 20)]
    want = []
    for cls in (True, False):
        members = sorted(i for i, c in zip(ids, conv) if c == cls)
        take = round(0.3 * len(members))
        ranked = sorted(range(len(members)), key=lambda r: (r * 1103515245 + 12345) % 2 ** 31)
        want += [members[r] for r in ranked[:take]]
    got = test_ids(_split(t, 50, sum(conv), True))
    assert got == sorted(want) and len(got) == round(0.3 * 10) + round(0.3 * 40)


def test_key_order_sorts_nulls_first_then_values_in_column_order():
    """The cells' order: the first column first, None before every value, text by code point, a dictionary column by
    its values (the order Python's sort of (is not None, value) tuples gives)."""
    from helpers.metrics.lead_engine import _key_order

    t = pa.table({"y": [1, 0, 0, 0, None], "a": pa.array(["b", None, "é", "a", "c"]).dictionary_encode(),
                  "f": [2.0, None, 1.0, 3.0, 0.5]})
    assert _key_order(t, ["y", "a", "f"]).to_pylist() == [4, 1, 3, 2, 0]
    assert _key_order(t, ["f", "y"]).to_pylist() == [1, 4, 2, 0, 3]
    rows = list(zip(*(t.column(c).to_pylist() for c in ("y", "a", "f"))))
    expected = sorted(range(5), key=lambda i: [(v is not None, v) for v in rows[i]])
    assert _key_order(t, ["y", "a", "f"]).to_pylist() == expected


def test_group_starts_of_equal_probabilities():
    """The score's groups of equal probability, highest first: where each starts in the ranked cells."""
    from helpers.metrics.lead_score_cells import _group_starts

    order, first = _group_starts(np.array([0.2, 0.5, 0.2, 0.9, 0.5]))
    assert order.tolist() == [3, 1, 4, 0, 2] and first.tolist() == [0, 1, 3]
    order, first = _group_starts(np.zeros(0))
    assert order.tolist() == [] and first.tolist() == []
