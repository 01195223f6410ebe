"""The Workbook of a warehouse run without its rows: what the sessions need from ``wb``, none of the lead, deal or touch rows.

In a ``--warehouse`` run (helpers.report.run; helpers.metrics.source.WAREHOUSE_ENV names the warehouse) every notebook
computes its figures on ``s.source`` (the warehouse: only aggregates and bounded samples come back). What a notebook
still reads from ``s.wb`` is small and was obtained once by the runner:

- ``as_of``, the first data date (:func:`helpers.data.load.first_data_date`), the findings (the row checks run in the
  warehouse, helpers.metrics.warehouse_checks) and the source files: the run snapshot's ``snapshot.json``;
- the small tables a person writes or a month per channel fills (spend, checklist, initiatives, targets): read in
  full, as a data folder's;
- which of leads, opportunities and touches exist: ``wb.leads is None`` still means "no leads table".

:class:`RowlessWorkbook` holds the leads, opportunities and touches as :class:`Refused` tables: present
(``wb.leads is None`` stays False), and any use of their rows raises :class:`RowsInWarehouse` (the rows are the
warehouse's: compute on ``s.source``). :func:`read_rowless` reads one from a run snapshot
(helpers.data.snapshot.write_snapshot, which writes no row of those tables); the runner builds the Workbook from the
warehouse by aggregates (helpers.metrics.warehouse_load.load_warehouse).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.data.load import SourceFile, Workbook
from helpers.errors import Finding, WorkbookError

#: The tables whose rows stay in the warehouse.
ROW_TABLES = ("leads", "opportunities", "touches")


class RowsInWarehouse(WorkbookError, AttributeError):
    """A notebook read the rows of a table whose rows stay in the warehouse (an AttributeError too, so ``getattr(wb,
    name, default)`` probes keep working)."""


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
    """A :class:`helpers.data.load.Workbook` whose leads, opportunities and touches are :class:`Refused` tables (or
    None: absent). `first_date`: the earliest created_at of leads and opportunities; `last_date`: the data's last
    record date (helpers.data.load.last_data_date), known to a warehouse load, None from a snapshot."""

    first_date: pd.Timestamp | None = None
    last_date: pd.Timestamp | None = None


def read_rowless(folder: Path, data_dir: Path, config) -> RowlessWorkbook | None:
    """The RowlessWorkbook of the run snapshot in `folder` (helpers.data.snapshot.write_snapshot) when it is the load of
    `data_dir` under `config` (helpers.data.snapshot's matching rules), else None: as_of, first date, findings and files
    from its snapshot.json, the small tables read, the row tables :class:`Refused` (the studied lead columns of notebook
    05, rows of the leads too, are not read: ``extras`` is empty)."""
    from helpers.data.snapshot import CANONICAL, matching_meta, snapshot_id

    folder = Path(folder)
    meta = matching_meta(folder, data_dir, config)
    if meta is None:
        return None
    present = set(meta["tables"])
    tables = {name: (Refused(name) if name in ROW_TABLES else pd.read_parquet(folder / f"{name}.parquet"))
              for name in CANONICAL if name in present}
    first = meta.get("first_date")
    wb = RowlessWorkbook(
        data_dir=Path(data_dir), config=config, as_of=pd.Timestamp(meta["as_of"]),
        opportunities=tables.get("opportunities", Refused("opportunities")), **{n: tables.get(n) for n in CANONICAL if n != "opportunities"},
        findings=[Finding(**{**f, "rows": tuple(f["rows"]), "values": tuple(f["values"]), "ids": tuple(f.get("ids", ()))})
                  for f in meta["findings"]],
        files={name: SourceFile(**f) for name, f in meta["files"].items()},
        first_date=None if first is None else pd.Timestamp(first))
    wb.snapshot_id = snapshot_id(meta)
    return wb
