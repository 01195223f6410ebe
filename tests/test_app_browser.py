"""The app view (`make app`, helpers/report/app.py) driven by a real browser (Debian's Chromium through Playwright).

The test starts the app itself the way `make app` does (`python -m helpers.report.app`: working
copies of the notebooks and of the sample data, here in a temporary folder) on a free port of
127.0.0.1 with a token, once in English and once in Japanese, and stops it after. It checks:
the landing page lists the seven notebooks with their titles in that language; a notebook page
shows no code and no test printout; choosing an earlier period in the control panel changes the
won revenue to the one the report runner's metrics.json gives for that period; the answer form
of 01 saves into the working copy of the data (new rows after the earlier ones, byte for byte)
and removes them again; data/sample and `git status` are untouched; no console error and no
request leaves 127.0.0.1. Screenshots of both languages: test-output/screenshots/app/.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from helpers.labels import t
from helpers.paths import NOTEBOOKS_DIR, PROJ_ROOT, SAMPLE_DATA_DIR

import test_browser  # noqa: F401  skips this module without chromium (fails under CI); the browser is conftest.browser

SHOTS = PROJ_ROOT / "test-output" / "screenshots" / "app"
PERIOD = "FY2025Q4"  # an earlier complete quarter of the sample than the default (the latest complete one)
RESPONDENT = f"app-test-{int(time.time())}"
PLAN = {1: "yes", 2: "partial", 3: "no"}  # the answers the test saves
LOAD = 900_000  # ms: a page runs its whole notebook before it has loaded (the machine may be busy)


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=PROJ_ROOT,
                          capture_output=True, text=True, check=True).stdout


def sample_digest() -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(SAMPLE_DATA_DIR.iterdir()) if p.is_file()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """A running `python -m helpers.report.app` in one language: its address, token, working folder and log."""

    def __init__(self, lang: str, work: Path):
        self.lang, self.work, self.port, self.token = lang, work, free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = work / "app.log"
        env = {k: v for k, v in os.environ.items() if k != "WORKBOOK_DATA"}  # WORKBOOK_STATIC stays: the app must drop it
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "helpers.report.app", "--work", str(work), "--lang", lang, "--",
                 "--no-browser", f"--port={self.port}", f"--token={self.token}", "--Voila.port_retries=0"],
                cwd=PROJ_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, seconds: float = 300) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app stopped: {self.log.read_text(encoding='utf-8', errors='replace')}")
            try:
                with urllib.request.urlopen(f"{self.url}?token={self.token}", timeout=10) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(1)
        raise AssertionError(f"the app did not answer within {seconds} s: {self.log.read_text(encoding='utf-8', errors='replace')}")

    def stop(self) -> None:
        self.process.terminate()  # Voilà shuts its kernels down on SIGTERM
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)  # the group this test started, nothing else
            self.process.wait(timeout=30)


@pytest.fixture(scope="module", params=["en", "ja"])
def app(request, tmp_path_factory):
    """The app in `lang` on its own working folder (a copy of the sample data, made by the app)."""
    status, sample = git_status(), sample_digest()
    server = App(request.param, tmp_path_factory.mktemp(f"app-{request.param}"))
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
    assert sample_digest() == sample  # nothing was ever written into data/sample
    assert git_status() == status


@pytest.fixture(scope="module")
def app_page(browser, app):
    """One page per app, logged in with the app's token, that records console errors and every request leaving
    127.0.0.1; the app's tests share it (test_a_page_... reads the notebook page the landing page's link opened:
    each notebook page runs its notebook in a kernel of its own, ~5 CPU s for 00)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ja-JP" if app.lang == "ja" else "en-US")
    pg = context.new_page()
    pg.set_default_timeout(120_000)
    pg.errors, pg.outside = [], []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: pg.outside.append(r.url) if not r.url.startswith(("http://127.0.0.1:", "data:", "blob:")) else None)
    pg.goto(f"{app.url}?token={app.token}")
    yield pg
    context.close()
    assert pg.errors == [], f"console errors: {pg.errors}"
    assert pg.outside == [], f"requests outside the app: {pg.outside}"


