"""The date system of an Excel 97-2003 workbook (.xls): the DATEMODE record of its workbook globals (1 = the 1904
system), read from the OLE2 compound file without a third-party reader (pandas reads .xls with python-calamine,
which does not say the date system; xlrd's ``Book.datemode`` reads the same record).

Sources: [MS-CFB] Compound File Binary File Format (header, FAT, DIFAT, directory, mini stream) and [MS-XLS] 2.4.77
DateMode (record type 0x0022, two bytes: 0 = the 1900 system, 1 = the 1904 system) in the globals substream, which
runs from the workbook stream's first BOF record to its first EOF record.
"""
from __future__ import annotations

import struct
from pathlib import Path

FREE, END = 0xFFFFFFFF, 0xFFFFFFFE
BOF, EOF, DATEMODE = 0x0809, 0x000A, 0x0022


def _chain(table: list[int], start: int, limit: int) -> list[int]:
    """The sectors of a chain from `start` in the allocation `table` (at most `limit`: a loop is a damaged file)."""
    out = []
    while start not in (FREE, END) and start < len(table) and len(out) < limit:
        out.append(start)
        start = table[start]
    return out


def _workbook_stream(data: bytes) -> bytes | None:
    """The 'Workbook' (BIFF8) or 'Book' (BIFF5) stream of compound file `data`, None when there is none."""
    size = 1 << struct.unpack_from("<H", data, 0x1E)[0]
    mini_size = 1 << struct.unpack_from("<H", data, 0x20)[0]
    first_dir, cutoff, first_minifat = struct.unpack_from("<I", data, 0x30)[0], *struct.unpack_from("<II", data, 0x38)
    first_difat, n_difat = struct.unpack_from("<II", data, 0x44)
    limit = len(data) // size + 1

    def sector(n: int) -> bytes:
        return data[(n + 1) * size:(n + 2) * size]

    fat_sectors = [s for s in struct.unpack_from("<109I", data, 0x4C) if s not in (FREE, END)]
    for n in _chain_difat(data, first_difat, n_difat, size, sector):
        fat_sectors.append(n)
    fat = [v for n in fat_sectors for v in struct.unpack(f"<{size // 4}I", sector(n))]
    directory = b"".join(sector(n) for n in _chain(fat, first_dir, limit))
    entries = [directory[i:i + 128] for i in range(0, len(directory), 128)]
    if not entries:
        return None
    root_start, root_size = struct.unpack_from("<II", entries[0], 0x74)
    for entry in entries:
        name_len = struct.unpack_from("<H", entry, 0x40)[0]
        name = entry[:max(name_len - 2, 0)].decode("utf-16-le", "replace")
        if entry[0x42] != 2 or name not in ("Workbook", "Book"):
            continue
        start, length = struct.unpack_from("<II", entry, 0x74)
        if length >= cutoff:
            return b"".join(sector(n) for n in _chain(fat, start, limit))[:length]
        minifat = [v for n in _chain(fat, first_minifat, limit) for v in struct.unpack(f"<{size // 4}I", sector(n))]
        ministream = b"".join(sector(n) for n in _chain(fat, root_start, limit))[:root_size]
        return b"".join(ministream[n * mini_size:(n + 1) * mini_size] for n in _chain(minifat, start, limit))[:length]
    return None


def _chain_difat(data: bytes, first: int, count: int, size: int, sector) -> list[int]:
    """The FAT sectors listed in the DIFAT sectors beyond the header's 109 (a file over about 7 MB)."""
    out, n = [], first
    for _ in range(count):
        if n in (FREE, END):
            break
        values = struct.unpack(f"<{size // 4}I", sector(n))
        out += [v for v in values[:-1] if v not in (FREE, END)]
        n = values[-1]
    return out


def xls_date1904(path: Path) -> bool:
    """True when the .xls workbook at `path` uses Excel's 1904 date system (its globals' DATEMODE record is 1);
    False for the 1900 system, a workbook without the record, or a file that cannot be read as one (the reader
    then names the file's own problem)."""
    try:
        stream = _workbook_stream(Path(path).read_bytes())
    except (OSError, struct.error, IndexError, ValueError):
        return False
    pos = 0
    while stream and pos + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, pos)
        if kind == DATEMODE and length >= 2:
            return struct.unpack_from("<H", stream, pos + 4)[0] == 1
        if kind == EOF:   # the end of the workbook globals: no DATEMODE record, the 1900 system
            return False
        pos += 4 + length
    return False
