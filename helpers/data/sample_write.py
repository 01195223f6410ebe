"""Writing the sample's tables (helpers.data.sample) into a folder: the CSV files, the sample's mark outside
data/sample, its settings file beside them, and the check that a user's own files are never replaced.
Used by :mod:`helpers.data.sample`, which still names all of them.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.sample_csv import write_csv
from helpers.paths import SAMPLE_DATA_DIR


#: The tables the sample writes, as <name>.csv.
TABLE_NAMES = ("leads", "opportunities", "spend", "checklist", "initiatives", "touches")
#: The mark the sample leaves in a folder it writes outside data/sample: a later run may replace the tables there.
SAMPLE_MARK = ".alignment-workbook-sample"


def check_out(out: Path, names) -> None:
    """WorkbookError (sample_would_replace) unless writing the tables `names` into `out` replaces only the sample's own
    files: `out` is data/sample, carries the sample's mark, or holds none of those files (a user's data is never
    overwritten by the sample)."""
    from helpers.errors import coded_error

    out = Path(out)
    if out.resolve() == SAMPLE_DATA_DIR.resolve() or (out / SAMPLE_MARK).is_file():
        return
    theirs = [f"{n}.csv" for n in names if (out / f"{n}.csv").exists() or (out / f"{n}.csv").is_symlink()]
    if theirs:
        raise coded_error("sample_would_replace", str(out), names=", ".join(theirs))


def write(tables: dict[str, pd.DataFrame], out: Path) -> None:
    """Write each table as UTF-8 CSV (no BOM, \\n line ends, empty = null); outside data/sample the folder gets the
    sample's mark. WorkbookError when that would replace a file the sample did not write (:func:`check_out`)."""
    check_out(out, tables)
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != SAMPLE_DATA_DIR.resolve():
        (out / SAMPLE_MARK).write_text("This folder holds the workbook's sample data (python -m helpers.data.sample); "
                                       "a later run of the sample may replace its tables.\n", encoding="utf-8")
    for name, frame in tables.items():
        write_csv(frame, out / f"{name}.csv")   # pandas' to_csv bytes (helpers.data.sample_csv)


SETTINGS_FILE = "workbook.yaml"


def write_settings(out: Path) -> str:
    """Put the sample's settings (data/sample/workbook.yaml: April fiscal year, JPY, the ICP, the SLA) beside data
    written elsewhere, since the sample's figures assume them. An existing, different workbook.yaml there is kept
    (a user's settings are never overwritten). Returns what happened, for the summary line."""
    source, target = SAMPLE_DATA_DIR / SETTINGS_FILE, out / SETTINGS_FILE
    if target.resolve() == source.resolve():
        return f"{SETTINGS_FILE} kept"
    if target.exists() and target.read_bytes() != source.read_bytes():
        return f"{target} kept as it is (it differs from the sample's settings in {source})"
    target.write_bytes(source.read_bytes())
    return f"{SETTINGS_FILE} written"
