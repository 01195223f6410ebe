"""``python -m helpers.report.clean [--out DIR]`` (``make clean-reports``): remove the reports the runner wrote.

Only what the runner made goes (:func:`helpers.report.record.clean_reports`: its marked folders and its own index.html
and run.json); a user's own files in the reports folder stay. Exit 2 with the reason when a run is writing there.
"""
from __future__ import annotations

import sys
from pathlib import Path

from helpers.errors import WorkbookError, cli_language, fill
from helpers.paths import REPORTS_DIR
from helpers.report.record import clean_reports


def main(argv: list[str] | None = None) -> int:
    """Remove the runner's reports from `--out` (default reports/), print each path removed; 0, or 2 on an error."""
    from helpers.cli_help import HelpText, help_language

    say = HelpText("clean", help_language(argv))   # the locale's language, as its errors
    parser = say.parser("python -m helpers.report.clean")
    parser.add_argument("--out", type=Path, default=REPORTS_DIR, help=say("out"))
    args = parser.parse_args(argv)
    try:
        removed = clean_reports(args.out)
    except (WorkbookError, OSError) as exc:
        print(f"error: {exc.in_language(cli_language()) if isinstance(exc, WorkbookError) else exc}", file=sys.stderr)
        return 2
    lang = cli_language()
    for path in removed:
        print(fill("clean_removed", {"path": path}, lang))
    print(fill("clean_done", {"count": len(removed), "out": args.out}, lang))
    return 0


if __name__ == "__main__":
    sys.exit(main())
