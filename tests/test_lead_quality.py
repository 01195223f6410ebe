"""Lead quality (contract section 5): hand-computed figures on a small fixture, the horizon rule, the odds ratio
with Woolf's interval, Fisher's p, BH q, and an independent check of the score and the guard on random data."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from helpers.errors import ConfigError
from helpers.metrics import lead_conditions, lead_quality as lq, lead_score, lead_stats
from helpers.metrics.lead_section import lead_quality
import lead_reference as ref  # tests/lead_reference.py: the figures lead by lead

AS_OF = pd.Timestamp("2025-06-30")

#                id    created       channel    visits  opportunity (created, outcome, amount)
LEADS = [("L1", "2025-01-10", "web", 8, ("O1", "2025-01-20", "won", 1000.0)),     # flagged, converted
         ("L2", "2025-01-15", "web", 6, None),                                    # flagged, not converted
         ("L3", "2025-02-01", "web", 1, ("O3", "2025-02-11", "won", 500.0)),      # missed: converted, not flagged
         ("L4", "2025-02-10", "seminar", 7, ("O4", "2025-04-15", "lost", 300.0)),  # flagged; its deal came after 64 days
         ("L5", "2025-03-01", "seminar", 0, None),                                # neither
         ("L6", "2025-06-15", "web", 9, ("O6", "2025-06-20", "open", 100.0)),     # 15 days old: still in play
         ("L7", "2025-03-10", "seminar", 5, ("O7", "2025-03-20", "lost", 200.0))]  # flagged, converted (lost later)
RULE = {"any": [{"column": "web_visits", "op": ">=", "value": 5}]}


def fixture():
    leads = pd.DataFrame({"lead_id": [r[0] for r in LEADS], "created_at": pd.to_datetime([r[1] for r in LEADS]),
                          "channel": [r[2] for r in LEADS], "mql_at": pd.NaT,
                          "opportunity_id": [r[4][0] if r[4] else None for r in LEADS]})
    extras = pd.DataFrame({"web_visits": [str(r[3]) for r in LEADS]})
    opps = pd.DataFrame([{"opportunity_id": r[4][0], "created_at": pd.Timestamp(r[4][1]), "outcome": r[4][2],
                          "amount": r[4][3], "lead_id": r[0],
                          "closed_at": pd.Timestamp(r[4][1]) + pd.Timedelta(days=20) if r[4][2] != "open" else pd.NaT}
                         for r in LEADS if r[4]])
    return leads, opps, extras


def test_horizon_is_the_90th_percentile_of_lead_to_opportunity_days():
    leads, opps, _ = fixture()
    # days: L1 10, L3 10, L4 64, L6 5, L7 10 -> sorted 5, 10, 10, 10, 64; position 0.9 * 4 = 3.6 -> 10 + 0.6 * 54 = 42.4 -> 43
    assert lq.horizon_days(leads, opps, AS_OF) == 43
    # never shorter than 30 days
    assert lq.horizon_days(leads[leads["lead_id"] == "L1"], opps, AS_OF) == 30
    # no deal exists yet on as_of (the first, O1, is created on 2025-01-20): the floor, not a crash
    assert lq.horizon_days(leads, opps, pd.Timestamp("2025-01-15")) == 30


def test_horizon_counts_each_lead_once_at_its_first_deal():
    """A repeat customer's later deals are not its time to convert: H reads each lead's first opportunity."""
    leads, opps, _ = fixture()
    later = pd.DataFrame([{"opportunity_id": f"{o}b", "created_at": pd.Timestamp("2025-06-01"), "outcome": "open",
                           "amount": 1.0, "lead_id": lead, "closed_at": pd.NaT} for o, lead in (("O1", "L1"), ("O3", "L3"))])
    # days to the first deal: L1 10, L3 10, L4 64, L6 5, L7 10 -> 43 as above; with every pair (L1 142, L3 120 added)
    # the 90th percentile of 5, 10, 10, 10, 64, 120, 142 would be 120 + 0.4 * 22 = 128.8 -> 129
    assert lq.horizon_days(leads, pd.concat([opps, later], ignore_index=True), AS_OF) == 43


def test_observed_converted_and_still_in_play():
    leads, opps, _ = fixture()
    f = ref.lead_frame(leads, opps, AS_OF, horizon=30).set_index("lead_id")
    assert f["observed"].to_dict() == {"L1": True, "L2": True, "L3": True, "L4": True, "L5": True, "L6": False, "L7": True}
    # L4's opportunity came 64 days after the lead: not converted within H = 30; L6 converted but is still in play
    assert f["converted"].to_dict() == {"L1": True, "L2": False, "L3": True, "L4": False, "L5": False, "L6": True, "L7": True}
    assert f["won_revenue"].to_dict() == {"L1": 1000.0, "L2": 0.0, "L3": 500.0, "L4": 0.0, "L5": 0.0, "L6": 0.0, "L7": 0.0}
    # with H = 70, L4 converted too
    assert ref.lead_frame(leads, opps, AS_OF, horizon=70).set_index("lead_id").loc["L4", "converted"]


def test_bulk_loaded_created_at_every_lead_observed_and_converted_means_has_an_opportunity():
    leads, opps, _ = fixture()
    leads = leads.assign(created_at=pd.Timestamp("2025-01-01"))
    f = ref.lead_frame(leads, opps, "2025-01-05", horizon=30, bulk=True).set_index("lead_id")
    assert f["observed"].all()            # only 4 days old, yet observed: there is no real creation date
    assert f["converted"].sum() == 0      # no opportunity known by 2025-01-05
    f = ref.lead_frame(leads, opps, AS_OF, horizon=30, bulk=True).set_index("lead_id")
    assert f["converted"].to_dict() == {"L1": True, "L2": False, "L3": True, "L4": True, "L5": False, "L6": True, "L7": True}


def test_rule_audit_hand_computed():
    leads, opps, extras = fixture()
    r = lead_quality(leads, opps, extras, {"mql_rule": RULE, "horizon_days": 30}, "2025-01-01", "2025-03-31", AS_OF)
    a = r.section["mql_audit"]["period"]
    # observed L1..L5, L7; flagged (visits >= 5) L1, L2, L4, L7; converted L1, L3, L7; both L1, L7
    assert (a["observed"], a["flagged"], a["converted"], a["flagged_converted"]) == (6, 4, 3, 2)
    assert a["precision"] == pytest.approx(2 / 4) and a["recall"] == pytest.approx(2 / 3)
    assert a["base_rate"] == pytest.approx(3 / 6) and a["lift"] == pytest.approx((2 / 4) / (3 / 6))
    assert a["missed"] == {"count": 1, "won_revenue": 500.0}     # L3 and its won deal
    # Wilson 95% of 2/4: centre (p + z²/2n)/(1 + z²/n) = 0.5, half-width z·sqrt(p(1-p)/n + z²/4n²)/(1 + z²/n) = 0.34996
    assert (a["precision_low"], a["precision_high"]) == pytest.approx((0.150039, 0.849961), abs=1e-5)
    web, seminar = r.section["mql_audit"]["by_channel"]["web"], r.section["mql_audit"]["by_channel"]["seminar"]
    assert (web["precision"], web["recall"]) == (0.5, 0.5)       # flagged L1, L2; converted L1, L3
    assert (seminar["precision"], seminar["recall"]) == (0.5, 1.0)  # flagged L4, L7; converted L7
    assert r.section["observed_leads"] == 6 and r.section["still_in_play"] == 1
    assert r.section["mql_audit"]["rule"] == "web_visits >= 5"


def test_every_lead_flagged_recall_and_lift_are_null_all_flagged():
    a = ref.audit(pd.Series([True] * 4), pd.Series([True, False, False, True]), pd.Series([0.0] * 4))
    assert a["recall"] is None and a["lift"] is None
    assert a["null_reasons"] == {"recall": "all_flagged", "lift": "all_flagged"}
    assert a["precision"] == a["base_rate"] == 0.5
    none = ref.audit(pd.Series([False] * 3), pd.Series([True, False, False]), pd.Series([0.0] * 3))
    assert none["precision"] is None and none["null_reasons"]["precision"] == "nothing_flagged"


def test_odds_ratio_woolf_interval_and_fisher_p_hand_computed():
    r = lead_stats.odds_ratio(8, 12, 10, 70)
    se = math.sqrt(1 / 8 + 1 / 12 + 1 / 10 + 1 / 70)
    assert r["odds_ratio"] == pytest.approx(8 * 70 / (12 * 10))          # 4.6667
    assert (r["low"], r["high"]) == pytest.approx((4.6667 * math.exp(-1.959964 * se), 4.6667 * math.exp(1.959964 * se)), rel=1e-4)
    assert (r["low"], r["high"]) == pytest.approx((1.53295, 14.2063), rel=1e-4)
    # Fisher's exact p: sum of the hypergeometric probabilities of tables no more likely than the observed one
    rows, col, total = 20, 18, 100
    prob = [math.comb(col, k) * math.comb(total - col, rows - k) / math.comb(total, rows) for k in range(0, 19)]
    p = sum(x for x in prob if x <= prob[8] * (1 + 1e-7))
    assert r["p"] == pytest.approx(p, rel=1e-9)
    # a zero cell: 0.5 added to every cell
    z = lead_stats.odds_ratio(0, 10, 5, 20)
    assert z["odds_ratio"] == pytest.approx(0.5 * 20.5 / (10.5 * 5.5))
    assert math.isfinite(z["low"]) and math.isfinite(z["high"])


def test_bh_q_hand_computed():
    # sorted p 0.01, 0.03, 0.04, 0.20 -> p·m/rank 0.04, 0.06, 0.0533, 0.20 -> running minimum from the top
    assert lead_stats.bh_q([0.01, 0.04, 0.03, 0.20]) == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.20])


def test_conditions_table_one_value_against_all_others():
    values = pd.Series(["A"] * 20 + ["B"] * 78 + ["C"] * 2)
    converted = pd.Series([True] * 8 + [False] * 12 + [True] * 10 + [False] * 68 + [False] * 2)
    rows = ref.conditions({"size": (values, False)}, converted, min_leads=5)
    by_value = {r["value"]: r for r in rows}
    # C (2 leads) is folded into other, which has too few leads to be tested
    assert set(by_value) == {"A", "B"}
    a = by_value["A"]
    assert (a["n"], a["converted"], a["rate"]) == (20, 8, 0.4)
    assert a["odds_ratio"] == pytest.approx(8 * 70 / (12 * 10))        # against the 80 others: 10 converted, 70 not
    assert rows[0]["value"] == "A"                                      # sorted by odds ratio, largest first
    low, high = sorted(r["p"] for r in rows)                            # BH over the two values tested
    assert sorted(r["q"] for r in rows) == pytest.approx([min(2 * low, high), high])


def test_numeric_attribute_binned_in_quintiles_and_empty_is_a_value():
    values = pd.Series([float(x) for x in range(1, 11)] + [None])
    labels = lead_conditions.binned(values, True)
    assert labels.iloc[-1] == lead_conditions.EMPTY
    assert labels.iloc[:10].nunique() == 5


def test_settings_errors_name_the_column_and_list_the_existing_ones():
    leads, opps, extras = fixture()
    with pytest.raises(ConfigError) as err:
        lead_quality(leads, opps, extras, {"mql_rule": {"any": [{"column": "visits", "op": ">=", "value": 5}]}},
                     "2025-01-01", "2025-03-31", AS_OF)
    assert "'visits'" in str(err.value) and "web_visits" in err.value.fix and "channel" in err.value.fix
    with pytest.raises(ConfigError, match="'abc'.*holds numbers"):
        lead_quality(leads, opps, extras, {"mql_rule": {"column": "web_visits", "op": ">=", "value": "abc"}},
                     "2025-01-01", "2025-03-31", AS_OF)
    with pytest.raises(ConfigError, match="op '>=' needs a numeric column"):
        lead_quality(leads, opps, extras, {"mql_rule": {"column": "channel", "op": ">=", "value": 5}},
                     "2025-01-01", "2025-03-31", AS_OF)
    with pytest.raises(ConfigError, match="'segment'"):
        lead_quality(leads, opps, extras, {"attributes": ["segment"]}, "2025-01-01", "2025-03-31", AS_OF)
    late = lead_quality(leads, opps, extras, {"attributes": [{"column": "web_visits", "known": "after_contact"}],
                                               "mql_rule": RULE}, "2025-01-01", "2025-03-31", AS_OF)
    assert late.late_rule_columns == ["web_visits"] and late.section["late_rule_columns"] == ["web_visits"]


def test_settings_schema_names_a_bad_operator(tmp_path):
    from helpers.config import load_config

    (tmp_path / "workbook.yaml").write_text('lead_quality: {mql_rule: {column: web_visits, op: "=>", value: 5}}\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert "lead_quality.mql_rule" in str(err.value)
    (tmp_path / "workbook.yaml").write_text("lead_quality: {attributes: [{column: rating, known: later}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lead_quality.attributes"):
        load_config(tmp_path)


def test_no_score_with_too_few_leads_and_no_conditions_without_attributes():
    leads, opps, extras = fixture()
    r = lead_quality(leads, opps, None, {}, "2025-01-01", "2025-03-31", AS_OF)
    assert r.section["score"]["auc"] is None and r.section["score"]["null_reasons"]["auc"] == "too_few_observed"
    assert r.section["conditions"] == [] and r.section["null_reasons"]["conditions"] == "no_attributes"
    assert r.section["feedback"]["columns_missing"] == ["disqualified_at", "disqualify_reason", "recycled_at"]
    # without disqualified_at / recycled_at a turned-down MQL reads as pending: those counts are unknown, not 0
    feedback = ref.feedback

    mqls = pd.DataFrame({"lead_id": ["A", "B", "C"], "channel": ["web", "web", "seminar"],
                         "mql_at": pd.to_datetime(["2025-02-01", "2025-02-03", "2025-03-01"]),
                         "sql_at": pd.to_datetime(["2025-02-08", None, None])})
    period = feedback(mqls, "2025-01-01", "2025-03-31", "2025-06-30")["period"]
    assert (period["mqls"], period["accepted"], period["median_days_to_accept"]) == (3, 1, 7.0)
    for status in ("disqualified", "recycled", "pending"):
        assert period[status] is None and period[f"{status}_share"] is None
        assert period["null_reasons"][status] == "feedback_column_missing"


def test_a_rule_reads_in_the_report_language():
    from helpers.views.lead_views import rule_words

    rule = {"any": [{"column": "form_type", "op": "==", "value": "demo"},
                    {"all": [{"column": "web_visits", "op": ">=", "value": 5},
                             {"column": "industry", "op": "in", "value": ["IT", "SaaS"]}]}]}
    assert rule_words(rule, "en") == "Form type = demo or (Web visits ≥ 5 and Industry is one of IT, SaaS)"
    assert rule_words(rule, "ja") == "フォーム種別 = demo または (Web訪問数 ≥ 5 かつ 業種がIT, SaaSのいずれか)"
    assert rule_words({"column": "web_visits", "op": "<", "value": 2.5}, "en") == "Web visits < 2.50"


# --------------------------------------------------------------------------- independent check on random data
def planted(n=4000, seed=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    size = rng.choice(["S", "M", "L"], size=n, p=[0.5, 0.3, 0.2])
    logit = -1.6 + 0.9 * x + np.where(size == "L", 0.8, np.where(size == "M", 0.3, 0.0))
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    leaky = np.where(y, np.where(rng.random(n) < 0.9, "Hot", ""), np.where(rng.random(n) < 0.02, "Cold", ""))
    created = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 365, n)), unit="D"))
    attrs = {"x": (pd.Series(x), True), "size": (pd.Series(size, dtype=object), False),
             "status": (pd.Series(leaky, dtype=object).replace("", None), False)}
    return attrs, pd.Series(y), created


def test_guard_names_the_planted_leaky_column():
    attrs, y, _ = planted()
    suspect = ref.guard(attrs, {}, y)
    assert [s["attribute"] for s in suspect] == ["status"]
    assert suspect[0]["reason"] == "filled_after"
    # its one-attribute AUC, computed independently: score = the conversion rate of each lead's value
    from scipy.stats import mannwhitneyu

    labels = attrs["status"][0].fillna("(empty)")
    score = labels.map(y.groupby(labels).mean())
    u = mannwhitneyu(score[y], score[~y]).statistic
    assert suspect[0]["auc"] == pytest.approx(u / (y.sum() * (~y).sum()))
    assert suspect[0]["auc"] > 0.9


def test_score_auc_equals_mann_whitney_and_leak_would_inflate_it():
    from scipy.stats import mannwhitneyu

    attrs, y, created = planted()
    clean = {k: v for k, v in attrs.items() if k != "status"}
    r = ref.score(clean, y, created, bulk=False, min_leads=30)
    test = r["_test"]
    p, yt = test["p"].to_numpy(), test["y"].to_numpy()
    u = mannwhitneyu(p[yt], p[~yt]).statistic
    assert r["auc"] == pytest.approx(u / (yt.sum() * (~yt).sum()), rel=1e-12)
    assert r["auc_low"] < r["auc"] < r["auc_high"]
    assert r["test_leads"] == 1200 and r["split"] == "out_of_time"
    assert (test.index >= 2800).all()          # the newest 30% by created_at (rows are in date order)
    leaky = ref.score(attrs, y, created, bulk=False, min_leads=30)
    assert r["auc"] < 0.80 < 0.95 < leaky["auc"]   # with the leaky column the AUC would look near perfect
    # points = coefficient x 20 / ln 2: size L's true log odds ratio 0.8 -> about 23 points
    assert r["points"]["size"]["L"] == pytest.approx(0.8 * 20 / math.log(2), abs=8)


def test_delong_interval_matches_hanley_mcneil_roughly():
    rng = np.random.default_rng(1)
    y = rng.random(2000) < 0.3
    s = rng.normal(size=2000) + 1.0 * y
    area, low, high = lead_stats.delong_interval(s, y)
    n1, n0 = y.sum(), (~y).sum()
    q1, q2 = area / (2 - area), 2 * area ** 2 / (1 + area)
    se = math.sqrt((area * (1 - area) + (n1 - 1) * (q1 - area ** 2) + (n0 - 1) * (q2 - area ** 2)) / (n1 * n0))
    assert (high - low) / 2 == pytest.approx(1.96 * se, rel=0.1)


def test_grouped_auc_equals_the_auc_of_every_lead():
    pos, neg = np.array([5, 10, 4, 3, 8]), np.array([20, 15, 6, 30, 2])   # groups 1 and 2 tie at a rate of 0.4
    groups = np.concatenate([np.full(p + q, g) for g, (p, q) in enumerate(zip(pos, neg))])
    y = np.concatenate([np.r_[np.ones(p, bool), np.zeros(q, bool)] for p, q in zip(pos, neg)])
    rate = pos / (pos + neg)
    assert lead_conditions.grouped_auc(pos, neg) == pytest.approx(lead_stats.auc(rate[groups], y), rel=1e-12)


# --------------------------------------------------------------------------- a rank-deficient design (issue 22)
BLOCK = {"web": {"ads": 20, "search": 11}, "seminar": {"webinar A": 13, "webinar B": 7}, "exhibition": {"expo": 9}}
EFFECT = {"ads": -1.2, "search": -0.4, "webinar A": 0.3, "webinar B": 0.9, "expo": -0.1}


def nested(blocks=10, seed=3):
    """Campaigns nested in channels (expo is the whole exhibition channel), one region for all: 60 leads a block, the
    blocks in date order, so the newest 3 of 10 are the test set and the training counts are 7 blocks' (ads 140,
    webinar A 91, search 77, expo 63, webinar B 49; channels web 217, seminar 140, exhibition 63)."""
    rng = np.random.default_rng(seed)
    rows = [(b, ch, c) for b in range(blocks) for ch, camps in BLOCK.items() for c, k in camps.items() for _ in range(k)]
    channel = pd.Series([r[1] for r in rows], dtype=object)
    campaign = pd.Series([r[2] for r in rows], dtype=object)
    logit = campaign.map(EFFECT).to_numpy()
    y = pd.Series(rng.random(len(rows)) < 1 / (1 + np.exp(-logit)))
    created = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta([r[0] * 30 for r in rows], unit="D"))
    attrs = {"channel": (channel, False), "campaign": (campaign, False), "region": (pd.Series("JP", index=channel.index), False)}
    return attrs, y, created


def test_aliased_columns_are_dropped_deterministically_named_and_no_warning_escapes():
    import warnings

    import statsmodels.api as sm

    attrs, y, created = nested()
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # a SingularMatrixWarning (or any other) would fail the test
        r = ref.score(attrs, y, created, bulk=False, min_leads=30)
    assert r["test_leads"] == 180 and r["penalty"] is None
    # the columns: const, channel=seminar, channel=exhibition, campaign= webinar A, search, expo, webinar B; expo is
    # channel=exhibition itself, webinar B is channel=seminar less webinar A: each is the later of its aliased columns
    assert r["dropped"] == [
        {"code": "score_column_dropped", "variant": "constant", "attribute": "region", "value": None, "with": []},
        {"code": "score_column_dropped", "variant": "aliased", "attribute": "campaign", "value": "expo",
         "with": [{"attribute": "channel", "value": "exhibition"}]},
        {"code": "score_column_dropped", "variant": "aliased", "attribute": "campaign", "value": "webinar B",
         "with": [{"attribute": "channel", "value": "seminar"}]}]
    card = r["points"]
    assert set(card) == {"channel", "campaign"} and card["campaign"]["expo"] == card["campaign"]["webinar B"] == 0.0
    # the right points: a lead's points (channel + campaign) against the reference campaign equal an independent fit
    # on campaign alone (the same model: campaign determines channel), on the same training leads
    test = r["_test"]
    train = ~np.isin(np.arange(len(y)), test.index)
    camp = attrs["campaign"][0]
    X = pd.get_dummies(camp[train], dtype=float).drop(columns="ads")
    a = sm.GLM(y[train].astype(float).to_numpy(), sm.add_constant(X).to_numpy(), family=sm.families.Binomial()).fit()
    coef = dict(zip(X.columns, a.params[1:]))
    channel_of = {c: ch for ch, camps in BLOCK.items() for c in camps}
    for c in ("search", "webinar A", "webinar B", "expo"):
        total = card["channel"][channel_of[c]] + card["campaign"][c]
        assert total == pytest.approx(coef[c] * 20 / math.log(2), rel=1e-6, abs=1e-6), c
    # ... and the same predictions on the test leads
    Xt = pd.get_dummies(camp[~train], dtype=float).reindex(columns=X.columns, fill_value=0.0)
    assert test["p"].to_numpy() == pytest.approx(a.predict(sm.add_constant(Xt, has_constant="add").to_numpy()), rel=1e-6)


def test_the_scorecard_says_which_columns_were_left_out_in_both_languages():
    from helpers.views.lead_views import dropped_lines

    attrs, y, created = nested()
    notes = ref.score(attrs, y, created, bulk=False, min_leads=30)["dropped"]
    en = [dropped_lines(n, "en") for n in notes]
    ja = [dropped_lines(n, "ja") for n in notes]
    assert en[1][0].startswith("Campaign = expo is left out of the fit") and "Channel = " in en[1][0]
    assert en[0][0].startswith("region is left out of the score")   # a column without a label keeps its name
    assert "expo" in ja[1][0] and "推定から除きました" in ja[1][0] and ja[1][1].startswith("対処方法:")
    assert "webinar B" in en[2][0] and "0 points of its own" in en[2][0]


def test_the_fit_uses_a_seeded_sample_of_at_most_max_fit_leads(monkeypatch):
    """Beyond MAX_FIT_LEADS training leads the model is fitted on a seeded random sample of them (the glossary's rule;
    200,000 in the workbook, 1,000 here): the points equal an independent fit on exactly those leads, with the numbers
    standardized on every training lead."""
    import statsmodels.api as sm

    monkeypatch.setattr(ref, "MAX_FIT_LEADS", 1000)
    attrs, y, created = planted()
    clean = {k: v for k, v in attrs.items() if k != "status"}
    r = ref.score(clean, y, created, bulk=False, min_leads=30)
    assert (r["train_leads"], r["fit_leads"], r["test_leads"]) == (2800, 1000, 1200)
    train = np.arange(2800)                                   # rows are in date order: the oldest 70%
    rows = np.sort(np.random.default_rng(lead_score.SPLIT_SEED).choice(train, 1000, replace=False))
    x, size = clean["x"][0], clean["size"][0]
    mean, sd = x[train].mean(), x[train].std(ddof=0)
    X = np.column_stack([np.ones(len(rows)), (x[rows] - mean) / sd, size[rows] == "M", size[rows] == "L"]).astype(float)
    b = sm.GLM(y[rows].astype(float).to_numpy(), X, family=sm.families.Binomial()).fit().params
    scale = 20 / math.log(2)
    assert r["points"]["size"] == pytest.approx({"S": 0.0, "M": b[2] * scale, "L": b[3] * scale}, rel=1e-6)
    assert r["points"]["x"]["per_unit"] == pytest.approx(b[1] / sd * scale, rel=1e-6)


def test_no_score_with_fewer_than_30_converted():
    attrs, y, created = planted(n=400)
    few = pd.Series(np.r_[np.ones(29, bool), np.zeros(371, bool)])
    r = ref.score({"x": attrs["x"]}, few, created, bulk=False, min_leads=30)
    assert r["auc"] is None and r["points"] == {} and r["null_reasons"]["points"] == "too_few_converted"


def test_horizon_when_no_linked_lead_is_in_the_leads_table():
    """Deals linked only to lead ids the leads table lacks: no pair to measure, H is the 30-day floor (no error)."""
    leads, opps, _ = fixture()
    opps = opps.assign(lead_id="X" + opps["lead_id"])
    leads = leads.assign(opportunity_id=None)
    assert lq.horizon_days(leads, opps, AS_OF) == 30
