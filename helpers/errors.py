"""The workbook's own exception types and the validation finding record."""
from __future__ import annotations

from dataclasses import dataclass


class WorkbookError(Exception):
    """A problem the user can fix: the message says what is wrong, `fix` says how."""

    def __init__(self, message: str, fix: str | None = None):
        self.message = message
        self.fix = fix
        super().__init__(message if not fix else f"{message}\n  How to fix: {fix}")


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

    def render(self) -> str:
        """One readable paragraph: `file, rows 3, 7, column x: message. How to fix: ...`."""
        where = [self.file]
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows)
            more = f" (+{self.count - len(self.rows)} more)" if self.count > len(self.rows) else ""
            where.append(f"row{'s' if len(self.rows) > 1 else ''} {shown}{more}")
        if self.column:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.message}"
        if self.values:
            text += " (values: " + ", ".join(repr(v) for v in self.values) + ")"
        if self.fix:
            text += f"\n    How to fix: {self.fix}"
        return text


class DataValidationError(WorkbookError):
    """The input data breaks the contract; carries every error found, not just the first."""

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        errors = [f for f in self.findings if f.severity == "error"]
        lines = [f"The input data has {len(errors)} problem(s); no report was produced and no input file was changed:"]
        lines += [f"  - {f.render()}" for f in errors]
        WorkbookError.__init__(self, "\n".join(lines))
