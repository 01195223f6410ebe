"""The workbook in JupyterLab, driven by a real browser (Debian's Chromium through Playwright).

.ci/run starts JupyterLab the way `make lab` does (helpers.report.lab: working copies of the notebooks
and of the sample data in a temporary folder), headless on 127.0.0.1 with a token, and exports
WORKBOOK_LAB_URL, WORKBOOK_LAB_TOKEN and WORKBOOK_LAB_WORK. Without them this module is skipped.

Notebook 01: run all, the form shows where it saves, a new respondent's 15 answers are saved
(15 new rows, earlier rows byte-identical), the saved notebook keeps a plain line instead of the
widget, the scores after a re-run equal an independent computation. Notebook 02: the explorer's
channel filter shows that channel's figures, computed here with plain pandas. No console
errors; `git status` unchanged. Every notebook: the control panel shows the data folder, sets an
earlier period (figures equal to the runner's metrics.json of that period) and then Japanese; in 01 an
answer set is saved and removed again (the file ends as it began); a fresh copy opens without the
"modified" dot. The checklist's chosen answers carry aria-pressed="true" and a ✓; every note box is labelled.
Notebook 04: the what-if explorer writes goals into the working copy's targets.csv (data/sample untouched). Screenshots of each notebook in both languages: test-output/screenshots/lab/.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers.labels import t
from helpers.paths import PROJ_ROOT

LAB_URL = os.environ.get("WORKBOOK_LAB_URL", "")
LAB_TOKEN = os.environ.get("WORKBOOK_LAB_TOKEN", "")
LAB_WORK = Path(os.environ.get("WORKBOOK_LAB_WORK", "/nonexistent"))
RESPONDENT = f"lab-test-{int(time.time())}"  # a new respondent on every run
# items 1-8 yes, 9-12 partial, 13-15 no
PLAN = {i: "yes" if i <= 8 else "partial" if i <= 12 else "no" for i in range(1, 16)}
VALUE = {"yes": 1.0, "partial": 0.5, "no": 0.0}
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook in front
SHOTS = PROJ_ROOT / "test-output" / "screenshots" / "lab"

if not LAB_URL:
    pytest.skip("WORKBOOK_LAB_URL is not set: .ci/run starts JupyterLab for this test", allow_module_level=True)
from conftest import kept_environment  # noqa: E402
import test_browser  # noqa: E402,F401  skips this module without chromium; the browser is conftest.browser


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=PROJ_ROOT,
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def lab_page(browser):
    """One JupyterLab page for the module's tests (each opens its notebook in it, open_notebook): loading JupyterLab
    costs ~5 CPU s in Chromium, opening a notebook in a loaded one ~2. It records console errors."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(f"{LAB_URL}lab?reset&token={LAB_TOKEN}")  # reset: the default layout (the file browser shown), no notebook
    pg.wait_for_selector(".jp-DirListing-item", timeout=180_000)
    yield pg
    context.close()


@pytest.fixture
def page(lab_page):
    """The JupyterLab page (lab_page); a test checks `page.errors`, the console errors since it started."""
    lab_page.errors.clear()
    yield lab_page


