"""Attribution (contract section 6) on the hand-computed fixture of tests/attribution_fixture.py, and the
data-driven models against independent implementations (numpy absorbing-chain algebra, brute-force subsets)."""
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
import attribution_fixture as fx  # noqa: E402
import section6_reference as ref  # noqa: E402

from helpers.data.load import load_workbook  # noqa: E402
from helpers.errors import DataValidationError  # noqa: E402
from helpers.metrics import attribution as A  # noqa: E402
from helpers.metrics import attribution_paths as P  # noqa: E402

START, END, AS_OF = "2025-04-01", "2025-06-30", "2025-06-30"


@pytest.fixture(scope="module")
def wb(tmp_path_factory):
    return load_workbook(fx.write(tmp_path_factory.mktemp("attr")), as_of=AS_OF)


@pytest.fixture(scope="module")
def pairs(wb):
    return A.deal_touches(wb.touches, wb.leads, wb.opportunities, wb.as_of)


@pytest.fixture(scope="module")
def credits(wb, pairs):
    return A.position_credits(pairs, wb.opportunities, wb.leads, START, END, wb.as_of)


def deal(pairs, opp):
    return pairs[pairs["opportunity_id"] == opp].reset_index(drop=True)


def test_o1_touches_order_and_milestones(pairs):
    o1 = deal(pairs, "O1")
    # T08 (after close) and T09 (2024-01-01, more than 365 days before 2025-03-20) are left out;
    # T02 and T10 share 2025-03-20 10:00: touch_id as text puts T02 first; T11 is carried on the deal (opportunity_id O1)
    assert o1["touch_id"].tolist() == ["T01", "T05", "T02", "T10", "T06", "T11", "T07"]
    assert o1.loc[o1["FT"], "touch_id"].tolist() == ["T01"]
    assert o1.loc[o1["LC"], "touch_id"].tolist() == ["T05"]   # on the lead's created_at day 2025-03-01
    assert o1.loc[o1["OC"], "touch_id"].tolist() == ["T10"]   # the last on the deal's created_at day (after T02)
    assert o1.loc[o1["CW"], "touch_id"].tolist() == ["T07"]   # on the close day


def test_o1_position_credits(pairs):
    o1 = deal(pairs, "O1").set_index("touch_id")
    expected = {   # T01 web, T05 seminar, T02 email, T10 ad, T06 whitepaper, T11 sales, T07 seminar
        "first_touch": [1, 0, 0, 0, 0, 0, 0],
        "lead_creation": [0, 1, 0, 0, 0, 0, 0],
        "last_touch": [0, 0, 0, 1, 0, 0, 0],
        "linear": [1 / 7] * 7,
        "u_shaped": [0.4, 0.4, 0.04, 0.04, 0.04, 0.04, 0.04],          # the rest 0.2 over 5 touches (OC among them)
        "w_shaped": [0.3, 0.3, 0.025, 0.3, 0.025, 0.025, 0.025],       # the rest 0.1 over 4
        "full_path": [0.225, 0.225, 0.1 / 3, 0.225, 0.1 / 3, 0.1 / 3, 0.225],
    }
    order = ["T01", "T05", "T02", "T10", "T06", "T11", "T07"]
    for model, want in expected.items():
        assert o1.loc[order, model].tolist() == pytest.approx(want), model
    days_before_close = [115, 70, 51, 51, 39, 20, 0]   # 2025-05-10 minus each touch's day
    w = [2 ** (-d / 7) for d in days_before_close]
    assert o1.loc[order, "time_decay"].tolist() == pytest.approx([x / sum(w) for x in w])


def test_coinciding_milestones_and_no_rest(pairs):
    o2 = deal(pairs, "O2").set_index("touch_id")   # T20 web = FT = LC, T21 seminar = OC = CW
    assert o2.loc[["T20", "T21"], "u_shaped"].tolist() == pytest.approx([0.8, 0.2])   # FT+LC, the rest is T21
    assert o2.loc[["T20", "T21"], "w_shaped"].tolist() == pytest.approx([0.6 / 0.9, 0.3 / 0.9])   # no rest: scaled
    assert o2.loc[["T20", "T21"], "full_path"].tolist() == pytest.approx([0.5, 0.5])
    assert o2.loc[["T20", "T21"], "last_touch"].tolist() == [0, 1]


