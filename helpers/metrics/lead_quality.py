"""Lead quality (contract section 5): the horizon, which leads are observed and converted, and the MQL rule audit.

Pure functions: frames and settings in, new frames and plain dicts out (inputs never changed).

- :func:`attribute_specs` / :func:`lead_values`: the lead attributes the settings name (or the segment
  columns), each with when it is known (``before_contact`` / ``after_contact``) and its values (numbers for
  numeric columns, else text; an empty cell is null).
- :func:`horizon_days`: H, the 90th percentile of lead → opportunity days over all history (at least 30); also
  used by attribution (helpers.metrics.attribution_paths).
- :func:`check_rule`: the written MQL rule, checked against the data's columns (helpers.metrics.lead_source
  evaluates it in the engine).
- :func:`counted_audit`: precision, recall, base rate, lift and the missed deals of a rule over a set of leads, with
  95% Wilson intervals (helpers.metrics.lead_stats).

The conditions table and the leakage guard are in helpers.metrics.lead_conditions, the score in
helpers.metrics.lead_score, sales' feedback in helpers.metrics.lead_feedback, and the metrics.json section
is put together by helpers.metrics.lead_section.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from helpers.data.validate import isin_ids
from helpers.errors import ConfigError, coded_error
from helpers.metrics.funnel import linked_pairs
from helpers.metrics.lead_stats import wilson
from helpers.metrics.pipeline import dates, day, ratio

#: H defaults to this percentile of lead -> opportunity days ...
HORIZON_QUANTILE = 90
#: ... and is never shorter than this many days.
MIN_HORIZON_DAYS = 30
#: Lead columns that are attributes without being named in the settings (when they hold any value).
DEFAULT_ATTRIBUTES = ("industry", "company_size")
#: When an attribute is known.
KNOWN = ("before_contact", "after_contact")
#: Operators of a rule condition, and the kind of value each takes.
NUMBER_OPS = (">=", ">", "<=", "<")
OPS = NUMBER_OPS + ("==", "in")
#: Lead columns never offered as attributes (ids and stage dates: they are the outcome, not a trait of the lead).
NOT_ATTRIBUTES = ("lead_id", "created_at", "mql_at", "sql_at", "first_sales_touch_at", "opportunity_id",
                  "disqualified_at", "recycled_at")


@dataclass(frozen=True)
class Attribute:
    """A lead attribute: its column, when it is known, whether the settings said so, and whether it is numeric."""

    column: str
    known: str = "before_contact"
    explicit: bool = False
    numeric: bool = False


# --------------------------------------------------------------------------- columns and attributes
class LeadColumns(dict):
    """{name: raw column} of every lead column, with each column's typed values (:func:`as_values`) computed once,
    on first use (:meth:`typed`)."""

    def __init__(self, columns: dict):
        super().__init__(columns)
        self._typed: dict[str, tuple[pd.Series, bool]] = {}

    def typed(self, name: str) -> tuple[pd.Series, bool]:
        """(values, numeric) of column `name`."""
        if name not in self._typed:
            self._typed[name] = as_values(self[name])
        return self._typed[name]


def bulk_created(leads: pd.DataFrame, as_of, warning_codes=()) -> bool:
    """True when the leads' created_at is a bulk-load stamp: one day for every lead (of at least two), or the
    load/ingest said so (warning ``one_created_at`` about the leads)."""
    created = dates(leads, "created_at")
    created = created[created <= day(as_of)].dropna()
    return (len(created) >= 2 and created.nunique() == 1) or "one_created_at:leads" in set(warning_codes)


def lead_columns(leads: pd.DataFrame, extras: pd.DataFrame | None) -> LeadColumns:
    """Every lead column a rule or an attribute may use: the canonical ones and the extra ones, by name (the frames'
    own columns, not copies)."""
    cols = {c: leads[c] for c in leads.columns if c not in ("lead_id",)}
    if extras is not None:
        for c in extras.columns:
            if c not in cols:
                cols[str(c)] = extras[c].set_axis(leads.index) if len(extras) == len(leads) \
                    else extras[c].reindex(leads.index)
    return LeadColumns(cols)


def as_values(series: pd.Series) -> tuple[pd.Series, bool]:
    """(values, numeric): numbers (float) when every filled cell of `series` reads as a number, else the trimmed
    text as a categorical (its categories the distinct texts); empty cells are null either way.

    Each distinct cell is read once (a million leads hold a few thousand distinct values), so no per-lead text is
    made."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return pd.to_numeric(series, errors="coerce").astype(float), True
    codes, distinct = pd.factorize(series, use_na_sentinel=True)
    text = pd.Series(distinct).astype("string").str.strip()
    text = text.where(text.notna() & (text != ""))
    filled = text.notna()
    nums = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    if filled.any() and nums[filled].notna().all():
        table = np.append(nums.to_numpy(dtype=float, na_value=np.nan), np.nan)   # code -1 (empty) reads the last entry
        return pd.Series(table[codes], index=series.index, dtype=float), True
    categories, to_category = np.unique(text[filled].to_numpy(dtype=object), return_inverse=True)
    remap = np.full(len(text) + 1, -1, dtype=np.int32)
    remap[np.flatnonzero(filled.to_numpy())] = to_category
    values = pd.Categorical.from_codes(remap[codes], categories=pd.Index(categories, dtype=object))
    return pd.Series(values, index=series.index), False


