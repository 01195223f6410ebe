"""A workbook's extra columns (a file's columns outside the data contract), read from the file when first asked for.

:func:`helpers.data.load.load_workbook` keeps each table's extra columns in ``Workbook.extras``, an :class:`Extras`
mapping ``{table: frame}`` (text cells as read, None when empty). The fast CSV reader
(:func:`helpers.data.fastcsv.read_csv_cells`) converts only a file's contract columns; the other columns (an export's
contact name, e-mail, phone, lead attributes: at a million leads as much memory as the whole typed leads table) stay
in the file until something asks for them (notebook 05's lead attributes, the snapshot's named columns). Then
:class:`DeferredColumns` reads them from the same file, after checking by its SHA-256 that the bytes are those that
were loaded; if the file changed or went away meanwhile it raises a WorkbookError (load the folder again), so the
extra columns always belong to the rows of the typed tables. A load that never looks at them neither converts
nor holds them.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from helpers.errors import WorkbookError, coded_error

#: One extra-column read at a time (two threads asking for the same table read it once).
_READING = threading.Lock()


@dataclass(frozen=True)
class DeferredColumns:
    """Extra columns of a CSV file not read yet: `columns` maps each column name to its pyarrow name f<position>; the
    file's `encoding`, `delimiter`, `sha256` and data `rows` as the fast reader found them."""

    path: Path
    encoding: str
    delimiter: str
    sha256: str
    rows: int
    columns: dict[str, str]

    def read(self) -> pd.DataFrame:
        """The columns as a frame (RangeIndex over the data rows; text, None when empty), read from the file as the
        fast reader reads it. WorkbookError when the file is gone or its bytes changed since the load."""
        import pyarrow.csv as pacsv

        from helpers.data.csvshape import arrow_csv_options
        from helpers.data.files import file_sha256

        changed = coded_error("extras_changed", self.path.name, columns=", ".join(self.columns))
        if not self.path.is_file() or file_sha256(self.path) != self.sha256:
            raise changed
        read, parse, convert = arrow_csv_options(self.encoding, self.delimiter, list(self.columns.values()))
        table = pacsv.read_csv(self.path, read_options=read, parse_options=parse, convert_options=convert).slice(1)
        if table.num_rows != self.rows:
            raise changed
        return pd.DataFrame({name: table.column(key).to_pandas() for name, key in self.columns.items()})


class Extras(Mapping):
    """``{table name: its extra columns (a frame)}``; a :class:`DeferredColumns` value is read on first access and
    kept (a read-only mapping: ``extras.get("leads")``, ``"leads" in extras``, iteration in load order)."""

    def __init__(self, tables: Mapping[str, pd.DataFrame | DeferredColumns] | None = None):
        self._tables = dict(tables or {})

    def __getitem__(self, name: str) -> pd.DataFrame:
        value = self._tables[name]
        if isinstance(value, DeferredColumns):
            with _READING:
                value = self._tables[name]
                if isinstance(value, DeferredColumns):
                    value = self._tables[name] = value.read()
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __repr__(self) -> str:
        shown = {name: list(v.columns) for name, v in self._tables.items()}
        return f"Extras({shown})"