def test_file_order_breaks_ties_without_touch_id(wb):
    pairs = A.deal_touches(wb.touches, wb.leads, wb.opportunities, pd.Timestamp("2025-06-30"))
    o6 = deal(pairs, "O6")
    assert o6["channel"].tolist() == ["web", "email", "ad"]   # the two 06-29 10:00 touches in file order
    assert o6["full_path"].tolist() == pytest.approx([0.675, 0.1, 0.225])   # FT=LC=OC web, CW ad, the rest email


def test_won_credits_add_up_to_won_revenue_to_the_yen(credits):
    # won in 2025Q2: O1 1,000,000, O2 300,000, O4 200,001, O5 99,999 (no touches) = 1,600,000
    for model in A.POSITION_MODELS:
        won = credits[model]["won"]
        assert sum(r["revenue"] for r in won.values()) == 1_600_000, model
        assert won["no_touches"] == {"revenue": 99_999.0, "deals": 1.0}
        assert sum(r["deals"] for r in won.values()) == pytest.approx(4)
        pipe = credits[model]["pipeline"]   # created in 2025Q2: O4, O5, O6
        assert sum(r["amount"] for r in pipe.values()) == 700_000, model
    # linear by hand: O1 1,000,000/7 per touch, O2 150,000 each, O4 200,001 to sales; seminar holds the largest remainder
    assert {c: r["revenue"] for c, r in credits["linear"]["won"].items()} == {
        "ad": 142_857, "email": 142_857, "sales": 342_858, "seminar": 435_715, "web": 292_857, "whitepaper": 142_857,
        "no_touches": 99_999}
    assert {c: r["revenue"] for c, r in credits["first_touch"]["won"].items() if r["deals"]} == {
        "sales": 200_001, "web": 1_300_000, "no_touches": 99_999}
    assert {c: r["amount"] for c, r in credits["full_path"]["pipeline"].items() if r["deals"]} == {
        "ad": 90_000, "email": 40_000, "sales": 200_001, "web": 270_000, "no_touches": 99_999}


