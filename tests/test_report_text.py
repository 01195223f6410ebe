"""No report ever shows None, NaN, nan, <NA>, null or a float with more than 4 decimals.

conftest.scan_every_report wraps helpers.report.index_page.write_index for the whole test session:
every runner invocation of the suite (test_run, test_honest_figures, ...) has its published
reports scanned as it finishes, and fails its test on any offender. These tests pin the
scanner itself and that the wrapping is in place, so the suite-wide scan cannot silently stop.
"""
from __future__ import annotations

import pytest

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from report_scan import figure_pairs, label_conflicts, offenders, scan_folder, visible_text
from test_run import probe_notebooks


@pytest.mark.parametrize("text", ["observed for None days", "NaN", "rate nan", "<NA>", "null",
                                  "78.60000000000014 days", "0.123456"])
def test_scanner_finds_every_forbidden_form(text):
    from html import escape

    page = f"<html><body><table><tr><td>{escape(text)}</td></tr></table></body></html>"
    assert offenders(page), text


@pytest.mark.parametrize("text", ["Nonetheless", "n/a", "Annual", "nano", "12.3456", "¥1,234,568", "2025-04-01",
                                  "nullable", "FY2025Q1", "17.7%", "v1.2.3"])
def test_scanner_leaves_ordinary_text_alone(text):
    assert offenders(f"<p>{text}</p>") == []


def test_scanner_reads_visible_text_only():
    page = ('<html><head><style>.x { width: 0.123456px }</style><script>var a = null; var b = NaN;</script></head>'
            '<body><img src="data:image/png;base64,Tm9uZQ==" alt="Win rate"><p>ok</p></body></html>')
    assert offenders(page) == []
    assert visible_text(page) == "Win rate\nok"
    assert offenders('<img alt="None">') == ["'None' in: None"]   # alt text is read


def test_scan_folder_covers_index_and_period_reports(tmp_path):
    out = tmp_path / "out"
    (out / "2025Q2").mkdir(parents=True)
    (out / "_failed" / "2025Q3").mkdir(parents=True)
    (out / "index.html").write_text("<p>fine</p>", encoding="utf-8")
    (out / "2025Q2" / "00_data_health.html").write_text("<p>shown for NaN days</p>", encoding="utf-8")
    (out / "_failed" / "2025Q3" / "00_data_health.html").write_text("<p>None</p>", encoding="utf-8")  # not published
    assert scan_folder(out) == ["2025Q2/00_data_health.html: 'NaN' in: shown for NaN days"]


def test_every_runner_invocation_is_scanned(tmp_path, scan_every_report):
    from helpers.report import index_page
    from helpers.report.run import main

    assert index_page.write_index.__name__ == "write_index_and_scan"
    data = write_folder(tmp_path / "data", {"leads.csv": LEADS_CSV, "opportunities.csv": OPPS_CSV})
    out = tmp_path / "out"
    # one small notebook is enough to see the scan run (no kernel import of the stack: about 3 CPU s less than 00)
    notebooks = probe_notebooks(tmp_path / "nbs", (), {"00_probe": "print(period)"})
    before = len(scan_every_report)
    assert main(["--data", str(data), "--out", str(out), "--notebooks", str(notebooks)]) == 0
    assert scan_every_report[before:] == [out]
    assert "2025Q2" in (out / "2025Q2" / "00_probe.html").read_text(encoding="utf-8")
    # a report that shows a forbidden text fails the run that published it
    (out / "2025Q2" / "00_probe.html").write_text("<p>None</p>", encoding="utf-8")
    with pytest.raises(AssertionError, match="reports show text they never may"):
        index_page.write_index(out, *_index_args(data))


def _index_args(data):
    from helpers.config import load_config
    from helpers.data.load import load_workbook

    config = load_config(data)
    return load_workbook(data, config), config, []


def test_figure_pairs_reads_cards_tables_and_labelled_cells():
    html = ('<div class="wb-kpi"><div class="wb-kpi-label">Win rate, this period</div><div class="wb-kpi-value">32.5%</div></div>'
            '<table><thead><tr><th>Stage</th><th>Divided by</th><th>Needed</th></tr></thead><tbody>'
            '<tr><td>Opportunities</td><td>Win rate 29.6%</td><td>56.7</td></tr>'
            '<tr><td>Sign</td><td>+</td><td>-</td></tr></tbody></table>'
            '<table><thead><tr><th>Period</th><th>Days</th></tr></thead><tbody>'
            '<tr><td>FY2024Q1</td><td>30</td></tr><tr><td>FY2024Q1</td><td>60</td></tr></tbody></table>')
    pairs = figure_pairs(html)
    assert ("Win rate, this period", "32.5%") in pairs
    assert ("Win rate", "29.6%") in pairs and ("Stage: Opportunities | Needed", "56.7") in pairs
    assert not any(label.startswith("Period: FY2024Q1") for label, _ in pairs)   # a row key listed twice is no key
    assert not any(label in ("+", "-") for label, _ in pairs)


def test_label_conflicts_names_the_label_the_values_and_the_pages(tmp_path):
    card = '<div class="wb-kpi"><div class="wb-kpi-label">{}</div><div class="wb-kpi-value">{}</div></div>'
    (tmp_path / "a.html").write_text(card.format("Win rate", "32.5%") + card.format("Deals won", "25"), encoding="utf-8")
    (tmp_path / "b.html").write_text('<table><thead><tr><th>Stage</th><th>Divided by</th></tr></thead><tbody>'
                                     '<tr><td>Opportunities</td><td>Win rate 29.6%</td></tr></tbody></table>'
                                     + card.format("Deals won", "25"), encoding="utf-8")
    found = label_conflicts([tmp_path / "a.html", tmp_path / "b.html"])
    assert found == ["'Win rate': '29.6%' in b.html; '32.5%' in a.html"]


def test_figure_pairs_scopes_same_keys_by_section_heading_within_a_page():
    table = ('<table><thead><tr><th>Channel</th><th>Linear</th></tr></thead><tbody>'
             '<tr><td>web</td><td>{}</td></tr></tbody></table>')
    html = "<h3>Won revenue by channel</h3>" + table.format("¥10") + "<h3>Pipeline created by channel</h3>" + table.format("¥30")
    pairs = figure_pairs(html)
    assert ("Won revenue by channel › Channel: web | Linear", "¥10") in pairs
    assert ("Pipeline created by channel › Channel: web | Linear", "¥30") in pairs
    same = figure_pairs("<h3>A</h3>" + table.format("¥10") + "<h3>B</h3>" + table.format("¥10"))
    assert same == [("Channel: web | Linear", "¥10")] * 2   # equal values need no scope