def attribute_specs(settings: dict, columns: LeadColumns, filled=None) -> list[Attribute]:
    """The attributes of the settings' ``lead_quality.attributes`` (names, or ``{column, known}``), plus the
    segment columns with any value; ConfigError naming an unknown column and listing the existing ones. `filled`
    (column -> bool: it holds a value) defaults to reading `columns`' values."""
    filled = filled or (lambda c: bool(columns.typed(c)[0].notna().any()))
    out: dict[str, Attribute] = {}
    for c in DEFAULT_ATTRIBUTES:
        if c in columns and filled(c):
            out[c] = Attribute(c, numeric=columns.typed(c)[1])
    for entry in settings.get("attributes") or []:
        name, known, explicit = (entry, "before_contact", False) if isinstance(entry, str) else \
            (entry["column"], entry.get("known", "before_contact"), "known" in entry)
        if name not in columns or name in NOT_ATTRIBUTES:
            raise unknown_column("lead_quality.attributes", name, columns)
        out[name] = Attribute(name, known, explicit, columns.typed(name)[1])
    return list(out.values())


def unknown_column(where: str, name: str, columns) -> ConfigError:
    """The error for a setting naming a lead column that does not exist (the existing ones listed)."""
    usable = ", ".join(c for c in columns if c not in NOT_ATTRIBUTES)
    return coded_error("lead_setting", None, "column", cls=ConfigError, where=where, name=name, usable=usable)


# --------------------------------------------------------------------------- the written rule
def check_rule(rule: dict, columns: LeadColumns, attributes: list[Attribute], where: str = "lead_quality.mql_rule") -> list[str]:
    """Check the written rule against the data: ConfigError for an unknown column (the existing ones listed), an
    operator that does not fit the column (``>=`` on a text column) or a value of the wrong type (text for a
    numeric column). Returns the columns the rule uses that are marked ``after_contact`` (a warning, not an error)."""
    if "any" in rule or "all" in rule:
        key = "any" if "any" in rule else "all"
        late = []
        for i, part in enumerate(rule[key]):
            late += check_rule(part, columns, attributes, f"{where}.{key}.{i}")
        return list(dict.fromkeys(late))
    problem = _condition_problem(rule, columns, where)
    if problem is not None:
        raise problem
    known = {a.column: a.known for a in attributes}
    return [rule["column"]] if known.get(rule["column"]) == "after_contact" else []


def _condition_problem(rule: dict, columns, where: str) -> ConfigError | None:
    """The first problem of one condition ``{column, op, value}`` of the rule against the leads' `columns` (see
    :func:`check_rule`), None when it fits."""
    col, op, value = rule["column"], rule["op"], rule["value"]
    if col not in columns:
        return unknown_column(where + ".column", col, columns)
    numeric = columns.typed(col)[1]
    if op not in OPS:
        return coded_error("lead_setting", None, "op", cls=ConfigError, where=where, got=repr(op), ops=", ".join(OPS))
    values = value if op == "in" else [value]
    if op == "in" and not isinstance(value, list):
        return coded_error("lead_setting", None, "in_list", cls=ConfigError, where=where, got=repr(value), value=value)
    if op in NUMBER_OPS and not numeric:
        return coded_error("lead_setting", None, "numeric_op", cls=ConfigError, where=where, op=op, col=col)
    bad = [v for v in values if isinstance(v, bool) or (numeric and not isinstance(v, (int, float)))]
    if bad:
        return coded_error("lead_setting", None, "value_number", cls=ConfigError, where=where, got=repr(bad[0]), col=col)
    return None


