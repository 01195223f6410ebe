"""The hand-computed attribution fixture (tests/test_attribution.py): a small data folder written as CSV.

as_of 2025-06-30, calendar quarters; period 2025Q2 = 2025-04-01 .. 2025-06-30. What each deal tests:

- O1 (lead L1 created 2025-03-01, deal created 2025-03-20, won 2025-05-10, 1,000,000): seven counted touches,
  two at the same time (T02 before T10: touch_id as text), one after close (T08, left out), one more than 365
  days before the deal (T09, left out), one carried on the deal itself by another lead (T11, opportunity_id O1).
- O2 (lead L2 created 2025-01-10, deal created 2025-02-01, won 2025-04-15, 300,000): FT = LC on one touch,
  OC = CW on the other: no "rest" touch in w_shaped and full_path.
- O3 (lost 2025-06-01): content used before and after the deal was created.
- O4 (no lead, won 2025-06-20, 200,001): its only touch is carried on the deal (opportunity_id O4).
- O5 (won 2025-06-25, 99,999): no touch at all (row no_touches).
- O6 (open, created 2025-05-01, 400,000): two touches at the same time without touch_id (file order: email, ad).
"""
from pathlib import Path

LEADS = """lead_id,created_at,channel,opportunity_id
L1,2025-03-01,seminar,O1
L2,2025-01-10,web,O2
L3,2025-02-01,whitepaper,O3
L4,2025-03-15,web,
L5,2025-04-20,web,O6
"""
OPPORTUNITIES = """opportunity_id,created_at,closed_at,outcome,amount,lead_id
O1,2025-03-20,2025-05-10,won,1000000,L1
O2,2025-02-01,2025-04-15,won,300000,L2
O3,2025-03-01,2025-06-01,lost,500000,L3
O4,2025-04-05,2025-06-20,won,200001,
O5,2025-04-10,2025-06-25,won,99999,
O6,2025-05-01,,open,400000,L5
"""
TOUCHES = """touch_id,lead_id,touched_at,channel,campaign,touch_type,content,opportunity_id
T10,L1,2025-03-20T10:00:00,ad,,ad_click,,
T02,L1,2025-03-20T10:00:00,email,,email_click,,
T01,L1,2025-01-15,web,,form,,
T05,L1,2025-03-01,seminar,,event,,
T06,L1,2025-04-01,whitepaper,,content,guide,
T07,L1,2025-05-10,seminar,,event,,
T08,L1,2025-05-11,web,,form,,
T09,L1,2024-01-01,web,,form,,
T11,L4,2025-04-20,sales,,meeting,case study A,O1
T20,L2,2025-01-10,web,,form,,
T21,L2,2025-01-25,seminar,,event,,
T30,L3,2025-03-05,sales,,content,case study A,
T31,L3,2025-02-10,whitepaper,,content,guide,
T40,L4,2025-06-01,sales,,content,case study A,O4
T60,L5,2025-04-20,web,,form,,
,L5,2025-06-29T10:00:00,email,,email_click,,
,L5,2025-06-29T10:00:00,ad,,ad_click,,
"""


def write(folder: Path, touches: str = TOUCHES) -> Path:
    """The fixture's data folder (leads, opportunities, touches as CSV) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(LEADS, encoding="utf-8")
    (folder / "opportunities.csv").write_text(OPPORTUNITIES, encoding="utf-8")
    (folder / "touches.csv").write_text(touches, encoding="utf-8")
    return folder
