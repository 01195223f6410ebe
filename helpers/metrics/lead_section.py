"""The `lead_quality` section of metrics.json (contract section 5), put together from its parts.

:func:`lead_quality` takes the leads, opportunities, extra lead columns and the ``lead_quality`` settings and
returns a :class:`LeadQuality`: the section as metrics.json records it, plus the per-lead frame the views and
the explorer reuse (nothing is computed twice).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers.metrics import lead_conditions, lead_feedback, lead_quality as lq, lead_score
from helpers.metrics.pipeline import dates, day

#: Default smallest number of leads a value needs to be tested on its own (`lead_quality.min_leads`).
MIN_LEADS = 30


@dataclass
class LeadQuality:
    """The section and what the views need besides it."""

    section: dict
    frame: pd.DataFrame | None = None           # lq.lead_frame plus `flagged` and `in_period`
    attrs: dict = field(default_factory=dict)   # {name: (values, numeric)} of every attribute, all leads
    known: dict = field(default_factory=dict)   # {name: before_contact | after_contact}
    late_rule_columns: list = field(default_factory=list)   # after_contact columns the written rule uses
    rule: dict | None = None
    columns: dict = field(default_factory=dict)  # every lead column a rule may use, by name


def bulk_created(leads: pd.DataFrame, as_of, warning_codes=()) -> bool:
    """True when the leads' created_at is a bulk-load stamp: one day for every lead (of at least two), or the
    load/ingest said so (warning ``one_created_at`` about the leads)."""
    created = dates(leads, "created_at")
    created = created[created <= day(as_of)].dropna()
    return (len(created) >= 2 and created.nunique() == 1) or "one_created_at:leads" in set(warning_codes)


def _aligned(values: pd.Series, index: pd.Index) -> pd.Series:
    """`values` on the rows of `index` (no copy when they are already those rows)."""
    return values if values.index.equals(index) else values.reindex(index)


def empty_section(reason: str) -> dict:
    """The section when nothing can be said (no leads table): every part null with the reason."""
    return {"horizon_days": None, "observed_leads": None, "still_in_play": None,
            "mql_audit": None, "conditions": [], "suspect": [], "score": None, "feedback": None,
            "null_reasons": {"lead_quality": reason}}


def _audits(frame: pd.DataFrame, rule_text: str | None) -> dict:
    obs = frame[frame["observed"]]
    cohort = obs[obs["in_period"]]

    def run(rows):
        return lq.audit(rows["flagged"], rows["converted"], rows["won_revenue"])

    def by_channel(rows):   # channels by name, each with at least one lead
        groups = sorted(((str(ch), g) for ch, g in rows.groupby("channel", observed=True, sort=False)), key=lambda x: x[0])
        return {ch: run(g) for ch, g in groups}
    return {"rule": rule_text, "rule_in_use": rule_text is None,
            "period": run(cohort), "all_history": run(obs),
            "by_channel": by_channel(cohort), "by_channel_all_history": by_channel(obs)}


def lead_quality(leads: pd.DataFrame | None, opps: pd.DataFrame, extras: pd.DataFrame | None, settings: dict,
                 start, end, as_of, warning_codes=()) -> LeadQuality:
    """The whole lead-quality section for the period [start, end] (see the module docs of lead_quality,
    lead_conditions, lead_score and lead_feedback for each figure). ConfigError when the settings name a
    column the leads lack, or the written rule does not fit the data."""
    if leads is None or not len(leads):
        return LeadQuality(empty_section("no_leads"))
    settings = settings or {}
    min_leads = int(settings.get("min_leads") or MIN_LEADS)
    columns = lq.lead_columns(leads, extras)
    specs = lq.attribute_specs(settings, columns)
    rule = settings.get("mql_rule")
    late = lq.check_rule(rule, columns, specs) if rule else []
    bulk = bulk_created(leads, as_of, warning_codes)
    horizon = lq.horizon_days(leads, opps, as_of, settings.get("horizon_days"))
    frame = lq.lead_frame(leads, opps, as_of, horizon, bulk)
    frame["flagged"] = (lq.evaluate_rule(rule, columns).reindex(frame.index).fillna(False).astype(bool) if rule
                        else frame["mql_in_horizon"])
    frame["in_period"] = (frame["created_at"] >= day(start)) & (frame["created_at"] <= min(day(end), day(as_of)))
    attrs = {a.column: (_aligned(columns.typed(a.column)[0], frame.index), a.numeric) for a in specs}
    known = {a.column: a.known for a in specs}
    obs = frame["observed"]
    conv = frame.loc[obs, "converted"]
    observed_attrs = {k: (v[obs.to_numpy()], n) for k, (v, n) in attrs.items()}
    counts = lead_conditions.attribute_counts(observed_attrs, conv)   # every attribute's value counts, one aggregate
    suspect = lead_conditions.guard(observed_attrs, known, conv, counts)
    explicit = {a.column for a in specs if a.explicit and a.known == "before_contact"}
    left_out = {s["attribute"] for s in suspect} - explicit
    clean = {k: v for k, v in observed_attrs.items() if k not in left_out and known[k] == "before_contact"}
    score = lead_score.score(clean, conv, frame.loc[obs, "created_at"], bulk, min_leads)
    test = score.pop("_test", None)
    section = {
        "horizon_days": None if bulk else int(horizon), "bulk_created_at": bulk,
        "observed_leads": int(obs.sum()), "still_in_play": int((~obs).sum()),
        "period_observed_leads": int((obs & frame["in_period"]).sum()),
        "period_still_in_play": int((~obs & frame["in_period"]).sum()),
        "attributes": [{"attribute": a.column, "known": a.known, "numeric": a.numeric, "explicit": a.explicit} for a in specs],
        "min_leads": min_leads,
        "mql_audit": _audits(frame, lq.rule_text(rule)),
        "conditions": lead_conditions.conditions(clean, conv, min_leads, counts),
        "suspect": suspect, "score": score,
        "same_size": lead_score.same_size_rule(test, frame["flagged"], frame["won_revenue"]),
        "feedback": lead_feedback.feedback(leads, start, end, as_of),
        "late_rule_columns": late, "null_reasons": {},
    }
    if not clean:
        section["null_reasons"]["conditions"] = "no_attributes" if not specs else "no_clean_attributes"
    return LeadQuality(section, frame, attrs, known, late, rule, columns)
