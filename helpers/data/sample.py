"""Seeded sample data: a fictional mid-size Japanese B2B SaaS company (data/sample).

`python -m helpers.data.sample --seed 42 --leads 4400 --out data/sample` writes the five
canonical tables (leads, opportunities, spend, checklist, initiatives) covering
2023-04-01 to the snapshot date 2026-09-30 (fiscal year from April). Every draw
comes from one `np.random.default_rng(seed)` and nothing reads the clock, so the
same arguments give byte-identical files. data/sample/README.md says what is
built in and what the notebooks should find.
"""
from __future__ import annotations

import sys
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from helpers.data.sample_draws import draw, draw_grouped, lookup, phone_prefixes, rep_choices  # noqa: F401 (draw, lookup: public here too)
from helpers.data.sample_write import SAMPLE_MARK, SETTINGS_FILE, TABLE_NAMES, check_out, write, write_settings  # noqa: F401
from helpers.paths import SAMPLE_DATA_DIR

# ----------------------------------------------------------------------------- calendar
START = np.datetime64("2023-04-01")
AS_OF = np.datetime64("2026-09-30")          # snapshot date: nothing is dated after it
INITIATIVE_START = np.datetime64("2026-01-05")
DEFAULT_SEED = 42
DEFAULT_LEADS = 4400                          # about 315 leads per fiscal quarter (14 quarters)
GROWTH_PER_YEAR = 0.08                        # lead volume grows about 8% a year

# Seasonal multipliers by calendar month (年度末 March rush, お盆 August, 年末年始, 半期末 September).
LEAD_MONTH = {1: 0.9, 2: 1.15, 3: 1.05, 4: 0.95, 5: 1.0, 6: 1.05, 7: 1.0, 8: 0.7, 9: 1.05, 10: 1.05, 11: 1.05, 12: 0.85}
OPP_CONV_MONTH = {1: 1.1, 2: 1.3, 3: 1.25, 8: 0.8, 9: 1.1, 12: 0.85}   # lead -> opportunity, by lead month
WIN_CLOSE_MONTH = {3: 1.35, 9: 1.1, 8: 0.85, 12: 0.9}                  # win probability, by close month
DEAL_CLOSE_MONTH = {3: 1.12}                                          # deal size, by close month (予算消化)
QUIET_DAYS = (((4, 29), (5, 5), 0.35), ((8, 11), (8, 16), 0.25), ((12, 28), (12, 31), 0.15), ((1, 1), (1, 4), 0.15))
WEEKDAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.05)                  # Monday .. Sunday

# ----------------------------------------------------------------------------- channels and segments
# channel: (share of leads, MQL rate, lead -> opportunity rate, win rate of its deals)
CHANNELS = {
    "web": (0.33, 0.45, 0.15, 0.23),
    "whitepaper": (0.22, 0.40, 0.08, 0.17),
    "seminar": (0.16, 0.65, 0.24, 0.28),
    "exhibition": (0.14, 0.50, 0.13, 0.21),
    "outbound": (0.09, 0.55, 0.17, 0.19),
    "referral": (0.06, 0.85, 0.40, 0.36),
}
CAMPAIGNS = {
    "web": ("自然検索", "リスティング広告", "お問い合わせフォーム", "料金ページ"),
    "whitepaper": ("ホワイトペーパー: SFA導入ガイド", "ホワイトペーパー: 営業DX事例集", "ホワイトペーパー: MA比較表"),
    "outbound": ("SDRアウトバウンド", "SDRアウトバウンド", "ターゲットリスト架電"),   # listed twice: twice as common
    "referral": ("パートナー紹介", "顧客紹介"),
}
WEBINAR_TOPICS = ("SFA活用", "MA入門", "営業DX事例", "インサイドセールス立ち上げ", "商談化率の上げ方", "データ一元管理")
SHOWS = ((2, 5, "冬"), (5, 13, "春"), (10, 21, "秋"))   # trade shows: first Wednesday on/after (month, day)
INDUSTRIES = {"製造": 0.28, "IT・通信": 0.24, "サービス": 0.20, "小売": 0.15, "金融": 0.10, "": 0.03}
INDUSTRY_DEAL = {"金融": 1.3, "製造": 1.1, "IT・通信": 1.0, "サービス": 0.9, "小売": 0.85, "": 1.0}
# company size: (share of leads, median deal JPY, median sales cycle days, win multiplier)
SIZES = {"1-49": (0.30, 1_400_000, 45, 0.9), "50-299": (0.35, 1_900_000, 52, 1.0),
         "300-999": (0.22, 2_500_000, 60, 1.0), "1000+": (0.13, 3_200_000, 72, 0.85)}
TARGET_INDUSTRIES = ("製造", "IT・通信")      # the ICP (ターゲット企業): these industries ...
TARGET_SIZES = ("50-299", "300-999")          # ... with these sizes
TARGET_OPP_MULT = {True: 1.6, False: 0.8}     # lead -> opportunity multiplier, in / outside the target
TARGET_WIN_MULT = {True: 1.3, False: 0.9}     # win probability multiplier

