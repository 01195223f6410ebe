"""`OUT/index.html`: every published period with links, headline trends, and the run's settings and data snapshot."""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
from importlib import metadata
from pathlib import Path

import pandas as pd

from helpers.config import DATA_CURRENCY_NOTE, Config
from helpers.data.load import Workbook
from helpers.labels import t
from helpers.storage import dumps, write_atomic
from helpers.views import fmt
from helpers.views.display import esc, html_safe, table_html

PERIOD_DIR = re.compile(r"^(FY)?\d{4}Q[1-4]$")
PACKAGES = ("pandas", "numpy", "matplotlib", "seaborn", "papermill", "nbconvert", "scipy", "statsmodels")
TREND_KEYS = ("opportunities_created", "won_count", "win_rate", "won_revenue", "avg_deal_size", "sales_cycle_days", "sales_velocity")


def published_periods(out: Path, lang: str = "en") -> list[tuple[str, dict | None, list[str]]]:
    """(label, metrics, report file names) of every period folder in `out` holding a metrics.json, in period order.

    metrics is None when the file cannot be read as a JSON object (truncated, damaged); such a period
    is listed with a note and left out of the trend, and a line is printed naming the file (in `lang`).
    """
    from helpers.errors import fill

    found = []
    for folder in out.iterdir():
        if folder.is_dir() and PERIOD_DIR.match(folder.name) and (folder / "metrics.json").is_file():
            try:
                metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
                if not isinstance(metrics, dict):
                    raise ValueError("not a JSON object")
            except (ValueError, OSError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                print(fill("index_metrics_unreadable", {"path": folder / "metrics.json", "reason": exc, "period": folder.name}, lang),
                      flush=True)
                metrics = None
            found.append((folder.name, metrics, sorted(p.name for p in folder.glob("*.html"))))
    return sorted(found, key=lambda row: (str((row[1] or {}).get("start", "")) or "9999", row[0]))


def partial_mark(metrics: dict, lang: str) -> str:
    """' (Partial: data from D1 to D2)' for a period whose metrics.json says the data covers it only in part, else ''."""
    from helpers.report.export import coverage_text

    text = coverage_text(metrics.get("coverage") or {}, lang)
    return f" ({text})" if text else ""


def trend_frame(rows: list[tuple[str, dict, list[str]]], lang: str = "en") -> pd.DataFrame:
    """Headline pipeline figures per published period (raw numbers, None where undefined); a partly covered
    period is labelled "<period> (partial)" (label ``period_partial_mark``) in the table and the chart."""
    records = []
    for label, metrics, _ in rows:
        if metrics is None:
            continue
        pipe = metrics.get("pipeline") or {}
        cohort = ((metrics.get("funnel") or {}).get("cohort") or {})
        partial = (metrics.get("coverage") or {}).get("partial")
        records.append({"period": label + (f" ({t('period_partial_mark', lang)})" if partial else ""),
                        **{k: pipe.get(k) for k in TREND_KEYS},
                        "lead_to_opportunity_rate": cohort.get("lead_to_opportunity_rate")})
    return pd.DataFrame(records)


def format_trend(frame: pd.DataFrame, config: Config, lang: str) -> pd.DataFrame:
    """The trend table formatted for reading (labels from the label table, money and percents)."""
    shown = pd.DataFrame({t("period", lang): frame["period"]})
    for key in frame.columns[1:]:
        if key in ("won_revenue", "avg_deal_size", "sales_velocity"):
            shown[t(key, lang)] = [fmt.money(v, config) for v in frame[key]]
        elif key.endswith("rate"):
            shown[t(key, lang)] = [fmt.rate(v, lang) for v in frame[key]]
        elif key == "sales_cycle_days":
            shown[t(key, lang)] = [fmt.number(v, lang, 1) for v in frame[key]]
        else:
            shown[t(key, lang)] = [fmt.number(v, lang) for v in frame[key]]
    return shown


def goal_lines(rows: list[tuple[str, dict, list[str]]], config: Config, lang: str) -> list[str]:
    """One line per period with a `goals` section: the won-revenue target (and its source), then for a period still
    running the forecast with its 95% interval, for an ended one the won revenue, and the attainment (actual to
    date ÷ target). An empty figure says why (its null reason), never a bare n/a."""
    from helpers.views.common import reason_text

    lines = []
    for label, metrics, _ in rows:
        g = (metrics or {}).get("goals")  # None: an unreadable metrics.json (listed with a note)
        if not g:
            continue
        target = next((r for r in g.get("targets", []) if r["metric"] == "won_revenue" and r["channel"] is None), None)
        done = next((r for r in g.get("progress", []) if r["metric"] == "won_revenue" and r["channel"] is None), None)
        fsec = g.get("forecast") or {}
        fc = fsec.get("won_revenue") or {}
        if target is None:
            parts = [t("index_goal_no_target", lang)]
        elif target.get("target") is None:   # its null reason's text as the goals table shows it (goal_null_<code>)
            code = target.get("null_reason")
            parts = [t("index_goal_target_null", lang).format(text=t(f"goal_null_{code}" if code else "goal_null_no_data_last_year", lang))]
        else:
            source = "goal_source_last_year" if target["source"] == "last_year" else "goal_source_targets_csv"
            parts = [t("index_goal_target", lang).format(target=fmt.money(target["target"], config), source=t(source, lang))]
        if done is not None and (done.get("elapsed_share") or 0) >= 1 and done.get("actual") is not None:
            parts.append(t("index_goal_final", lang).format(actual=fmt.money(done["actual"], config)))
        elif fc.get("expected") is None:
            code = (fsec.get("null_reasons") or {}).get("won_revenue")
            if code is not None and target is not None and code == target.get("null_reason"):
                parts.append(t("index_goal_forecast_na_same", lang))   # the target's reason, said once
            else:
                why = reason_text(code, lang) or t("index_goal_no_forecast", lang)
                parts.append(t("index_goal_forecast_na", lang).format(reason=why))
        else:
            parts.append(t("index_goal_forecast", lang).format(forecast=fmt.money(fc["expected"], config),
                                                              low=fmt.money(fc.get("low_95"), config),
                                                              high=fmt.money(fc.get("high_95"), config)))
        if done is not None and done.get("attainment") is not None:
            parts.append(t("index_goal_attainment", lang).format(attainment=fmt.rate(done["attainment"], lang)))
        lines.append(f"{label}: " + t("list_separator", lang).join(parts))
    return lines


def lead_quality_lines(rows: list[tuple[str, dict, list[str]]], lang: str) -> list[str]:
    """One line per period with a `lead_quality` section: the MQL rule's precision and recall over the period's
    observed leads (or why they are empty)."""
    from helpers.views.common import reason_text

    lines = []
    for label, metrics, _ in rows:
        lq = (metrics or {}).get("lead_quality")
        if not lq or not lq.get("mql_audit"):
            continue
        a = lq["mql_audit"]["period"]
        reasons = a.get("null_reasons") or {}
        keys = ("precision", "recall")
        # a null figure shows its null marker, its reason beside it (never the reason in place of the value)
        shown = {k: t("not_available", lang) if a.get(k) is None else fmt.rate(a[k], lang) for k in keys}
        line = f"{label}: {t('index_lead_quality', lang)} — " + t("index_lead_quality_line", lang).format(
            precision=shown["precision"], recall=shown["recall"], leads=fmt.number(a.get("observed"), lang))
        why = {}   # reason sentence -> the figures it explains, in order
        for k in keys:
            if a.get(k) is None and reason_text(reasons.get(k), lang):
                why.setdefault(reason_text(reasons[k], lang), []).append(t(k, lang))
        lines.append("".join([line] + [t("index_null_why", lang).format(figures=t("list_separator", lang).join(f), reason=r)
                                       for r, f in why.items()]))
    return lines


CSS_FILE = Path(__file__).parent / "templates" / "workbook" / "workbook.css"


def trend_chart(frame: pd.DataFrame, config: Config):
    """Sales velocity per published period (bars; a period without a velocity has no bar), money axis in the workbook
    currency. The figure is as wide as the periods need: one period gives a narrow chart, not a page-wide bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.views.theme import MARKETING, money_axis, set_theme

    set_theme("report")
    n = len(frame)
    fig, ax = plt.subplots(figsize=(min(7.0, 2.4 + 0.45 * n), 2.8))
    values = pd.to_numeric(frame["sales_velocity"], errors="coerce")
    ax.bar(frame["period"], values, color=MARKETING, width=0.6)
    ax.set_xlim(-0.75, n - 0.25)
    ax.set_title(t("sales_velocity", config.language))
    money_axis(ax, config)
    ax.tick_params(axis="x", rotation=45 if n > 4 else 0)
    fig.tight_layout()
    return fig


def trend_chart_png(frame: pd.DataFrame, config: Config) -> str:
    """Base64 PNG of `trend_chart`, for embedding."""
    import matplotlib.pyplot as plt

    fig = trend_chart(frame, config)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def trend_chart_file(folder: str) -> None:
    """Write :func:`trend_chart_png`'s PNG of the frame and settings pickled in `folder`/trend.pickle to
    `folder`/trend.png, with matplotlib's rcParams as a process that has just imported it has them (run in the
    runner's kernel by :func:`helpers.report.kernel.SharedKernel.draw_trend`: the kernel has matplotlib imported,
    the runner's own process does not)."""
    import pickle

    import matplotlib

    with open(Path(folder) / "trend.pickle", "rb") as fh:
        frame, config = pickle.load(fh)  # noqa: S301 - written by this runner's own process a moment before
    with matplotlib.rc_context():
        matplotlib.rc_file_defaults()   # the rcParams of a fresh import (the notebooks changed some)
        png = trend_chart_png(frame, config)
    (Path(folder) / "trend.png").write_bytes(base64.b64decode(png))


def report_name(file_name: str, lang: str) -> str:
    """The reader's name of a report file: its title from the label table (00_data_health.html -> Data health)."""
    from helpers.labels import has_label

    key = "report_" + file_name.rsplit(".", 1)[0]
    return t(key, lang) if has_label(key) else file_name.rsplit(".", 1)[0]


def setting_value(value, lang: str, key: str = "") -> str:
    """A run setting shown for reading: lists joined, the language and command-line options named, an empty value as n/a."""
    if key == "language":
        value = t(f"language_{value}", lang)
    if key == "config_files":
        value = [t("setting_overrides", lang) if v == "overrides" else
                 t("setting_data_currency", lang).format(file=v.removesuffix(DATA_CURRENCY_NOTE)) if v.endswith(DATA_CURRENCY_NOTE)
                 else v for v in value]
    if isinstance(value, list):
        value = ", ".join(map(str, value))
    return t("not_available", lang) if value in ("", None) else str(value)


def run_info(wb: Workbook, config: Config) -> dict:
    """The run's settings and data snapshot: as_of, input files with SHA-256, package versions."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "as_of": wb.as_of,
        "data_folder": wb.data_dir.name,
        "files": {name: {"file": Path(f.path).name, "format": f.format, "encoding": f.encoding, "rows": f.rows, "sha256": f.sha256}
                  for name, f in wb.files.items()},
        "settings": {"fiscal_year_start_month": config.fiscal_year_start_month, "language": config.language,
                     "currency": config.currency_code, "target_industries": list(config.target_industries),
                     "target_company_sizes": list(config.target_company_sizes), "sla_hours": config.sla_hours,
                     "config_files": [Path(s).name for s in config.sources]},
        "packages": versions,
    }


def write_index(out: Path, wb: Workbook, config: Config, this_run: list[str], draw_png=None) -> Path:
    """Write OUT/run.json and OUT/index.html (atomically) from every published period, each with the runner's mark
    (run.json's "generator", index.html's <meta name="generator">); WorkbookError (out_not_runners_file) when either
    is there and not the runner's (helpers.report.record.check_top_files): a user's file is never replaced.
    `draw_png(frame, config)` gives the trend chart's base64 PNG (default :func:`trend_chart_png`, in this process)."""
    from helpers.report.record import GENERATOR, INDEX_MARK, check_top_files

    check_top_files(out)
    lang = config.language
    info = {"generator": GENERATOR, **run_info(wb, config)}
    info["periods_this_run"] = this_run
    write_atomic(out / "run.json", dumps(info))
    rows = published_periods(out, lang)
    links = _period_links(rows, lang)
    trend = trend_frame(rows, lang)
    chart = _trend_chart_html(trend, config, lang, draw_png)
    files, settings, packages = _snapshot_tables(info, lang)
    goals_html = _goal_sections_html(rows, config, lang)
    title = t("index_title", lang)
    generated = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!DOCTYPE html>
<html lang="{esc(lang)}"><head><meta charset="utf-8">{INDEX_MARK}<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<style>
{CSS_FILE.read_text(encoding="utf-8")}
</style></head><body>
<h1>{esc(title)}</h1>
<p class="wb-note">{esc(t("as_of", lang))}: {esc(info["as_of"].strftime("%Y-%m-%d"))} · {esc(t("generated", lang))}: {esc(generated)}</p>
<h2>{esc(t("index_reports", lang))}</h2>
<ul class="wb-periods">{links}</ul>
{goals_html}
<h2>{esc(t("index_trend", lang))}</h2>
{chart}
{table_html(format_trend(trend, config, lang)) if len(trend) else ""}
<h2>{esc(t("index_snapshot", lang))}</h2>
<p class="wb-note">{esc(t("index_snapshot_note", lang))}</p>
{table_html(files)}
{table_html(settings)}
{table_html(packages)}
</body></html>
"""
    write_atomic(out / "index.html", html_safe(page))
    return out / "index.html"


def _period_links(rows: list, lang: str) -> str:
    """The index's list items, one per published period (`rows` as :func:`published_periods`): the period (marked
    partial where its data is), a link to each report and to its metrics.json, and a note where metrics.json is
    unreadable; escaped HTML."""
    return "".join(
        f"<li><b>{esc(label)}</b>{esc(partial_mark(metrics or {}, lang))}: " + "".join(f'<a href="{esc(label)}/{esc(name)}">{esc(report_name(name, lang))}</a>' for name in names)
        + f'<a href="{esc(label)}/metrics.json">{esc(t("report_metrics_json", lang))}</a>'
        + (f' <span class="wb-note">({esc(t("index_unreadable", lang))} {esc(label)})</span>' if metrics is None else "")
        + "</li>" for label, metrics, names in rows)


def _trend_chart_html(trend: pd.DataFrame, config: Config, lang: str, draw_png=None) -> str:
    """The sales velocity trend chart as an embedded PNG <img> (none when no period has a velocity; drawn by
    `draw_png`, default :func:`trend_chart_png`), and the note that one period makes no trend; escaped HTML."""
    draw_png = draw_png or trend_chart_png
    chart = (f'<img class="wb-chart" alt="{esc(t("sales_velocity", lang))}" src="data:image/png;base64,{draw_png(trend, config)}">'
             if len(trend) and pd.to_numeric(trend["sales_velocity"], errors="coerce").notna().any() else "")
    if len(trend) == 1:
        chart += f'<p class="wb-note">{esc(t("index_single_period", lang))}</p>'
    return chart


def _snapshot_tables(info: dict, lang: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The run's snapshot for the index, in `lang`: its data files (rows, encoding, the first 16 hex digits of the
    SHA-256), its settings and its package versions (from :func:`run_info`)."""
    files = pd.DataFrame([{t("index_file", lang): f["file"], t("index_rows", lang): fmt.number(f["rows"], lang),
                           t("index_encoding", lang): f["encoding"] or f["format"], t("index_sha256", lang): f["sha256"][:16]}
                          for f in info["files"].values()])
    settings = pd.DataFrame([{t("index_setting", lang): t(f"setting_{k}", lang), t("index_value", lang): setting_value(v, lang, k)}
                             for k, v in info["settings"].items()])
    packages = pd.DataFrame([{t("index_package", lang): k, t("index_version", lang): setting_value(v, lang)}
                             for k, v in info["packages"].items()])
    return files, settings, packages


def _goal_sections_html(rows: list, config: Config, lang: str) -> str:
    """The index's goals section (:func:`goal_lines`) and lead quality section (:func:`lead_quality_lines`), each only
    when a period has its lines; escaped HTML."""
    goals = goal_lines(rows, config, lang)
    goals_html = (f'<h2>{esc(t("index_goals", lang))}</h2>\n<ul>' + "".join(f"<li>{esc(line)}</li>" for line in goals) + "</ul>"
                  if goals else "")
    leads_q = lead_quality_lines(rows, lang)
    if leads_q:
        goals_html += (f'<h2>{esc(t("index_lead_quality_title", lang))}</h2>\n<ul>'
                       + "".join(f"<li>{esc(line)}</li>" for line in leads_q) + "</ul>")
    return goals_html
