"""The `lead_quality` section of metrics.json (contract section 5): what it holds (:class:`LeadQuality`) and its
signature over pandas frames.

:func:`lead_quality` takes the leads, opportunities, extra lead columns and the ``lead_quality`` settings and
returns a :class:`LeadQuality`: the section as metrics.json records it, plus what the views and the explorer reuse.
It wraps the frames in a helpers.metrics.source.FrameSource and computes on it with
helpers.metrics.lead_source.lead_quality_of, as notebook 05 does on its session's source (a folder's or a
warehouse's: one code path).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers.metrics.pipeline import dates, day

#: Default smallest number of leads a value needs to be tested on its own (`lead_quality.min_leads`).
MIN_LEADS = 30


@dataclass
class LeadQuality:
    """The section and what the views need besides it."""

    section: dict
    frame: object = None                        # helpers.metrics.lead_source.lead_rows: one row per lead (an expression)
    attrs: dict = field(default_factory=dict)   # {name: (its values, an expression of frame; numeric)} of every attribute
    known: dict = field(default_factory=dict)   # {name: before_contact | after_contact}
    late_rule_columns: list = field(default_factory=list)   # after_contact columns the written rule uses
    rule: dict | None = None
    columns: dict = field(default_factory=dict)  # {column: numeric} of the columns frame holds (attributes, rule, channel)
    source: object = None                       # the helpers.metrics.source.Source the figures came from


def bulk_created(leads: pd.DataFrame, as_of, warning_codes=()) -> bool:
    """True when the leads' created_at is a bulk-load stamp: one day for every lead (of at least two), or the
    load/ingest said so (warning ``one_created_at`` about the leads)."""
    created = dates(leads, "created_at")
    created = created[created <= day(as_of)].dropna()
    return (len(created) >= 2 and created.nunique() == 1) or "one_created_at:leads" in set(warning_codes)


def empty_section(reason: str) -> dict:
    """The section when nothing can be said (no leads table): every part null with the reason."""
    return {"horizon_days": None, "observed_leads": None, "still_in_play": None,
            "mql_audit": None, "conditions": [], "suspect": [], "score": None, "feedback": None,
            "null_reasons": {"lead_quality": reason}}


def lead_quality(leads: pd.DataFrame | None, opps: pd.DataFrame, extras: pd.DataFrame | None, settings: dict,
                 start, end, as_of, warning_codes=()) -> LeadQuality:
    """The whole lead-quality section for the period [start, end] (see the module docs of lead_quality,
    lead_conditions, lead_score, lead_feedback and lead_source for each figure), computed on the frames in the
    in-process DuckDB. ConfigError when the settings name a column the leads lack, or the written rule does not fit
    the data."""
    from helpers.metrics.lead_source import lead_quality_of
    from helpers.metrics.source import FrameSource

    if leads is None or not len(leads):
        return LeadQuality(empty_section("no_leads"))
    return lead_quality_of(FrameSource(leads, opps, extras=extras), settings, start, end, as_of, warning_codes)
