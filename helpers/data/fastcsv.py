"""The fast typed CSV reader: a canonical table's CSV file typed with pyarrow, or None for the exact reader.

load_workbook (helpers.data.load) reads each CSV file through :func:`read_csv_typed`, which gives the same typed
columns, findings and extra columns as the exact reader (helpers.data.rawread.read_raw and
helpers.data.parse.parse_table: pandas' CSV parser on the decoded text) at a fraction of the time and memory on large
files:

1. The checks of the bytes (scan_csv; blocks cut at a line end): the SHA-256 of the file, the
   encoding (a byte order mark; valid UTF-8; else charset-normalizer over the whole file, as detect_encoding
   decides), the mojibake check (MOJIBAKE, run by RE2 on each block), NUL characters, whether a double quote occurs
   (a file without one has no cell holding a quote or a line break, so step 2 searches no cell for them), and the
   first lines the separator is sniffed on (sniff_delimiter). A UTF-8 file is read once: the checks run on the
   blocks pyarrow parses (_CheckedStream), and any failing check hands the file to the separate scan, as before.
2. pyarrow.csv parses the file (other encodings transcoded while reading) with every cell as text and the
   header as row 0 (duplicate and empty names checked by check_header). In a UTF-8 file without a double quote
   only the contract's columns are converted (the header read from the first lines); the other columns stay in
   the file until Workbook.extras is asked for them (helpers.data.extras: read then from the same bytes).
3. Each column is typed (helpers.data.arrowtyping): text and category columns by the Arrow string kernels pandas
   itself runs for str.strip / str.lower; a date column whose every cell is a plain ISO date (or datetime) by
   Arrow's cast; every other column (other dates, numbers, months, answers, departments) by dictionary
   encoding the raw cells and parsing each distinct cell once with parse_cells, the exact reader's function.

Whenever a file is anything but a plain, rectangular CSV this reader can take (empty, not decodable, mojibake,
NUL characters, ragged rows that pandas pads, an implicit index column, unclosed quotes, a line of spaces,
fewer than two columns), read_csv_typed returns None and load_workbook uses the exact reader, which gives its
own result or its own error message: every rule and message of the exact reader holds, only the speed differs.
tests/test_fastcsv.py compares the two readers (sample data, tiny blocks, encodings, hand-overs, fuzzed text).
Moved out of helpers.data.load, which still exports every public name.
"""
from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from helpers.charset import detect_encoding
from helpers.config import Config
from helpers.data.arrowtyping import arrow_text_column, distinct_parse, plain_iso_dates
from helpers.data.csvshape import FAST_MAX_COLUMNS, arrow_csv_options
from helpers.data.parse import column_findings, missing_columns
from helpers.data.rawread import MOJIBAKE, check_header, sniff_delimiter
from helpers.data.schema import Column, Table
from helpers.errors import Finding

#: Bytes read per block in the streaming pass (a block is cut at its last line end).
SCAN_BLOCK = 8 << 20
#: Lines the separator is sniffed on (sniff_delimiter reads the first 50).
SNIFF_LINES = 50


@dataclass
class CsvCells:
    """A CSV file as pyarrow text columns: `cells` (row 0 is the first data row; the column at position i named f<i>;
    every column, or those :func:`read_csv_cells` was asked for), the `header` cells as read (every column), the
    encoding used, the separator and the SHA-256 of the file's bytes."""

    cells: pa.Table
    header: list[str | None]
    encoding: str
    delimiter: str
    sha256: str


