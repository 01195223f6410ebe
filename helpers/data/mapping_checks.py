"""The column checks applying a mapping runs: amounts and their currency and decimal mark, stage values no rule maps,
cells Excel changed, the day/month order of dates; each problem a sentence with its fix (FIX_BY_TOPIC), each
adjustment a note in the mapping report.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal

import pandas as pd

from helpers.data.categories import excel_dated
from helpers.data.cells import _rows_text, cell_text, find_column, missing_column_error, number_text
from helpers.data.mapping_spec import shipped_mappings
from helpers.errors import Phrase, PhraseList
from helpers.data.mapping_types import DATE_KINDS, MAX_SHOWN, ColumnRule, TableMapping
from helpers.data.values import (currency_code_cell, date_order_evidence, decimal_evidence, is_ambiguous_point, is_scientific, split_currency,
                            is_ambiguous_numeric_date, numeric_date_parts)


#: The fix of each topic of problems (the label fix_topic_<topic>, placeholders {where} and {stem}) -> the problems
#: (Phrase keys) it fixes; a list of problems gets the fixes of its topics in this order
#: (helpers.data.mapping._refuse_unconverted), the generic fix_unconvertible_format when none applies.
FIX_BY_TOPIC = {
    "fix_topic_excel": ("problem_ids_rounded", "problem_ids_zeros", "problem_category_dates", "problem_category_date_cell"),
    "fix_topic_decimal": ("problem_decimal_mixed", "problem_decimal_ambiguous"),
    "fix_topic_stages": ("problem_stages_unmapped",),
    "fix_topic_currencies": ("problem_currencies_converted", "problem_currencies_no_rates", "problem_currencies_unmarked",
                             "problem_currencies_no_rate"),
    "fix_topic_currency_codes": ("problem_not_currency_codes",),
    "fix_topic_date_order": ("problem_date_order_conflict", "problem_dates_ambiguous"),
    "fix_topic_not_numbers": ("problem_not_numbers", "problem_amounts_not_numbers"),
    "fix_topic_as_written": ("problem_dates_as_written",),
    "fix_topic_months": ("problem_months_without_day",),
    "fix_topic_mixed_order": ("problem_dates_mixed_order",),
    "fix_topic_split": ("problem_multi_value",),
}


def read_amounts(rule: ColumnRule, rows: pd.DataFrame, kept: list[int], source: str, tm: TableMapping,
                 report: dict, problems: list[str]) -> tuple[list, list, dict]:
    """The amount column as (number texts, each row's currency code or None, how): the converted column when the
    export has it (`converted_column`), else the amount column with each row's currency from `currency_column`
    or written with the amount (`USD 10,000.00`, `£5,000`, `1,200,000円`)."""
    conv = find_column(rows.columns, rule.converted_column) if rule.converted_column else None
    col = conv or find_column(rows.columns, rule.columns)
    if col is None:
        if rule.optional:
            report["skipped"].append({"column": rule.target, "export": list(rule.columns)})
            raise _Skip
        raise missing_column_error(rule.columns, rows.columns, source, f"{tm.where}.columns.{rule.target}")
    code_names = rule.converted_currency_column if conv else rule.currency_column
    code_col = find_column(rows.columns, code_names) if code_names else None
    report["columns"][rule.target] = col
    decimal = rule.decimal or tm.decimal or decide_decimal(col, rows[col], kept, report, problems)
    values, codes, bad, bad_values, bad_codes = [], [], [], [], []
    bare_dollar = explicit_usd = False
    for pos, v in enumerate(rows[col]):
        text = cell_text(v)
        code = None
        try:
            if text is not None and isinstance(v, str):
                code, number = split_currency(unicodedata.normalize("NFKC", text))
                if code == "USD":
                    explicit = "USD" in text.upper() or "US$" in text.upper()
                    explicit_usd, bare_dollar = explicit_usd or explicit, bare_dollar or not explicit
                text = number_text(number, decimal)
            else:
                text = number_text(v, decimal)
        except ValueError:
            bad.append(pos)
            bad_values.append(cell_text(v) or "")
            values.append(None)
            codes.append(None)
            continue
        if code_col is not None:
            stated = cell_text(rows[code_col].iat[pos])
            try:
                stated = currency_code_cell(stated) if stated else None
            except ValueError:
                bad_codes.append((pos, stated))
                values.append(None)
                codes.append(None)
                continue
            if stated and code and stated != code:
                bad.append(pos)
                bad_values.append(f"{cell_text(v)} with {code_col} {stated}")
                values.append(None)
                codes.append(None)
                continue
            code = stated or code
        values.append(text)
        codes.append(code if text is not None else None)
    if bad:
        shown = ", ".join(repr(b) for b in bad_values[:MAX_SHOWN])
        problems.append(Phrase("problem_amounts_not_numbers", col=col, target=rule.target, rows=_rows_text([kept[i] for i in bad]),
                               shown=shown))
    if bad_codes:
        shown = ", ".join(dict.fromkeys(repr(v) for _, v in bad_codes[:MAX_SHOWN]))
        problems.append(Phrase("problem_not_currency_codes", col=code_col, target=rule.target,
                               rows=_rows_text([kept[i] for i, _ in bad_codes]), shown=shown))
    how = {"column": col, "code_column": code_col, "converted": conv is not None, "bare_dollar": bare_dollar and not explicit_usd and code_col is None}
    return values, codes, how


def decide_decimal(col: str, cells, kept: list[int], report: dict, problems: list[str]) -> str:
    """The decimal mark of an amount column whose mapping does not state one: ',' when its values prove it
    (12.000,00, 8000,5), '.' when they prove that or prove nothing. Values proving both, or only values such
    as 1.500 (1.5 or 1500?) with nothing to settle them, add a problem (the ingest refuses)."""
    numbers = []
    for pos, v in enumerate(cells):
        if isinstance(v, str) and v.strip():
            try:
                numbers.append((pos, split_currency(unicodedata.normalize("NFKC", v))[1]))
            except ValueError:
                continue
    proof: dict[str, int] = {}
    for pos, n in numbers:
        mark = decimal_evidence(n)
        if mark is not None:
            proof.setdefault(mark, pos)
    if len(proof) == 2:
        problems.append(Phrase("problem_decimal_mixed", col=col, comma=repr(cell_text(cells.iat[proof[","]])),
                               comma_row=kept[proof[","]] + 2, point=repr(cell_text(cells.iat[proof["."]])),
                               point_row=kept[proof["."]] + 2))
        return "."
    if "," in proof:
        note(report, "decimal_comma_detected", len(numbers), "amount", source_column=col,
             example=repr(cell_text(cells.iat[proof[","]])), row=kept[proof[","]] + 2)
        return ","
    if not proof:
        ambiguous = [pos for pos, n in numbers if is_ambiguous_point(n)]
        if ambiguous:
            shown = ", ".join(repr(cell_text(cells.iat[p])) for p in ambiguous[:MAX_SHOWN])
            problems.append(Phrase("problem_decimal_ambiguous", col=col, rows=_rows_text([kept[p] for p in ambiguous]), shown=shown))
    return "."


def _currency_counts(values: list, codes: list) -> tuple[dict[str, int], list[int], str]:
    """How many amounts carry each currency code ({code: rows}), the positions of the amounts without a code, and
    the counts as text, most rows first ("JPY 12 rows, USD 3 rows")."""
    found: dict[str, int] = {}
    for v, c in zip(values, codes):
        if v is not None and c is not None:
            found[c] = found.get(c, 0) + 1
    unmarked = [i for i, (v, c) in enumerate(zip(values, codes)) if v is not None and c is None]
    counts = PhraseList([Phrase("part_currency_rows" if n != 1 else "part_currency_row", code=c, count=n)
                         for c, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))], Phrase("part_comma"))
    return found, unmarked, counts


def _currency_source(how: dict) -> Phrase:
    """Where the amounts' currency was read, as the mapping report says it: the code column, the amounts' own signs
    or codes, or the CRM's converted amount column."""
    col, code_col = how["column"], how["code_column"]
    if how["converted"]:
        return Phrase("part_currency_source_converted_code" if code_col else "part_currency_source_converted", column=col,
                      code_column=code_col or "")
    return Phrase("part_currency_source_code", column=code_col) if code_col else Phrase("part_currency_source_amounts", column=col)


def _one_currency(values: list, how: dict, found: dict[str, int], unmarked: list[int], kept: list[int], report: dict) -> list:
    """The amounts of an export in one currency, unchanged: records report['currency'] and the notes on an assumed
    bare dollar sign, the CRM's converted column and the amounts without a code (which take that currency)."""
    col = how["column"]
    code = next(iter(found))
    report["currency"] = {"code": code, "how": Phrase("part_currency_from", source=_currency_source(how)), "found": found}
    if code == "USD" and how.get("bare_dollar"):
        report["currency"]["assumed"] = "$"
        note(report, "currency_dollar_assumed", found[code], "amount", source_column=col)
    if how["converted"]:
        note(report, "currency_converted_column", sum(found.values()), "amount", source_column=col, currency=code)
    if unmarked:
        note(report, "currency_unmarked", len(unmarked), "amount", [kept[i] + 2 for i in unmarked], source_column=col, currency=code)
    return values


def _rate_table(rates: tuple) -> dict[str, list]:
    """The settings' exchange rates (currency, rate, valid_from) as {currency: [(valid_from, rate), ...]}."""
    table: dict[str, list] = {}
    for code, rate, since in rates:
        table.setdefault(code, []).append((since, rate))
    return table


def _mixed_currency_refusal(how: dict, found: dict[str, int], unmarked: list[int], kept: list[int], counts: str,
                            rates: tuple, target: str | None) -> str | None:
    """Why amounts in several currencies cannot be converted to `target` with `rates`: already converted by the CRM,
    no rates or no target, amounts without a code, a currency without a rate; None when they can."""
    col = how["column"]
    if how["converted"]:
        return Phrase("problem_currencies_converted", col=col, counts=counts)
    if not rates or not target:
        return Phrase("problem_currencies_no_rates", col=col, counts=counts)
    if unmarked:
        return Phrase("problem_currencies_unmarked", col=col, rows=_rows_text([kept[i] for i in unmarked]), counts=counts)
    table = _rate_table(rates)
    missing = sorted(c for c in found if c != target and c not in table)
    if missing:
        return Phrase("problem_currencies_no_rate", col=col, target=target, counts=counts,
                      missing=PhraseList([Phrase("part_currency_count", code=c, count=found[c]) for c in missing], Phrase("part_comma")))
    return None


def _convert_with_rates(values: list, codes: list, out: dict, table: dict, target: str) -> tuple[list, list[int]]:
    """Each amount in `target`: an amount in another currency times the latest rate of `table` ({code: [(valid_from,
    rate)]}) whose valid_from is on or before the row's closed_at, else created_at (a rate without valid_from always
    applies); decimal text. Returns the amounts and the positions with no rate valid on their date (None there)."""
    converted, undated = [], []
    dates = out.get("closed_at") or [None] * len(values)
    created = out.get("created_at") or [None] * len(values)
    for i, (v, c) in enumerate(zip(values, codes)):
        if v is None or c == target:
            converted.append(v)
            continue
        day = (dates[i] or created[i] or "")[:10]
        usable = sorted(((since, rate) for since, rate in table[c] if since is None or (day and str(since) <= day)),
                        key=lambda sr: str(sr[0] or ""))
        if not usable:
            undated.append(i)
            converted.append(None)
            continue
        value = Decimal(v) * usable[-1][1]
        converted.append(format(value.normalize(), "f"))
    return converted, undated


def resolve_currency(amounts: tuple[list, list, dict], out: dict, kept: list[int], report: dict, problems: list[str],
                     rates: tuple = (), target: str | None = None) -> list:
    """One currency for the amounts: the single currency they carry (unmarked amounts take it), or, when several
    are mixed, each converted to `target` with `rates` (the latest rate whose valid_from is on or before the row's
    closed_at, else created_at). Mixed currencies without rates, amounts without a currency among mixed ones and
    currencies without a rate add a problem listing them with counts. Sets report['currency'] = {code, how, found}."""
    values, codes, how = amounts
    col = how["column"]
    found, unmarked, counts = _currency_counts(values, codes)
    if not found:
        report["currency"] = {"code": None, "how": Phrase("part_currency_none", column=col), "found": {}}
        return values
    if len(found) == 1:
        return _one_currency(values, how, found, unmarked, kept, report)
    refusal = _mixed_currency_refusal(how, found, unmarked, kept, counts, rates, target)
    if refusal:
        problems.append(refusal)
        return values
    converted, undated = _convert_with_rates(values, codes, out, _rate_table(rates), target)
    if undated:
        problems.append(Phrase("problem_rate_undated", col=col, rows=_rows_text([kept[i] for i in undated])))
    report["currency"] = {"code": target, "how": Phrase("part_currency_converted", target=target, counts=counts), "found": found}
    note(report, "currency_converted_with_rates", sum(n for c, n in found.items() if c != target), "amount",
         currencies=", ".join(c for c in found if c != target), currency=target, counts=counts,
         counts_ja=", ".join(f"{c} {n}行" for c, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))))
    return converted