# ----------------------------------------------------------------------------- funnel and deals
SQL_TO_OPP = 0.70            # share of SQLs that become opportunities
SKIP_MQL = 0.04              # SQLs without an MQL date (data-quality flaw)
UNTOUCHED = 0.20             # MQLs that never reach SQL and are never touched by sales
TOUCH_WITHIN_SLA = 0.70      # touched leads contacted on the MQL day or the next day (48h SLA)
NO_LEAD_SHARE = 0.10         # opportunities without a lead (outbound / direct)
NO_LEAD_CHANNELS = {"outbound": 0.55, "referral": 0.15, "": 0.30}
DIRECT_WIN = 0.22            # win rate of deals whose channel is unknown
OPP_CHANNEL_BLANK = 0.10     # lead-linked deals whose channel field was left empty
STEPS = tuple(np.sqrt([2, 3, 5, 7, 11, 13, 17, 19]) % 1)   # irrational steps for `spread`
DEAL_SIGMA = 0.4             # lognormal sigma of deal size
CYCLE_SIGMA = 0.3            # lognormal sigma of the sales cycle
STALE_SHARE = 0.012          # deals forgotten in the CRM: still open long after their close date
OPEN_NO_AMOUNT = 0.10        # open deals without an amount yet
LOSS_REASONS = {"価格": 0.30, "競合": 0.25, "タイミング": 0.20, "機能不足": 0.12, "予算なし": 0.13}
LOSS_REASON_FILLED = 0.60
WIN_UPLIFT = 0.05            # initiative: win probability +5 points for deals created from its start
CYCLE_FACTOR = 0.85          # initiative: sales cycle 15% shorter for those deals
OPP_LIFT = 1.15              # initiative: leads created from its start become opportunities 15% more often
REPS = {"佐藤": "2023-04-01", "鈴木": "2023-04-01", "高橋": "2023-04-01", "田中": "2023-04-01",
        "伊藤": "2024-01-01", "渡辺": "2024-10-01"}     # sales reps and the day they joined

# ----------------------------------------------------------------------------- checklist, initiative, spend
# item: (marketing, sales) mean value before the initiative (yes=1, partial=0.5, no=0)
CHECKLIST_BASE = {1: (0.85, 0.62), 2: (0.80, 0.58), 3: (0.60, 0.42), 4: (0.60, 0.38), 5: (0.90, 0.32),
                  6: (0.80, 0.28), 7: (0.70, 0.52), 8: (0.70, 0.42), 9: (0.65, 0.58), 10: (0.65, 0.48),
                  11: (0.85, 0.58), 12: (0.75, 0.52), 13: (0.80, 0.50), 14: (0.78, 0.40), 15: (0.65, 0.48)}
INITIATIVE_ITEMS = (3, 4, 8, 9)                        # checklist items the initiative addresses
CHECKLIST_BOOST = {"marketing": 0.12, "sales": 0.25}   # after the initiative, on its items
ANSWER_NOISE, RESPONDENT_SD, SKIP_ITEM, NOTE_SHARE = 0.20, 0.08, 0.01, 0.05
NOTES = {3: ("MQLの定義が人によって違う", "基準書ができた"), 5: ("引き渡し基準が曖昧", "MQLの連絡が遅れることがある"),
         6: ("フィードバックの場がない", "商談結果がマーケに届いていない"), 7: ("SFAとMAでデータが二重管理",),
         8: ("商談化率は月次で共有", "KPIがまだ部門別"), 13: ("事例資料が古い",), 14: ("営業の要望を聞く機会が少ない",)}
GENERIC_NOTES = ("部署内で認識が分かれる", "改善傾向", "よくわからない")
INITIATIVE = {"name": "共通KPIとリード定義の統一", "started_on": str(INITIATIVE_START),
              "items": ";".join(map(str, INITIATIVE_ITEMS)),
              "note": "MQL/SQL基準と優先順位を文書化し、商談化率・受注率を両部門の共通KPIに設定"}
# monthly spend in JPY before growth: web ads, webinar, whitepaper production/syndication, SDR tool
SPEND_BASE = {"web": 1_200_000, "seminar": 350_000, "whitepaper": 300_000, "outbound": 220_000}
SHOW_COST, SHOW_DEPOSIT = 5_000_000, 800_000   # exhibition: show month, and a deposit 3 months before

# fake contacts (personal-data columns): family and given names with their romaji for e-mail addresses
FAMILY = [n.split(":") for n in ("佐々木:sasaki 山本:yamamoto 中村:nakamura 小林:kobayashi 加藤:kato 吉田:yoshida "
                                  "山田:yamada 松本:matsumoto 井上:inoue 木村:kimura 林:hayashi 清水:shimizu").split()]
GIVEN = [n.split(":") for n in ("大輔:daisuke 健太:kenta 直樹:naoki 翔太:shota 隆:takashi 美咲:misaki 陽子:yoko "
                                 "愛:ai 恵:megumi 由美:yumi 拓也:takuya 真理子:mariko 誠:makoto 彩:aya").split()]
