"""The words of a total row (合計, Total, Grand Totals (4 records), ...) and how a message lists total rows: shared by a
data folder's check (helpers.data.total_rows) and an ingest's (helpers.data.export_totals). No I/O."""
from __future__ import annotations

import re

from helpers.errors import Phrase

#: The label of a total row (the whole cell, any case, an optional colon or a count in brackets: "Grand Totals (4
#: records)", "総計 (4 件)").
TOTAL_WORDS = re.compile(r"(?:総?合計|総計|小計|計|(?:grand |sub ?)?totals?|sum)\s*(?:[:：]|[(（][^()（）]*[)）])?", re.IGNORECASE)
#: Row numbers a message lists.
SHOWN = 5


def _rows_phrase(numbers: list[int]) -> Phrase:
    """'total row (row 4)', 'total rows (rows 4, 7)', 'total rows (rows 4, ... (+3 more))': said in either language."""
    shown = ", ".join(map(str, numbers[:SHOWN]))
    if len(numbers) == 1:
        return Phrase("part_total_row", rows=shown)
    if len(numbers) <= SHOWN:
        return Phrase("part_total_rows", rows=shown)
    return Phrase("part_total_rows_more", rows=shown, more=len(numbers) - SHOWN)
