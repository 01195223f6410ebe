"""The workbook's own exception types and the validation finding record."""
from __future__ import annotations

from dataclasses import dataclass, field

from helpers.url_redact import (  # noqa: F401 - importable from here as before
    SCRUB_MIN_LENGTH, SECRET_PARAM, URL_PASSWORD_BREAKERS, _url_userinfo, redact_url, scrub, url_secrets)


class WorkbookError(Exception):
    """A problem the user can fix: the message says what is wrong, `fix` says how."""

    #: The language str() says the error in: English, unless the place that shows it to a reader sets another (a
    #: notebook's traceback: helpers.report.session.say_errors_in); :meth:`in_language` says it in any.
    shown_in = "en"

    def __init__(self, message: str, fix: str | None = None, *, code: str | None = None, params: dict | None = None):
        self.message = message
        self.fix = fix
        #: A coded error (ERROR_CODES, made by :func:`coded_error`) can be said in either language (:meth:`in_language`).
        self.code = code
        self.params = dict(params or {})
        super().__init__(message if not fix else f"{message}\n  How to fix: {fix}")

    def __str__(self) -> str:
        return Exception.__str__(self) if self.shown_in == "en" else self.in_language(self.shown_in)

    def in_language(self, lang: str) -> str:
        """The error as printed (message and fix) in `lang`: a coded error from the label table, any other in English."""
        if self.code is None or lang == "en":
            return Exception.__str__(self)
        message, fix = error_text(self.code, self.params, lang)
        file = said(self.params.get("file"), lang)
        return f"{file + ': ' if file is not None else ''}{message}\n  {_HOW_TO_FIX[lang]}: {fix}"


class ConfigError(WorkbookError):
    """The config file (YAML) is unreadable or holds an invalid setting."""


