"""The sample's touches (data/sample/touches.csv): marketing and sales touches over the sample's leads and deals.

Drawn from a random stream of its own (``numpy.random.default_rng([seed, TOUCH_STREAM])``) after the other tables
are made, so adding touches changed no byte of the other sample files. The channels differ in effect by design
(data/sample/README.md says what the attribution models should find):

- every lead with touches gets the touch that created it (its own channel and campaign, on created_at), and
  0-3 ad / social touches in the 60 days before (anonymous visits later merged into the lead);
- nurture touches between the lead's creation and its opportunity (or 180 days): e-mail clicks and ad
  retargeting at the same rate for every lead (no effect), webinar attendance (`seminar`) far more often for leads
  whose deal is won (a strong effect), whitepaper downloads a little more often for leads that never convert;
- on the deals: sales meetings (`sales`), and case studies sent during the deal (touch_type content, opportunity_id
  set) on most won deals and on fewer lost ones;
- about 5% of leads have no touch recorded, and deals without a lead have none (the `no_touches` row).
No touch is dated after its deal's close or after as_of.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: The touches' own stream: default_rng([seed, TOUCH_STREAM]).
TOUCH_STREAM = 23
NO_TOUCHES_RECORDED = 0.05          # leads whose touches were never recorded
PRE_TOUCHES = 0.8                   # mean ad / social touches in the 60 days before a lead is created
EMAIL_CLICKS = 1.5                  # mean e-mail clicks per lead (same for all: no effect)
RETARGETING = 0.5                   # mean retargeting ad clicks per lead (same for all)
WEBINAR = {"won": 0.60, "lost": 0.22, "open": 0.30, "none": 0.10}   # P(attends a webinar while nurtured)
WHITEPAPER = {"converted": 0.35, "none": 0.70}                      # mean whitepaper downloads while nurtured
CASE_STUDY = {"won": 0.65, "lost": 0.25, "open": 0.35}               # P(a case study is sent during the deal)
CASE_STUDIES = ("導入事例: 製造業A社", "導入事例: IT企業B社", "導入事例: 商社C社")
WHITEPAPERS = ("ホワイトペーパー: SFA導入ガイド", "ホワイトペーパー: 営業DX事例集", "ホワイトペーパー: MA比較表")
WEBINARS = ("ウェビナー: SFA活用", "ウェビナー: 営業DX事例", "ウェビナー: 商談化率の上げ方")
FIRST_TYPE = {"web": "form", "whitepaper": "content", "seminar": "event", "exhibition": "event", "outbound": "call",
              "referral": "meeting"}


def _spread_days(rng, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """A uniform day in [first, last] per row (first when last is earlier)."""
    span = np.maximum((last - first).astype("int64"), 0)
    return first + np.floor(rng.random(len(first)) * (span + 1)).astype("int64").astype("timedelta64[D]")


def make_touches(leads: pd.DataFrame, opps: pd.DataFrame, seed: int, as_of: np.datetime64) -> pd.DataFrame:
    """touches.csv of the sample from the text frames of leads and opportunities (as written), sorted by touched_at.

    Vectorized (numpy): one block of draws per kind of touch, so a million leads take seconds."""
    rng = np.random.default_rng([seed, TOUCH_STREAM])
    lead = _lead_deals(leads, opps, as_of)
    recorded = rng.random(len(leads)) >= NO_TOUCHES_RECORDED
    parts = _draw_touches(rng, leads, lead, recorded, as_of)
    return _touch_table(rng, leads, pd.concat(parts, ignore_index=True))


def _lead_deals(leads: pd.DataFrame, opps: pd.DataFrame, as_of: np.datetime64) -> dict[str, np.ndarray]:
    """Per lead (arrays in the leads' order): its creation day `created`, `opp_ids` ("" without a deal), `has_opp`,
    the deal's `state` (won / lost / open, "none" without a deal), `opp_created` (NaT without one) and `end`, the
    day its deal closed (as_of while open or without a deal)."""
    n = len(leads)
    created = pd.to_datetime(leads["created_at"]).to_numpy().astype("datetime64[D]")
    opp_ids = leads["opportunity_id"].fillna("").astype(str).to_numpy()
    deal = opps.assign(opportunity_id=opps["opportunity_id"].astype(str)).set_index("opportunity_id")
    has_opp = opp_ids != ""
    o = deal.reindex(opp_ids[has_opp])
    state = np.full(n, "none", dtype=object)
    state[has_opp] = o["outcome"].to_numpy()
    opp_created = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    opp_created[has_opp] = pd.to_datetime(o["created_at"]).to_numpy().astype("datetime64[D]")
    end = np.full(n, as_of, dtype="datetime64[D]")
    closed = pd.to_datetime(o["closed_at"].replace("", None)).to_numpy().astype("datetime64[D]")
    end[has_opp] = np.where(np.isnat(closed), as_of, closed)
    return {"created": created, "opp_ids": opp_ids, "has_opp": has_opp, "state": state, "opp_created": opp_created, "end": end}


def _draw_touches(rng, leads: pd.DataFrame, lead: dict[str, np.ndarray], recorded: np.ndarray,
                  as_of: np.datetime64) -> list[pd.DataFrame]:
    """The touches of the leads whose touches were `recorded`, one frame per kind, in the order drawn (columns i: the
    lead's position, day, channel, campaign, touch_type, content, opportunity_id): before the lead, its creating touch,
    nurture until the deal (or 180 days), and on the deal (see the module's docstring)."""
    n = len(leads)
    created, opp_ids, has_opp, state = lead["created"], lead["opp_ids"], lead["has_opp"], lead["state"]
    opp_created, end = lead["opp_created"], lead["end"]
    parts = []

    def add(idx, days, channel, touch_type, campaign, content="", opportunity=None):
        parts.append(pd.DataFrame({"i": idx, "day": days, "channel": channel, "campaign": campaign, "touch_type": touch_type,
                                   "content": content, "opportunity_id": "" if opportunity is None else opportunity}))

    # before the lead existed: ad / social clicks in the 60 days before
    idx = np.repeat(np.arange(n), rng.poisson(PRE_TOUCHES, n) * recorded)
    ad = rng.random(len(idx)) < 0.7
    add(idx, created[idx] - rng.integers(1, 61, len(idx)).astype("timedelta64[D]"), np.where(ad, "ad", "social"), "ad_click",
        np.where(ad, "リスティング広告", "SNS広告"))
    # the touch that created the lead
    idx = np.flatnonzero(recorded)
    channel = leads["channel"].astype(str).to_numpy()[idx]
    campaign = leads["campaign"].fillna("").astype(str).to_numpy()[idx]
    add(idx, created[idx], channel, [FIRST_TYPE.get(c, "form") for c in channel], campaign,
        np.where(channel == "whitepaper", campaign, ""))
    # nurture: until the opportunity (or 180 days), never after as_of
    nurture_end = np.minimum(np.where(has_opp, opp_created, created + np.timedelta64(180, "D")), as_of)
    for mean, chan, kind, name in ((EMAIL_CLICKS, "email", "email_click", "メールマガジン"),
                                   (RETARGETING, "ad", "ad_click", "リターゲティング広告")):
        idx = np.repeat(np.arange(n), rng.poisson(mean, n) * recorded)
        add(idx, _spread_days(rng, created[idx], nurture_end[idx]), chan, kind, name)
    p_webinar = np.array([WEBINAR[x] for x in state])
    idx = np.flatnonzero(recorded & (rng.random(n) < p_webinar))
    add(idx, _spread_days(rng, created[idx], nurture_end[idx]), "seminar", "event",
        np.array(WEBINARS)[rng.integers(0, len(WEBINARS), len(idx))])
    mean_wp = np.where(has_opp, WHITEPAPER["converted"], WHITEPAPER["none"])
    idx = np.repeat(np.arange(n), rng.poisson(mean_wp) * recorded)
    names = np.array(WHITEPAPERS)[rng.integers(0, len(WHITEPAPERS), len(idx))]
    add(idx, _spread_days(rng, created[idx], nurture_end[idx]), "whitepaper", "content", names, names)
    # on the deal: sales meetings, and a case study sent during it (opportunity_id set)
    deal_end = np.minimum(end, as_of)
    on_deal = recorded & has_opp
    idx = np.repeat(np.arange(n), rng.integers(1, 3, n) * on_deal)
    add(idx, _spread_days(rng, opp_created[idx], deal_end[idx]), "sales", "meeting", "")
    p_case = np.array([CASE_STUDY.get(x, 0.0) for x in state])
    idx = np.flatnonzero(on_deal & (rng.random(n) < p_case))
    names = np.array(CASE_STUDIES)[rng.integers(0, len(CASE_STUDIES), len(idx))]
    add(idx, _spread_days(rng, opp_created[idx], deal_end[idx]), "sales", "content", "", names, opp_ids[idx])
    return parts


def _touch_table(rng, leads: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """touches.csv's rows from the drawn touches `frame`: a time of day on each touch's day (09:00 to 18:55, 5-minute
    steps, drawn from `rng`), the lead's id, sorted by touched_at then lead_id, touch ids T000001, ... in that order."""
    minutes = 9 * 60 + 5 * rng.integers(0, 120, len(frame))
    at = frame["day"].to_numpy().astype("datetime64[m]") + minutes.astype("timedelta64[m]")
    out = pd.DataFrame({"lead_id": leads["lead_id"].astype(str).to_numpy()[frame["i"].to_numpy()],
                        "touched_at": np.char.add(np.datetime_as_string(at, unit="m"), ":00"),
                        "channel": frame["channel"].to_numpy(), "campaign": frame["campaign"].to_numpy(),
                        "touch_type": frame["touch_type"].to_numpy(), "content": frame["content"].to_numpy(),
                        "opportunity_id": frame["opportunity_id"].to_numpy()})
    out = out.sort_values(["touched_at", "lead_id"], kind="stable").reset_index(drop=True)
    out.insert(0, "touch_id", [f"T{i:06d}" for i in range(1, len(out) + 1)])
    return out