def shot(locator, name: str) -> None:
    """A screenshot in test-output/screenshots/lab/ (for people to look at; nothing is asserted on it)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(SHOTS / name))


def lab_api(path: str):
    """GET a JupyterLab REST endpoint (api/sessions, ...) as JSON."""
    request = urllib.request.Request(f"{LAB_URL}api/{path}", headers={"Authorization": f"token {LAB_TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


def close_all_tabs(page) -> None:
    """File ▸ Close All Tabs (JupyterLab then shows a Launcher); a notebook changed since it was opened or saved (run)
    is discarded, never saved."""
    notebooks = page.locator("#jp-main-dock-panel .jp-NotebookPanel")
    if notebooks.count() == 0:
        return
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^File$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Close All Tabs$")).click()
    deadline = time.monotonic() + 60
    while notebooks.count() and time.monotonic() < deadline:
        discard = page.locator(".jp-Dialog button", has_text=re.compile(r"^Discard$"))
        if discard.count():
            discard.first.click()
        page.wait_for_timeout(200)
    assert notebooks.count() == 0, "the notebooks did not close"


def open_notebook(page, name: str) -> None:
    """Open `name` from the file browser as the only tab (as `lab/tree/NAME?reset` would, without loading JupyterLab
    again) and wait until its kernel is idle and stays the notebook's one kernel."""
    close_all_tabs(page)
    item = page.locator(".jp-DirListing-item", has=page.locator(".jp-DirListing-itemText", has_text=re.compile(f"^{re.escape(name)}$")))
    item.dblclick()
    expect(page.locator(f"{PANEL}")).to_have_count(1)
    expect(page.locator("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current")).to_contain_text(name)
    page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000)
    # A fresh JupyterLab may start a kernel for the notebook and replace it a moment later; cells
    # sent to the first one are lost. Wait until the notebook's session keeps one kernel for 3 s.
    deadline, stable_since, last = time.monotonic() + 120, time.monotonic(), None
    while time.monotonic() < deadline:
        kernels = sorted(s["kernel"]["id"] for s in lab_api("sessions") if s["path"].endswith(name) and s.get("kernel"))
        if kernels != last or len(kernels) != 1:
            last, stable_since = kernels, time.monotonic()
        elif time.monotonic() - stable_since >= 3:
            break
        page.wait_for_timeout(500)
    page.wait_for_selector(f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=180_000)


