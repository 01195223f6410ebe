"""The lead-quality horizon H (contract section 5): how long a lead needs before "did not convert" means something.

Shared by lead quality (notebook 05) and the data-driven attribution models (notebook 06): a lead is
*observed* when ``as_of − created_at ≥ H``; younger leads are still in play and never count as lost.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from helpers.metrics.funnel import linked_pairs
from helpers.metrics.pipeline import day

#: H is never shorter than this many days.
MIN_HORIZON_DAYS = 30
#: H defaults to this quantile of lead → opportunity days.
HORIZON_QUANTILE = 0.9


def horizon_days(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, setting: int | None = None) -> int:
    """H in whole days: `setting` (``lead_quality.horizon_days``) when given, else the 90th percentile of lead →
    opportunity days over all history, at least 30.

    Days = opportunity created_at − lead created_at (calendar days) over the linked pairs
    (helpers.metrics.funnel.linked_pairs) whose opportunity exists on as_of; negative gaps (a deal created
    before its lead) count as 0. The percentile is numpy's linear one, rounded up to a whole day. Without any
    linked pair, H = 30 (the floor)."""
    if setting is not None:
        return int(setting)
    if leads is None or leads.empty or opps.empty:
        return MIN_HORIZON_DAYS
    pairs = linked_pairs(leads, opps)
    lead_day = pd.Series(pd.to_datetime(leads["created_at"]).dt.normalize().to_numpy(),
                         index=leads["lead_id"].astype(object).to_numpy())
    lead_day = lead_day[~lead_day.index.duplicated()]
    opp_day = pd.Series(pd.to_datetime(opps["created_at"]).dt.normalize().to_numpy(),
                        index=opps["opportunity_id"].astype(object).to_numpy())
    opp_day = opp_day[~opp_day.index.duplicated()]
    pairs = pairs[pairs["lead_id"].isin(lead_day.index) & pairs["opportunity_id"].isin(opp_day.index)]
    gaps = (opp_day.reindex(pairs["opportunity_id"]).to_numpy() - lead_day.reindex(pairs["lead_id"]).to_numpy())
    exists = opp_day.reindex(pairs["opportunity_id"]).to_numpy() <= np.datetime64(day(as_of))
    days = gaps[exists & ~pd.isna(gaps)].astype("timedelta64[D]").astype("int64")
    if len(days) == 0:
        return MIN_HORIZON_DAYS
    q = float(np.quantile(np.maximum(days, 0), HORIZON_QUANTILE))
    return max(MIN_HORIZON_DAYS, int(math.ceil(q)))
