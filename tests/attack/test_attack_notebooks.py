"""Attack: text from the data drawn in the real funnel notebook (mathtext, a 1 MiB channel name)."""
from __future__ import annotations

import shutil

from conftest import LEADS_CSV, OPPS_CSV, write_folder
from helpers.report.run import main, notebook_paths

HUGE = "w" * (1 << 20)


def test_funnel_notebook_draws_any_channel_name(tmp_path, capsys):
    leads = LEADS_CSV.replace(",web,", ",$\\foo$ web,", 1).replace(",seminar,", ",$x^{2$,").replace(",web,", f",{HUGE},")
    data = write_folder(tmp_path / "data", {"leads.csv": leads, "opportunities.csv": OPPS_CSV})
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    funnel = next(p for p in notebook_paths() if p.name.startswith("02_"))
    shutil.copy(funnel, nbs / funnel.name)
    out = tmp_path / "out"
    code = main(["--data", str(data), "--out", str(out), "--period", "2025Q2", "--notebooks", str(nbs)])
    printed = capsys.readouterr()
    assert code == 0, printed.out + printed.err
    html = (out / "2025Q2" / f"{funnel.stem}.html").read_text(encoding="utf-8")
    assert "$\\foo$ web" in html and "$x^{2$" in html  # shown as typed in the tables