_WON_WORDS = re.compile(r"\bwon\b|\bwin\b|受注|成約|成立|契約", re.IGNORECASE)
_LOST_WORDS = re.compile(r"\blost\b|\bchurn|失注|不成立|解約|見送", re.IGNORECASE)


def unmapped_stages_problem(unmapped: dict[str, list[int]], col: str, rows: pd.DataFrame, kept: list[int], tm: TableMapping) -> str:
    """The refusal for stage values the mapping does not account for: each value with its rows and amount, and the
    mapping lines to add (a guess per value from its words, to be checked: won, lost, else open)."""
    amount_rule = tm.rule("amount")
    amount_col = find_column(rows.columns, amount_rule.columns) if amount_rule is not None and amount_rule.columns else None
    lines, adds = [], []
    for value, positions in sorted(unmapped.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        total, unknown = Decimal(0), 0
        for pos in positions:
            try:
                cell = rows[amount_col].iat[pos] if amount_col else None
                num = number_text(split_currency(unicodedata.normalize("NFKC", cell))[1] if isinstance(cell, str) else cell)
            except ValueError:
                num = None
            if num is None:
                unknown += 1
            else:
                total += Decimal(num)
        line = {"value": repr(value), "count": Phrase("part_count_row" if len(positions) == 1 else "part_count_rows", count=len(positions)),
                "rows": _rows_text([kept[i] for i in positions])}
        if amount_col:
            line["amount"] = f"{total:,.2f}".rstrip("0").rstrip(".")
        if unknown and amount_col:
            line["unknown"] = unknown
        lines.append(Phrase("part_stage_line" + ("_amount" if amount_col else "") + ("_unknown" if unknown and amount_col else ""), **line))
        guess = "lost" if _LOST_WORDS.search(value) else "won" if _WON_WORDS.search(value) else "open"
        adds.append(f"{_yaml_key(value)}: {guess}")
    label = tm.where.split(":")[0]
    name = label.rsplit(".", 1)[0]
    where = Phrase("part_stages_extends", name=name) if name in shipped_mappings() else Phrase("part_stages_in", label=label)
    return Phrase("problem_stages_unmapped", col=col, lines=PhraseList(lines, "; "), where=where, table=tm.table, adds=", ".join(adds))


def _yaml_key(value: str) -> str:
    return value if re.fullmatch(r"[\w][\w ./-]*", value) and value.strip().lower() not in ("yes", "no", "true", "false", "on", "off", "null") \
        else '"' + value.replace('"', '\\"') + '"'


ID_TARGETS = ("opportunity_id", "lead_id")
EXCEL_FIX = ("these values were changed by Excel (opening a CSV by double-click converts them): export again and open it "
             "with Excel's data import wizard (Data > From Text/CSV, column type Text), or use the .xlsx export from the CRM")


def excel_damage_problems(rule: ColumnRule, col: str, cells: list, kept: list[int], report: dict | None = None) -> list[str]:
    """Values Excel destroyed, in a text or category column: ids shown in scientific notation (1.23457E+11, their
    digits rounded away), ids that lost their leading zeros (00123 next to 123), and categories such as company-size
    ranges (1-10, 11-50) turned into dates (10-Jan, 2025-01-10) or serial day numbers (45667)
    (helpers.data.categories.excel_dated). Returns the problems; a company_size of nothing but day numbers is a
    note in `report` (warning ``excel_serial_category``: they could be head counts)."""
    if rule.kind not in ("text", "category") or rule.values:
        return []
    text_of = _Distinct(cell_text)
    texts = [(i, text_of(v)) for i, v in enumerate(cells)]
    texts = [(i, t) for i, t in texts if t]
    found = []

    def listed(positions, key, **params):
        shown = ", ".join(repr(dict(texts)[p]) for p in positions[:MAX_SHOWN])
        found.append(Phrase(key, col=col, target=rule.target, rows=_rows_text([kept[p] for p in positions]), shown=shown,
                            excel=Phrase("part_excel_fix"), **params))

    if rule.target in ID_TARGETS:
        sci = [i for i, t in texts if is_scientific(t)]
        if sci:
            listed(sci, "problem_ids_rounded")
        digits = [(i, t) for i, t in texts if t.isdigit()]
        padded = [t for _, t in digits if t.startswith("0") and len(t) > 1]
        if padded:
            width = max(len(t) for t in padded)
            short = [i for i, t in digits if len(t) < width and not t.startswith("0")]
            if short:
                listed(short, "problem_ids_zeros", width=width, example=repr(padded[0]))
        return found
    if rule.kind != "category":
        return found
    positions, sure = excel_dated(rule.target, [t for _, t in texts])
    if positions and sure:
        listed([texts[p][0] for p in positions], "problem_category_dates")
    elif positions and report is not None:
        shown = list(dict.fromkeys(texts[p][1] for p in positions))[:3]
        note(report, "excel_serial_category", len(positions), rule.target, [kept[texts[p][0]] + 2 for p in positions],
             examples=", ".join(repr(v) for v in shown))
    for i, v in enumerate(cells):
        if isinstance(v, (dt.datetime, dt.date, pd.Timestamp)) and rule.target not in ID_TARGETS:
            found.append(Phrase("problem_category_date_cell", col=col, target=rule.target, rows=_rows_text([kept[i]]),
                                value=repr(cell_text(v)), excel=Phrase("part_excel_fix")))
            break
    return found


def _has_offset(text: str) -> bool:
    return bool(re.search(r"(Z|[+-]\d{2}:?\d{2})$", text))


class _Skip(Exception):
    """An optional column absent from the export: the canonical column is left out."""


def shown_rows(rows: list[int]) -> str:
    """Row numbers as a message lists them: the first MAX_SHOWN, then how many more ("6, 7, 8, 9, 10 (+3)")."""
    more = f" (+{len(rows) - MAX_SHOWN})" if len(rows) > MAX_SHOWN else ""
    return ", ".join(str(r) for r in rows[:MAX_SHOWN]) + more


def note(report: dict, code: str, count: int, column: str | None = None, rows: list[int] | None = None, **params) -> None:
    """Record something the ingest decided or noticed (shown in the summary, and a warning in ingest_report.json): its
    message and fix are the English sentences of `code` in the label table (helpers.errors.warning), `params` what
    fills them (kept, so a report says the same in its own language)."""
    from helpers.errors import warning

    w = warning(report.get("source") or "", code, column, count=int(count), **params)
    report.setdefault("notes", []).append({"code": code, "message": w.message, "fix": w.fix, "count": int(count), "column": column,
                                           "rows": list(rows or [])[:MAX_SHOWN], "params": w.params})


#: :func:`_decide_date_order`'s answer for a column mixing both orders: refused, and left out of the orders.
_MIXED = object()


def _date_order_columns(tm: TableMapping, rows: pd.DataFrame) -> dict[str, tuple[str, set[str], list]]:
    """The date columns of `tm` read with the `numeric` token that the export has: {target: (export column, the orders
    its values prove (date_order_evidence: a part over 12), its cells as text)}."""
    evidence: dict[str, tuple[str, set[str], list]] = {}
    for rule in tm.columns:
        if rule.kind not in DATE_KINDS or "numeric" not in rule.formats or not rule.columns:
            continue
        col = find_column(rows.columns, rule.columns)
        if col is None:
            continue
        texts = [cell_text(v) for v in rows[col]]
        evidence[rule.target] = (col, date_order_evidence([t for t in texts if t]), texts)
    return evidence


def _order_example_parts(texts: list, order: str, kept: list[int]) -> dict:
    """The first cell of `texts` that can only be read in `order` (its day or month over 12) and its export row:
    {"example": repr, "row": row number}, both "" when there is none."""
    for i, t in enumerate(texts):
        parts = numeric_date_parts(t) if t else None
        if parts and ((order == "dmy" and parts[0] > 12 >= parts[1]) or (order == "mdy" and parts[1] > 12 >= parts[0])):
            return {"example": repr(t), "row": kept[i] + 2}
    return {"example": "", "row": ""}


def _order_example(texts: list, order: str, kept: list[int]) -> str:
    """:func:`_order_example_parts` as text, "'13/02/2025' (row 5)" (a Phrase); "" when there is none."""
    found = _order_example_parts(texts, order, kept)
    return Phrase("part_order_example", **found) if found["example"] else ""


def _decide_date_order(rule: ColumnRule, tm: TableMapping, evidence: dict, proven: set[str], kept: list[int], report: dict,
                       problems: list[str]) -> str | None | object:
    """The day/month order of one date column (see :func:`decide_date_orders`); a mixed column is refused (a problem,
    no entry). Records report['date_order'][target] and the notes on a detected day-first order."""
    col, found, texts = evidence[rule.target]
    stated = rule.date_order or tm.date_order
    if len(found) == 2:
        problems.append(Phrase("problem_dates_mixed_order", col=col, target=rule.target, dmy=_order_example(texts, "dmy", kept),
                               mdy=_order_example(texts, "mdy", kept)))
        return _MIXED
    if stated:
        if found and stated not in found:
            problems.append(Phrase("problem_date_order_conflict", col=col, target=rule.target, stated=stated,
                                   example=_order_example(texts, next(iter(found)), kept), order=Phrase(f"part_order_{next(iter(found))}")))
        report["date_order"][rule.target] = {"order": stated, "how": Phrase("part_order_stated")}
        return stated
    if found:
        order = next(iter(found))
        report["date_order"][rule.target] = {"order": order, "how": Phrase("part_order_from_values", example=_order_example(texts, order, kept),
                                                                           order=Phrase(f"part_order_{order}"))}
        if order == "dmy":
            note(report, "date_order_detected", sum(1 for t in texts if t and numeric_date_parts(t)), rule.target,
                 source_column=col, **_order_example_parts(texts, order, kept))
        return order
    ambiguous = [i for i, t in enumerate(texts) if t and is_ambiguous_numeric_date(t)]
    if len(proven) == 1:
        order = next(iter(proven))
        if ambiguous:
            by = next(c for c, f, _ in evidence.values() if f == {order})
            report["date_order"][rule.target] = {"order": order, "how": Phrase("part_order_from_column", column=by,
                                                                               order=Phrase(f"part_order_{order}"))}
            if order == "dmy":
                note(report, "date_order_detected", len(ambiguous), rule.target, variant="like_column", source_column=col, by=by)
        return order
    if ambiguous:
        shown = ", ".join(repr(texts[i]) for i in ambiguous[:MAX_SHOWN])
        problems.append(Phrase("problem_dates_ambiguous", col=col, target=rule.target, rows=_rows_text([kept[i] for i in ambiguous]),
                               shown=shown))
    return None


def decide_date_orders(tm: TableMapping, rows: pd.DataFrame, kept: list[int], report: dict, problems: list[str]) -> dict[str, str | None]:
    """The day/month order of each date column read with the `numeric` token: stated (`date_order` on the column,
    table or mapping), else proven by the column's own values (a part over 12), else by the other date columns of
    the same export (one export comes from one locale). A column mixing both orders, or one whose values are all
    ambiguous with nothing to settle them, adds a problem (the ingest refuses). Records `report['date_order']`."""
    evidence = _date_order_columns(tm, rows)
    proven = {next(iter(found)) for _, found, _ in evidence.values() if len(found) == 1}
    report["date_order"] = {}
    orders: dict[str, str | None] = {}
    for rule in tm.columns:
        if rule.target not in evidence:
            continue
        order = _decide_date_order(rule, tm, evidence, proven, kept, report, problems)
        if order is not _MIXED:
            orders[rule.target] = order
    return orders


class _Distinct:
    """`fn` of a cell, computed once per distinct cell (keyed by type and value: 1, 1.0 and True stay apart); unhashable
    cells are computed each time. For pure functions of one cell only."""

    def __init__(self, fn):
        self.fn, self.seen = fn, {}

    def __call__(self, v):
        try:
            key = (type(v), v)
            return self.seen[key]
        except KeyError:
            self.seen[key] = out = self.fn(v)
            return out
        except TypeError:
            return self.fn(v)


def no_data_rows_error(reports: dict[str, dict]):
    """The refusal (coded error no_data_rows) of exports that hold headers and no data row: every table the mapping
    read came out empty (a report exported with filters that match nothing, or a header-only file), so no figure can
    be computed. Named by the first table's file, with what stood below each header (blank rows, a footer). None
    when any table holds a row."""
    from helpers.errors import coded_error

    if not reports or any(r.get("rows_out") for r in reports.values()):
        return None
    parts = []
    for r in reports.values():
        below = PhraseList([Phrase("part_dropped_rows", reason=d["reason"],
                                   count=Phrase("part_count_row" if d["count"] == 1 else "part_count_rows", count=d["count"]))
                            for d in r.get("dropped", [])], Phrase("part_comma"))
        parts.append(Phrase("part_below_header" if below else "part_below_header_nothing", source=r["source"], table=r["table"],
                            below=below))
    first = next(iter(reports.values()))
    return coded_error("no_data_rows", first["source"], files=PhraseList(parts, "; "))
