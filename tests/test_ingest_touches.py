"""Touches through the shipped Salesforce object mapping (salesforce_api): CampaignMember with its Campaign, contacts
reached through Lead.ConvertedContactId and OpportunityContactRole; and what the fixture's exports leave, said plainly."""
import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from helpers.data.ingest import ingest
from helpers.data.load import load_workbook
from helpers.errors import WorkbookError
from helpers.metrics.attribution_paths import attribution_section

FIXTURE = Path(__file__).parent / "fixtures" / "salesforce_export"


def warnings_of(out: Path) -> dict:
    return {w["code"]: w for w in json.loads((out / "ingest_report.json").read_text(encoding="utf-8"))["warnings"]}


def test_fixture_members_never_responded_and_deals_name_no_campaign(tmp_path):
    out = tmp_path / "sf"
    ingest(FIXTURE, "salesforce_api", out)
    text = (out / "touches.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("touch_id,lead_id,touched_at,channel") and len(text.splitlines()) == 1
    w = warnings_of(out)
    assert w["touches_none_kept"]["count"] == 68   # every CampaignMember row: HasResponded is empty
    assert "never responded" in w["touches_none_kept"]["message"]
    assert w["deals_without_campaign"]["count"] == 50 and w["deals_without_campaign"]["column"] == "CampaignId"
    assert "Campaign.csv" not in {x["file"] for x in w.values() if x["code"] == "file_not_used"}   # read by the join
    wb = load_workbook(out)
    section = attribution_section(wb, "2023-01-01", "2024-12-31", samples=10)
    assert section["null_reasons"] == {"attribution": "no_touch_rows"} and section["models"] == {}


def _edit(path: Path, changes: dict[int, dict[str, str]], extra_rows: list[dict] | None = None) -> None:
    """Set cells of rows (0-based data rows) of a CSV export with a BOM, keeping everything else."""
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    header = list(rows[0].keys())
    for i, cells in changes.items():
        rows[i].update(cells)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows + (extra_rows or []))
    path.write_text(buf.getvalue(), encoding="utf-8-sig")


def test_responded_members_become_touches_with_campaign_type_lead_and_deal(tmp_path):
    exports = tmp_path / "exports"
    shutil.copytree(FIXTURE, exports)
    members = list(csv.DictReader(io.StringIO((exports / "CampaignMember.csv").read_text(encoding="utf-8-sig"))))
    lead_member, contact_member = members[0], members[1]   # row 2: a lead; row 3: a contact only
    assert lead_member["LeadId"] and not contact_member["LeadId"] and contact_member["ContactId"]
    _edit(exports / "CampaignMember.csv", {0: {"HasResponded": "1", "FirstRespondedDate": "2023-06-18"},
                                           1: {"HasResponded": "1"}})   # no FirstRespondedDate: CreatedDate
    leads = list(csv.DictReader(io.StringIO((exports / "Lead.csv").read_text(encoding="utf-8-sig"))))
    converted = leads[5]["Id"]
    _edit(exports / "Lead.csv", {5: {"IsConverted": "1", "ConvertedContactId": contact_member["ContactId"]}})
    opp = list(csv.DictReader(io.StringIO((exports / "Opportunity.csv").read_text(encoding="utf-8-sig"))))[1]["Id"]
    (exports / "OpportunityContactRole.csv").write_text(
        "\ufeffId,OpportunityId,ContactId,Role,IsPrimary\n"
        f"00KEc0000000001,{opp},{contact_member['ContactId']},Decision Maker,1\n", encoding="utf-8")
    out = tmp_path / "sf"
    ingest(exports, "salesforce_api", out)
    touches = list(csv.DictReader((out / "touches.csv").open(encoding="utf-8")))
    assert [t["touch_id"] for t in touches] == [lead_member["Id"], contact_member["Id"]]
    campaigns = {r["Id"]: r for r in csv.DictReader(io.StringIO((exports / "Campaign.csv").read_text(encoding="utf-8-sig")))}
    first, second = touches
    assert first["lead_id"] == lead_member["LeadId"] and first["touched_at"] == "2023-06-18"
    assert first["channel"] == campaigns[lead_member["CampaignId"]]["Type"]
    assert first["campaign"] == campaigns[lead_member["CampaignId"]]["Name"]
    assert second["lead_id"] == converted   # the contact reached its lead through Lead.ConvertedContactId
    assert second["touched_at"].startswith("2024-01-23")   # CreatedDate 2024-01-23T02:46:47.000+0000
    assert second["opportunity_id"] == opp and first["opportunity_id"] == ""   # through OpportunityContactRole
    w = warnings_of(out)
    assert "touches_none_kept" not in w and "deals_without_campaign" in w
    assert "OpportunityContactRole.csv" not in {x["file"] for x in w.values()}


def test_a_join_names_what_is_missing(tmp_path):
    from helpers.errors import WorkbookError

    exports = tmp_path / "exports"
    shutil.copytree(FIXTURE, exports)
    (exports / "Campaign.csv").unlink()
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "salesforce_api", tmp_path / "out")
    assert "Campaign.csv" in err.value.message and "CampaignId" in err.value.message


def test_hubspot_form_submissions_become_touches(tmp_path):
    out = tmp_path / "hs"
    ingest(Path(__file__).parent / "fixtures" / "exports" / "hubspot_forms", "hubspot", out)
    touches = list(csv.DictReader((out / "touches.csv").open(encoding="utf-8")))
    assert [(t["lead_id"], t["channel"], t["campaign"], t["touch_type"]) for t in touches] == [
        ("101", "web", "Contact us", "form"), ("101", "web", "Webinar registration", "form"),
        ("102", "web", "Whitepaper download", "form")]
    assert touches[1]["touched_at"].startswith("2024-02-10")
    assert "Email" not in touches[0] and "mary@example.com" not in (out / "touches.csv").read_text(encoding="utf-8")
    wb = load_workbook(out)
    # contact 101 is deal 9001's contact (Associated Deal IDs): both form touches reach it
    section = attribution_section(wb, "2024-01-01", "2024-03-31", samples=10)
    assert section["models"]["first_touch"]["won"]["web"] == {"revenue": 1_500_000, "deals": 1.0}


def test_hubspot_form_export_with_other_headers_is_refused_naming_both(tmp_path):
    """HubSpot's form-submission headers are not confirmed: a file named like that export without the mapping's names
    stops the ingest, naming the names expected and the header found; nothing is read from another column (the
    submission's own Record ID is never the contact)."""
    exports = tmp_path / "exports"
    shutil.copytree(Path(__file__).parent / "fixtures" / "exports" / "hubspot_forms", exports)
    forms = exports / "hubspot-form-submissions-2024-06-30.csv"
    forms.write_text(forms.read_text(encoding="utf-8").replace("Contact ID", "Record ID", 1), encoding="utf-8")
    with pytest.raises(WorkbookError) as err:
        ingest(exports, "hubspot", tmp_path / "out")
    message = err.value.message
    assert message.startswith("hubspot-form-submissions-2024-06-30.csv looks like the touches export")
    assert "missing 'Contact ID' or 'Contact Record ID' or 'コンタクトID'" in message
    assert "found 'Conversion Date', 'Record ID', 'Email', 'Form Name', 'Conversion Page'" in message
    assert "extends: hubspot" in err.value.fix and not (tmp_path / "out").exists()