@pytest.fixture
def page(app_page):
    """The app's page (app_page); after each test: no console error and no request outside the app meanwhile."""
    yield app_page
    errors, outside = list(app_page.errors), list(app_page.outside)
    app_page.errors.clear()
    app_page.outside.clear()
    assert errors == [], f"console errors: {errors}"
    assert outside == [], f"requests outside the app: {outside}"


def shot(page, name: str) -> None:
    """A screenshot in test-output/screenshots/app/ (for people to look at; nothing is asserted on it)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def tracked(name: str) -> dict:
    return json.loads((NOTEBOOKS_DIR / name).read_text(encoding="utf-8"))


def heading(nb: dict, lang: str) -> str:
    """The notebook's title in `lang`: the first line of its first markdown cell tagged lang-<lang>."""
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and f"lang-{lang}" in c["metadata"].get("tags", []))
    return "".join(cell["source"]).splitlines()[0].lstrip("#").strip()


def open_notebook(page, app, name: str) -> None:
    """Open a notebook page and wait until it has run (its control panel is there); a page already there (the
    landing page's link opened it) is kept, not run again."""
    if page.url == f"{app.url}voila/render/{name}" and page.locator(".wb-panel").count() == 1:
        return
    page.goto(f"{app.url}voila/render/{name}", timeout=LOAD)
    expect(page.locator(".wb-panel")).to_be_visible(timeout=LOAD)


def body_text(page) -> str:
    return page.locator("body").inner_text()


def no_code_shown(page, name: str) -> None:
    """No code cell's input shows, no code text is on the page, and no test printout (the tracked notebook's stored ones)."""
    assert page.locator(".jp-CodeCell").count() > 0  # the outputs are there ...
    for selector in (".jp-CodeCell .jp-InputArea", ".jp-InputArea-editor", ".cm-editor", ".CodeMirror", ".jp-InputPrompt"):
        assert page.locator(f"{selector}:visible").count() == 0, selector  # ... their code is not
    text = body_text(page)
    nb = tracked(name)
    code = [line.strip() for c in nb["cells"] if c["cell_type"] == "code" for line in "".join(c["source"]).splitlines()
            if len(line.strip()) >= 12 and not line.strip().startswith("#")]
    assert code and [line for line in code if line in text] == []
    printouts = [line for c in nb["cells"] if "hide-in-report" in c["metadata"].get("tags", [])
                 for o in c.get("outputs", []) for line in "".join(o.get("text", "")).splitlines() if len(line) >= 12]
    assert printouts and [line for line in printouts if line in text] == []


def kpi(page, label: str) -> str:
    card = page.locator(".wb-kpi", has=page.locator(".wb-kpi-label", has_text=re.compile(f"^{re.escape(label)}$")))
    expect(card).to_have_count(1)
    return card.locator(".wb-kpi-value").text_content().strip()


def panel_select(page, label: str, option: str, lang: str) -> None:
    """Choose `option` in the panel's dropdown `label`; wait until every section below has re-run without an error."""
    panel = page.locator(".wb-panel")
    panel.locator(".widget-dropdown", has=page.locator("label", has_text=label)).locator("select").select_option(label=option)
    done = f"{re.escape(t('panel_updated', lang))}|{re.escape(t('panel_failed', lang))}"
    expect(panel).to_contain_text(re.compile(done), timeout=LOAD)
    expect(panel.locator(".wb-warn")).to_have_count(0)


@pytest.fixture(scope="module")
def period_won_revenue() -> float:
    """Won revenue of PERIOD (FY2025Q4: January-March 2026, the sample's fiscal year starting in April) computed
    independently of the workbook from the sample's CSV: the amounts of the deals won and closed in it (80,750,000,
    30 deals; glossary "won revenue")."""
    import pandas as pd

    opps = pd.read_csv(SAMPLE_DATA_DIR / "opportunities.csv", parse_dates=["closed_at"])
    won = opps[(opps["outcome"] == "won") & opps["closed_at"].between("2026-01-01", "2026-03-31")]
    assert len(won) == 30
    return float(won["amount"].sum())


