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


def _at(rng, day: np.datetime64) -> str:
    """A time on `day` between 09:00 and 18:55 as ISO text (minutes in steps of 5)."""
    minutes = int(9 * 60 + 5 * rng.integers(0, 120))
    return f"{day}T{minutes // 60:02d}:{minutes % 60:02d}:00"


def _days_between(rng, first: np.datetime64, last: np.datetime64, n: int) -> list[np.datetime64]:
    span = max(int((last - first).astype(int)), 0)
    return [first + np.timedelta64(int(rng.integers(0, span + 1)), "D") for _ in range(n)]


def make_touches(leads: pd.DataFrame, opps: pd.DataFrame, seed: int, as_of: np.datetime64) -> pd.DataFrame:
    """touches.csv of the sample from the text frames of leads and opportunities (as written), sorted by touched_at."""
    rng = np.random.default_rng([seed, TOUCH_STREAM])
    deal = opps.set_index("opportunity_id")
    rows = []

    def add(lead, when, channel, touch_type, campaign="", content="", opportunity=""):
        rows.append((lead, when, channel, campaign, touch_type, content, opportunity))

    for lead, created, channel, campaign, opp in zip(leads["lead_id"], leads["created_at"], leads["channel"],
                                                     leads["campaign"], leads["opportunity_id"]):
        if rng.random() < NO_TOUCHES_RECORDED:
            continue
        created = np.datetime64(created)
        o = deal.loc[opp] if opp else None
        state = "none" if o is None else o["outcome"]
        opp_created = np.datetime64(o["created_at"]) if o is not None else None
        end = np.datetime64(o["closed_at"]) if o is not None and o["closed_at"] else as_of
        for day in _days_between(rng, created - np.timedelta64(60, "D"), created - np.timedelta64(1, "D"),
                                 int(rng.poisson(PRE_TOUCHES))):
            ad = rng.random() < 0.7
            add(lead, _at(rng, day), "ad" if ad else "social", "ad_click", "リスティング広告" if ad else "SNS広告")
        add(lead, _at(rng, created), channel, FIRST_TYPE.get(channel, "form"), campaign,
            campaign if channel == "whitepaper" else "")
        nurture_end = min(opp_created if opp_created is not None else created + np.timedelta64(180, "D"), as_of)
        for day in _days_between(rng, created, nurture_end, int(rng.poisson(EMAIL_CLICKS))):
            add(lead, _at(rng, day), "email", "email_click", "メールマガジン")
        for day in _days_between(rng, created, nurture_end, int(rng.poisson(RETARGETING))):
            add(lead, _at(rng, day), "ad", "ad_click", "リターゲティング広告")
        if rng.random() < WEBINAR[state]:
            topic = WEBINARS[int(rng.integers(len(WEBINARS)))]
            add(lead, _at(rng, _days_between(rng, created, nurture_end, 1)[0]), "seminar", "event", topic)
        wp = WHITEPAPER["none" if o is None else "converted"]
        for day in _days_between(rng, created, nurture_end, int(rng.poisson(wp))):
            name = WHITEPAPERS[int(rng.integers(len(WHITEPAPERS)))]
            add(lead, _at(rng, day), "whitepaper", "content", name, name)
        if o is None:
            continue
        for day in _days_between(rng, opp_created, min(end, as_of), int(rng.integers(1, 3))):
            add(lead, _at(rng, day), "sales", "meeting")
        if rng.random() < CASE_STUDY[state]:
            name = CASE_STUDIES[int(rng.integers(len(CASE_STUDIES)))]
            add(lead, _at(rng, _days_between(rng, opp_created, min(end, as_of), 1)[0]), "sales", "content", "", name, opp)
    frame = pd.DataFrame(rows, columns=["lead_id", "touched_at", "channel", "campaign", "touch_type", "content",
                                        "opportunity_id"])
    frame = frame.sort_values(["touched_at", "lead_id"], kind="stable").reset_index(drop=True)
    frame.insert(0, "touch_id", [f"T{i:06d}" for i in range(1, len(frame) + 1)])
    return frame