def setting_problems(settings: dict, columns) -> list[ConfigError]:
    """Every problem of the ``lead_quality`` settings against the leads' `columns` (a LeadColumns or
    helpers.metrics.lead_source.Columns), in the settings' order: each attribute naming a column the leads lack
    (:func:`attribute_specs`' error), the first problem of each condition of ``mql_rule`` (:func:`check_rule`'s)."""
    out = []
    for entry in (settings or {}).get("attributes") or []:
        name = entry if isinstance(entry, str) else entry["column"]
        if name not in columns or name in NOT_ATTRIBUTES:
            out.append(unknown_column("lead_quality.attributes", name, columns))
    rule = (settings or {}).get("mql_rule")
    parts = [(rule, "lead_quality.mql_rule")] if rule else []
    while parts:
        part, where = parts.pop(0)
        if "any" in part or "all" in part:
            key = "any" if "any" in part else "all"
            parts[:0] = [(p, f"{where}.{key}.{i}") for i, p in enumerate(part[key])]
            continue
        problem = _condition_problem(part, columns, where)
        if problem is not None:
            out.append(problem)
    return out


def check_settings(settings: dict, columns) -> None:
    """ConfigError when the ``lead_quality`` settings do not fit the leads' `columns` (:func:`setting_problems`): the
    problem's own error when there is one, else one ``lead_settings`` error listing every problem with its fix (said
    in the run's language: each line a Phrase of the label table)."""
    from helpers.errors import Phrase, PhraseList, error_keys

    problems = setting_problems(settings, columns)
    if len(problems) == 1:
        raise problems[0]
    if problems:
        lines = []
        for p in problems:
            what, fix = error_keys(p.code, str(p.params.get("variant", "")))
            lines.append(Phrase("lead_setting_line", what=Phrase(what, **p.params), fix=Phrase(fix, **p.params)))
        raise coded_error("lead_settings", None, cls=ConfigError, count=len(problems), lines=PhraseList(lines, "\n  - "))


def rule_text(rule: dict | None) -> str | None:
    """The rule as one line (``web_visits >= 5 or form_type in [demo, contact]``); None without a rule."""
    if rule is None:
        return None
    if "any" in rule or "all" in rule:
        joiner = " or " if "any" in rule else " and "
        parts = rule.get("any", rule.get("all"))
        inner = [rule_text(p) for p in parts]
        return joiner.join(f"({x})" if (" or " in x or " and " in x) else x for x in inner)
    value = rule["value"]
    shown = "[" + ", ".join(map(str, value)) + "]" if isinstance(value, list) else str(value)
    return f"{rule['column']} {rule['op']} {shown}"


# --------------------------------------------------------------------------- horizon and the lead frame
def _first_opportunity(leads: pd.DataFrame, opps: pd.DataFrame, as_of) -> pd.DataFrame:
    """Per linked (lead_id, opportunity_id) pair whose opportunity exists on as_of: opp_created, won (by as_of),
    amount; a lead with several deals has a row for each (its first is the earliest opp_created)."""
    pairs = linked_pairs(leads, opps)
    o = pd.DataFrame({"opportunity_id": opps["opportunity_id"].astype("string").astype(object),
                      "opp_created": dates(opps, "created_at"),
                      "won": (opps["outcome"].astype(str) == "won") & (dates(opps, "closed_at") <= day(as_of)),
                      "amount": pd.to_numeric(opps["amount"], errors="coerce") if "amount" in opps else np.nan})
    o = o[o["opp_created"] <= day(as_of)]
    return pairs.merge(o, on="opportunity_id", how="inner")