def test_the_landing_page_lists_the_seven_notebooks_with_their_titles_in_the_language(app, page):
    if page.url.split("?")[0] != app.url:
        page.goto(app.url)
    assert page.locator("html").get_attribute("lang") == app.lang
    expect(page.locator("h1")).to_have_text(t("app_title", app.lang))
    assert f"{t('panel_data_folder', app.lang)}: {(app.work / 'data').resolve()}" in body_text(page)
    names = sorted(p.name for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    assert len(names) == 7
    links = page.locator(".wb-app-pages a")
    assert links.evaluate_all("as => as.map(a => a.getAttribute('href'))") == [f"/voila/render/{n}" for n in names]
    assert [x.strip() for x in page.locator(".wb-app-pages .wb-app-title").all_text_contents()] == [
        heading(tracked(n), app.lang) for n in names]
    shot(page, f"landing_{app.lang}.png")
    links.nth(0).click()  # the link opens the notebook's page (the token's cookie carries the login)
    expect(page.locator(".wb-panel")).to_be_visible(timeout=LOAD)
    assert page.title() == heading(tracked(names[0]), app.lang)
    assert page.url == f"{app.url}voila/render/{names[0]}"   # the page test_a_page_... reads next


def test_a_page_shows_no_code_and_the_panel_period_changes_the_figure(app, page, period_won_revenue):
    name = "00_data_health.ipynb"
    open_notebook(page, app, name)
    assert page.locator("html").get_attribute("lang") == app.lang
    no_code_shown(page, name)
    label = t("scoped_this_period", app.lang).format(label=t("won_revenue", app.lang))
    before = kpi(page, label)
    want = f"¥{period_won_revenue:,.0f}"
    assert before != want  # the default period's figure differs: the change below is visible
    panel_select(page, t("panel_period", app.lang), PERIOD, app.lang)
    expect(page.locator(".wb-kpi", has=page.locator(".wb-kpi-label", has_text=re.compile(f"^{re.escape(label)}$")))
           .locator(".wb-kpi-value")).to_have_text(want)
    assert PERIOD in body_text(page)
    no_code_shown(page, name)
    shot(page, f"00_period_{app.lang}.png")


def test_the_answer_form_saves_into_the_working_copy_and_removes_again(app, page):
    data_csv = app.work / "data" / "checklist.csv"
    earlier = data_csv.read_bytes()
    open_notebook(page, app, "01_checklist_diagnostic.ipynb")
    no_code_shown(page, "01_checklist_diagnostic.ipynb")
    lang = app.lang
    form = page.locator(".widget-vbox", has=page.locator("button.widget-button", has_text=t("save", lang))).last
    expect(form).to_contain_text(str(data_csv.resolve()))  # it says where it saves: the working copy
    form.locator("input[placeholder='sales-01']").fill(RESPONDENT)
    form.locator(".widget-dropdown select").first.select_option(label=t("marketing", lang))
    day = form.locator(".widget-datepicker input").input_value()  # the default: the data's snapshot date
    rows = form.locator(".widget-hbox", has=page.locator(".wb-choice"))
    expect(rows).to_have_count(15)
    for i in range(15):
        row = rows.nth(i)
        item = int(row.locator(".widget-html").first.text_content().split(".")[0])
        if item in PLAN:
            answer = t("answer_" + PLAN[item], lang)
            row.locator("button", has_text=re.compile(f"^{re.escape(answer)}$")).click()
            expect(row.locator("button[aria-pressed='true']")).to_have_text(f"✓ {answer}")  # the app's widgets are live
    form.locator("button.widget-button", has_text=t("save", lang)).click()
    feedback = form.locator(".widget-html").last
    expect(feedback).to_contain_text(RESPONDENT, timeout=120_000)
    shot(page, f"01_form_saved_{lang}.png")
    saved = data_csv.read_bytes()
    assert saved.startswith(earlier)  # the earlier rows byte for byte
    new = list(csv.reader(io.StringIO(saved[len(earlier):].decode("utf-8"))))
    assert sorted(new, key=lambda r: int(r[3])) == [[RESPONDENT, "marketing", day, str(i), PLAN[i], ""] for i in sorted(PLAN)]
    form.locator("button.widget-button", has_text=t("form_remove_day", lang)).click()
    removed = re.sub(r"\\\{[a-z_]+\\\}", ".+", re.escape(t("form_removed", lang)))
    expect(feedback).to_contain_text(re.compile(removed), timeout=120_000)
    assert RESPONDENT not in data_csv.read_text(encoding="utf-8")
    assert pd.read_csv(data_csv, dtype=str).equals(pd.read_csv(io.BytesIO(earlier), dtype=str))
