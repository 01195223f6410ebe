"""Attack: formulas in CRM exports must not reach the converted CSVs live (OWASP CSV injection)."""
from __future__ import annotations

from pathlib import Path

from helpers.data.ingest import ingest
from helpers.data.load import load_workbook, read_csv_text

EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "exports" / "hubspot"
FORMULA = "=cmd|' /C calc'!A0"


def test_ingest_neutralizes_formula_text_and_keeps_numbers(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    for p in EXPORTS.iterdir():
        text = p.read_text(encoding="utf-8")
        if "deals" in p.name:
            text = text.replace(",Price\n", f',"{FORMULA}"\n').replace("Aoi Sato", "@SUM(A1)", 1)
        (exports / p.name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    ingest(exports, "hubspot", out)
    raw, _ = read_csv_text(out / "opportunities.csv")
    reasons = [v for v in raw["loss_reason"] if v]
    assert reasons == ["'" + FORMULA]
    assert "'@SUM(A1)" in set(raw["owner"])
    # numbers are not touched: amounts are written as numbers (no apostrophe)
    assert not any(str(v).startswith("'") for v in raw["amount"] if v)
    # the loader reads the text back as it was in the export
    wb = load_workbook(out)
    assert FORMULA in set(wb.opportunities["loss_reason"].dropna())
