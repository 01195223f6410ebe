"""The Workbook of a warehouse run without its rows: what the sessions need from ``wb``, none of the lead, deal or touch rows.

In a ``--warehouse`` run (helpers.report.run; helpers.metrics.source.WAREHOUSE_ENV names the warehouse) every notebook
computes its figures on ``s.source`` (the warehouse: only aggregates and bounded samples come back). What a notebook
still reads from ``s.wb`` is small and was obtained once by the runner:

- ``as_of``, the first data date (:func:`helpers.data.load.first_data_date`), the findings (the row checks run in the
  warehouse, helpers.metrics.warehouse_checks) and the source files: the run snapshot's ``snapshot.json``;
- the small tables a person writes or a month per channel fills (spend, checklist, initiatives, targets): read in
  full, as a data folder's;
- which of leads, opportunities and touches exist: ``wb.leads is None`` still means "no leads table".

:class:`RowlessWorkbook` holds the leads, opportunities and touches as :data:`ROWS_ELSEWHERE` and answers a read of
their rows by the environment variable :data:`ROWS_ENV`: ``refuse`` gives a :class:`Refused` table (present, but
any use of its rows raises :class:`RowsInWarehouse`: compute on ``s.source``); otherwise the rows of the runner's copy in the snapshot are read on first use
(notebooks that still compute from rows; the runner stops copying once none does). :func:`read_rowless` reads one from a
run snapshot (helpers.data.snapshot.write_snapshot).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.data.load import SourceFile, Workbook
from helpers.errors import Finding, WorkbookError

#: The tables whose rows stay in the warehouse.
ROW_TABLES = ("leads", "opportunities", "touches")
#: "refuse": a read of a row table's rows raises RowsInWarehouse instead of reading the runner's copy.
ROWS_ENV = "WORKBOOK_WAREHOUSE_ROWS"


class RowsInWarehouse(WorkbookError, AttributeError):
    """A notebook read the rows of a table whose rows stay in the warehouse (an AttributeError too, so ``getattr(wb,
    name, default)`` probes keep working)."""


class _Elsewhere:
    """The marker of a table that exists and whose rows stay in the warehouse."""

    def __repr__(self) -> str:
        return "ROWS_ELSEWHERE"


ROWS_ELSEWHERE = _Elsewhere()


class Refused:
    """What a RowlessWorkbook gives for a row table it does not read: present (``wb.leads is None`` stays False), and
    any use of its rows (a column, its length, iterating) raises :class:`RowsInWarehouse` naming the table."""

    def __init__(self, table: str):
        object.__setattr__(self, "_table", table)

    def _refuse(self, *_args, **_kwargs):
        table = object.__getattribute__(self, "_table")
        raise RowsInWarehouse(f"the {table} rows stay in the warehouse: a warehouse run reads none of them",
                              fix="Compute the figure on the session's source (s.source: engine queries, only "
                                  "aggregates come back), as the *_of functions of helpers.metrics do.")

    def __getattr__(self, name: str):
        if name.startswith("__"):   # copy, pickle and IPython probes: not a read of the rows
            raise AttributeError(name)
        self._refuse()

    __getitem__ = __len__ = __iter__ = __contains__ = __array__ = _refuse

    def __repr__(self) -> str:
        return f"<{object.__getattribute__(self, '_table')}: rows in the warehouse>"


@dataclass
class RowlessWorkbook(Workbook):
    """A :class:`helpers.data.load.Workbook` whose leads, opportunities and touches are :data:`ROWS_ELSEWHERE` (or None:
    absent); reading one gives the runner's copy from `rows_dir` (read once), or, with :data:`ROWS_ENV` = ``refuse`` or
    without a copy, a :class:`Refused` table. `first_date`: the earliest created_at of leads and opportunities."""

    first_date: pd.Timestamp | None = None
    rows_dir: Path | None = field(default=None, repr=False)
    _rows: dict = field(default_factory=dict, repr=False, compare=False)

    def __getattribute__(self, name: str):
        value = object.__getattribute__(self, name)
        if value is not ROWS_ELSEWHERE:
            return value
        rows = object.__getattribute__(self, "_rows")
        if name not in rows:
            rows[name] = object.__getattribute__(self, "_read_rows")(name)
        return rows[name]

    def _read_rows(self, name: str):
        folder = object.__getattribute__(self, "rows_dir")
        path = None if folder is None else Path(folder) / f"{name}.parquet"
        if os.environ.get(ROWS_ENV) == "refuse" or path is None or not path.is_file():
            return Refused(name)
        return pd.read_parquet(path)


def _copied_extras(folder: Path) -> dict:
    """The extra lead columns the lead_quality settings name, from the runner's copy in the snapshot (rows of the leads:
    none with :data:`ROWS_ENV` = ``refuse``)."""
    from helpers.data.snapshot import LEAD_EXTRAS

    path = folder / f"{LEAD_EXTRAS}.parquet"
    return {"leads": pd.read_parquet(path)} if path.is_file() and os.environ.get(ROWS_ENV) != "refuse" else {}


def read_rowless(folder: Path, data_dir: Path, config) -> RowlessWorkbook | None:
    """The RowlessWorkbook of the run snapshot in `folder` (helpers.data.snapshot.write_snapshot) when it is the load of
    `data_dir` under `config` (helpers.data.snapshot's matching rules), else None: as_of, first date, findings and files
    from its snapshot.json, the small tables read, the row tables :data:`ROWS_ELSEWHERE` (their copy, when the runner
    made one, read only on use)."""
    from helpers.data.snapshot import CANONICAL, META, _matches, snapshot_id

    folder = Path(folder)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _matches(meta, Path(data_dir), config, None):
        return None
    present = set(meta["tables"]) | set(meta.get("row_tables") or ())
    tables = {name: (ROWS_ELSEWHERE if name in ROW_TABLES else pd.read_parquet(folder / f"{name}.parquet"))
              for name in CANONICAL if name in present}
    first = meta.get("first_date")
    wb = RowlessWorkbook(
        data_dir=Path(data_dir), config=config, as_of=pd.Timestamp(meta["as_of"]),
        opportunities=tables.get("opportunities", ROWS_ELSEWHERE), **{n: tables.get(n) for n in CANONICAL if n != "opportunities"},
        findings=[Finding(**{**f, "rows": tuple(f["rows"]), "values": tuple(f["values"]), "ids": tuple(f.get("ids", ()))})
                  for f in meta["findings"]],
        files={name: SourceFile(**f) for name, f in meta["files"].items()}, extras=_copied_extras(folder),
        first_date=None if first is None else pd.Timestamp(first), rows_dir=folder)
    wb.snapshot_id = snapshot_id(meta)
    return wb
