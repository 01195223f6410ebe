"""The date system of an Excel 97-2003 workbook (.xls): the DATEMODE record of its workbook globals (1 = the 1904
system), as xlrd reads it (``xlrd.Book.datemode``).

pandas reads .xls with python-calamine, which converts date cells with the right system but does not say which
system a workbook uses; a serial number in a cell formatted General or as text needs it (helpers.data.files.
excel_epoch). xlrd (BSD, the reference .xls reader, https://xlrd.readthedocs.io/en/latest/api.html#xlrd.book.Book.datemode)
opens only the workbook globals here (``on_demand=True``: no sheet is parsed).

Source: [MS-XLS] 2.4.77 DateMode (record 0x0022: 0 = the 1900 system, 1 = the 1904 system; no record = 1900).
"""
from __future__ import annotations

from pathlib import Path


def xls_date1904(path: Path) -> bool:
    """True when the .xls workbook at `path` uses Excel's 1904 date system (its globals' DATEMODE record is 1);
    False for the 1900 system, a workbook without the record, or a file xlrd cannot open as one (the reader then
    names the file's own problem). No error is raised."""
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True, logfile=_Quiet())
    except Exception:   # xlrd.XLRDError, a damaged compound file (CompDocError), OSError: the reader names it
        return False
    try:
        return book.datemode == 1
    finally:
        book.release_resources()


class _Quiet:
    """A log file that drops xlrd's notes on files it reads (they go to stdout by default)."""

    def write(self, text: str) -> int:
        return len(text)