def run_menu(page, item: str) -> None:
    """Run ▸ `item` (a label of JupyterLab's Run menu)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")).click()


def run_all(page, timeout: float = 600, item: str = "Run All Cells") -> None:
    """Run ▸ Run All Cells (or `item`), then wait until every code cell has an execution count and the kernel is idle."""
    run_menu(page, item)
    page.wait_for_timeout(1000)
    deadline = time.monotonic() + timeout
    prompts = []
    while time.monotonic() < deadline:
        prompts = page.locator(f"{PANEL} .jp-CodeCell .jp-InputArea-prompt").evaluate_all("els => els.map(e => e.textContent.trim())")
        idle = page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator").get_attribute("data-status") == "idle"
        if idle and prompts and all(re.fullmatch(r"\[\d+\]:", p) for p in prompts):
            return
        page.wait_for_timeout(500)
    shot(page, "run_all_timeout.png")
    raise AssertionError(f"the notebook did not finish running: prompts {prompts}")


def run_to_panel(page) -> None:
    """Run the cells down to the control panel's (Run ▸ Run All Above Selected Cell, from the cell after it): the
    parameters cell and the panel; the cells below stay unrun (the panel records them when they first run)."""
    panel_cell = page.locator(f"{PANEL} .jp-CodeCell", has=page.locator(".jp-InputArea-editor", has_text="control_panel(globals())"))
    expect(panel_cell).to_have_count(1)
    panel_cell.locator(".jp-InputPrompt").click()   # the panel's cell, selected in command mode
    page.keyboard.press("ArrowDown")                 # the cell after it
    following = panel_cell.locator("xpath=following-sibling::div[contains(concat(' ', @class, ' '), ' jp-Cell ')][1]")
    expect(following).to_have_class(re.compile(r"\bjp-mod-active\b"))
    run_menu(page, "Run All Above Selected Cell")
    expect(panel_cell.locator(".wb-panel")).to_be_visible(timeout=600_000)
    expect(page.locator(f"{PANEL} .jp-Notebook-ExecutionIndicator")).to_have_attribute("data-status", "idle", timeout=600_000)


#: An output that holds no other output: the control panel shows each cell's outputs inside an Output widget.
INNER = ".jp-OutputArea-output:not(:has(.jp-OutputArea-output))"


def output_text(page, contains: str) -> str:
    """The text of the one (innermost) cell output that contains `contains`."""
    out = page.locator(f"{PANEL} {INNER}", has_text=contains)
    assert out.count() == 1, f"{out.count()} outputs contain {contains!r}"
    return out.text_content()


def fiscal_period(label: str, fy_start_month: int = 4) -> tuple[pd.Timestamp, pd.Timestamp]:
    """FY2026Q2 with an April fiscal year -> (2026-07-01, 2026-09-30); computed here, not by helpers.data.periods."""
    fy, q = re.fullmatch(r"FY(\d{4})Q([1-4])", label).groups()
    month = fy_start_month + 3 * (int(q) - 1)
    start = pd.Timestamp(int(fy) + (month - 1) // 12, (month - 1) % 12 + 1, 1)
    return start, start + pd.DateOffset(months=3) - pd.Timedelta(days=1)


def kpi(page, label) -> str:
    """The value of the headline card whose label matches `label` (a string or a pattern)."""
    card = page.locator(f"{PANEL} .wb-kpi", has=page.locator(".wb-kpi-label", has_text=label))
    assert card.count() == 1, f"{card.count()} cards labelled {label!r}"
    return card.locator(".wb-kpi-value").text_content()


def expected_scores(checklist_csv: Path, start, end) -> dict:
    """Checklist scores by the glossary's rule, in plain pandas: answers in the period, each respondent's latest day;
    respondent = 100 × mean item value, department = mean of its respondents, overall = mean of sales and marketing."""
    a = pd.read_csv(checklist_csv, dtype=str, keep_default_na=False)
    a["day"] = pd.to_datetime(a["answered_on"])
    a = a[(a["day"] >= start) & (a["day"] <= end) & a["answer"].isin(list(VALUE))]
    a = a[a["day"] == a.groupby("respondent")["day"].transform("max")]
    per = a.assign(v=a["answer"].map(VALUE)).groupby(["department", "respondent"])["v"].mean() * 100
    dept = per.groupby(level=0).mean()
    return {"respondents": per.size, "sales": dept["sales"], "marketing": dept["marketing"],
            "overall": (dept["sales"] + dept["marketing"]) / 2}


def test_checklist_form_saves_a_new_respondent_and_the_scores_follow(page):
    status_before = git_status()
    data_csv = LAB_WORK / "data" / "checklist.csv"
    earlier = data_csv.read_bytes()
    open_notebook(page, "01_checklist_diagnostic.ipynb")
    page.wait_for_timeout(2000)
    assert page.locator(".lm-TabBar-tab.jp-mod-dirty").count() == 0  # freshly opened: no "modified" dot
    run_all(page)

    # the form says where it saves before anything is saved
    target = page.locator(".widget-html .wb-note", has_text="Answers are saved to")
    assert target.text_content() == f"Answers are saved to {data_csv.resolve()}"
    rule = output_text(page, "Answers given in")
    label = re.search(r"Answers given in (FY\d{4}Q\d):", rule).group(1)
    start, end = fiscal_period(label)
    before = kpi(page, t("checklist_overall", "en"))
    respondents_before = int(re.search(r"(\d+) respondent\(s\)", rule).group(1))

    form = page.locator(".widget-vbox", has=page.locator("button.widget-button", has_text="Save")).last
    form.locator("input[placeholder='sales-01']").fill(RESPONDENT)
    form.locator(".widget-dropdown select").first.select_option(label="Marketing")
    form.locator(".widget-datepicker input").fill(end.strftime("%Y-%m-%d"))
    rows = form.locator(".widget-hbox", has=page.locator(".wb-choice"))
    assert rows.count() == 15
    for i in range(15):
        row = rows.nth(i)
        item = int(row.locator(".widget-html").text_content().split(".")[0])
        answer = t("answer_" + PLAN[item], "en")
        row.locator("button", has_text=re.compile(f"^{answer}$")).click()
        # the chosen answer: aria-pressed="true", a ✓ and the primary colour; the other two not pressed
        group = row.locator("[role='group']")
        assert group.get_attribute("aria-label").startswith(f"Answer to item {item}: ")
        expect(group.locator("button[aria-pressed='true']")).to_have_text(f"✓ {answer}")
        expect(group.locator("button[aria-pressed='false']")).to_have_count(2)
    pressed = rows.first.locator("button[aria-pressed='true']")
    assert pressed.evaluate("b => getComputedStyle(b).backgroundColor") != rows.first.locator(
        "button[aria-pressed='false']").first.evaluate("b => getComputedStyle(b).backgroundColor")
    notes = form.locator(".widget-text", has=page.locator("input[placeholder='Note']"))
    assert notes.count() == 15   # every text box is labelled: its <label for> names the input
    assert notes.nth(2).locator("label").get_attribute("for") == notes.nth(2).locator("input").get_attribute("id")
    assert notes.nth(2).locator("label").text_content() == "Note, item 3"
    form.locator("button.widget-button", has_text="Save").click()
    feedback = form.locator(".widget-html").last
    expect(feedback).to_contain_text("Saved 15 answer(s)", timeout=120_000)
    text = feedback.locator(".wb-note").text_content()
    assert text.count(f"Saved 15 answer(s) of {RESPONDENT} (Marketing, {end:%Y-%m-%d}).") == 1
    assert "All 15 items answered." in text and "Not answered" not in text
    shot(form, "01_form_saved.png")

    # 15 new rows after the earlier ones, which are byte-identical
    saved = data_csv.read_bytes()
    assert saved.startswith(earlier)
    new = list(csv.reader(io.StringIO(saved[len(earlier):].decode("utf-8"))))
    assert sorted(new, key=lambda r: int(r[3])) == [
        [RESPONDENT, "marketing", f"{end:%Y-%m-%d}", str(i), PLAN[i], ""] for i in range(1, 16)]

    # the saved notebook keeps one plain line where the form was (no "model not found" after a reopen)
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Control+s")
    saved_nb = LAB_WORK / "notebooks" / "en" / "01_checklist_diagnostic.ipynb"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and t("panel_hint", "en") not in saved_nb.read_text(encoding="utf-8"):
        page.wait_for_timeout(500)
    nb = nbformat.read(saved_nb, as_version=4)  # joins multi-line strings
    datas = [dict(o.get("data", {})) for c in nb.cells for o in c.get("outputs", [])]
    assert {"text/plain": t("panel_hint", "en")} in datas
    assert not any("application/vnd.jupyter.widget-view+json" in d for d in datas) and "widgets" not in nb.metadata

    # re-run: the new respondent is in the scores, as computed independently
    run_all(page)
    after = kpi(page, t("checklist_overall", "en"))
    want = expected_scores(data_csv, start, end)
    assert want["respondents"] == respondents_before + 1
    assert f"{want['respondents']} respondent(s)" in output_text(page, "Answers given in")
    assert after == f"{want['overall']:.1f}"
    assert kpi(page, re.compile(r"^Sales \(")) == f"{want['sales']:.1f}"
    assert kpi(page, re.compile(r"^Marketing \(")) == f"{want['marketing']:.1f}"
    assert after != before

    # reopened (as after a restart of JupyterLab), the notebook shows the plain line, not "model not found"
    reopened = page.context.new_page()
    reopened.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    reopened.goto(f"{LAB_URL}lab/tree/01_checklist_diagnostic.ipynb?reset&token={LAB_TOKEN}")
    expect(reopened.locator(PANEL).get_by_text(t("panel_hint", "en")).first).to_be_visible(timeout=120_000)
    assert "model not found" not in reopened.locator(PANEL).text_content()
    reopened.close()

    assert page.errors == [], f"console errors: {page.errors}"
    assert git_status() == status_before


def expected_channel_row(data: Path, channel: str, start, end) -> dict:
    """One channel's period figures in plain pandas (opportunity channel: its own, else its lead's)."""
    leads = pd.read_csv(data / "leads.csv", dtype=str, keep_default_na=False)
    opps = pd.read_csv(data / "opportunities.csv", dtype=str, keep_default_na=False)
    lead_channel = dict(zip(leads["lead_id"], leads["channel"]))
    opps["ch"] = [own or lead_channel.get(lead, "") or "unknown" for own, lead in zip(opps["channel"], opps["lead_id"])]
    opps = opps[opps["ch"] == channel]

    def within(column):
        day = pd.to_datetime(column.replace("", None)).dt.normalize()
        return (day >= start) & (day <= end)

    won = opps[(opps["outcome"] == "won") & within(opps["closed_at"])]
    lost = opps[(opps["outcome"] == "lost") & within(opps["closed_at"])]
    return {"leads": int(((leads["channel"] == channel) & within(leads["created_at"])).sum()),
            "opportunities_created": int(within(opps["created_at"]).sum()),
            "won_count": len(won), "lost_count": len(lost),
            "win_rate": len(won) / (len(won) + len(lost)),
            "won_revenue": won["amount"].astype(float).sum()}


def test_funnel_explorer_shows_the_chosen_channel(page):
    status_before = git_status()
    open_notebook(page, "02_funnel_breakdown.ipynb")
    run_all(page)
    explorer = page.locator(".widget-vbox", has=page.locator(".widget-dropdown label", has_text="Channel")).last
    period = explorer.locator(".widget-dropdown", has=page.locator("label", has_text="Period")).locator("select")
    label = period.evaluate("s => s.options[s.selectedIndex].text")
    explorer.locator(".widget-dropdown", has=page.locator("label", has_text="Channel")).locator("select").select_option(label="seminar")
    table = explorer.locator("table.wb-table")
    expect(table).not_to_contain_text("referral", timeout=120_000)  # the table of all channels is gone
    expect(table).to_contain_text("seminar")
    shot(explorer, "02_explorer_seminar.png")
    cells = table.evaluate("t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.trim()))")
    frame = pd.DataFrame(cells[1:], columns=cells[0])
    row = frame[frame[t("channel", "en")] == "seminar"].iloc[0]
    assert set(frame[t("channel", "en")]) == {"seminar", t("total", "en")}
    want = expected_channel_row(LAB_WORK / "data", "seminar", *fiscal_period(label))
    assert want["opportunities_created"] > 0 and want["won_count"] + want["lost_count"] > 0  # a real check
    assert row[t("breakdown_leads", "en")] == f"{want['leads']:,}"   # the channel's leads created in the period (its cohort)
    assert row[t("opportunities_created", "en")] == f"{want['opportunities_created']:,}"
    assert row[t("won_count", "en")] == f"{want['won_count']:,}"
    assert row[t("lost_count", "en")] == f"{want['lost_count']:,}"
    assert row[t("won_revenue", "en")] == f"¥{want['won_revenue']:,.0f}"
    assert row[t("win_rate", "en") + " [95%]"].startswith(f"{want['win_rate'] * 100:.1f}% [")
    assert explorer.locator(".wb-note, .wb-warn", has_text=t("explore_busy", "en")).count() == 0
    # the table's caption and the chart's alt name the selection (period, breakdown, channel)
    caption = table.locator("caption").text_content()
    assert caption.startswith("Lead-to-opportunity rate by Channel — " + label + ", Channel: ") and "seminar" in caption.lower()
    assert explorer.locator(f"img[alt^='{caption} (95%) — ']").count() == 1
    assert page.errors == [], f"console errors: {page.errors}"
    assert git_status() == status_before


def sample_state() -> dict[str, str]:
    """The shipped sample's files and their SHA-256 (the explorers and forms must never write there)."""
    import hashlib

    from helpers.paths import SAMPLE_DATA_DIR

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(SAMPLE_DATA_DIR.iterdir()) if p.is_file()}