EMAIL_DOMAINS = ("example.co.jp", "example.jp", "example.com")

# ----------------------------------------------------------------------------- lead traits (notebook 05, lead quality)
# Drawn from their own random stream (seed, TRAITS_STREAM), after everything else is decided, so adding them left
# every other column and row of the sample byte-identical. They depend on whether the lead became an opportunity
# (that is the signal the notebook should find), never the other way round.
TRAITS_STREAM = 22
EMPLOYEES = {"1-49": (3, 49), "50-299": (50, 299), "300-999": (300, 999), "1000+": (1000, 20000)}  # log-uniform
WEB_VISITS_MEAN = {True: 7.0, False: 2.5}      # page visits before the inquiry, converted / not (negative binomial)
WEB_VISITS_SHAPE = 2.0
# form type by whether the lead converted: (デモ依頼, 問い合わせ, 資料請求) shares; seminar and exhibition leads
# mostly come through their own forms (ウェビナー申込, 名刺交換; EVENT_FORM_SHARE of them)
FORMS = ("デモ依頼", "問い合わせ", "資料請求")
FORM_SHARES = {True: (0.45, 0.30, 0.25), False: (0.12, 0.23, 0.65)}
EVENT_FORMS = {"seminar": "ウェビナー申込", "exhibition": "名刺交換"}
EVENT_FORM_SHARE = 0.75
# rating (Hot/Warm/Cold): the LEAKY column. Sales sets it after the first contact, so it is empty for every lead
# never touched, and it mostly records what already happened: Hot for leads that became deals.
RATINGS = ("Hot", "Warm", "Cold")
RATING_SHARES = {True: (0.80, 0.17, 0.03), False: (0.04, 0.30, 0.66)}
# sales' feedback on MQLs that did not reach SQL: disqualified (with a reason) or recycled to marketing
DISQUALIFY_SHARE, RECYCLE_SHARE = 0.65, 0.08
DISQUALIFY_REASONS = {"予算なし": 0.30, "時期尚早": 0.25, "対象外": 0.20, "連絡不通": 0.15, "重複": 0.10}
DISQUALIFY_CHANNEL = {"whitepaper": {"時期尚早": 2.0}, "exhibition": {"対象外": 2.0}, "web": {"連絡不通": 1.5}}


# ----------------------------------------------------------------------------- date helpers
def month_of(d: np.ndarray) -> np.ndarray:
    """Calendar month (1-12) of datetime64[D] values."""
    return d.astype("datetime64[M]").astype(int) % 12 + 1


def year_of(d: np.ndarray) -> np.ndarray:
    """Calendar year of datetime64[D] values."""
    return d.astype("datetime64[Y]").astype(int) + 1970


def month_day(d: np.ndarray) -> np.ndarray:
    """month * 100 + day of month, for calendar windows such as 0315-0520."""
    return month_of(d) * 100 + (d - d.astype("datetime64[M]")).astype(int) + 1


def weekday_of(d: np.ndarray) -> np.ndarray:
    """Weekday, Monday = 0."""
    return (d.astype("datetime64[D]").astype(int) + 3) % 7


