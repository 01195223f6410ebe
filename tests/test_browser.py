"""Real-browser test: Debian's Chromium (driven by Playwright) opens index.html and every report offline.

Checks: no console errors, no request leaving the file (only file: and data: URLs),
charts present, the injected markup shown as text and never run, a screenshot saved
in test-output/. CI installs chromium (.ci/run); elsewhere the test is skipped when
/usr/bin/chromium is absent, but never under CI.
"""
import os
from pathlib import Path

import pytest

from helpers.labels import t

from conftest import CHROMIUM, LEADS_CSV, OPPS_CSV, write_folder
from helpers.paths import PROJ_ROOT
from helpers.report.run import main

XSS = "<img src=x onerror=alert(1)>"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run must install Debian's chromium package")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module", params=["en", "ja"])
def reports(request, tmp_path_factory) -> Path:
    """Reports for a tiny data set whose channel and campaign names are HTML markup."""
    tmp = tmp_path_factory.mktemp(f"browser-{request.param}")
    leads = LEADS_CSV.replace(",seminar,ウェビナー,", f',"{XSS}","<script>alert(2)</script>",')
    checklist = "respondent,department,answered_on,item,answer\n" + "".join(
        f"{r},{d},2025-06-20,{i},{a}\n" for r, d, a in (("s1", "sales", "no"), ("m1", "marketing", "yes")) for i in range(1, 16))
    initiatives = f'name,started_on,items\n"{XSS}",2025-05-15,3;4\n'
    touches = ("touch_id,lead_id,touched_at,channel,campaign,touch_type,content,opportunity_id\n"
               "T1,L1,2025-04-01,web,,form,,\n"
               f'T2,L1,2025-04-20,"{XSS}",,event,"<script>alert(3)</script>",O1\n'
               f'T3,L2,2025-04-15,"{XSS}",,event,,\n')
    data = write_folder(tmp / "data", {"leads.csv": leads, "opportunities.csv": OPPS_CSV, "touches.csv": touches,
                                       "checklist.csv": checklist, "initiatives.csv": initiatives})
    assert main(["--data", str(data), "--out", str(tmp / "out"), "--lang", request.param]) == 0
    return tmp / "out"


class Visitor:
    """One page that opens file after file and records, per file, the console errors, the requests leaving the file
    (only file: and data: URLs may load) and the dialogs (an injected script that ran). One page for all the files,
    not a fresh one each: a new page starts a renderer process of its own (~1 CPU s a file, two thirds of the
    browser's CPU here); an error or request of a file arriving after its visit still fails, in the next file's."""

    def __init__(self, context):
        self.page = context.new_page()
        self.errors, self.outside, self.dialogs = [], [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)

    def visit(self, path: Path, shot: Path):
        """Open a file; return (console errors, outside requests, dialogs, page text, image count) of this visit."""
        page = self.page
        self.errors, self.outside, self.dialogs = [], [], []
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        assert page.url == path.as_uri(), f"{path.name}: the page is at {page.url}"
        text = page.inner_text("body")
        images = page.locator("img").count()
        no_alt = page.locator("img:not([alt]), img[alt='']").count()
        assert no_alt == 0, f"{path.name}: {no_alt} image(s) without alt text"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        return self.errors, self.outside, self.dialogs, text, images


def test_index_and_reports_open_offline(reports, browser):
    context = browser.new_context()
    lang = "ja" if "browser-ja" in str(reports) else "en"
    pages = [reports / "index.html"] + sorted(reports.glob("*/*.html"))
    assert len(pages) >= 2
    visitor = Visitor(context)
    for path in pages:
        shot = PROJ_ROOT / "test-output" / "screenshots" / lang / f"{path.parent.name}_{path.stem}.png"
        errors, outside, dialogs, text, images = visitor.visit(path, shot)
        assert errors == [], f"{path.name}: console errors {errors}"
        assert outside == [], f"{path.name}: requests leaving the file {outside}"
        assert dialogs == [], f"{path.name}: injected script ran: {dialogs}"
        # a chart, or (never an empty chart) the sentence saying why there is none
        # (03: no velocity trend; 04: the period is over, no forecast to draw; 05: no lead score on a tiny data set,
        # so no reliability curve or forest plot)
        why_none = {"03_": t("velocity_no_trend", lang), "04_": t("forecast_period_over", lang),
                    "05_": t("lq_score_none", lang).split("{")[0].strip()}
        assert images >= 1 or any(path.name.startswith(k) and v in text for k, v in why_none.items()), f"{path.name}: no chart"
        assert shot.stat().st_size > 5000
        if path.name.startswith(("00_", "02_", "03_", "06_")):
            assert XSS in text, "the channel or initiative name must show as text"
        if path.name != "index.html":
            assert path.stat().st_size < 3_000_000
        if lang == "ja":
            assert any(word in text for word in ("受注率", "セールスベロシティ", "商談化")), path.name   # a Japanese page
    context.close()
