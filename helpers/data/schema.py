"""The canonical input tables of the data contract (../shared/spec/contract.md section 1).

Each table is a list of `Column`s; the loader (helpers.data.load) parses and checks
exactly these. Columns not listed here are "extra" columns: they are kept aside
(they may hold personal data such as names, e-mails or phone numbers) and never
reach a report.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text" | "category" | "date" | "datetime" | "number" | "month" | "int"
    required: bool = False
    meaning: str = ""


@dataclass(frozen=True)
class Table:
    name: str          # canonical table name, also the file stem (leads -> leads.csv)
    required: bool     # is the table itself required in a data folder?
    key: str | None    # unique id column, if any
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


OUTCOMES = ("open", "won", "lost")
DEPARTMENTS = ("sales", "marketing")
CHECKLIST_ITEMS = tuple(range(1, 16))

LEADS = Table("leads", False, "lead_id", (
    Column("lead_id", "text", True, "unique lead id"),
    Column("created_at", "date", True, "lead created (inquiry)"),
    Column("channel", "category", True, "lead source / channel"),
    Column("campaign", "text", False, "campaign"),
    Column("industry", "category", False, "segment: industry"),
    Column("company_size", "category", False, "segment: company size"),
    Column("mql_at", "date", False, "became MQL; empty = never"),
    Column("sql_at", "date", False, "accepted by sales as SQL; empty = never"),
    Column("first_sales_touch_at", "datetime", False, "first sales contact"),
    Column("opportunity_id", "text", False, "the opportunity it converted to"),
    Column("owner", "text", False, "lead owner"),
    Column("disqualified_at", "date", False, "sales disqualified the lead (lead quality feedback); empty = never"),
    Column("disqualify_reason", "text", False, "why sales disqualified it"),
    Column("recycled_at", "date", False, "sent back to marketing for nurturing; empty = never"),
))

OPPORTUNITIES = Table("opportunities", True, "opportunity_id", (
    Column("opportunity_id", "text", True, "unique opportunity id"),
    Column("created_at", "date", True, "opportunity created"),
    Column("closed_at", "date", False, "closed; empty while open (required when won/lost)"),
    Column("outcome", "category", True, "open, won or lost"),
    Column("amount", "number", False, "deal value >= 0 (required when won)"),
    Column("lead_id", "text", False, "source lead"),
    Column("channel", "category", False, "falls back to the lead's channel, else 'unknown'"),
    Column("industry", "category", False, "segment: industry"),
    Column("company_size", "category", False, "segment: company size"),
    Column("owner", "text", False, "opportunity owner"),
    Column("loss_reason", "text", False, "why it was lost"),
))

SPEND = Table("spend", False, None, (
    Column("month", "month", True, "YYYY-MM"),
    Column("channel", "category", True, "channel the money was spent on"),
    Column("amount", "number", True, "spend >= 0"),
))

CHECKLIST = Table("checklist", False, None, (
    Column("respondent", "text", True, "who answered (an id or pseudonym)"),
    Column("department", "category", True, "sales, marketing or other"),
    Column("answered_on", "date", True, "date of the answers"),
    Column("item", "int", True, "checklist item 1-15"),
    Column("answer", "number", True, "yes/partial/no, はい/一部/いいえ, 1/0.5/0 -> 1, 0.5, 0"),
    Column("note", "text", False, "optional comment"),
))

INITIATIVES = Table("initiatives", False, None, (
    Column("name", "text", True, "initiative name"),
    Column("started_on", "date", True, "start date"),
    Column("items", "text", False, "checklist items it addresses, e.g. 1;2"),
    Column("note", "text", False, "free text"),
))

#: The metrics a target can be set for (targets.csv `metric`), and who owns each by default.
TARGET_METRICS = ("won_revenue", "won_count", "opportunities_created", "sqls", "mqls", "leads")
TARGET_DEPARTMENTS = ("marketing", "sales", "shared")
#: Who owns each metric's goal when targets.csv does not say (and for last year's goals).
DEFAULT_DEPARTMENT = {"won_revenue": "shared", "won_count": "shared", "opportunities_created": "sales",
                      "sqls": "sales", "mqls": "marketing", "leads": "marketing"}

TARGETS = Table("targets", False, None, (
    Column("period", "text", True, "fiscal quarter label, e.g. FY2026Q3 or 2026Q3 (the configured fiscal calendar)"),
    Column("metric", "text", True, "won_revenue, won_count, opportunities_created, sqls, mqls or leads"),
    Column("target", "number", True, "the agreed goal (money in the workbook currency, else a count), >= 0"),
    Column("department", "category", False, "marketing, sales or shared (who owns the goal)"),
    Column("channel", "category", False, "a channel, for a channel goal; empty = all channels"),
))

#: Marketing and sales touches of a person (contract section 6): what attribution credits.
TOUCHES = Table("touches", False, "touch_id", (
    Column("touch_id", "text", False, "unique touch id (optional)"),
    Column("lead_id", "text", True, "the person touched (a lead of leads.csv)"),
    Column("touched_at", "datetime", True, "when (date or ISO datetime)"),
    Column("channel", "category", True, "channel of the touch (web, seminar, ad, email, ...)"),
    Column("campaign", "text", False, "campaign name"),
    Column("touch_type", "category", False, "form, event, email_click, ad_click, content, call, meeting"),
    Column("content", "text", False, "the asset (whitepaper, case study)"),
    Column("opportunity_id", "text", False, "a touch recorded on the deal itself"),
))

TABLES: dict[str, Table] = {t.name: t for t in (LEADS, OPPORTUNITIES, SPEND, CHECKLIST, INITIATIVES, TARGETS, TOUCHES)}

#: Each canonical column's Japanese header(s), as docs/data_dictionary.md's 日本語 column gives them (the shipped mapping
#: canonical_ja reads them; tests/test_mapping_dictionary.py holds the three together). The ingest names an export
#: column with one of these names, or a canonical name, that its mapping leaves unread (warning columns_not_mapped).
JA_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "leads": {"lead_id": ("リードID",), "created_at": ("作成日",), "channel": ("チャネル",), "campaign": ("キャンペーン",),
              "industry": ("業種",), "company_size": ("企業規模",), "mql_at": ("MQL日",), "sql_at": ("SQL日",),
              "first_sales_touch_at": ("初回営業接触日時",), "opportunity_id": ("商談ID",), "owner": ("担当者",),
              "disqualified_at": ("失格日",), "disqualify_reason": ("失格理由",), "recycled_at": ("差し戻し日",)},
    "opportunities": {"opportunity_id": ("商談ID",), "created_at": ("商談作成日",), "closed_at": ("完了日",), "outcome": ("結果",),
                      "amount": ("金額",), "lead_id": ("リードID",), "channel": ("チャネル",), "industry": ("業種",),
                      "company_size": ("企業規模",), "owner": ("担当者",), "loss_reason": ("失注理由",)},
    "spend": {"month": ("月",), "channel": ("チャネル",), "amount": ("金額", "費用")},
    "checklist": {"respondent": ("回答者",), "department": ("部門",), "answered_on": ("回答日",), "item": ("項目",),
                  "answer": ("回答",), "note": ("メモ",)},
    "initiatives": {"name": ("施策名",), "started_on": ("開始日",), "items": ("項目",), "note": ("メモ",)},
    "targets": {"period": ("期間",), "metric": ("指標",), "target": ("目標値",), "department": ("担当部門",), "channel": ("チャネル",)},
    "touches": {"touch_id": ("タッチID",), "lead_id": ("リードID",), "touched_at": ("接触日時",), "channel": ("チャネル",),
                "campaign": ("キャンペーン",), "touch_type": ("タッチ種別",), "content": ("コンテンツ",), "opportunity_id": ("商談ID",)},
}


def meaning(table: str, column: str):
    """What `column` of `table` holds, as a message says it in either language: a helpers.errors.Phrase of the label
    ``meaning_<table>_<column>`` (its English is the Column's `meaning`). KeyError for a column not in the contract."""
    from helpers.errors import Phrase

    TABLES[table].column(column)
    return Phrase(f"meaning_{table}_{column}")


#: Checklist department names accepted for sales and marketing (compared after NFKC, trimming, lower case and
#: collapsing spaces); docs/data_dictionary.md lists them. Other names are other departments (scored on their own).
DEPARTMENT_SYNONYMS = {
    "sales": ("sales", "sales team", "sales department", "sales dept", "sales dept.", "営業", "営業部", "営業部門",
              "営業本部", "営業チーム", "セールス", "セールス部", "セールス部門", "セールスチーム"),
    "marketing": ("marketing", "mktg", "marketing team", "marketing department", "marketing dept", "marketing dept.",
                  "マーケ", "マーケ部", "マーケ部門", "マーケティング", "マーケティング部", "マーケティング部門", "マーケティング本部",
                  "マーケティングチーム"),
}


def _display_names(keys) -> dict[str, str]:
    """{display name as compared (NFKC, spaces collapsed, lower case): key} of the label table's en and ja names of
    `keys` (won_revenue: Won revenue / 受注金額), the keys themselves included."""
    import unicodedata

    from helpers.labels import t

    out = {}
    for key in keys:
        for name in (key, t(key, "en"), t(key, "ja")):
            out.setdefault(" ".join(unicodedata.normalize("NFKC", name).split()).lower(), key)
    return out


def target_label_key(value, column: str) -> str | None:
    """A targets.csv metric or department cell in canonical form: a key of TARGET_METRICS / TARGET_DEPARTMENTS, or
    its display name in the label table, en or ja, exactly (受注金額, Won revenue -> won_revenue; 共通, Shared ->
    shared; the goals report's own words), compared after NFKC, trimming, spaces and case; a department also by
    :func:`department_key`'s synonyms (営業 -> sales); anything else the trimmed lower-case text (refused later)."""
    import unicodedata

    if value is None or (isinstance(value, float) and value != value):
        return None
    text = " ".join(unicodedata.normalize("NFKC", str(value)).split()).lower()
    if not text:
        return None
    keys = TARGET_METRICS if column == "metric" else TARGET_DEPARTMENTS
    found = _display_names(keys).get(text)
    if found or column == "metric":
        return found or text
    return department_key(text)


def department_key(value) -> str | None:
    """A department cell in canonical form: sales / marketing for their synonyms, else the trimmed lower-case text."""
    import unicodedata

    if value is None or (isinstance(value, float) and value != value):
        return None
    text = " ".join(unicodedata.normalize("NFKC", str(value)).split()).lower()
    if not text:
        return None
    for canonical, names in DEPARTMENT_SYNONYMS.items():
        if text in names:
            return canonical
    return text