def test_goals_explorer_writes_targets_into_the_working_copy(page):
    """Notebook 04: type a won-revenue goal into the what-if explorer, save it for a future quarter: targets.csv of the
    working data folder gets the goals the table shows (the deals rounded up from goal ÷ deal size), data/sample and
    git stay as they were; the file is removed again at the end (the working copy ends as it began)."""
    import math

    status_before, sample_before = git_status(), sample_state()
    targets = LAB_WORK / "data" / "targets.csv"
    assert not targets.exists()   # the sample has no targets file: the save creates it
    open_notebook(page, "04_goals_plan.ipynb")
    run_all(page)
    explorer = page.locator(f"{PANEL} .wb-whatif")
    expect(explorer.locator(".wb-note").first).to_have_text(re.compile("^Goals are saved to " + re.escape(str(targets.resolve())) + " "))
    period_select = explorer.locator(".widget-dropdown", has=page.locator("label", has_text="Goals for")).locator("select")
    future = period_select.evaluate("s => s.options[s.options.length - 1].text")
    period_select.select_option(label=future)
    revenue = explorer.locator(".widget-text", has=page.locator("label", has_text="Won-revenue goal")).locator("input")
    revenue.fill("24000000")
    revenue.press("Tab")
    caption = explorer.locator("table.wb-table caption")
    expect(caption).to_contain_text(f"Reverse funnel for {future}: won-revenue goal ¥24,000,000, ", timeout=60_000)
    deal = float(explorer.locator(".widget-text", has=page.locator("label", has_text="Average deal size")).locator("input").input_value())
    cells = explorer.locator("table.wb-table").evaluate("t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim()))")
    shown = {row[0]: int(row[1].replace(",", "")) for row in cells}
    assert shown[t("won_count", "en")] == math.ceil(24_000_000 / deal)   # hand-computed from the deal size shown
    shot(explorer, "04_whatif_before_save.png")
    explorer.locator("button", has_text="Write these goals into targets.csv").click()
    feedback = explorer.locator(".widget-html").last
    expect(feedback).to_contain_text(f"Saved 6 goal(s) of {future} to ", timeout=120_000)
    assert f"{targets.name}." in feedback.text_content() and "Re-run the notebook" in feedback.text_content()
    try:
        rows = list(csv.DictReader(io.StringIO(targets.read_text(encoding="utf-8"))))
        written = {r["metric"]: r["target"] for r in rows if r["period"] == future and not r["channel"]}
        assert len(rows) == 6 and written == {
            "won_revenue": "24000000", "won_count": str(shown[t("won_count", "en")]),
            "opportunities_created": str(shown[t("opportunities", "en")]), "sqls": str(shown[t("sqls", "en")]),
            "mqls": str(shown[t("mqls", "en")]), "leads": str(shown[t("leads", "en")])}
        shot(explorer, "04_whatif_saved.png")
        assert sample_state() == sample_before   # data/sample untouched
        assert page.errors == [], f"console errors: {page.errors}"
        assert git_status() == status_before
    finally:
        for made in [targets, *targets.parent.glob("targets.csv.bak-*"), targets.parent / ".targets.csv.lock"]:
            made.unlink(missing_ok=True)