def _re2(pattern: str) -> str:
    """A Python regular expression in RE2 syntax (a \\u escape of four hex digits becomes \\x{...}); the rest of MOJIBAKE is common syntax."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", r"\\x{\1}", pattern)


def _scan_blocks(path: Path):
    """The file's bytes in blocks of about SCAN_BLOCK bytes, each ending at a line end (b'\\n') but the last, as
    ``(buffer, start, end)``: one bytearray read into and reused (no fresh memory per block: on a large file the
    page faults of a new block each time cost more than the hashing), so a block is valid until the next is asked for."""
    buf, filled = bytearray(SCAN_BLOCK), 0
    with open(path, "rb", buffering=0) as fh:
        while True:
            if filled == len(buf):  # a line longer than the buffer: a larger one (the old one may still be viewed)
                buf = buf + bytearray(len(buf))
            with memoryview(buf) as view:
                got = fh.readinto(view[filled:])
            if not got:
                if filled:
                    yield buf, 0, filled
                return
            filled += got
            cut = buf.rfind(b"\n", 0, filled) + 1
            if cut == 0:
                continue
            yield buf, 0, cut
            buf[: filled - cut] = buf[cut:filled]  # the unfinished line to the front (same length: no resize)
            filled -= cut


def scan_csv(path: Path) -> tuple[str, str, str, bool] | None:
    """One streaming pass over a CSV file: ``(encoding, first lines, sha256, quoted)``, or None when the exact reader must
    read it (empty, not decodable, mojibake, NUL characters, a second byte order mark, a first line too long to sniff,
    an odd number of double quotes: a quote left open, which Arrow reads as a cell running to the end of the file
    while pandas refuses it, or a quote inside an unquoted cell; the exact reader decides both).
    `quoted`: the text holds a double quote somewhere (without one no cell can hold a quote or a line break, so the
    parsed cells need no search for either: the one read serves the checksum, the checks and the parse's checks).

    The encoding is decided as :func:`detect_encoding` decides it (a BOM, valid UTF-8, else
    charset-normalizer over the whole file); the first lines are the decoded text the separator is sniffed on
    (:func:`sniff_delimiter` reads the first SNIFF_LINES lines): the whole text of a short file."""
    if path.stat().st_size == 0:
        return None
    with open(path, "rb") as fh:
        start = fh.read(4)
    if start.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif start.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8"
    digest, seen = hashlib.sha256(), {"quotes": 0}
    if encoding != "utf-16":
        head = _scan_utf8(path, digest, seen, skip=3 if encoding == "utf-8-sig" else 0)
        if head is None:
            return None
        if head is not False:
            return _scanned(encoding, head, digest, seen)
        # not UTF-8: charset-normalizer over the whole file, as detect_encoding does (the bytes are freed after)
        try:
            encoding = detect_encoding(path.read_bytes(), path.name)[0]
        except Exception:  # noqa: BLE001 - the exact reader raises its own error
            return None
        digest = hashlib.sha256()
    head = _scan_decoded(path, encoding, digest, seen)
    return None if head is None else _scanned(encoding, head, digest, seen)


def _scanned(encoding: str, head: str, digest, seen: dict) -> tuple[str, str, str, bool] | None:
    """scan_csv's answer once the file is read: None when it holds an odd number of double quotes (every quote of a
    file the fast reader takes opens or closes a quoted cell, in pairs: a cell holding one goes to the exact reader)."""
    if seen["quotes"] % 2:
        return None
    return encoding, head, digest.hexdigest(), seen["quotes"] > 0


def _first_lines(head: str, complete: bool) -> str | None:
    """The text to sniff: the first SNIFF_LINES lines of `head` (all of it when `complete`, the file's whole text);
    None when `head` does not hold that many whole lines."""
    if complete:
        return head
    lines = head[: head.rfind("\n") + 1].splitlines(keepends=True)  # whole lines only
    return "".join(lines[:SNIFF_LINES]) if len(lines) >= SNIFF_LINES else None


def _scan_utf8(path: Path, digest, seen: dict, skip: int):
    """Hash, validate as UTF-8 (Arrow's check) and look for mojibake (RE2), NUL and count double quotes (``seen["quotes"]``:
    byte 0x22 is never part of another character in UTF-8), block by block.

    The first lines (str) of a clean UTF-8 file; False when the file is not UTF-8; None when the exact reader
    must read it. A block ends at a line end, and no mojibake pattern spans one, so the check is the whole text's."""
    mojibake = _re2(MOJIBAKE.pattern)
    head, first, whole, enough = "", True, True, False
    for buf, start, end in _scan_blocks(path):
        with memoryview(buf) as view:
            digest.update(view[start:end])
        start += skip if first else 0
        utf8, garbled = _utf8_lines(buf, start, end, mojibake)
        if not utf8:
            return False
        if garbled or buf.find(b"\x00", start, end) >= 0:
            return None
        seen["quotes"] += buf.count(b'"', start, end)
        if not enough:
            head += buf[start:end].decode("utf-8")
            if first and head.startswith("\ufeff"):
                return None  # a second byte order mark: the exact reader strips it
            enough = head.count("\n") > SNIFF_LINES
        else:
            whole = False
        first = False
    return _first_lines(head, whole)


def _utf8_lines(buf, start: int, end: int, mojibake) -> tuple[bool, bool]:
    """``(valid UTF-8, holds mojibake)`` of the whole lines ``buf[start:end]`` (Arrow's UTF-8 check; `mojibake`, the RE2
    form of MOJIBAKE, run only where :func:`_may_hold_mojibake` says a match can be): the check of each block, by the
    scan (:func:`_scan_utf8`) and by the one read (:class:`_CheckedStream`) alike."""
    text = _utf8(buf, start, end)
    if text is None:
        return False, False
    return True, _may_hold_mojibake(buf, start, end) and pc.any(pc.match_substring_regex(text, mojibake)).as_py()


def _may_hold_mojibake(buf: bytearray, start: int, end: int) -> bool:
    """False when the UTF-8 bytes ``buf[start:end]`` cannot hold a MOJIBAKE match, so the regular expression need not
    run (on a clean file it was a third of the scan's CPU); True when they may.

    Every alternative of MOJIBAKE holds one of: Ã Â â ï ã (UTF-8 lead byte 0xC3), a half-width katakana or U+FFFD
    (lead byte 0xEF), or one of 縺 繧 繝 (E7 B8 BA, E7 B9 A7, E7 B9 9D; ``[縺繧繝]{2}``). Single bytes are found by
    memchr; the three characters by a search of bytes whose first byte is literal (0xE7: found by memchr too)."""
    if buf.find(b"\xc3", start, end) >= 0 or buf.find(b"\xef", start, end) >= 0:
        return True
    return _JAPANESE_MOJIBAKE_BYTES.search(buf, start, end) is not None


#: The UTF-8 bytes of 縺 繧 繝 (E7 B8 BA, E7 B9 A7, E7 B9 9D).
_JAPANESE_MOJIBAKE_BYTES = re.compile(rb"\xe7(?:\xb8\xba|\xb9[\xa7\x9d])")


def _utf8(data: bytes | bytearray, start: int = 0, end: int | None = None) -> pa.Array | None:
    """``data[start:end]`` as a one-element Arrow string array (no copy), or None when it is not valid UTF-8 (Arrow's
    full check)."""
    end = len(data) if end is None else end
    text = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(np.array([start, end], dtype=np.int32)),
                                                  pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return None
    return text


def _scan_decoded(path: Path, encoding: str, digest, seen: dict) -> str | None:
    """Hash and decode a file in another encoding block by block (Python's incremental decoder), looking for
    mojibake, NUL and double quotes (counted: ``seen["quotes"]``) in the decoded text; its first lines, or None when the exact
    reader must read it."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        return None
    head, tail, first, complete, whole = "", "", True, False, True
    with open(path, "rb") as fh:
        while not complete:
            data = fh.read(SCAN_BLOCK)
            complete = not data
            digest.update(data)
            try:
                text = decoder.decode(data, final=complete)
            except UnicodeDecodeError:
                return None
            if first:
                text = text.removeprefix("\ufeff")  # what the exact reader strips after decoding
                if text.startswith("\ufeff"):
                    return None
            # a mojibake pattern is at most 3 characters: the last 2 of the previous text join the next
            if "\x00" in text or MOJIBAKE.search(tail + text):
                return None
            seen["quotes"] += text.count('"')
            tail = (tail + text)[-2:]
            if first or head.count("\n") <= SNIFF_LINES:
                head += text
            else:
                whole = False
            first = False
    return _first_lines(head, whole)


def _head_header(head: str, encoding: str, delimiter: str) -> list[str | None] | None:
    """The header cells of a UTF-8 file read from its first lines `head` (as pyarrow reads them from the whole file), or
    None when they cannot be told from them (another encoding, a parse error)."""
    if not encoding.startswith("utf-8"):
        return None
    read, parse, convert = arrow_csv_options(encoding, delimiter)
    try:
        first = pacsv.read_csv(pa.py_buffer(head.encode("utf-8")), read_options=read, parse_options=parse,
                               convert_options=convert).slice(0, 1).to_pylist()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return list(first[0].values()) if first else None


def read_csv_cells(path: Path, wanted: frozenset[str] | None = None) -> CsvCells | None:
    """A CSV file as pyarrow text columns (:class:`CsvCells`), or None when the exact reader must read it (see :func:`scan_csv`;
    also when pyarrow cannot parse it or it has fewer than two columns: a line of spaces, which pandas skips as
    blank, is then a one-cell row pyarrow refuses).

    With `wanted` (column names), a UTF-8 file without a double quote gets only the columns whose trimmed header is in
    `wanted` converted (``cells`` holds those, each named f<position>; ``header`` is still every column's): the others
    are split from their lines but neither converted nor kept (:class:`helpers.data.extras.Extras` reads them when
    asked). A file with a quote is converted whole: every cell is searched for quotes and line breaks.

    A UTF-8 file is read once (:func:`_read_once`: the blocks pyarrow parses are the blocks scan_csv's checks run on);
    any other file, and one whose checks or parse fail, is scanned first and parsed after (two reads), which gives the
    scan's own answer in every case it refuses."""
    if path.stat().st_size == 0:
        return None
    with open(path, "rb") as fh:
        start = fh.read(4)
    if not start.startswith((b"\xff\xfe", b"\xfe\xff")):
        read = _read_once(path, wanted, skip=3 if start.startswith(b"\xef\xbb\xbf") else 0)
        if read is not _SCAN_FIRST:
            return read
    return _scan_then_parse(path, wanted)


def _scan_then_parse(path: Path, wanted: frozenset[str] | None) -> CsvCells | None:
    """read_csv_cells by two reads: :func:`scan_csv` (the encoding, the first lines, the checks, the SHA-256), then the parse."""
    scanned = scan_csv(path)
    if scanned is None:
        return None
    encoding, head, sha256, quoted = scanned
    delimiter = sniff_delimiter(head)
    header, include = _included(head, encoding, delimiter, wanted, quoted)
    table = _parse(path, encoding, delimiter, include)
    return None if table is None else _cells(table, header, include, quoted, encoding, delimiter, sha256)


#: What _read_once answers when the file must be scanned first (:func:`_scan_then_parse` decides it).
_SCAN_FIRST = object()
#: Bytes read at a time for a UTF-8 file's first lines (until SNIFF_LINES whole lines are read).
HEAD_BLOCK = 64 << 10


def _read_once(path: Path, wanted: frozenset[str] | None, skip: int):
    """read_csv_cells of a file that starts as UTF-8 (`skip`: the length of its byte order mark) by one read of its bytes:
    pyarrow parses them through :class:`_CheckedStream`, which hashes and checks each block as scan_csv does. The
    first lines (read before, a block or a few) give the separator and the header. :data:`_SCAN_FIRST` when any
    check or the parse fails (not UTF-8, mojibake, NUL, a second byte order mark, ragged rows, ...): scan_csv and its
    reader then decide, as before. A file whose first double quote comes after its first lines was parsed with only
    the wanted columns: it is parsed again whole (a second read, as scan and parse cost)."""
    head = _utf8_head(path, skip)
    if head is None:
        return _SCAN_FIRST
    encoding, delimiter, quoted = "utf-8-sig" if skip else "utf-8", sniff_delimiter(head), '"' in head
    header, include = _included(head, encoding, delimiter, wanted, quoted)
    stream = _CheckedStream(path, skip)
    try:
        with stream:
            table = _parse(stream, encoding, delimiter, include, refuse=False)
            stream.finish()
    except (_Unclean, pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, LookupError):
        return _SCAN_FIRST
    if stream.quotes % 2:
        return None  # as scan_csv: a quote left open or inside an unquoted cell, the exact reader decides
    if stream.quotes and not quoted:  # quotes after the first lines: every column is converted and searched
        header = include = None
        table = _parse(path, encoding, delimiter, None)
        if table is None:
            return None
    return _cells(table, header, include, stream.quotes > 0, encoding, delimiter, stream.digest.hexdigest())


class _Unclean(Exception):
    """A block of the file fails a check of scan_csv (not UTF-8, mojibake, NUL): the parse through the stream stops."""


class _CheckedStream:
    """A UTF-8 CSV file read for pyarrow.csv as a Python file object, each block hashed and checked as
    :func:`_scan_utf8` checks it while pyarrow parses it: the SHA-256 (``digest``, of every byte), NUL (raises
    :class:`_Unclean`), double quotes counted (``quotes``), and, over whole lines (no check's pattern spans a line end;
    the line a block cuts is checked once its end is read), valid UTF-8 and the mojibake search (raise _Unclean),
    SCAN_BLOCK bytes at a time; `skip` leading bytes (the byte order mark) are hashed, not checked."""

    def __init__(self, path: Path, skip: int):
        self._fh = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by __exit__
        self._skip, self._tail, self._ended = skip, bytearray(), False
        self._mojibake = _re2(MOJIBAKE.pattern)
        self.digest, self.quotes, self.closed = hashlib.sha256(), 0, False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self._fh.close()
        self.closed = True

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        """The next `size` bytes of the file (b'' at the end), checked SCAN_BLOCK bytes at a time. pyarrow asks for its
        block size: a shorter first block, cut inside the header line, would fail its parse."""
        data = self._fh.read(-1 if size is None else size)
        self.digest.update(data)
        if not data:
            if not self._ended:
                self._ended = True
                self._check(self._tail, self._skip)  # the last line, without a line end
            return data
        if data.find(b"\x00") >= 0:
            raise _Unclean
        if data.find(b'"') >= 0:   # memchr, a fifth of a count's time: the usual file holds no quote
            self.quotes += data.count(b'"')
        for start in range(0, len(data), SCAN_BLOCK):
            self._check_lines(data, start, min(start + SCAN_BLOCK, len(data)))
        return data

    def _check_lines(self, data: bytes, start: int, end: int) -> None:
        """Check the lines ``data[start:end]`` ends, the first joined to the part of it earlier blocks held."""
        first = data.find(b"\n", start, end) + 1
        if not first:  # no line end: the line continues in the next block
            self._tail += memoryview(data)[start:end]
            return
        self._check(self._tail + memoryview(data)[start:first], self._skip)  # the line the previous block cut
        self._skip, last = 0, max(first, data.rfind(b"\n", first, end) + 1)
        self._check(data, first, last)
        self._tail = bytearray(memoryview(data)[last:end])

    def finish(self) -> None:
        """Read and check what pyarrow left unread (the stream to its end)."""
        while self.read(SCAN_BLOCK):
            pass

    def _check(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        """Raise _Unclean when the whole lines ``data[start:end]`` are not UTF-8 or hold mojibake (as _scan_utf8)."""
        end = len(data) if end is None else end
        if start >= end:
            return
        utf8, garbled = _utf8_lines(data, start, end, self._mojibake)
        if not utf8 or garbled:
            raise _Unclean


def _utf8_head(path: Path, skip: int) -> str | None:
    """The first lines a UTF-8 file's separator is sniffed on, as scan_csv tells them (its whole text when short), read
    HEAD_BLOCK bytes at a time (SCAN_BLOCK when smaller); None when they are not UTF-8 or start with a second byte order
    mark (scan_csv then decides)."""
    data, size, lines = bytearray(), min(HEAD_BLOCK, SCAN_BLOCK), 0
    with open(path, "rb") as fh:
        while True:  # linear in the bytes read, also for a file without a line feed (line ends \r alone)
            more = fh.read(size)
            data += more
            lines += more.count(b"\n")
            if not more or lines > SNIFF_LINES:
                break
    whole = not more
    try:
        head = data[skip:len(data) if whole else data.rfind(b"\n") + 1].decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if head.startswith("\ufeff") else _first_lines(head, whole)


def _included(head: str, encoding: str, delimiter: str, wanted: frozenset[str] | None, quoted: bool):
    """``(header, include)``: the header cells told from the first lines and the columns to convert (f<position>) when
    only the `wanted` ones are (a UTF-8 file without a double quote); ``(None, None)`` when every column is."""
    header = None if wanted is None or quoted else _head_header(head, encoding, delimiter)
    include = None if header is None else [f"f{i}" for i, h in enumerate(header) if h is not None and h.strip() in wanted]
    if not include or len(include) == len(header):
        return None, None
    return header, include


def _parse(source, encoding: str, delimiter: str, include: list[str] | None, refuse: bool = True) -> pa.Table | None:
    """pyarrow's parse of `source` (a path or :class:`_CheckedStream`) with the fast reader's options; None when it fails
    (ragged rows, unclosed quotes, ...: pandas' reading and its error are the rule), or its error raised when not `refuse`."""
    read, parse, convert = arrow_csv_options(encoding, delimiter, include)
    try:
        return pacsv.read_csv(source, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError, LookupError):
        if not refuse:
            raise
        return None


def _cells(table: pa.Table, header, include, quoted: bool, encoding: str, delimiter: str, sha256: str) -> CsvCells | None:
    """The parsed `table` as :class:`CsvCells`, or None when the exact reader must read the file (no rows, fewer than two
    or too many columns, a cell holding a quote or a whole row)."""
    width = table.num_columns if header is None else len(header)
    if table.num_rows == 0 or width < 2 or width >= FAST_MAX_COLUMNS:
        return None
    if any(not pa.types.is_string(t) for t in table.schema.types):
        return None
    # Without a double quote in the file no cell holds a quote or a line break (only a quoted cell can): nothing to search.
    if quoted and (_row_in_a_cell(table, delimiter) or any(pc.any(pc.match_substring(c, '"')).as_py() for c in table.columns)):
        return None  # a quote left open swallowed rows, or a cell holds a quote: the exact reader checks it (csvshape)
    first = table.slice(0, 1).to_pylist()[0]
    if header is None:
        header = [first[f"f{i}"] for i in range(table.num_columns)]
    elif any(first[name] != header[int(name[1:])] for name in include):
        return None  # the first lines told another header than the file's first row (not seen; the exact reader decides)
    return CsvCells(table.slice(1), header, encoding, delimiter, sha256)


def _row_in_a_cell(table: pa.Table, delimiter: str) -> bool:
    """True when a cell holds a line break and a later line of it is a whole row of the file (csvshape.row_in_cell)."""
    from helpers.data.csvshape import row_in_cell

    for column in table.columns:
        broken = pc.match_substring_regex(column, "[\\r\\n]")
        if pc.any(broken).as_py():
            cells = pc.filter(column, broken).to_pylist()
            if any(row_in_cell(c, delimiter, table.num_columns) for c in cells):
                return True
    return False


def read_csv_typed(path: Path, table: Table, config: Config, findings: list[Finding], unread: dict | None = None):
    """A canonical table's CSV file read fast: ``(typed frame, extra columns or None, encoding, rows, sha256)``, or None
    when the exact reader must read it (:func:`read_csv_cells`). The typed frame, the findings appended to `findings`
    (missing columns, unparseable and missing values) and the extra columns are the exact reader's
    (read_raw, missing_columns and parse_table); raises its WorkbookError for duplicate column names. The extra
    columns are a frame, or (a file without a double quote) :class:`helpers.data.extras.DeferredColumns`: left in the
    file, read when first asked for (Workbook.extras). `unread`: as parse_table's (the unparseable cells by column)."""
    read = read_csv_cells(path, frozenset(table.column_names))
    if read is None:
        return None
    check_header(path, read.header)
    names = [f"Unnamed: {i}" if h is None else h.strip() for i, h in enumerate(read.header)]
    rows = read.cells.num_rows
    # each column's cells are freed once it is typed (a lower peak on large files)
    columns = dict(zip(read.cells.column_names, read.cells.columns))
    read.cells = None
    findings += missing_columns(table, pd.DataFrame(columns=names), path.name)
    position = {name: i for i, name in enumerate(names)}
    out, raw = {}, None
    for col in table.columns:
        if col.name not in position:
            continue
        raw = columns.pop(f"f{position[col.name]}")
        if col.kind in ("text", "category") and col.name not in ("department", "metric"):   # those two: parse_cells
            parsed = arrow_text_column(raw, lower=col.name == "outcome")
            present = parsed.notna().to_numpy()
        else:
            iso = plain_iso_dates(col, raw) if col.kind in ("date", "datetime") else None
            parsed, present = iso if iso is not None else distinct_parse(col, raw, config.timezone)
        column_findings(col, parsed, present, raw, path.name, findings, unread)
        out[col.name] = parsed
    raw = None
    typed = pd.DataFrame(out, index=pd.RangeIndex(rows))
    return typed, _extra_columns(path, read, names, table, columns, rows), read.encoding, rows, read.sha256


def _extra_columns(path: Path, read: CsvCells, names: list[str], table: Table, columns: dict, rows: int):
    """The file's columns outside the contract: a frame of the converted cells `columns` ({f<position>: cells}), or
    :class:`helpers.data.extras.DeferredColumns` when read_csv_cells left them in the file; None when there are none."""
    from helpers.data.extras import DeferredColumns

    at = {name: f"f{i}" for i, name in enumerate(names) if name not in table.column_names}
    if not at:
        return None
    if all(key in columns for key in at.values()):
        return pd.DataFrame({name: columns[key].to_pandas() for name, key in at.items()})
    return DeferredColumns(path, read.encoding, read.delimiter, read.sha256, rows, at)