def on_date(year, month, day) -> np.ndarray:
    """datetime64[D] from arrays of year, month and day."""
    return (np.asarray(year) - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (np.asarray(month) - 1) \
        + np.timedelta64(0, "D") + (np.asarray(day) - 1)


# The sample is small (about 15-30 won deals a quarter): plain independent draws would bury the
# built-in facts in noise. `spread` and `systematic` keep every row's own chances but make any run of
# consecutive rows (e.g. the deals closing in a 90-day window) land close to the design.
def spread(rng, order: np.ndarray, step: float) -> np.ndarray:
    """Low-discrepancy uniforms: a Kronecker sequence (random start, irrational `step`) laid out in `order`."""
    u = np.empty(len(order))
    u[order] = (rng.random() + step * np.arange(1, len(order) + 1)) % 1.0
    return u


def systematic(rng, p: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Bernoulli(p) events by systematic sampling along `order`: any run of rows gets sum(p) events, give or take one."""
    cum = np.cumsum(p[order]) + rng.random()
    hit = np.empty(len(p), dtype=bool)
    hit[order] = np.diff(np.floor(cum), prepend=np.floor(cum[0] - p[order][0])) > 0
    return hit


def pick(u: np.ndarray, table: dict) -> np.ndarray:
    """Categories of `table` ({value: share, or a tuple starting with the share}) from uniforms."""
    shares = [v[0] if isinstance(v, tuple) else v for v in table.values()]
    return np.array(list(table), dtype=object)[draw(u, shares)]


def normal(u: np.ndarray) -> np.ndarray:
    """Standard normal quantiles of uniforms."""
    dist = NormalDist()
    return np.array([dist.inv_cdf(min(max(x, 1e-9), 1 - 1e-9)) for x in u])


def growth(d: np.ndarray) -> np.ndarray:
    """Volume trend: +GROWTH_PER_YEAR per year since START."""
    return 1 + GROWTH_PER_YEAR * (d - START).astype(int) / 365.25


def day_weights(days: np.ndarray) -> np.ndarray:
    """Relative lead volume of each day: weekday, month, quiet holidays, growth."""
    w = np.array(WEEKDAY_WEIGHT)[weekday_of(days)] * lookup(LEAD_MONTH, month_of(days)) * growth(days)
    md = month_day(days)
    for (m1, d1), (m2, d2), factor in QUIET_DAYS:
        w[(md >= m1 * 100 + d1) & (md <= m2 * 100 + d2)] *= factor
    return w


def events(until: np.datetime64 = AS_OF) -> list[tuple[str, np.datetime64, str]]:
    """Webinars (third Thursday, none in August) and trade shows up to `until`: (channel, date, campaign)."""
    out = []
    for month in np.arange(START.astype("datetime64[M]"), until.astype("datetime64[M]") + 1):
        first = month.astype("datetime64[D]")
        third_thursday = first + (3 - weekday_of(first)) % 7 + 14
        if month_of(first) != 8:
            out.append(("seminar", third_thursday, f"ウェビナー: {WEBINAR_TOPICS[len(out) % len(WEBINAR_TOPICS)]}"))
        for show_month, show_day, season in SHOWS:
            if month_of(first) == show_month:
                start = first + show_day - 1
                out.append(("exhibition", start + (2 - weekday_of(start)) % 7, f"展示会{year_of(first)}{season}"))
    return [e for e in out if e[1] <= until]


# ----------------------------------------------------------------------------- leads
def lead_dates(rng, channel: str, n: int, days: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Creation dates and campaigns of one channel's leads (event channels cluster around their events)."""
    evs = [e for e in events() if e[0] == channel]
    if not evs:
        dates = days[draw(spread(rng, np.arange(n), STEPS[7]), weights)]
        names = CAMPAIGNS[channel]
        return dates, [names[i] for i in rng.integers(0, len(names), n)]
    when = np.array([e[1] for e in evs])
    size = lookup(LEAD_MONTH, month_of(when)) * growth(when)
    chosen = draw(spread(rng, np.arange(n), STEPS[7]), size)
    if channel == "seminar":   # registrations in the three weeks up to the webinar
        offset = -np.minimum(rng.geometric(0.12, n) - 1, 20)
    else:                      # three show days, then business cards imported over the next week
        offset = np.where(rng.random(n) < 0.8, rng.integers(0, 3, n), rng.integers(3, 10, n))
    dates = when[chosen] + offset
    dates = np.where((dates < START) | (dates > AS_OF), when[chosen], dates)
    return dates, [evs[i][2] for i in chosen]


def business_day(d: np.ndarray) -> np.ndarray:
    """Move Saturday/Sunday to the following Monday (NaT stays NaT)."""
    wd = weekday_of(d)
    return np.where(wd == 5, d + 2, np.where(wd == 6, d + 1, d))


def is_target(industry, size) -> np.ndarray:
    """Does each row fit the target customer profile (ICP)?"""
    return np.isin(industry, TARGET_INDUSTRIES) & np.isin(size, TARGET_SIZES)


def active_rep(rng, when: np.ndarray) -> np.ndarray:
    """A sales rep who had joined by each date, at random (REPS lists them in joining order, so the reps of a date
    are the first ones)."""
    names = np.array(list(REPS), dtype=object)
    joined = np.array([np.datetime64(v) for v in REPS.values()])
    pool = (np.asarray(when, dtype="datetime64[D]")[:, None] >= joined[None, :]).sum(axis=1)
    return names[rep_choices(rng, pool)]


def make_leads(rng, n_leads: int) -> pd.DataFrame:
    """Leads with channel, campaign, segment, stage dates, follow-up touch and contact details."""
    days = np.arange(START, AS_OF + 1)
    weights = day_weights(days)
    counts = rng.multinomial(n_leads, [v[0] for v in CHANNELS.values()])
    parts = []
    for channel, n in zip(CHANNELS, counts):
        dates, campaigns = lead_dates(rng, channel, int(n), days, weights)
        parts.append(pd.DataFrame({"created_at": dates, "channel": channel, "campaign": campaigns}))
    leads = pd.concat(parts, ignore_index=True)
    leads = leads.iloc[np.lexsort((rng.permutation(len(leads)), leads["created_at"].to_numpy()))].reset_index(drop=True)
    n = len(leads)
    leads["lead_id"] = [f"L{i:05d}" for i in range(1, n + 1)]
    leads["industry"] = pick(spread(rng, np.arange(n), STEPS[4]), INDUSTRIES)
    leads["company_size"] = pick(spread(rng, np.arange(n), STEPS[5]), SIZES)
    return lead_stages(rng, leads)


def lead_stages(rng, leads: pd.DataFrame) -> pd.DataFrame:
    """Draw MQL / SQL / opportunity flags, then their dates; stages after AS_OF are not reached yet."""
    n = len(leads)
    created = leads["created_at"].to_numpy().astype("datetime64[D]")
    ch = leads["channel"].to_numpy()
    target = is_target(leads["industry"].to_numpy(), leads["company_size"].to_numpy())
    p_opp = (lookup({c: v[2] for c, v in CHANNELS.items()}, ch) * lookup(TARGET_OPP_MULT, target)
             * lookup(OPP_CONV_MONTH, month_of(created)))
    p_opp = np.minimum(p_opp * np.where(created >= INITIATIVE_START, OPP_LIFT, 1.0), 0.9)
    p_sql = np.minimum(p_opp / SQL_TO_OPP, 0.95)
    p_mql = np.maximum(lookup({c: v[1] for c, v in CHANNELS.items()}, ch), p_sql)
    u = rng.random((5, n))
    opp = systematic(rng, p_opp, np.arange(n))
    sql = opp | (u[0] < (p_sql - p_opp) / (1 - p_opp))
    mql = sql | (u[1] < (p_mql - p_sql) / (1 - p_sql))
    skip = sql & (u[2] < SKIP_MQL)
    nat = np.datetime64("NaT")
    mql_at = np.where(mql & ~skip, business_day(created + rng.geometric(0.4, n) - 1), nat)
    base = np.where(skip, business_day(created), mql_at)
    touched = sql | (mql & (u[3] >= UNTOUCHED))
    late = 1 + rng.geometric(0.35, n)
    touch_day = business_day(base + np.where(u[4] < TOUCH_WITHIN_SLA, rng.integers(0, 2, n), late))
    touch_day = np.where(touched, touch_day, nat)
    minutes = 9 * 60 + 5 * rng.integers(0, 118, n)
    touch_at = touch_day.astype("datetime64[m]") + minutes.astype("timedelta64[m]")
    sql_at = np.where(sql, business_day(touch_day + rng.geometric(0.3, n) - 1), nat)
    opp_at = np.where(opp, business_day(sql_at + rng.geometric(0.25, n) - 1), nat)
    stages = {"mql_at": mql_at, "sql_at": sql_at, "first_sales_touch_at": touch_at, "opp_created": opp_at}
    for name, values in stages.items():
        leads[name] = np.where(values.astype("datetime64[D]") <= AS_OF, values, nat)
    assigned = leads["mql_at"].notna() | leads["sql_at"].notna()
    leads["owner"] = np.where(assigned, active_rep(rng, np.where(assigned, base, created)), "")
    return leads


def contacts(rng, n: int) -> dict[str, list[str]]:
    """Fake contact details (personal-data columns): names, example-domain e-mails, 0000-numbers."""
    fam, giv = rng.integers(0, len(FAMILY), n), rng.integers(0, len(GIVEN), n)
    dom = rng.integers(0, len(EMAIL_DOMAINS), n)
    numbers = rng.integers(0, 10000, n)
    phone = [f"0{p}-0000-{x:04d}" if p else "" for p, x in zip(phone_prefixes(rng, n, 0.15), numbers.tolist())]
    names = np.array([f"{f[0]} {g[0]}" for f in FAMILY for g in GIVEN], dtype=object)
    local = [f"{g[1]}.{f[1]}" for f in FAMILY for g in GIVEN]
    return {"contact_name": names[fam * len(GIVEN) + giv].tolist(),
            "email": [f"{local[k]}{i}@{EMAIL_DOMAINS[d]}"
                      for i, (k, d) in enumerate(zip((fam * len(GIVEN) + giv).tolist(), dom.tolist()), start=1)],
            "phone": phone}


def lead_traits(seed: int, leads: pd.DataFrame) -> dict[str, list]:
    """Columns for notebook 05 from their own stream: employees, web_visits, form_type, the leaky rating, and sales'
    feedback (disqualified_at, disqualify_reason, recycled_at) on MQLs that never reached SQL."""
    rng = np.random.default_rng([seed, TRAITS_STREAM])
    n = len(leads)
    conv = leads["opp_created"].notna().to_numpy()
    low, high = (lookup({s: v[i] for s, v in EMPLOYEES.items()}, leads["company_size"]) for i in (0, 1))
    employees = np.round(np.exp(np.log(low) + rng.random(n) * (np.log(high) - np.log(low)))).astype(int)
    mean = lookup(WEB_VISITS_MEAN, conv)
    visits = rng.negative_binomial(WEB_VISITS_SHAPE, WEB_VISITS_SHAPE / (WEB_VISITS_SHAPE + mean))
    forms = np.array(FORMS, dtype=object)[draw_grouped(rng.random(n), conv, FORM_SHARES.get)]
    event = rng.random(n) < EVENT_FORM_SHARE
    channel = leads["channel"].to_numpy()
    for ch, form in EVENT_FORMS.items():
        forms[event & (channel == ch)] = form
    touched = leads["first_sales_touch_at"].notna().to_numpy()
    ratings = np.array(RATINGS, dtype=object)[draw_grouped(rng.random(n), conv, RATING_SHARES.get)]
    ratings = np.where(touched | conv, ratings, "")
    u = rng.random((2, n))
    base = leads["first_sales_touch_at"].to_numpy().astype("datetime64[D]")
    base = np.where(np.isnat(base), leads["mql_at"].to_numpy().astype("datetime64[D]"), base)
    open_mql = leads["mql_at"].notna().to_numpy() & leads["sql_at"].isna().to_numpy() & ~np.isnat(base)
    disq = open_mql & (u[0] < DISQUALIFY_SHARE)
    recyc = open_mql & ~disq & (u[0] < DISQUALIFY_SHARE + RECYCLE_SHARE)
    disq_at = np.where(disq, business_day(base + rng.geometric(0.3, n) - 1), np.datetime64("NaT"))
    recyc_at = np.where(recyc, business_day(base + 7 + rng.geometric(0.1, n)), np.datetime64("NaT"))
    disq_at = np.where(disq_at <= AS_OF, disq_at, np.datetime64("NaT"))
    recyc_at = np.where(recyc_at <= AS_OF, recyc_at, np.datetime64("NaT"))
    reasons = np.array(list(DISQUALIFY_REASONS), dtype=object)[draw_grouped(
        u[1], channel, lambda ch: [w * DISQUALIFY_CHANNEL.get(ch, {}).get(r, 1.0) for r, w in DISQUALIFY_REASONS.items()])]
    return {"employees": employees.tolist(), "web_visits": visits.tolist(), "form_type": forms.tolist(),
            "rating": ratings.tolist(), "disqualified_at": iso(disq_at),
            "disqualify_reason": np.where(np.isnat(disq_at), "", reasons).tolist(),
            "recycled_at": iso(recyc_at)}


# ----------------------------------------------------------------------------- opportunities
def seasonal_close(rng, created: np.ndarray, natural: np.ndarray) -> np.ndarray:
    """Pull closes into March (年度末) and late September (半期末); push them out of お盆 and 年末年始."""
    n, md, yr = len(created), month_day(natural), year_of(natural)
    u = spread(rng, np.arange(n), STEPS[6])
    close = natural.copy()
    fy_end = (md >= 315) & (md <= 520) & (u < 0.40)
    close = np.where(fy_end, on_date(yr, 3, rng.integers(18, 32, n)), close)
    half = (md >= 915) & (md <= 1003) & (u < 0.40)
    close = np.where(half, on_date(yr, 9, rng.integers(20, 31, n)), close)
    obon = (md >= 801) & (md <= 825) & (u < 0.50)
    close = np.where(obon, on_date(yr, 9, rng.integers(1, 19, n)), close)
    new_year = ((md >= 1227) | (md <= 105)) & (u < 0.70)
    close = np.where(new_year, on_date(yr + (md >= 1225), 1, rng.integers(8, 21, n)), close)
    close = np.where(close < created + 3, natural, close)
    wd = weekday_of(close)
    return np.maximum(close - np.where(wd == 5, 1, np.where(wd == 6, 2, 0)), created)


def make_opportunities(rng, leads: pd.DataFrame) -> pd.DataFrame:
    """Deals from converted leads plus direct ones; close dates, outcomes, amounts, loss reasons."""
    conv = leads[leads["opp_created"].notna()]
    blank = rng.random(len(conv)) < OPP_CHANNEL_BLANK
    from_leads = pd.DataFrame({"created_at": conv["opp_created"].to_numpy(), "lead_id": conv["lead_id"].to_numpy(),
                               "channel": np.where(blank, "", conv["channel"].to_numpy()),
                               "win_channel": conv["channel"].to_numpy(),
                               "industry": conv["industry"].to_numpy(), "company_size": conv["company_size"].to_numpy(),
                               "owner": conv["owner"].to_numpy()})
    m = int(round(len(conv) * NO_LEAD_SHARE / (1 - NO_LEAD_SHARE)))
    days = np.arange(START, AS_OF + 1)
    w = day_weights(days) * lookup(OPP_CONV_MONTH, month_of(days))
    created = np.sort(days[draw(spread(rng, np.arange(m), STEPS[7]), w)])
    channel = pick(rng.random(m), NO_LEAD_CHANNELS)
    direct = pd.DataFrame({"created_at": created, "lead_id": "", "channel": channel, "win_channel": channel,
                           "industry": pick(rng.random(m), INDUSTRIES), "company_size": pick(rng.random(m), SIZES),
                           "owner": active_rep(rng, created)})
    opps = pd.concat([from_leads, direct], ignore_index=True)
    opps = opps.iloc[np.lexsort((rng.permutation(len(opps)), opps["created_at"].to_numpy()))].reset_index(drop=True)
    opps["opportunity_id"] = [f"O{i:05d}" for i in range(1, len(opps) + 1)]
    return deal_outcomes(rng, opps)


def deal_outcomes(rng, opps: pd.DataFrame) -> pd.DataFrame:
    """Sales cycle, seasonal close date, win/lost/open, amount and loss reason of each deal."""
    n = len(opps)
    created = opps["created_at"].to_numpy().astype("datetime64[D]")
    size = opps["company_size"].to_numpy()
    after = created >= INITIATIVE_START
    target = is_target(opps["industry"].to_numpy(), size)
    median_cycle = np.array([SIZES[s][2] for s in size]) * np.where(after, CYCLE_FACTOR, 1.0)
    cycle = median_cycle * np.exp(CYCLE_SIGMA * normal(spread(rng, np.arange(n), STEPS[1])))
    closed = seasonal_close(rng, created, created + np.maximum(5, np.round(cycle)).astype(int))
    by_close = np.argsort(closed, kind="stable")
    p_win = (np.array([CHANNELS[c][3] if c in CHANNELS else DIRECT_WIN for c in opps["win_channel"]])
             * lookup(TARGET_WIN_MULT, target) * np.array([SIZES[s][3] for s in size])
             * lookup(WIN_CLOSE_MONTH, month_of(closed)) + np.where(after, WIN_UPLIFT, 0.0))
    u = rng.random((3, n))
    outcome = np.where(systematic(rng, np.clip(p_win, 0.02, 0.9), by_close), "won", "lost")
    stale = (u[0] < STALE_SHARE) & (created <= AS_OF - 200)
    outcome = np.where((closed > AS_OF) | stale, "open", outcome)
    median_deal = (np.array([SIZES[s][1] for s in size]) * lookup(INDUSTRY_DEAL, opps["industry"])
                   * np.where(outcome == "open", 1.0, lookup(DEAL_CLOSE_MONTH, month_of(closed))))
    won_first = np.concatenate([by_close[outcome[by_close] == "won"], by_close[outcome[by_close] != "won"]])
    amount = np.round(median_deal * np.exp(DEAL_SIGMA * normal(spread(rng, won_first, STEPS[3]))), -4)
    opps["closed_at"] = np.where(outcome == "open", np.datetime64("NaT"), closed)
    opps["outcome"] = outcome
    opps["amount"] = pd.array(np.where((outcome == "open") & (u[1] < OPEN_NO_AMOUNT), np.nan, amount), dtype="Int64")
    reasons = pick(rng.random(n), LOSS_REASONS)
    opps["loss_reason"] = np.where((outcome == "lost") & (u[2] < LOSS_REASON_FILLED), reasons, "")
    return opps


# ----------------------------------------------------------------------------- spend, checklist, initiatives
def make_spend(rng) -> pd.DataFrame:
    """Monthly spend of the paid channels (referral costs nothing); exhibition spikes in show months."""
    months = np.arange(START.astype("datetime64[M]"), AS_OF.astype("datetime64[M]") + 1)
    first = months.astype("datetime64[D]")
    month, grow = month_of(first), growth(first)
    shows = [e[1].astype("datetime64[M]") for e in events(AS_OF + 120) if e[0] == "exhibition"]
    noise = lambda: 1 + 0.08 * rng.standard_normal(len(months))  # noqa: E731
    spend = {
        "exhibition": np.where(np.isin(months, shows), SHOW_COST * grow * noise(),
                               np.where(np.isin(months + 3, shows), SHOW_DEPOSIT, 0)),
        "outbound": SPEND_BASE["outbound"] * np.where(months >= np.datetime64("2025-04"), 1.3, 1.0),
        "seminar": np.where(month == 8, 50_000, SPEND_BASE["seminar"] * grow * noise()),
        "web": SPEND_BASE["web"] * grow * lookup(LEAD_MONTH, month) * noise(),
        "whitepaper": SPEND_BASE["whitepaper"] * grow * noise() + np.where(month % 3 == 1, 600_000, 0),
    }
    frames = [pd.DataFrame({"month": months.astype(str), "channel": channel, "amount": np.round(v, -3).astype(int)})
              for channel, v in spend.items()]
    return pd.concat(frames).sort_values(["month", "channel"], kind="stable")


def answer(rng, mean: float) -> str:
    """yes / partial / no around a mean value (yes=1, partial=0.5, no=0)."""
    x = mean + ANSWER_NOISE * rng.standard_normal()
    return "yes" if x > 0.75 else ("partial" if x > 0.25 else "no")


def make_checklist(rng) -> pd.DataFrame:
    """Each fiscal quarter, 3 sales and 3 marketing respondents answer the 15 items (a few skips, one correction)."""
    people = [(f"{'sales' if d == 'sales' else 'mktg'}-{i:02d}", d) for d in ("sales", "marketing") for i in (1, 2, 3)]
    offset = {who: RESPONDENT_SD * rng.standard_normal() for who, _ in people}
    quarter_ends = np.arange(START.astype("datetime64[M]") + 2, AS_OF.astype("datetime64[M]") + 1, 3)
    redo = (int(rng.integers(2, len(quarter_ends) - 2)), people[int(rng.integers(len(people)))][0])
    rows, base = [], CHECKLIST_BASE
    for q, month in enumerate(quarter_ends):
        for who, dept in people:
            day = business_day(month.astype("datetime64[D]") + rng.integers(7, 20))
            for k, when in enumerate([day, day + 7] if (q, who) == redo else [day]):  # the correction is kinder
                for item in range(1, 16):
                    if rng.random() < SKIP_ITEM:
                        continue
                    boost = CHECKLIST_BOOST[dept] if when >= INITIATIVE_START and item in INITIATIVE_ITEMS else 0.0
                    pool = NOTES.get(item, GENERIC_NOTES)
                    note = pool[int(rng.integers(len(pool)))] if rng.random() < NOTE_SHARE else ""
                    rows.append({"respondent": who, "department": dept, "answered_on": str(when), "item": item,
                                 "answer": answer(rng, base[item][dept == "sales"] + offset[who] + boost + 0.15 * k),
                                 "note": note})
    return pd.DataFrame(rows).sort_values(["answered_on", "respondent", "item"], kind="stable")


# ----------------------------------------------------------------------------- output
def iso(values, unit: str = "D") -> list[str]:
    """ISO strings of datetime64 values; NaT -> empty."""
    arr = np.asarray(values).astype(f"datetime64[{unit}]")
    text = np.datetime_as_string(arr, unit=unit)
    if unit == "m":
        text = np.char.add(text, ":00")
    return np.where(np.isnat(arr), "", text).tolist()


def generate(seed: int = DEFAULT_SEED, n_leads: int = DEFAULT_LEADS, touches: bool = True) -> dict[str, pd.DataFrame]:
    """All six tables (touches from their own stream, helpers.data.sample_touches) as text-ready frames, sorted by id / date."""
    rng = np.random.default_rng(seed)
    leads = make_leads(rng, n_leads)
    opps = make_opportunities(rng, leads)
    link = dict(zip(opps["lead_id"].tolist(), opps["opportunity_id"].tolist()))
    leads_out = pd.DataFrame({
        "lead_id": leads["lead_id"], "created_at": iso(leads["created_at"]), "channel": leads["channel"],
        "campaign": leads["campaign"], "industry": leads["industry"], "company_size": leads["company_size"],
        "mql_at": iso(leads["mql_at"]), "sql_at": iso(leads["sql_at"]),
        "first_sales_touch_at": iso(leads["first_sales_touch_at"], "m"),
        "opportunity_id": [link.get(i, "") for i in leads["lead_id"].tolist()], "owner": leads["owner"].fillna(""),
        **contacts(rng, len(leads)), **lead_traits(seed, leads)})
    opps_out = pd.DataFrame({
        "opportunity_id": opps["opportunity_id"], "created_at": iso(opps["created_at"]), "closed_at": iso(opps["closed_at"]),
        "outcome": opps["outcome"], "amount": opps["amount"], "lead_id": opps["lead_id"], "channel": opps["channel"],
        "industry": opps["industry"], "company_size": opps["company_size"], "owner": opps["owner"],
        "loss_reason": opps["loss_reason"]})
    from helpers.data.sample_touches import make_touches

    tables = {"leads": leads_out, "opportunities": opps_out, "spend": make_spend(rng),
              "checklist": make_checklist(rng), "initiatives": pd.DataFrame([INITIATIVE])}
    # touches come from a random stream of their own, after everything else: the other files do not change
    if touches:
        tables["touches"] = make_touches(leads_out, opps_out, seed, AS_OF)
    return tables


def main(argv: list[str] | None = None) -> None:
    """Command line: python -m helpers.data.sample [--seed N] [--leads N] [--out DIR]."""
    from helpers.cli_help import HelpText, help_language
    from helpers.errors import WorkbookError, cli_language

    say = HelpText("sample", help_language(argv))   # the locale's language, as its errors
    parser = say.parser("python -m helpers.data.sample")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=say("seed", default=DEFAULT_SEED))
    parser.add_argument("--leads", type=int, default=DEFAULT_LEADS, help=say("leads", default=DEFAULT_LEADS))
    parser.add_argument("--out", type=Path, default=SAMPLE_DATA_DIR, help=say("out"))
    parser.add_argument("--no-touches", action="store_true", help=say("no_touches"))
    args = parser.parse_args(argv)

    try:
        check_out(args.out, [n for n in TABLE_NAMES if n != "touches" or not args.no_touches])  # before the (slow) generation
        tables = generate(args.seed, args.leads, touches=not args.no_touches)
        write(tables, args.out)
    except WorkbookError as exc:
        print(f"error: {exc.in_language(cli_language())}", file=sys.stderr)
        sys.exit(2)
    settings = write_settings(args.out)
    print(", ".join(f"{name}: {len(frame)} rows" for name, frame in tables.items()) + f"; {settings} -> {args.out}")


if __name__ == "__main__":
    from helpers.errors import run_cli

    raise SystemExit(run_cli(main))
