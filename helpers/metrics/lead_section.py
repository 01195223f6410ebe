"""The `lead_quality` section of metrics.json (contract section 5): what it holds (:class:`LeadQuality`, defined in
helpers.metrics.lead_quality so that helpers.metrics.lead_source builds it without importing this module) and its
signature over pandas frames.

:func:`lead_quality` takes the leads, opportunities, extra lead columns and the ``lead_quality`` settings and
returns a :class:`LeadQuality`: the section as metrics.json records it, plus what the views and the explorer reuse.
It wraps the frames in a helpers.metrics.source.FrameSource and computes on it with
helpers.metrics.lead_source.lead_quality_of, as notebook 05 does on its session's source (a folder's or a
warehouse's: one code path).
"""
from __future__ import annotations

import pandas as pd

# the section's shape lives in lead_quality (lead_source builds it); public here as before
from helpers.metrics.lead_quality import MIN_LEADS, LeadQuality, bulk_created, empty_section  # noqa: F401  (bulk_created: public here too)
from helpers.metrics.lead_source import lead_quality_of
from helpers.metrics.pipeline import dates, day
from helpers.metrics.source import FrameSource


def lead_quality(leads: pd.DataFrame | None, opps: pd.DataFrame, extras: pd.DataFrame | None, settings: dict,
                 start, end, as_of, warning_codes=()) -> LeadQuality:
    """The whole lead-quality section for the period [start, end] (see the module docs of lead_quality,
    lead_conditions, lead_score, lead_feedback and lead_source for each figure), computed on the frames in the
    in-process DuckDB. ConfigError when the settings name a column the leads lack, or the written rule does not fit
    the data."""
    if leads is None or not len(leads):
        return LeadQuality(empty_section("no_leads"))
    return lead_quality_of(FrameSource(leads, opps, extras=extras), settings, start, end, as_of, warning_codes)