def test_allocate_keeps_the_total():
    assert A.allocate({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, 1.0, 0) == {"a": 1, "b": 0, "c": 0}
    assert A.allocate({"a": 10 / 3, "b": 20 / 3}, 10.0, 2) == {"a": 3.33, "b": 6.67}


def test_sourced_influenced_and_coverage(wb, pairs):
    mk = ["web", "seminar", "ad", "email", "whitepaper"]
    s = A.sourced_influenced(pairs, wb.opportunities, wb.leads, START, END, wb.as_of, mk)
    # won in P: O1 (FT web), O2 (FT web), O4 (FT sales), O5 (no touches)
    assert s["sourced"]["won"] == {"count": 2, "revenue": 1_300_000}
    assert s["influenced"]["won"] == {"count": 2, "revenue": 1_300_000}
    assert s["by_department"]["other"]["won"] == {"count": 1, "revenue": 200_001}
    assert s["by_department"]["no_touches"]["won"] == {"count": 1, "revenue": 99_999}
    # created in P: O4 (sales only), O5 (none), O6 (web, email, ad)
    assert s["sourced"]["pipeline"] == {"count": 1, "amount": 400_000}
    s2 = A.sourced_influenced(pairs, wb.opportunities, wb.leads, START, END, wb.as_of, ["seminar"])
    assert s2["sourced"]["won"] == {"count": 0, "revenue": 0}
    assert s2["influenced"]["won"] == {"count": 2, "revenue": 1_300_000}   # O1 and O2 have seminar touches
    c = A.coverage(pairs, wb.touches, wb.opportunities, wb.leads, START, END, wb.as_of)
    assert (c["won_deals_with_touches"], c["won_deals_without_touches"]) == (3, 1)
    assert c["won_revenue_with_touches"] == 1_500_001 and c["won_revenue_without_touches"] == 99_999
    assert c["won_revenue_share_with_touches"] == pytest.approx(1_500_001 / 1_600_000)
    assert (c["touches"], c["touches_unknown_lead"], c["touches_after_close"]) == (17, 0, 1)


def test_one_period_deal_figures_with_marketing_channels_serve_credits_coverage_and_sourced_influenced(wb, pairs):
    """The period's deal figures fetched once with the marketing channels (notebooks 00 and 06): the groups that credits
    and coverage read are those of the figures without channels, and sourced / influenced from them are the query's."""
    mk = ["web", "seminar", "ad", "email", "whitepaper"]
    args = (pairs, wb.opportunities, wb.leads, START, END, wb.as_of)
    plain, with_mk = A.period_deal_figures(*args), A.period_deal_figures(*args, marketing_channels=tuple(mk))
    channel_free = [k for k in plain if not any(g in k for g in ("_sourced_", "_influenced_", "_other_"))
                    and k != A.COUNTED_CHANNELS]
    # (won, pipe) x (known, all/touched/bare n, amount, known: the group's deals with an amount)
    assert set(plain) == set(with_mk) and len(channel_free) == 20
    assert {k: with_mk[k] for k in channel_free} == {k: plain[k] for k in channel_free}
    assert (plain["won_sourced_n"], with_mk["won_influenced_n"]) == (0, 2)
    # won in P: O1, O2 (FT web), O4 (FT sales), O5 (no touches): 3 touched, 1 bare, 2 sourced
    assert (with_mk["won_touched_n"], with_mk["won_bare_n"], with_mk["won_sourced_n"]) == (3, 1, 2)
    assert A.sourced_influenced(*args, mk, figures=with_mk) == A.sourced_influenced(*args, mk)
    assert A.sourced_influenced(*args, mk, figures=with_mk)["sourced"]["won"] == {"count": 2, "revenue": 1_300_000}
    assert A.coverage(pairs, wb.touches, wb.opportunities, wb.leads, START, END, wb.as_of, figures=with_mk) == \
        A.coverage(pairs, wb.touches, wb.opportunities, wb.leads, START, END, wb.as_of)
    assert A.position_credits(*args, figures=with_mk) == A.position_credits(*args)
    # figures counted with other channels would give another set's sourced deals: refused
    assert (plain[A.COUNTED_CHANNELS], with_mk[A.COUNTED_CHANNELS]) == (frozenset(), frozenset(mk))
    with pytest.raises(ValueError, match="counted with the marketing channels"):
        A.sourced_influenced(*args, mk, figures=plain)


def test_content_in_deals(wb, pairs):
    rows = {r["content"]: r for r in A.content_in_deals(pairs, wb.opportunities, START, END, wb.as_of)}
    # case study A: on O1 (won, after created), O3 (lost, after), O4 (won, after); guide: O1 (won, after), O3 (lost, before)
    assert rows["case study A"] == {"content": "case study A", "won_deals": 2, "lost_deals": 1, "win_rate": pytest.approx(2 / 3),
                                    "touches_before_created": 0, "touches_after_created": 3}
    assert rows["guide"]["touches_before_created"] == 1 and rows["guide"]["touches_after_created"] == 1


# --------------------------------------------------------------------------- input checks
def test_touch_findings(tmp_path, wb):
    codes = {f.code: f for f in wb.findings}
    assert codes["touch_after_close"].rows == (8,)   # T08 on 2025-05-11, O1 won 2025-05-10
    bad = fx.TOUCHES.replace("T09,L1,2024-01-01", "T09,L1,2024-13-01").replace("T20,L2", "T01,L2").replace("T21,L2", "T21,L9")
    with pytest.raises(DataValidationError) as err:
        load_workbook(fx.write(tmp_path / "bad", bad), as_of=AS_OF)
    found = {f.code: f for f in err.value.findings}
    assert found["bad_datetime"].rows == (9,) and found["bad_datetime"].column == "touched_at"
    assert found["duplicate_id"].rows == (4, 11) and found["duplicate_id"].file == "touches.csv"   # T01 on row 4 and its repeat
    assert found["touch_unknown_lead"].rows == (12,) and found["touch_unknown_lead"].values == ("L9",)


def test_multi_valued_channel_is_split(tmp_path):
    text = fx.TOUCHES + "T99,L5,2025-05-02,Paid Search;Webinar,Google Ads;Webinar Q2,,,\n"
    wb = load_workbook(fx.write(tmp_path / "multi", text), as_of=AS_OF)
    t = wb.touches
    part = t[t["touch_id"].astype(str).str.startswith("T99")]
    assert part["touch_id"].tolist() == ["T99#1", "T99#2"]
    assert part["channel"].astype(str).tolist() == ["Paid Search", "Webinar"]
    assert part["campaign"].tolist() == ["Google Ads", "Webinar Q2"]
    assert "Paid Search;Webinar" not in set(t["channel"].astype(str))
    split = next(f for f in wb.findings if f.code == "touches_split")
    assert split.rows == (19,) and split.count == 1 and split.params["touches"] == 2


# --------------------------------------------------------------------------- data-driven against independent implementations
def random_paths(seed, n=400, channels="abcde"):
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        length = int(rng.integers(1, 5))
        path = tuple(rng.choice(list(channels), size=length))
        p = 0.15 + 0.35 * ("b" in path) - 0.1 * ("e" in path)
        rows.append((path, bool(rng.random() < p)))
    return pd.DataFrame({"lead_id": range(n), "path": [r[0] for r in rows], "converted": [r[1] for r in rows],
                         "revenue": [100.0 if r[1] else np.nan for r in rows]})


def markov_reference(paths):
    """Absorbing Markov chain by hand: transition probabilities, then the fundamental matrix N = (I - Q)^-1."""
    channels = sorted({c for p in paths["path"] for c in p})
    states = ["start"] + channels + ["conv", "null"]
    ix = {s: i for i, s in enumerate(states)}
    counts = np.zeros((len(states), len(states)))
    for path, conv in zip(paths["path"], paths["converted"]):
        seq = ["start", *path, "conv" if conv else "null"]
        for a, b in zip(seq, seq[1:]):
            counts[ix[a], ix[b]] += 1

    def p_conv(removed=None):
        t = len(channels) + 1
        prob = counts[:t] / counts[:t].sum(axis=1, keepdims=True)
        q, r = prob[:, :t].copy(), prob[:, ix["conv"]].copy()
        if removed is not None:
            q[:, ix[removed]] = 0
        n = np.linalg.inv(np.eye(t) - q)
        return (n @ r)[0]

    base = p_conv()
    effects = {c: 1 - p_conv(c) / base for c in channels}
    total = sum(effects.values())
    return {c: e / total for c, e in effects.items()}


def shapley_reference(paths):
    """Shapley shares by brute force over every coalition, phi_i = sum |S|!(n-|S|-1)!/n! (v(S+i) - v(S)), divided by
    v(all channels): the independent computation of tests/section6_reference.py."""
    shares = ref.shapley([{"path": list(p), "converted": bool(c)} for p, c in zip(paths["path"], paths["converted"])])
    assert sum(shares.values()) == pytest.approx(1)   # efficiency: the values add up to v(all channels)
    return shares


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_markov_matches_reference(seed):
    paths = random_paths(seed)
    got = P.markov_shares(paths)
    want = markov_reference(paths)
    assert got == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shapley_matches_reference(seed):
    paths = random_paths(seed)
    got = P.shapley_shares(paths)
    want = shapley_reference(paths)
    assert got == pytest.approx(want, abs=1e-9)
    assert got["b"] > 0.3 and got["e"] < 0   # b raises conversion; e lowers it: a negative share, shown as such


def test_bootstrap_intervals_are_seeded_and_hold_the_point():
    paths = random_paths(4)
    a = P.data_driven(paths, samples=200)
    b = P.data_driven(paths, samples=200)
    assert a == b
    for model in ("markov", "shapley"):
        assert sum(r["share"] for r in a[model].values()) == pytest.approx(1)
        for r in a[model].values():
            assert r["low"] <= r["share"] <= r["high"]
            assert abs(r["revenue"] - r["share"] * a["revenue"]) < 1   # rounded to the yen by the largest remainder
        assert sum(r["revenue"] for r in a[model].values()) == a["revenue"]   # adding up exactly
    assert a["revenue"] == 100.0 * a["converted_paths"]


def test_few_converted_paths_give_no_shares():
    paths = random_paths(5, n=60)
    paths["converted"] = [i < 29 for i in range(60)]
    out = P.data_driven(paths, samples=10)
    assert out["markov"] == {} and out["shapley"] == {}
    assert out["null_reasons"] == {"markov": "few_converted_paths", "shapley": "few_converted_paths"}


def test_more_than_twelve_channels_fold_into_other():
    paths = random_paths(6, n=600, channels="abcdefghijklmno")
    folded, names = P.fold_channels(paths)
    kept = {c for p in folded["path"] for c in p}
    assert len(kept) == 12 and "other" in kept and len(names) == 4
    on = pd.Series([c for p in paths["path"] for c in set(p)]).value_counts()
    assert min(on[c] for c in kept - {"other"}) >= max(on[c] for c in names)
    assert P.data_driven(paths, samples=5)["folded"] == names


def test_lead_paths_cut_at_the_won_close(wb):
    paths = P.lead_paths(wb.touches, wb.leads, wb.opportunities, wb.as_of, horizon_days=30)
    got = {r.lead_id: (r.path, r.converted, r.revenue) for r in paths.itertuples()}
    # L1: its own touches up to O1's close 2025-05-10 (T08 after it left out), T11 carried on O1, in order
    assert got["L1"][0] == ("web", "web", "seminar", "email", "ad", "whitepaper", "sales", "seminar")
    assert got["L1"][1:] == (True, 1_000_000)
    assert got["L2"][0] == ("web", "seminar") and got["L3"][1] is False
    assert got["L5"][0] == ("web", "email", "ad") and got["L4"][0] == ("sales", "sales")   # L5: 71 days old, observed
    young = P.lead_paths(wb.touches, wb.leads, wb.opportunities, wb.as_of, horizon_days=90)
    assert set(young["lead_id"]) == {"L1", "L2", "L3", "L4"}   # L5 is younger than H = 90 days: still in play


def test_grouped_transitions_count_every_step(wb):
    grouped = P.path_counts(wb.touches, wb.leads, wb.opportunities, wb.as_of, 30)
    counts = P.transitions(grouped)
    paths = P.lead_paths(wb.touches, wb.leads, wb.opportunities, wb.as_of, 30)
    assert int(grouped["n"].sum()) == len(paths) == 5 and P.transitions(paths).to_dict() == counts.to_dict()
    expected = {}
    for path, conv in zip(paths["path"], paths["converted"]):
        seq = [P.START, *path, P.CONV if conv else P.NULL]
        for a, b in zip(seq, seq[1:]):
            expected[(a, b)] = expected.get((a, b), 0) + 1
    assert counts.to_dict() == expected
    # by hand: L1 web web seminar email ad whitepaper sales seminar (won), L2 web seminar (won), L3 whitepaper sales,
    # L4 sales sales, L5 web email ad: three paths start on web, two convert after seminar, L4 repeats sales once
    assert counts[(P.START, "web")] == 3 and counts[("seminar", P.CONV)] == 2 and counts[("sales", "sales")] == 1
    assert counts[("web", "web")] == 1 and counts[("ad", P.NULL)] == 1 and counts.sum() == 8 + 2 + 2 + 2 + 3 + 5


# --------------------------------------------------------------------------- the report's Definitions (notebook 06)
def test_definitions_of_notebook_06_match_the_glossary():
    """Every model's definition on the page starts with the glossary's weights, and its Japanese name is the glossary's
    term; every figure of the page is defined in both languages (the rendered page: tests/test_report_language.py)."""
    import re

    from helpers.labels import t
    from helpers.paths import PROJ_ROOT
    from helpers.views.definitions import PAGES, definitions

    text = (PROJ_ROOT / "docs" / "glossary.md").read_text(encoding="utf-8")
    rows = {m.group(1): (m.group(2).strip(), m.group(3).strip())
            for m in re.finditer(r"^\| `(\w+)` \| ([^|]+) \| ([^|]+) \|$", text, flags=re.M)}
    for model in A.POSITION_MODELS:
        ja_term, definition = rows[model]
        assert t(f"model_{model}", "ja") == ja_term, model
        weights = definition.split(" (")[0].split(":")[0] if model != "time_decay" else "2^(−days before"
        assert t(f"def_{model}", "en").startswith(weights), model
    for model, (weights, rest) in A.MILESTONE_WEIGHTS.items():   # the numbers of the code, in both languages
        for lang in ("en", "ja"):
            assert all(f"{w:g}" in t(f"def_{model}", lang) for w in [*weights.values(), rest] if w), (model, lang)
    keys = [key for _, key in PAGES["06_attribution"]]
    assert {"markov", "shapley", "attribution_interval", "marketing_sourced", "marketing_influenced", "touch_coverage",
            "no_touches_recorded", "content_in_deals"} <= set(keys) and set(A.POSITION_MODELS) <= set(keys)
    for lang in ("en", "ja"):
        lines = definitions("06_attribution", lang)
        assert len(lines) == len(keys) and all("{" not in line and "_" not in line for line in lines)


def test_after_close_through_the_lead_or_the_deal_carried(wb):
    """A touch is after close when dated after the earliest close of the won/lost deals it is linked to: through its
    lead (T08: L1's O1 closed 2025-05-10) or through the deal it carries (L4 has no deal; O4 closed 2025-06-20)."""
    from helpers.data.touches import after_close

    extra = pd.DataFrame({"touch_id": ["X1", "X2", "X3"], "lead_id": ["L4", "L4", "L3"],
                          "touched_at": pd.to_datetime(["2025-06-21 00:00", "2025-06-20 23:00", "2025-06-02 00:00"]),
                          "channel": ["sales"] * 3, "opportunity_id": ["O4", "O4", None]})
    touches = pd.concat([wb.touches, extra], ignore_index=True)
    late = after_close(touches, wb.leads, wb.opportunities)
    assert touches.loc[late, "touch_id"].tolist() == ["T08", "X1", "X3"]   # X2: on the close day; X3: L3's O3 lost 06-01


# --------------------------------------------------------------------------- found by the independent computation
def test_allocate_ties_survive_float_noise():
    """Remainders equal in exact arithmetic tie, and the key decides, even when the float sums differ in the last bits
    (DuckDB sums a third of 1,000,000 and 375,000 + a third in any order): email before whitepaper."""
    third = 1_000_000 * (0.1 / 3)
    values = {"whitepaper": 375_000 + third, "email": third - 1e-9}
    assert A.allocate(values, 441_667.0) == {"whitepaper": 408_333.0, "email": 33_334.0}


def test_a_period_without_wins_adds_up_to_zero(wb, pairs):
    """2025Q1 of the fixture: nothing won (won_revenue 0), so every won column is the no_touches row at 0, not None;
    the pipeline created in Q1 (O1 1,000,000, O2 300,000, O3 500,000) keeps its amounts."""
    q1 = A.position_credits(pairs, wb.opportunities, wb.leads, "2025-01-01", "2025-03-31", wb.as_of)
    for model in A.POSITION_MODELS:
        assert q1[model]["won"] == {"no_touches": {"revenue": 0.0, "deals": 0.0}}, model
        assert sum(r["amount"] for r in q1[model]["pipeline"].values()) == 1_800_000, model
    s = A.sourced_influenced(pairs, wb.opportunities, wb.leads, "2025-01-01", "2025-03-31", wb.as_of, ["web"])
    assert s["sourced"]["won"] == {"count": 0, "revenue": 0.0} and s["sourced"]["pipeline"] == {"count": 2, "amount": 1_300_000}
    c = A.coverage(pairs, wb.touches, wb.opportunities, wb.leads, "2025-01-01", "2025-03-31", wb.as_of)
    assert (c["won_revenue_with_touches"], c["won_revenue_share_with_touches"]) == (0.0, None)


def test_a_deal_of_two_converted_leads_is_won_revenue_once(tmp_path):
    """Two leads of one won deal (a buying committee) are two converted paths; the money their shares split is the
    deal's amount once: 1,000,000 + 500,000, not 2,500,000."""
    folder = tmp_path / "committee"
    folder.mkdir()
    (folder / "leads.csv").write_text("lead_id,created_at,channel,opportunity_id\nA,2025-01-10,web,O1\n"
                                      "B,2025-01-20,seminar,O1\nC,2025-02-01,web,O2\n", encoding="utf-8")
    (folder / "opportunities.csv").write_text("opportunity_id,created_at,closed_at,outcome,amount,lead_id\n"
                                              "O1,2025-02-01,2025-03-01,won,1000000,A\n"
                                              "O2,2025-02-10,2025-03-10,won,500000,C\n", encoding="utf-8")
    (folder / "touches.csv").write_text("touch_id,lead_id,touched_at,channel\nT1,A,2025-01-10,web\nT2,B,2025-01-20,seminar\n"
                                        "T3,C,2025-02-01,web\n", encoding="utf-8")
    wb = load_workbook(folder, as_of="2025-06-30")
    paths, revenue = P.path_figures(wb.touches, wb.leads, wb.opportunities, wb.as_of, 30)
    assert int(paths["n"].sum()) == 3 and bool(paths["converted"].all())
    assert revenue == 1_500_000
    section = P.attribution_section(wb, "2025-01-01", "2025-03-31", samples=10)
    assert section["data_driven"]["revenue"] == 1_500_000 and section["data_driven"]["converted_paths"] == 3


def test_touch_id_count_skips_empty_cells():
    """The repeated-id count (distinct hashes in DuckDB) sees a repeat and never counts empty ids as repeats (an empty
    lead_id or opportunity_id is never unknown either: tests/test_checks_engine.py pins the engine's findings)."""
    from helpers.data.touches import _distinct

    assert _distinct(pd.Series(["T1", "T2", None, None], dtype="str"))
    assert not _distinct(pd.Series(["T1", "T2", "T1"], dtype="str"))
    assert _distinct(pd.Series([None, None], dtype=object))


def test_coverage_on_a_source_is_the_hand_computed_one_and_shares_the_pairs_with_notebook_06(wb):
    """Notebook 00's coverage (coverage_of) on a source of its own gives the fixture's figures; after notebook 06's
    attribution_of on the same source, both read one kept pairs table and one count of the touches (the memo)."""
    from helpers.metrics import engine as E
    from helpers.metrics.core import workbook_source

    source = workbook_source(wb)
    c = P.coverage_of(source, wb.config, wb.as_of, START, END)
    assert (c["won_deals_with_touches"], c["won_deals_without_touches"]) == (3, 1)
    assert c["won_revenue_with_touches"] == 1_500_001 and c["won_revenue_without_touches"] == 99_999
    assert (c["touches"], c["touches_unknown_lead"], c["touches_after_close"]) == (17, 0, 1)
    section = P.attribution_of(source, wb.config, wb.as_of, START, END, samples=20)
    assert section["coverage"] == c
    kept = [v for v in source._memo.values() if isinstance(v, E.KeptTable)]
    assert len(kept) == 1   # the bulk stamp is not set in the fixture: notebook 06 reads notebook 00's pairs
    assert [k[0] for k in source._memo].count("attribution_touch_counts") == 1
    # a later period of the same source: the same pairs table, its own deal figures (O3 won in July: none in P)
    later = P.coverage_of(source, wb.config, wb.as_of, "2025-07-01", "2025-09-30")
    assert later["won_deals_with_touches"] + later["won_deals_without_touches"] == 0
    assert len([v for v in source._memo.values() if isinstance(v, E.KeptTable)]) == 1


def test_pairs_too_many_to_keep_are_computed_for_each_period_with_the_same_figures(wb, monkeypatch):
    """Past KEEP_PAIRS rows (at 10M leads the table would be held through notebook 05's peak) no pairs table stays in
    the source's memo; the coverage and the credits are those of a source that keeps it."""
    from helpers.metrics import engine as E
    from helpers.metrics.core import workbook_source

    keeping = workbook_source(wb)
    expected = P.attribution_of(keeping, wb.config, wb.as_of, START, END, samples=20)
    monkeypatch.setattr(P, "KEEP_PAIRS", 0)
    source = workbook_source(wb)
    c = P.coverage_of(source, wb.config, wb.as_of, START, END)
    section = P.attribution_of(source, wb.config, wb.as_of, START, END, samples=20)
    assert not [v for v in source._memo.values() if isinstance(v, E.KeptTable)]
    assert c == section["coverage"] == expected["coverage"]
    assert section["models"] == expected["models"]
    assert section["models"]["linear"]["won"][A.NO_TOUCHES]["revenue"] == 99_999   # O5: won in P without a touch


# O1 (lead L1, created 2025-01-10, won 2025-02-20 at 100) and O2 (lead L2, created 2025-04-05, won 2025-05-10, no
# amount), one touch on each lead. 2025Q2: the only deal won (and the only one created) is O2, without an amount: every
# channel's credit in money is unknown, so the Total is n/a with the reason under the table, never ¥0. 2025Q1: O1's 100.
UNPRICED_LEADS = "lead_id,created_at,channel,opportunity_id\nL1,2025-01-05,web,O1\nL2,2025-04-01,seminar,O2\n"
UNPRICED_OPPS = ("opportunity_id,created_at,closed_at,outcome,amount,lead_id\n"
                 "O1,2025-01-10,2025-02-20,won,100,L1\nO2,2025-04-05,2025-05-10,won,,L2\n")
UNPRICED_TOUCHES = ("touch_id,lead_id,touched_at,channel,campaign,touch_type,content,opportunity_id\n"
                    "T1,L1,2025-01-05,web,,form,,\nT2,L2,2025-04-01,seminar,,event,,\n")


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_models_total_is_na_when_no_deal_of_the_period_has_an_amount(tmp_path, lang):
    import html

    from helpers.labels import t
    from helpers.report.session import open_session
    from helpers.views import attribution_views as av

    for name, text in (("leads.csv", UNPRICED_LEADS), ("opportunities.csv", UNPRICED_OPPS), ("touches.csv", UNPRICED_TOUCHES)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    na = t("not_available", lang)
    for kind, code in (("won", "won_amounts_missing"), ("pipeline", "created_amounts_missing")):
        s = open_session(str(tmp_path), period="2025Q2", lang=lang, theme=False)
        a = av.compute(s)
        assert all(c["revenue" if kind == "won" else "amount"] is None
                   for c in a.section["models"]["first_touch"][kind].values())
        text = av.models_table(s, a, kind).data
        total = text[text.index(f"<td>{t('total', lang)}</td>"):].split("</tr>")[0]
        assert total.count(f"<td>{na}</td>") == len(A.POSITION_MODELS) and ">¥0</td>" not in text
        assert text.count(html.escape(t(f"reason_{code}", lang))) == 1   # once, not beside the no-touches sentence
        assert t("attribution_unpriced_no_touches", lang).split("{")[0] not in text
        s1 = open_session(str(tmp_path), period="2025Q1", lang=lang, theme=False)
        text1 = av.models_table(s1, av.compute(s1), kind).data
        total1 = text1[text1.index(f"<td>{t('total', lang)}</td>"):].split("</tr>")[0]
        assert total1.count(">¥100</td>") == len(A.POSITION_MODELS) and t(f"reason_{code}", lang) not in text1