@dataclass(frozen=True)
class Finding:
    """One validation result: where (file, row, column), what, and how to fix it.

    `row` is the row number as a spreadsheet shows it (the header is row 1, the
    first data row is row 2); for a CSV without line breaks inside cells it is
    also the line number.
    """

    severity: str  # "error" or "warning"
    file: str
    code: str
    message: str
    fix: str = ""
    column: str | None = None
    rows: tuple[int, ...] = ()
    values: tuple[str, ...] = ()
    count: int = 0
    #: What fills the placeholders of the warning's sentence (labels warning_<code> / fix_<code>, see
    #: :func:`warning_text`); "variant" picks warning_<code>_<variant>. Empty for errors.
    params: dict = field(default_factory=dict, compare=False)
    #: The first offending rows' ids where there are no row numbers (a warehouse table: helpers.data.checks_engine),
    #: in id order; empty for a data folder's findings, which name rows.
    ids: tuple[str, ...] = ()

    def render(self, lang: str = "en") -> str:
        """One readable paragraph: `file, rows 3, 7, column x: message. How to fix: ...` (`ids L1, L2` in a warehouse);
        the words around the message in `lang` (labels finding_*; the message and fix are said as they are)."""
        if lang != "en":
            return self._render_in(lang)
        where = [self.file]
        if self.rows or self.ids:
            shown = ", ".join(str(r) for r in self.rows or self.ids)
            n = len(self.rows or self.ids)
            more = f" (+{self.count - n} more)" if self.count > n else ""
            where.append(f"{'row' if self.rows else 'id'}{'s' if n > 1 else ''} {shown}{more}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.message}"
        if self.values:
            text += " (values: " + ", ".join(repr(v) for v in self.values) + ")"
        if self.fix:
            text += f"\n    How to fix: {self.fix}"
        return text

    def _render_in(self, lang: str) -> str:
        """:meth:`render` in `lang` other than English: a coded warning's sentence and fix from the label table (its code's,
        WARNING_CODES), any other finding's as they are."""
        from helpers.labels import t

        message, fix = self.message, self.fix
        if self.severity == "warning" and self.code in WARNING_CODES:
            try:
                message, fix = warning_text(self.code, self.params, lang, self.count, self.file, self.column or "")
            except (KeyError, IndexError):   # a warning kept without its params (an old ingest_report.json): as it was
                pass
        where = [said(self.file, lang)]   # a Phrase such as "the command line" (settings_from_command_line) in lang
        if self.rows or self.ids:
            n = len(self.rows or self.ids)
            key = ("finding_rows" if self.rows else "finding_ids") + ("_more" if self.count > n else "")
            where.append(t(key, lang).format(shown=", ".join(str(r) for r in self.rows or self.ids), more=self.count - n))
        if self.column:
            where.append(t("finding_column", lang).format(column=self.column))
        text = f"{t('part_comma', lang).join(where)}: {message}"
        if self.values:
            text += t("finding_values", lang).format(values=", ".join(repr(v) for v in self.values))
        if fix:
            text += f"\n    {_HOW_TO_FIX[lang]}: {fix}"
        return text


class UntranslatedFinding(UserWarning):
    """A coded finding said in English in another language's list of problems (:meth:`DataValidationError.in_language`):
    its params do not fill the label's text in that language (a finding from a snapshot of another version, or a
    label whose Japanese names a param the code is not given). An error in the tests (pyproject.toml's
    filterwarnings); tests/test_report_language_errors.py checks every label's Japanese fills from its English's params."""


class DataValidationError(WorkbookError):
    """The input data breaks the contract; carries every error found, not just the first."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        errors = [f for f in self.findings if f.severity == "error"]
        lines = [f"The input data has {len(errors)} problem(s); no report was produced and no input file was changed:"]
        lines += [f"  - {f.render()}" for f in errors]
        WorkbookError.__init__(self, "\n".join(lines))

    def in_language(self, lang: str) -> str:
        """The list of problems in `lang`: the header and each coded error (a Finding whose params hold an ERROR_CODES
        ``error``) from the label table; the other findings as they are (English)."""
        if lang == "en":
            return Exception.__str__(self)
        from dataclasses import replace

        from helpers.labels import t

        errors = [f for f in self.findings if f.severity == "error"]
        lines = [t("data_errors_header", lang).format(count=len(errors))]
        for f in errors:
            if f.params.get("error") in ERROR_CODES:      # a reader's coded WorkbookError, listed as unreadable_file
                message, fix = error_text(f.params["error"], f.params, lang)
                f = replace(f, message=message, fix=fix)
            elif f.code in ERROR_CODES:                      # a data check's coded Finding (:func:`error`)
                values = {"count": f.count, "file": f.file, "column": f.column or "", **f.params}
                try:
                    message, fix = error_text(f.code, values, lang)
                except (KeyError, IndexError) as exc:        # a finding kept without its params (an old snapshot): as it was
                    import warnings

                    warnings.warn(f"{f.file}: the finding {f.code!r} is said in English: its {lang} text needs {exc}",
                                  UntranslatedFinding, stacklevel=2)
                    lines.append(f"  - {f.render(lang)}")
                    continue
                if "in_rejected" in f.params:                # an ingest's finding: the rows of the converted file too
                    message += " " + said(f.params["in_rejected"], lang)
                f = replace(f, message=message, fix=fix)
            lines.append(f"  - {f.render(lang)}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- warnings in the report's language
#: Every warning code the workbook can emit (loader, data checks, ingest, mapping notes) -> its variants.
#: The sentence of (code, variant) is the label ``warning_<code>`` (``warning_<code>_<variant>``), its fix
#: ``fix_<code>`` (``fix_<code>_<variant>``) unless SHARED_FIX names another; NO_FIX codes have none.
#: Placeholders: {count}, {file} and {column} of the warning itself, and its `params`.
WARNING_CODES: dict[str, tuple[str, ...]] = {
    # helpers.validate (load warnings)
    "no_amounts": ("",), "won_without_amount": ("",), "lost_amounts_zero": ("",), "no_lost_deals": ("",),
    "one_created_at": ("", "opportunities", "leads"), "open_with_closed_at": ("",), "unknown_lead_id": ("",),
    "stage_before_created": ("",), "unknown_opportunity_id": ("",), "reason_without_disqualified_at": ("",), "after_as_of": ("",), "far_date_after": ("",),
    "far_date_before": ("",), "duplicate_month_channel": ("",), "other_department": ("",),
    "target_channel_unknown": ("", "no_match"),
    # helpers.metrics.goals (notebook 04's plausibility note on a goal)
    "target_unit_suspect": ("", "thousand", "ten_thousand", "million"),
    # helpers.metrics.lead_score (notebook 05's scorecard: a column left out of the score's fit)
    "score_column_dropped": ("aliased", "absent", "constant"),
    # helpers.data.touches
    "touch_unknown_lead": ("",), "touch_unknown_opportunity": ("",), "touch_after_close": ("",), "touches_split": ("",),
    "touches_campaign_unpaired": ("",),
    # helpers.data.ingest_join (what the exports leave for attribution)
    "touches_none_kept": ("",), "deals_without_campaign": ("",), "touches_reach_no_deal": ("",),
    # helpers.load
    "no_opportunities": ("",), "text_file_skipped": ("unicode_text", "tab_text"),
    # helpers.limits
    "ingest_report_unreadable": ("",), "channel_placeholder": ("",), "channel_variants": ("", "separate"),
    "channel_name_unknown": ("", "no_match"), "marketing_channels_unmatched": ("", "names"),
    "opportunity_before_lead": ("",), "won_before_lead": ("",), "checklist_after_as_of": ("",), "checklist_answer_repeated": ("",), "target_sizes_unmatched": ("",),
    # helpers.ingest
    "encoding_detected": ("",), "currency_not_in_data": ("",), "moved_date": ("",), "no_lead_links": ("",),
    "no_channel": ("",), "table_not_found": ("",), "columns_not_mapped": ("",), "leads_only_export": ("",), "file_lacks_columns": ("", "read_other"), "file_not_used": ("",),
    # helpers.mapping (the ingest's notes)
    "footer_dropped": ("",), "no_opportunity_rows": ("",), "salesforce_id_18": ("",), "currency_in_header": ("",), "decimal_comma_detected": ("",), "currency_dollar_assumed": ("",),
    "currency_converted_column": ("",), "currency_unmarked": ("",), "currency_converted_with_rates": ("",),
    "date_order_detected": ("", "like_column"), "split_first_kept": ("",),
    # helpers.data.categories / channels (load warnings about label cells)
    "excel_serial_category": ("",), "invisible_characters": ("",),
}
#: A load warning's code -> the ingest warning that says the same thing more precisely (it names the export file and
#: the mapping's fix): with that ingest warning present the load warning is left out, so a reader sees it once.
SAID_BY_INGEST = {"no_opportunities": "leads_only_export"}


def said_by_ingest(code: str, ingest_codes) -> bool:
    """Whether a load warning `code` repeats an ingest warning among `ingest_codes` (the same code, or the one
    :data:`SAID_BY_INGEST` names)."""
    return code in ingest_codes or SAID_BY_INGEST.get(code) in ingest_codes


#: Warnings whose fix is another code's (one text, said once in the label table).
SHARED_FIX = {"opportunity_before_lead": "fix_negative_intervals", "won_before_lead": "fix_negative_intervals",
              "file_lacks_columns": "fix_file_lacks_columns", "text_file_skipped": "fix_text_file_skipped",
              "target_channel_unknown": "fix_target_channel_unknown", "channel_name_unknown": "fix_channel_name_unknown", "target_unit_suspect": "fix_target_unit_suspect"}
#: Warnings that are a note about what the ingest did, with nothing to fix.
NO_FIX = frozenset({"currency_in_header", "touches_split", "split_first_kept", "footer_dropped", "salesforce_id_18", "decimal_comma_detected", "currency_dollar_assumed",
                    "currency_converted_column", "currency_unmarked", "currency_converted_with_rates", "date_order_detected"})


def warning_keys(code: str, variant: str = "") -> tuple[str, str | None]:
    """The label keys (sentence, fix or None) of a warning code and variant; KeyError for a code not in WARNING_CODES."""
    if variant not in WARNING_CODES[code]:
        raise KeyError(f"warning {code!r} has no variant {variant!r}")
    suffix = f"_{variant}" if variant else ""
    fix = None if code in NO_FIX else SHARED_FIX.get(code, f"fix_{code}{suffix}")
    return f"warning_{code}{suffix}", fix


def warning_text(code: str, params: dict, lang: str, count: int = 0, file: str = "", column: str = "") -> tuple[str, str]:
    """(sentence, fix) of a warning in `lang` from the label table, placeholders filled from `params` and the
    warning's count, file and column. KeyError for an unknown code or a placeholder `params` does not fill."""
    from helpers.labels import t

    values = {"count": count, "file": file, "column": column or "", **{k: said(v, lang) for k, v in params.items()}}
    message_key, fix_key = warning_keys(code, str(params.get("variant", "")))
    return t(message_key, lang).format(**values), ("" if fix_key is None else t(fix_key, lang).format(**values))


def warning(file: str, code: str, column: str | None = None, rows: tuple[int, ...] = (), values: tuple[str, ...] = (),
            count: int = 0, **params) -> Finding:
    """A warning Finding whose message and fix are the English sentences of its code (:func:`warning_text`);
    `params` are kept so a report can say the same in its own language."""
    message, fix = warning_text(code, params, "en", count, file, column or "")
    return Finding("warning", file, code, message, fix, column, tuple(rows), tuple(values), int(count), dict(params))


# --------------------------------------------------------------------------- errors in the user's language
#: Coded errors (file kinds, links out of a folder, settings paths) -> their variants. The sentence of (code, variant)
#: is the label ``error_<code>`` (``error_<code>_<variant>``), its fix ``fix_<code>`` (``fix_<code>_<variant>``).
#: Placeholders: {file} and the error's `params`.
ERROR_CODES: dict[str, tuple[str, ...]] = {
    # helpers.data.files: the first block of a file says it is not what its name says
    "file_kind": ("nul", "binary", "utf16", "xlsx", "xls", "html", "text_as_excel"),
    # helpers.data.files: two files of a folder hold one table (or settings file): names are matched regardless of case
    "same_table_files": ("",),
    # helpers.data.periods: a period label of the other fiscal calendar (--period, a targets file's period column)
    "period_calendar": ("calendar", "fiscal", "same_months", "fy_label", "near"),
    "bad_period": ("calendar", "fiscal", "same_months", "fy_label", "near"),
    # helpers.data.files: a link (or junction) inside a data or exports folder leading out of it
    "link_outside": ("",),
    # helpers.data.files: a sheet whose header is not its first row (a title or notes above it: a hand-made sheet, or a
    # Salesforce "Formatted Report" export)
    "rows_above_header": ("",),
    # helpers.data.files: a workbook whose first sheet lacks the table's columns while another sheet holds them
    # (variant data: a data folder, which reads the first sheet only)
    "data_on_other_sheet": ("", "data"),
    # helpers.data.ingest: every export the mapping read holds its header and no data row
    "no_data_rows": ("",),
    # helpers.data.mapping: a kintone export with table (subtable) rows the mapping does not drop
    "kintone_subtable": ("",),
    # helpers.data.export_totals: an export's total or subtotal rows (a report exported with its summaries)
    "export_total_row": ("", "sum"),
    # helpers.config: as_of not YYYY-MM-DD, in a settings file or (variant command_line) given with --as-of
    "as_of_invalid": ("", "command_line", "no_day", "command_line_no_day"),
    # helpers.config: --config names a folder
    "settings_is_folder": ("",),
    # helpers.config: the settings file does not exist; its top level is not a mapping
    "settings_missing": ("",), "settings_not_mapping": ("",), "settings_unknown": ("",),
    # helpers.config: a setting's value refused by its check (_build), currency.rates, timezone, the data's currency;
    # the settings schema's problems (one, or the list of several: helpers.settings_schema.describe)
    "setting_value": ("fiscal_year", "language", "decimals", "currency_code", "target_list", "sla_hours", "stale_days",
                      "window_days", "normalize", "checklist_items", "categories_items", "categories_twice"),
    "currency_rates": ("list", "row", "currency", "rate", "valid_from"), "timezone_unknown": ("",),
    "data_currency_differs": ("",), "setting_invalid": ("", "no_fix"), "settings_invalid": ("",),
    # helpers.metrics.lead_quality: the lead_quality settings against the leads' columns (one, or the list of several:
    # check_settings); helpers.metrics.velocity /
    # velocity_change: the initiative chosen, the velocity settings
    "lead_setting": ("column", "op", "in_list", "numeric_op", "value_number"), "lead_settings": ("",),
    "initiative_choice": ("", "none", "date"), "velocity_setting": ("window_days", "bootstrap_samples"),
    # helpers.metrics.checklist_answers: answers the save refuses (new rows, the file saved to, a day already answered)
    "checklist_save_columns": ("",), "checklist_save_rows": ("",), "checklist_save_twice": ("",), "checklist_not_csv": ("",),
    "checklist_file_columns": ("",), "checklist_file_unreadable": ("",), "checklist_same_day": ("",),
    # helpers.report.kernel: the notebooks' Jupyter kernel is not registered, or its Python is gone
    "kernel_missing": ("", "program"),
    # helpers.yamlfile: a settings file or mapping refused before any value is built
    "yaml_duplicate_key": ("",), "yaml_alias": ("", "merge"), "yaml_too_deep": ("",), "yaml_too_large": ("", "nodes"),
    "yaml_character": ("",), "yaml_encoding": ("", "bom"), "yaml_syntax": ("",), "yaml_value": ("",),
    # helpers.data.categories: label cells of a data folder read silently wrong (as Findings, :func:`error`)
    "multi_value": ("",), "excel_date_category": ("",),
    # helpers.data.total_rows: a sheet's total row (合計, Total) under the data, read as a record
    "total_row": ("", "sum"),
    # helpers.metrics.warehouse: a table named for the warehouse (--table, --leads-table, ...) or a required column absent
    "warehouse_table_missing": ("", "close", "empty"), "warehouse_column_missing": ("", "close"),
    # helpers.metrics.warehouse: a DuckDB file URL naming no file (never created)
    "duckdb_file_missing": ("", "here"),
    # helpers.metrics.warehouse: the driver refused the connection, the schema's listing, a table's read
    "warehouse_connect": ("",), "warehouse_list": ("",), "warehouse_read": ("",), "warehouse_query": ("",),
    # helpers.report.run: --table NAME=TABLE malformed, an unknown NAME, a NAME twice; --table / --schema without --warehouse
    "table_option": ("format", "unknown", "unknown_close", "twice"), "warehouse_option_alone": ("",),
    # helpers.errors.check_url_password (warehouse and SQL sources): a password a URL cannot hold as written
    "url_password": ("",),
    # helpers.report.record: what the report runner owns in its output folder
    "out_not_runners_file": ("",), "out_foreign_files": ("",),
    # helpers.storage: saving a file people keep (the checklist form): links, full or read-only disks, lock files
    "save_link_dangling": ("",), "save_hard_link": ("",), "save_no_space": ("",), "save_not_writable": ("",),
    "save_sample_refused": ("",),
    "lock_not_a_lock": ("",),
    # helpers.data.sample: --out holds data the sample did not write
    "sample_would_replace": ("",),
    # helpers.data.cells / mapping: an export lacks a column the mapping needs; an export's values the mapping cannot
    # convert, listed (each a Phrase ``problem_*``, with the fixes of their topics: helpers.data.mapping_checks.FIX_BY_TOPIC)
    "missing_column": ("", "table", "closed_at", "ja_headers", "required", "required_default", "warehouse", "warehouse_ja_headers"), "amount_unit_in_header": ("",), "column_near_miss": ("",), "products_report": ("",), "mapping_errors": ("",),
    "unconvertible": ("", "missing", "missing_values"),
    # helpers.data.load: --data names a file (leads.csv), not the folder holding it
    "data_is_file": ("",),
    # helpers.data.ingest: the output and exports folders, --start / --end, a table's export not found
    "ingest_out_exports": ("",), "ingest_out_file": ("", "run"), "ingest_out_not_empty": ("",), "ingest_out_foreign": ("",),
    "exports_missing": ("", "none"), "date_option": ("",), "no_export_file": ("", "text"),
    # helpers.data.ingest_files / rawread: an export file that cannot be read, or two files for one table
    "unreadable_parquet": ("",), "unreadable_excel": ("",), "no_header_line": ("",), "no_sheet": ("",),
    "lookalike_export": ("",), "several_exports": ("",), "empty_file": ("",), "unreadable_table_file": ("excel", "parquet"),
    "cannot_decode": ("",), "mojibake": ("",), "header_control": ("",), "header_duplicate": ("",), "unreadable_csv": ("",),
    # helpers.data.ingest_checks / ingest_join: links Excel broke, tables in two currencies, a lookup's file or column
    "link_ids_lost_zeros": ("",), "tables_currencies_differ": ("",), "join_source_missing": ("file", "column"),
    "join_column_missing": ("",),
    # helpers.data.csvshape / helpers.charset: quotes that swallow or merge cells, a stray byte, an encoding not told
    "stray_quote": ("",), "broken_quote": ("",), "stray_byte": ("",), "encoding_unknown": ("",),
    # helpers.data.sql_source: a mapping's sql: source ({file}: where in the mapping; the url's password never shown)
    "sql_env_unset": ("",), "sql_no_period": ("",), "sql_bad_url": ("",), "sql_no_database_file": ("",), "sql_driver": ("",),
    "sql_connect": ("",), "sql_query": ("",),
    # helpers.data.mapping_spec / mapping_values / mapping_parse: a mapping file's mistakes ({file}: where in the mapping)
    "mapping_not_found": ("",), "mapping_extends_missing": ("",), "mapping_top_level": ("",), "mapping_extends_itself": ("",),
    "mapping_extends_chain": ("",), "mapping_no_tables": ("",), "mapping_no_opportunities": ("",), "mapping_unknown_key": ("",),
    "mapping_names": ("",), "mapping_two_digit_year": ("",), "mapping_date_format": ("", "no_codes"), "mapping_encoding": ("",),
    "mapping_date_order": ("",), "mapping_rule_shape": ("",), "mapping_date_key": ("",), "mapping_amount_key": ("",),
    "mapping_period_filter_date": ("",), "mapping_rule_source": ("",), "mapping_one_value": ("",), "mapping_flags_target": ("",),
    "mapping_flags_shape": ("",), "mapping_flags_roles": ("",), "mapping_values_shape": ("",), "mapping_outcome_other": ("",),
    "mapping_open_target": ("",), "mapping_outcome_values": ("",), "mapping_true_false": ("", "got", "named"),
    "mapping_split": ("",), "mapping_decimal_rule": ("",), "mapping_not_after": ("",), "mapping_only_when": ("",),
    "mapping_only_when_column": ("",), "mapping_drop_shape": ("",), "mapping_drop_column": ("",), "mapping_drop_op": ("",),
    "mapping_drop_empty": ("",), "mapping_drop_pattern": ("",), "mapping_join_shape": ("",), "mapping_join_key": ("",),
    "mapping_join_columns": ("",), "mapping_unknown_table": ("",), "mapping_table_shape": ("",), "mapping_keep_clash": ("",),
    "mapping_table_source": ("",), "mapping_sql_shape": ("",), "mapping_sql_keys": ("",), "mapping_file_key": ("",),
    "mapping_sheet": ("",), "mapping_decimal_table": ("",), "mapping_no_columns": ("",), "mapping_unknown_column": ("",),
    "mapping_required_column": ("not_mapped", "optional"), "mapping_refers_unmapped": ("",), "mapping_period_filter_file": ("",),
    "mapping_period_filter_twice": ("",),
    # helpers.data.checks_engine / parse / validate / load (a warehouse's too): the data contract's row checks, as Findings
    # (:func:`error`); their codes are the findings' codes
    "duplicate_id": ("",), "far_date_after": ("",), "bad_outcome": ("",), "missing_closed_at": ("",),
    "closed_before_created": ("",), "negative_amount": ("", "spend"), "bad_answer": ("",), "bad_date": ("",),
    "bad_datetime": ("",), "bad_number": ("",), "bad_int": ("",), "bad_month": ("",), "missing_value": ("",),
    "missing_table": ("",), "no_as_of": ("",), "bad_item": ("",), "checklist_answer_twice": ("",), "unknown_department": ("", "targets"),
    "no_core_department": ("",), "unknown_metric": ("",), "negative_target": ("",), "duplicate_target": ("",),
    # helpers.storage.locked: another process holds the lock; the lock file cannot be made ({file}: what was being done)
    "lock_held": ("",), "lock_create": ("",),
    # helpers.report.run: the output folder refuses writes or is a file; --all past --max-periods; as_of or periods with
    # no data; no notebooks
    "out_refuses_write": ("",), "out_not_folder": ("",), "all_too_many": ("",), "as_of_before_data": ("",),
    "periods_before_data": ("",), "periods_after_data": ("",), "periods_after_as_of": ("",), "no_notebooks": ("",), "all_far_before": ("",),
    # helpers.data.load / periods / extras: no data folder; a fiscal start month or a period label not valid; a file
    # changed after the folder was loaded
    "data_folder_missing": ("",), "fiscal_start_month": ("",), "quarter_range": ("",), "not_a_period": ("",), "extras_changed": ("",),
    # helpers.data.targets_file: goals saved to a file that is not CSV, or lacks the goals' columns
    "goals_not_csv": ("",), "goals_file_columns": ("",),
    # helpers.yamlfile: a settings or mapping path that is a folder, absent, or unreadable
    "yaml_is_folder": ("",), "yaml_missing": ("",), "yaml_unreadable": ("",),
}
#: Codes said with another code's sentence and fix (a datetime column's cells are refused as a date column's).
ERROR_SAME = {"bad_datetime": "bad_date"}
#: Errors whose variants share one fix (label), said once in the label table.
ERROR_SHARED_FIX = {"currency_rates": "fix_currency_rates", "kernel_missing": "fix_kernel_missing", "unconvertible": "fix_unconvertible", "total_row": "fix_total_row", "export_total_row": "fix_export_total_row", "encoding_unknown": "fix_cannot_decode", "exports_missing": "fix_exports_missing",
                    "join_source_missing": "fix_join_source_missing", "mapping_date_format": "fix_mapping_date_format",
                    "mapping_date_key": "fix_mapping_remove_key", "mapping_amount_key": "fix_mapping_remove_key",
                    "mapping_open_target": "fix_mapping_remove_key", "mapping_true_false": "fix_mapping_true_false",
                    "mapping_required_column": "fix_mapping_required_column", "no_core_department": "fix_unknown_department",
                    "far_date_after": "fix_far_date_as_of"}
_HOW_TO_FIX = {"en": "How to fix", "ja": "対処方法"}
#: "How to fix" in each language, as an error prints it before its fix.
HOW_TO_FIX = _HOW_TO_FIX


def error_keys(code: str, variant: str = "") -> tuple[str, str]:
    """The label keys (sentence, fix) of an error code and variant; KeyError for a code not in ERROR_CODES."""
    if variant not in ERROR_CODES[code]:
        raise KeyError(f"error {code!r} has no variant {variant!r}")
    code = ERROR_SAME.get(code, code)
    suffix = f"_{variant}" if variant else ""
    return f"error_{code}{suffix}", ERROR_SHARED_FIX.get(code, f"fix_{code}{suffix}")


def error_text(code: str, params: dict, lang: str) -> tuple[str, str]:
    """(sentence, fix) of a coded error in `lang` from the label table, placeholders filled from `params`."""
    from helpers.labels import t

    message_key, fix_key = error_keys(code, str(params.get("variant", "")))
    return fill(message_key, params, lang), fill(fix_key, params, lang)


def coded_error(code: str, file: str | None, variant: str = "", *, cls: type = WorkbookError, **params) -> WorkbookError:
    """A WorkbookError ``<file>: <sentence>`` with its fix, in English, from the label table (ERROR_CODES); it keeps
    its code and params, so a CLI can print it in Japanese (:meth:`WorkbookError.in_language`). `cls`: the
    WorkbookError subclass to raise (ConfigError for a settings path). `file` None: the sentence alone (it names the
    file itself). A param may be a :class:`Phrase` or :class:`PhraseList`, said in the error's language."""
    values = {"file": file, "variant": variant, **params}
    message, fix = error_text(code, values, "en")
    return cls(message if file is None else f"{file}: {message}", fix, code=code, params=values)


# --------------------------------------------------------------------------- parts of a message, in either language
class Phrase(str):
    """A text of the label table (`key`) filled from `params`, said in English (the str itself), that keeps its key and
    params so the same can be said in another language (:meth:`in_language`). A param that is itself a Phrase or a
    PhraseList is said in that language too. For the parts of a message put together from pieces (a list of an export's
    problems, a row list, a count): KeyError for an unknown key or a placeholder `params` does not fill."""

    key: str
    params: dict

    def __new__(cls, key: str, /, **params):
        self = super().__new__(cls, fill(key, params, "en"))
        self.key, self.params = key, params
        return self

    def __reduce__(self):
        return _phrase, (self.key, self.params)

    def in_language(self, lang: str) -> str:
        """The phrase in `lang` (en or ja)."""
        return fill(self.key, self.params, lang)


def _phrase(key: str, params: dict) -> Phrase:
    return Phrase(key, **params)


#: Sentences one after another: a space in English, nothing in Japanese (a PhraseList's `sep`).
SENTENCES = {"en": " ", "ja": ""}


class PhraseList(str):
    """Texts (Phrases or plain text) joined by `sep`: text, the same in both languages; a Phrase such as
    ``Phrase("part_or")`` (" or " / " または "); or a separator per language such as :data:`SENTENCES`. Said in either
    language."""

    items: tuple
    sep: str | Phrase | dict

    def __new__(cls, items, sep):
        items = tuple(items)
        self = super().__new__(cls, (sep["en"] if isinstance(sep, dict) else str(sep)).join(items))
        self.items, self.sep = items, sep
        return self

    def __reduce__(self):
        return PhraseList, (self.items, self.sep)

    def in_language(self, lang: str) -> str:
        """The texts in `lang`, joined by `sep` in `lang`."""
        sep = self.sep[lang] if isinstance(self.sep, dict) else said(self.sep, lang)
        return sep.join(said(i, lang) for i in self.items)


class SaidFinding(str):
    """A warning Finding as a message quotes it (:meth:`Finding.render`, English), said in another language with its
    sentence and fix from its code (WARNING_CODES)."""

    def __new__(cls, finding: Finding):
        self = super().__new__(cls, finding.render())
        self.finding = finding
        return self

    def in_language(self, lang: str) -> str:
        return self.finding.render(lang)


class Texts(str):
    """A text as a file recorded it in each language ({"en": ..., "ja": ...}; English the str itself): said in either
    (a language not recorded: the English)."""

    def __new__(cls, texts: dict):
        self = super().__new__(cls, texts["en"])
        self.texts = dict(texts)
        return self

    def in_language(self, lang: str) -> str:
        return str(self.texts.get(lang) or self)


def said(value, lang: str):
    """`value` in `lang` when it is a Phrase, PhraseList, SaidFinding or Texts, else as it is."""
    return value.in_language(lang) if isinstance(value, (Phrase, PhraseList, SaidFinding, Texts)) else value


#: The suffix of a recorded text's Japanese beside its English (a file such as ingest_report.json: ``how`` and ``how_ja``).
JA_SUFFIX = "_ja"


def both_languages(value):
    """`value` (dicts and lists) for a JSON file people and reports read: beside each text said in either language (a
    Phrase, PhraseList or SaidFinding, kept as its English under its key) its Japanese under ``<key>_ja``; a key
    already there is kept. The English keys stay as they were, so a reader of the file's English is unchanged."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out[key] = both_languages(item)
            if isinstance(item, (Phrase, PhraseList, SaidFinding)) and f"{key}{JA_SUFFIX}" not in value:
                out[f"{key}{JA_SUFFIX}"] = item.in_language("ja")
        return out
    if isinstance(value, (list, tuple)):
        return [both_languages(item) for item in value]
    return value


def recorded(record: dict, key: str, default: str = ""):
    """The text `key` of a record :func:`both_languages` wrote, said in either language (Texts; its English alone
    when the record has no Japanese)."""
    english = record.get(key, default)
    japanese = record.get(f"{key}{JA_SUFFIX}")
    return Texts({"en": str(english), "ja": japanese}) if isinstance(japanese, str) else english


def fill(key: str, params: dict, lang: str) -> str:
    """The label `key` in `lang`, its placeholders filled from `params` (Phrases in `lang`)."""
    from helpers.labels import t

    return t(key, lang).format(**{k: said(v, lang) for k, v in params.items()})


def cli_language(stated: str | None = None) -> str:
    """The language a command prints its errors in: `stated` (--lang), else ja when the terminal's locale is Japanese
    (LC_ALL, LC_MESSAGES or LANG starting with ja), else en."""
    import os

    if stated in ("en", "ja"):
        return stated
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def run_cli(main) -> int | str | None:
    """Run a command's `main()` and return its exit status (for sys.exit; argparse's own exits included); output cut
    short by the reader (``... | head``) ends the command quietly with status 1 instead of a BrokenPipeError
    traceback. The method is the Python documentation's (library/signal.html, "Note on SIGPIPE"): stdout is pointed
    at /dev/null so the interpreter's final flush cannot fail again."""
    import os
    import sys

    try:
        try:
            status = main()
        except SystemExit as exit_:  # argparse's --help and usage errors: their text may still be in stdout's buffer
            status = exit_.code
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def error(file: str, code: str, column: str | None = None, rows: tuple[int, ...] = (), values: tuple[str, ...] = (),
          count: int = 0, **params) -> Finding:
    """An error Finding (a data check's refusal, listed with the others) whose message and fix are the English
    sentences of its code (:func:`error_text`; placeholders {count}, {file}, {column} and `params`), which it keeps so a
    report can say the same in its own language. KeyError for a code not in ERROR_CODES."""
    filled = {"count": count, "file": file, "column": column or "", **params}
    message, fix = error_text(code, filled, "en")
    return Finding("error", file, code, message, fix, column, tuple(rows), tuple(values), int(count), dict(params))