def horizon_days(leads: pd.DataFrame | None, opps: pd.DataFrame, as_of, setting: int | None = None) -> int:
    """H in whole days: `setting` (``lead_quality.horizon_days``) when given, else the 90th percentile (numpy's
    linear one) of days from a lead's created_at to its first opportunity's over all history (one value per lead
    linked to a deal that exists on as_of: a repeat customer's later deals are not its time to convert; a deal
    created before its lead counts as 0 days), rounded up, at least 30; 30 without any pair."""
    if setting is not None:
        return int(setting)
    if leads is None or not len(leads) or not len(opps):
        return MIN_HORIZON_DAYS
    pairs = _first_opportunity(leads, opps, as_of)
    if not len(pairs):   # no lead linked to a deal that exists on as_of
        return MIN_HORIZON_DAYS
    pairs = pairs.groupby("lead_id", as_index=False, sort=False)["opp_created"].min()   # each lead's first deal
    ids = leads["lead_id"].astype("string")
    # only the leads with a deal: no index over every lead (Arrow's hashed is_in: pandas' text isin makes each id an object)
    linked = isin_ids(ids, pairs["lead_id"]).to_numpy(dtype=bool)
    created = pd.Series(dates(leads, "created_at").to_numpy()[linked], index=ids[linked].astype(object))
    created = created[~created.index.duplicated()]
    lead_created = pd.Series(created.reindex(pairs["lead_id"].to_numpy()).to_numpy(), index=pairs.index)   # NaT: no such lead
    days = (pairs["opp_created"] - lead_created).dt.days.dropna()
    if not len(days):
        return MIN_HORIZON_DAYS
    return max(MIN_HORIZON_DAYS, int(math.ceil(float(np.percentile(days.clip(lower=0), HORIZON_QUANTILE)))))


# --------------------------------------------------------------------------- the audit
AUDIT_RATES = ("precision", "recall", "base_rate", "lift")


def counted_audit(n: int, flagged: int, converted: int, hit: int, missed: int, missed_revenue: float) -> dict:
    """The rule audit over a set of observed leads, from its counts: `n` observed leads, `flagged`, `converted`, `hit`
    (flagged and converted), `missed` (converted, not flagged) and their won revenue (helpers.metrics.lead_source
    counts them in the engine; tests/lead_reference.py's audit lead by lead).

    precision = converted flagged / flagged; recall = converted flagged / converted; base_rate = converted /
    observed; lift = precision / base_rate; missed = converted leads not flagged (count, their won revenue).
    95% Wilson intervals on precision and recall. A zero denominator is null with its reason; when every lead
    is flagged, recall and lift are null with ``all_flagged`` (the rule separates nothing)."""
    out = {"observed": n, "flagged": flagged, "converted": converted, "flagged_converted": hit,
           "precision": ratio(hit, flagged), "recall": ratio(hit, converted), "base_rate": ratio(converted, n),
           "lift": None, "missed": {"count": missed, "won_revenue": float(missed_revenue)}}
    out["precision_low"], out["precision_high"] = wilson(hit, flagged)
    out["recall_low"], out["recall_high"] = wilson(hit, converted)
    if out["precision"] is not None and out["base_rate"]:
        out["lift"] = out["precision"] / out["base_rate"]
    out["null_reasons"] = audit_reasons(n, flagged, converted)
    for key in out["null_reasons"]:
        out[key] = None
        if key in ("precision", "recall"):
            out[f"{key}_low"] = out[f"{key}_high"] = None
    return out


def audit_reasons(observed: int, flagged: int, converted: int) -> dict:
    """{rate: reason code} of the audit's undefined figures."""
    if observed == 0:
        return dict.fromkeys(AUDIT_RATES, "no_observed_leads")
    reasons = {}
    if flagged == 0:
        reasons.update(precision="nothing_flagged", lift="nothing_flagged")
    if converted == 0:
        reasons.update(recall="nothing_converted", lift=reasons.get("lift", "nothing_converted"))
    if flagged == observed:
        reasons.update(recall="all_flagged", lift="all_flagged")
    return reasons


def without_cohort(audits: dict, period_leads: int) -> dict:
    """`audits` (lead_section's ``mql_audit``) with the period's audit null for ``no_cohort_leads`` when no lead was
    created in the period (`period_leads` = 0: the cohort is empty, not too young; the funnel's and the KPI cards'
    reason), else as it is."""
    if period_leads:
        return audits
    return dict(audits, period=dict(audits["period"], null_reasons=dict.fromkeys(AUDIT_RATES, "no_cohort_leads")))


