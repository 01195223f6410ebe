"""The closing "Definitions" section of each report: the definition of every figure the page shows, in the report's
language, so a standalone HTML file carries its own glossary (docs/glossary.md is not beside it).

Each definition is the label ``def_<key>`` (helpers/labels.yaml, en + ja), the one-sentence form of the glossary's
entry; :data:`PAGES` lists the figures of each notebook in the order the page shows them.
"""
from __future__ import annotations

from helpers.labels import has_label, t
from helpers.views import display

#: Notebook stem -> (label key of the figure's name, definition key) pairs, in page order.
PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "00_data_health": (
        ("scoped_this_period", "this_period"), ("opportunities_created", "opportunities_created"),
        ("won_count", "won_count"), ("lost_count", "lost_count"), ("win_rate", "win_rate"),
        ("won_revenue", "won_revenue"), ("avg_deal_size", "avg_deal_size"),
        ("sales_cycle_days", "sales_cycle_days"), ("sales_velocity", "sales_velocity"),
        ("open_pipeline_count", "open_pipeline_count"), ("open_pipeline_amount", "open_pipeline_amount"),
        ("scoped_all_history", "all_history"), ("revenue_traceable_share", "revenue_traceable_share"),
    ),
    "01_checklist_diagnostic": (
        ("checklist_overall", "checklist_score"), ("checklist_gap", "checklist_gap"),
        ("evidence_verdict", "checklist_verdict"),
    ),
    "02_funnel_breakdown": (
        ("conversion_rate", "conversion_rate"), ("lead_to_opportunity_rate", "lead_to_opportunity_rate"),
        ("win_rate", "win_rate"), ("won_revenue", "won_revenue"), ("sales_velocity", "sales_velocity"),
        ("funnel_period_view", "period_view"), ("funnel_cohort_view", "cohort_view"),
        ("funnel_step_rate", "step_rate"), ("sales_cycle_days", "sales_cycle_days"),
        ("sales_cycle_km_median", "sales_cycle_km_median"), ("sla_mqls_due", "sla_mqls_due"),
        ("return_on_spend", "return_on_spend"), ("wilson", "wilson"), ("points", "points"),
    ),
    "03_velocity_comparison": (
        ("sales_velocity", "sales_velocity"), ("velocity_naive_change", "velocity_naive_change"),
        ("velocity_adjusted_change", "velocity_adjusted_change"), ("lmdi", "lmdi"), ("bootstrap", "bootstrap"),
        ("points", "points"),
    ),
    "04_goals_plan": (
        ("goal_attainment", "goal_attainment"), ("forecast_revenue", "forecast_revenue"),
        ("backtest", "backtest"), ("pipeline_coverage", "pipeline_coverage"), ("implied_coverage", "implied_coverage"),
        ("scoped_last_365_days", "last_365_days"), ("scoped_mature_cohorts", "mature_cohorts"),
        ("reverse_funnel", "reverse_funnel"),
    ),
    "05_lead_quality": (
        ("lq_horizon_days", "lq_horizon_days"), ("lq_observed", "lq_observed"), ("lq_converted", "lq_converted"),
        ("lq_flagged", "lq_flagged"), ("precision", "precision"), ("recall", "recall"), ("base_rate", "base_rate"),
        ("lift", "lift"), ("lq_missed", "lq_missed"), ("odds_ratio", "odds_ratio"), ("lq_p", "lq_fisher_p"),
        ("lq_q", "lq_bh_q"), ("lq_guard", "lq_guard"), ("lq_score_auc", "lq_score_auc"),
        ("lq_score_brier", "lq_score_brier"), ("lq_decile", "lq_decile"), ("lq_points", "lq_points"),
        ("lq_same_size", "lq_same_size"), ("lq_feedback", "lq_feedback"),
        ("lq_median_days_to_accept", "lq_median_days_to_accept"),
    ),
    "06_attribution": (
        ("attribution_touches", "attribution_touches"), ("milestones", "milestones"),
        ("model_first_touch", "first_touch"), ("model_lead_creation", "lead_creation"), ("model_last_touch", "last_touch"),
        ("model_linear", "linear"), ("model_u_shaped", "u_shaped"), ("model_w_shaped", "w_shaped"),
        ("model_full_path", "full_path"), ("model_time_decay", "time_decay"),
        ("attribution_credit", "attribution_credit"), ("no_touches_recorded", "no_touches_recorded"),
        ("attribution_path", "attribution_path"), ("model_markov", "markov"), ("model_shapley", "shapley"),
        ("attribution_interval", "attribution_interval"), ("marketing_sourced", "marketing_sourced"),
        ("marketing_influenced", "marketing_influenced"), ("sourced_by_other", "sourced_by_other"),
        ("content_in_deals", "content_in_deals"), ("touch_coverage", "touch_coverage"),
    ),
}


def _name(key: str, lang: str) -> str:
    """The figure's name as the page shows it (a scope label shows its bare scope words)."""
    text = t(key, lang) if has_label(key) else t(f"defname_{key}", lang)
    return text.replace("{label}", "").strip(" ,、()()") if key.startswith("scoped_") else text


def definitions(page: str, lang: str) -> list[str]:
    """'Name: definition' lines of the figures a page shows (:data:`PAGES`); KeyError for an unknown page."""
    return [f"{_name(name, lang)}{': ' if lang == 'en' else ':'}{t('def_' + key, lang)}" for name, key in PAGES[page]]


def definitions_view(page: str, lang: str):
    """The closing Definitions section's list for notebook `page` (its file stem), in the report language."""
    return display.bullets(definitions(page, lang))