class ReaderGone:
    """A stdout that outlives its reader: text goes to `stream` until a write or flush fails with BrokenPipeError (the
    reader stopped: ``... | head``); from then on file descriptor 1 points at /dev/null (so the interpreter's final
    flush cannot fail either) and the text is dropped, so a long command (the report runner) finishes its work and
    cleans up instead of dying at its next progress line. :func:`run_cli`'s method, without ending the command."""

    def __init__(self, stream):
        self.stream, self.gone = stream, False

    def _quiet(self) -> None:
        import os

        self.gone = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self.stream.fileno())
        finally:
            os.close(devnull)

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._quiet()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._quiet()

    def __getattr__(self, name):   # encoding, fileno, isatty, ...: the stream's
        return getattr(self.stream, name)


# --------------------------------------------------------------------------- credentials in database URLs
# (helpers.url_redact; the names stay importable from here)
def check_url_password(url: str, shown: str) -> None:
    """WorkbookError (coded url_password) when the password in `url` holds a character of :data:`URL_PASSWORD_BREAKERS`
    as it is (a parser would read another host or password, and say a piece of the password in its error); `shown`
    names the URL in the message (redacted, and as the user wrote it: before any ${VAR} was expanded). Which of
    the characters the password holds is not said either."""
    parts = _url_userinfo(url)
    if parts and parts[2] and URL_PASSWORD_BREAKERS & set(parts[2]):
        raise coded_error("url_password", shown)