#: The audit's figures that count or rate the leads' outcome (an opportunity, a won deal): unknown without an
#: opportunities table (:func:`outcomes_unknown`); observed and flagged are the leads' own.
AUDIT_OUTCOMES = ("converted", "flagged_converted", "precision", "precision_low", "precision_high", "recall",
                  "recall_low", "recall_high", "base_rate", "lift")


def audit_unknown(a: dict) -> dict:
    """One audit (:func:`counted_audit`'s shape) without an opportunities table: :data:`AUDIT_OUTCOMES` and the missed
    count and revenue None, each with the reason no_opportunities (a new dict)."""
    reasons = dict.fromkeys((*AUDIT_OUTCOMES[:2], "missed", *AUDIT_RATES), "no_opportunities")
    return dict(a, **dict.fromkeys(AUDIT_OUTCOMES), missed={"count": None, "won_revenue": None}, null_reasons=reasons)


#: The audit's figures that need the rule's flag (:func:`unflagged`): without a written rule the flag is "an mql_at
#: within H days", unknown when no lead has an mql_at; observed, converted and base_rate are the leads' own.
AUDIT_FLAGGED = ("flagged", "flagged_converted", "precision", "precision_low", "precision_high", "recall",
                 "recall_low", "recall_high", "lift")


def unflagged(a: dict, code: str) -> dict:
    """One audit (:func:`counted_audit`'s shape) whose rule cannot be read (`code`: no_mql_dates, the rule in use
    being an mql_at no lead has): :data:`AUDIT_FLAGGED` and the missed count and revenue None, each with `code` (a new
    dict): "no lead was an MQL" would make every converted lead a miss (recall 0), which the data does not say."""
    reasons = dict(a.get("null_reasons") or {})
    reasons.update(dict.fromkeys(("flagged", "flagged_converted", "precision", "recall", "lift", "missed"), code))
    return dict(a, **dict.fromkeys(AUDIT_FLAGGED), missed={"count": None, "won_revenue": None}, null_reasons=reasons)


def audits_unflagged(mql_audit: dict, code: str) -> dict:
    """lead_section's ``mql_audit`` with every audit (period, all history, by channel) :func:`unflagged` (a new dict)."""
    out = dict(mql_audit)
    for key in ("period", "all_history"):
        out[key] = unflagged(out[key], code)
    for key in ("by_channel", "by_channel_all_history"):
        out[key] = {ch: unflagged(a, code) for ch, a in (out.get(key) or {}).items()}
    return out


def outcomes_unknown(section: dict) -> dict:
    """The lead-quality section of a source without an opportunities table (a leads-only folder): whether a lead
    became an opportunity is unknown, not "never" (no deals table). Every audit (period, all history, by channel)
    has :data:`AUDIT_OUTCOMES` and its missed count and revenue None with the reason no_opportunities (the rates'
    and ``converted``, ``flagged_converted``, ``missed``); the conditions and the score (``auc``, ``brier``,
    ``points``) get that reason instead of too_few_converted. A new dict."""
    audit = audit_unknown
    out = dict(section)
    mql = dict(out["mql_audit"])
    for key in ("period", "all_history"):
        mql[key] = audit(mql[key])
    for key in ("by_channel", "by_channel_all_history"):
        mql[key] = {ch: audit(a) for ch, a in (mql.get(key) or {}).items()}
    out["mql_audit"] = mql
    score = dict(out["score"])
    score["null_reasons"] = {k: "no_opportunities" for k in score.get("null_reasons") or ("auc", "brier", "points")}
    out["score"] = score
    out["conditions"] = []
    out["null_reasons"] = dict(out.get("null_reasons") or {}, conditions="no_opportunities")
    return out


# --------------------------------------------------------------------------- the section's shape (lead_section)
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


def empty_section(reason: str) -> dict:
    """The section when nothing can be said (no leads table): every part null with the reason."""
    return {"horizon_days": None, "observed_leads": None, "still_in_play": None,
            "mql_audit": None, "conditions": [], "suspect": [], "score": None, "feedback": None,
            "null_reasons": {"lead_quality": reason}}