PERIOD = "FY2025Q4"  # an earlier complete quarter of the sample than the default (the latest complete one)
NOTEBOOKS = sorted(p.name for p in (PROJ_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def period_metrics(tmp_path_factory):
    """metrics.json of PERIOD, from the report runner on the lab's data folder (it only reads it): the notebooks that
    record the figures the test compares (00: the won revenue, 01: the checklist score), run in this process
    (helpers.report.run.main, its kernels' environment undone after it; conftest.kept_environment)."""
    from helpers.report.run import main

    tmp = tmp_path_factory.mktemp("period-report")
    (tmp / "nbs").mkdir()
    for name in ("00_data_health.ipynb", "01_checklist_diagnostic.ipynb"):
        (tmp / "nbs" / name).write_bytes((PROJ_ROOT / "notebooks" / name).read_bytes())
    out = tmp / "out"
    with kept_environment():
        assert main(["--data", str(LAB_WORK / "data"), "--period", PERIOD, "--out", str(out),
                     "--notebooks", str(tmp / "nbs")]) == 0
    return json.loads((out / PERIOD / "metrics.json").read_text(encoding="utf-8"))


def panel_select(page, label: str, option: str, lang: str = "en") -> None:
    """Choose `option` in the control panel's dropdown `label` and wait until the cells below are re-run
    (the panel's status line says so in `lang`, the language after the change; it was empty or in the other one)."""
    panel = page.locator(f"{PANEL} .wb-panel")
    select = panel.locator(".widget-dropdown", has=page.locator("label", has_text=label)).locator("select")
    select.select_option(label=option)
    expect(panel).to_contain_text(re.compile(f"{re.escape(t('panel_updated', lang))}|{re.escape(t('panel_failed', lang))}"),
                                  timeout=600_000)
    expect(panel.locator(".wb-warn")).to_have_count(0)  # every cell below re-ran without an error


def page_text(page) -> str:
    return " ".join(page.locator(f"{PANEL} {INNER}").all_text_contents())


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_panel_sets_period_and_language_in_every_notebook(page, name, period_metrics):
    """The panel's period, chosen before the cells below it first run, is the one they use; its language, chosen
    after, re-runs each of them in place (the panel's re-run) in Japanese for the same period. The notebook runs
    twice, not three times (a run at the default period, which nothing checked, is left out). The definitions at the
    end (its last recorded cells but an explorer) show in English, then in Japanese only: every cell re-ran."""
    from helpers.views.definitions import PAGES

    first_definition = {lang: t("def_" + PAGES[name.removesuffix(".ipynb")][0][1], lang) for lang in ("en", "ja")}
    status_before = git_status()
    open_notebook(page, name)
    assert page.locator(".lm-TabBar-tab.jp-mod-dirty").count() == 0  # freshly opened: no "modified" dot
    run_to_panel(page)
    panel = page.locator(f"{PANEL} .wb-panel")
    assert f"{t('panel_data_folder', 'en')}: {(LAB_WORK / 'data').resolve()}" in panel.text_content()
    panel_select(page, t("panel_period", "en"), PERIOD)
    run_all(page, item="Run Selected Cell and All Below")
    text = page_text(page)
    assert PERIOD in text
    assert "Traceback" not in text
    assert first_definition["en"] in text and first_definition["ja"] not in text
    core = period_metrics["pipeline"]
    if name.startswith(("00_", "02_")):
        assert f"¥{core['won_revenue']:,.0f}" in text  # the period's won revenue, as the runner computed it
    if name.startswith("01_"):
        assert kpi(page, t("checklist_overall", "en")) == f"{period_metrics['checklist']['overall_score']:.1f}"
    shot(page, f"panel_{name[:2]}_en.png")
    panel_select(page, t("panel_language", "en"), "日本語", lang="ja")
    expect(panel).to_contain_text("make lab LANG=ja")  # how to get the Japanese copy
    text = page_text(page)
    assert PERIOD in text and "Traceback" not in text
    assert first_definition["ja"] in text and first_definition["en"] not in text   # re-run in place, in Japanese
    if name.startswith(("00_", "02_")):
        assert f"¥{core['won_revenue']:,.0f}" in text
    if name.startswith("01_"):
        assert kpi(page, t("checklist_overall", "ja")) == f"{period_metrics['checklist']['overall_score']:.1f}"
        answer_set_saved_then_removed(page)
    shot(page, f"panel_{name[:2]}_ja.png")
    assert page.errors == [], f"console errors: {page.errors}"
    assert git_status() == status_before


def answer_set_saved_then_removed(page) -> None:
    """In notebook 01 (Japanese): save one answer of a new respondent, then remove it; the file ends as it began."""
    data_csv = LAB_WORK / "data" / "checklist.csv"
    earlier = data_csv.read_bytes()
    who = f"{RESPONDENT}-rm"
    form = page.locator(".widget-vbox", has=page.locator("button.widget-button", has_text=t("save", "ja"))).last
    form.locator("input[placeholder='sales-01']").fill(who)
    first = form.locator(".widget-hbox", has=page.locator(".wb-choice")).first
    first.locator("button", has_text=re.compile(f"^{t('answer_yes', 'ja')}$")).click()
    expect(first.locator("button[aria-pressed='true']")).to_have_text(f"✓ {t('answer_yes', 'ja')}")
    form.locator("button.widget-button", has_text=t("save", "ja")).click()
    feedback = form.locator(".widget-html").last
    expect(feedback).to_contain_text(who, timeout=120_000)
    assert who in data_csv.read_text(encoding="utf-8")
    form.locator("button.widget-button", has_text=t("form_remove_day", "ja")).click()
    removed = re.sub(r"\\\{[a-z]+\\\}", ".+", re.escape(t("form_removed", "ja")))  # the message with any values
    expect(feedback).to_contain_text(re.compile(removed), timeout=120_000)
    assert who not in data_csv.read_text(encoding="utf-8")
    assert pd.read_csv(data_csv, dtype=str).equals(pd.read_csv(io.BytesIO(earlier), dtype=str))
