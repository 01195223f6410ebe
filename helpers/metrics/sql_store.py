"""Compiled SQL of query shapes kept on disk, one file per shape, shared by every process (helpers.metrics.compiled).

Ibis' compile is a pure function of the expression and the library versions, so the SQL of a query *shape*
(helpers.metrics.compiled: the query with sentinel dates and placeholder tables) can be kept on disk the way Python
keeps bytecode: a new process (a report run's kernel, a test process, a JupyterLab kernel) reads a shape's SQL
instead of compiling it again.

- **The digest of a shape** (:func:`structure_digest`): helpers.metrics.compiled numbers each distinct structure of
  an operation graph (a node's type and arguments, its children by their numbers) in one walk; each new number also
  gets a BLAKE2b digest of the structure written out deterministically: a type as ``module.qualname`` (a type that
  cannot be found again by that name, such as one made inside a function, has none), a child by its digest, a value
  by its type and a text that is the same in every process (:func:`value_text`: no ``id()``, no address, a set's
  members sorted, a mapping in its own order). A structure holding a value that cannot be written out so, or a child
  without a digest, has none: its query is not kept on disk (it still is in memory). A number's digest is made
  once per process, when the number is, so a walk over known structures costs nothing more.
- **The file of a shape** (:meth:`Store.file_name`): the root's digest with the compile's `limit`, the versions of
  ibis-framework, sqlglot and DuckDB, the compiler's type, Ibis' select fusing option and :data:`FORMAT`; a
  BLAKE2b of them names the file (``<hex>.sql``).
- **The store** (:class:`Store`): a folder, ``$WORKBOOK_SQL_CACHE`` (``off``: no store; a relative path is taken
  from the project root), else the user's cache folder (``$XDG_CACHE_HOME``, else ``~/.cache``, then
  ``alignment-workbook/sql``; :func:`store_dir`). A file is written to a temporary file in the same folder and
  moved into place (``os.replace``), so a reader sees a whole file or none, whatever other processes write at once;
  it starts with a header line holding its text's checksum, checked on reading. Past :data:`MAX_FILES` files the
  oldest (by modification time) are removed on a write, down to :data:`KEEP_FILES`. A store that cannot be read or
  written, or a file that is corrupt, is passed over silently but for a debug log: a report never fails on it
  (helpers.metrics.compiled checks a read text as it checks a fresh one before using it).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
import hashlib
import logging
import os
import re
import sys
import tempfile
import time
from pathlib import Path

#: The format of the digests and of a kept file; a change makes every file kept before another shape's (never read).
FORMAT = 2
#: The environment variable naming the store's folder (``off``: no store).
ENV = "WORKBOOK_SQL_CACHE"
#: Files past which a write removes the oldest, down to KEEP_FILES (a file is a shape's SQL, 0.1-10 kB on the sample).
MAX_FILES = 4000
KEEP_FILES = 3000
#: The store's size is checked at a process's first write and every CHECK_EVERY writes after it.
CHECK_EVERY = 64
#: A temporary file older than this (seconds) is a write that never finished: removed when the size is checked.
STALE_SECONDS = 3600
_NAME = re.compile(r"[0-9a-f]{40}\.sql")
_TEMP_PREFIX = ".tmp-"
_HEADER = b"-- alignment-workbook compiled sql %d %s\n"
log = logging.getLogger(__name__)


class Unstable(Exception):
    """A value whose text could differ from one process to another (:func:`value_text`)."""


def store_dir(environ=None) -> Path | None:
    """The store's folder: ``$WORKBOOK_SQL_CACHE`` (a relative path from the project root; ``off`` gives None),
    else ``$XDG_CACHE_HOME/alignment-workbook/sql`` (an absolute XDG_CACHE_HOME), else
    ``~/.cache/alignment-workbook/sql``; None when there is no home folder either."""
    from helpers.paths import PROJ_ROOT

    environ = os.environ if environ is None else environ
    value = environ.get(ENV, "").strip()
    if value.lower() == "off":
        return None
    if value:
        return PROJ_ROOT / Path(value).expanduser()   # an absolute path stays as it is
    base = environ.get("XDG_CACHE_HOME", "").strip()
    if not (base and os.path.isabs(base)):   # the XDG spec: a relative path is ignored
        try:
            base = Path.home() / ".cache"
        except RuntimeError:   # no home folder
            return None
    return Path(base) / "alignment-workbook" / "sql"


# --------------------------------------------------------------------------- digests
_TYPE_TEXTS: dict[type, str | None] = {}
_SCALARS = {type(None): "none", bool: "bool", int: "int", float: "float", complex: "complex", str: "str",
            bytes: "bytes", decimal.Decimal: "decimal", dt.date: "date", dt.timedelta: "timedelta"}
_ZONED = (dt.datetime, dt.time)


def type_text(t: type) -> str:
    """``module.qualname`` of the type `t`; Unstable when that name does not lead back to `t` (a type made inside a
    function or at run time, which another process may make otherwise)."""
    text = _TYPE_TEXTS.get(t, "")
    if text == "":
        found = sys.modules.get(getattr(t, "__module__", None) or "")
        for part in getattr(t, "__qualname__", "<>").split("."):
            found = getattr(found, part, None)
        text = _TYPE_TEXTS[t] = f"{t.__module__}.{t.__qualname__}" if found is t else None
    if text is None:
        raise Unstable(t)
    return text


def value_text(value) -> str:
    """A text of `value` (an argument of an operation that is not an operation) that is the same in every process and
    tells it from any other value: its type and repr for a plain scalar, a date or time (a time zone only of the
    standard library's kinds), members in order for a tuple or list, sorted for a set, items in order for a mapping,
    the arguments of an Ibis data type, schema or namespace, an enum by name, a backend by its type. Unstable
    otherwise (an operation inside a value, an object of another type)."""
    t = type(value)
    name = _SCALARS.get(t)
    if name is not None:
        return f"{name}:{value!r}"
    if t in _ZONED:
        zone = value.tzinfo
        if zone is not None and type(zone) is not dt.timezone and type(zone).__module__ != "zoneinfo":
            raise Unstable(zone)
        return f"{t.__name__}:{value!r}"
    if t is tuple or t is list:
        return f"{t.__name__}({','.join(map(value_text, value))})"
    if t is frozenset or t is set:
        return f"{t.__name__}{{{','.join(sorted(map(value_text, value)))}}}"
    if isinstance(value, dict):
        items = ",".join(f"{value_text(k)}:{value_text(v)}" for k, v in value.items())
        return f"{type_text(t)}{{{items}}}"
    if isinstance(value, enum.Enum):
        return f"{type_text(t)}.{value.name}"
    return _object_text(value, t)


def _object_text(value, t: type) -> str:
    """value_text of an Ibis value object (data type, schema, namespace: its arguments and attributes) or backend."""
    from ibis.backends import BaseBackend
    from ibis.common.graph import Node
    from ibis.common.grounds import Annotable

    if isinstance(value, Annotable) and not isinstance(value, Node):
        names = (*value.__argnames__, *getattr(value, "__attributes__", ()))
        args = ",".join(f"{n}={value_text(getattr(value, n, None))}" for n in names)
        return f"{type_text(t)}({args})"
    if isinstance(value, BaseBackend):   # a table's source: not in its SQL (the compiler writes names only)
        return f"backend:{type_text(t)}"
    raise Unstable(t)


def structure_digest(structure: tuple, digests: dict) -> bytes | None:
    """The digest (16 bytes) of `structure`, one of helpers.metrics.compiled.shape_key's numbered structures, its
    children's digests taken from `digests` (number -> digest or None); None when it or a child has none (module
    notes)."""
    try:
        text = _structure_text(structure, digests)
    except (Unstable, RecursionError):
        return None
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _structure_text(structure: tuple, digests: dict) -> str:
    head = structure[0]
    if isinstance(head, str):   # a tagged structure (a date sentinel, a table placeholder): its values
        return f"!{head}({','.join(map(value_text, structure[1:]))})"
    return f"{type_text(head)}({','.join(_arg_text(a, digests) for a in structure[1:])})"


def _arg_text(arg, digests: dict) -> str:
    """The text of one of shape_key's arguments: a child's number (an int), (tuple, *args), (a dict type, *(key,
    arg)), a tag ("reference", position), or (type, value)."""
    if type(arg) is int:
        digest = digests.get(arg)
        if digest is None:
            raise Unstable(arg)
        return f"#{digest.hex()}"
    head = arg[0]
    if head is tuple:
        return f"({','.join(_arg_text(a, digests) for a in arg[1:])})"
    if isinstance(head, str):
        return f"!{head}({','.join(map(value_text, arg[1:]))})"
    if issubclass(head, dict):
        items = ",".join(f"{value_text(k)}:{_arg_text(v, digests)}" for k, v in arg[1:])
        return f"{type_text(head)}{{{items}}}"
    return value_text(arg[1])


# --------------------------------------------------------------------------- the store
class Store:
    """The shapes' SQL kept in `folder`, one file per shape (module notes); `context` is the text of what else the
    compile depends on (the compiler's type), put into every file name with the library versions and FORMAT."""

    def __init__(self, folder: Path, context: str = ""):
        import duckdb
        import ibis
        import sqlglot

        self.folder = Path(folder)
        self.salt = (f"alignment-workbook sql {FORMAT}|ibis-framework {ibis.__version__}|sqlglot {sqlglot.__version__}"
                     f"|duckdb {duckdb.__version__}|{context}").encode()
        self.writes = 0
        self.made = False

    def file_name(self, digest: bytes, limit) -> str | None:
        """The file name of the shape of root digest `digest` compiled with `limit` (None or a whole number); None for
        another limit."""
        if limit is not None and type(limit) is not int:
            return None
        import ibis

        h = hashlib.blake2b(self.salt, digest_size=20)
        h.update(f"|fuse_selects {bool(ibis.options.sql.fuse_selects)}|limit {limit!r}|".encode())
        h.update(digest)
        return f"{h.hexdigest()}.sql"

    def read(self, name: str) -> str | None:
        """The text kept under `name`, None when there is none or it cannot be read or is corrupt (debug log)."""
        try:
            data = (self.folder / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            log.debug("compiled SQL store: cannot read %s: %s", name, error)
            return None
        header, _, body = data.partition(b"\n")
        if header + b"\n" != _HEADER % (FORMAT, _checksum(body)):
            log.debug("compiled SQL store: %s is corrupt or of another format", name)
            return None
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            return None

    def write(self, name: str, text: str) -> None:
        """Keep `text` under `name`: written to a temporary file of the folder, then moved into place; the oldest
        files removed past MAX_FILES (module notes). Any failure: a debug log, nothing kept."""
        body = text.encode("utf-8", "surrogatepass")
        temp = None
        try:
            if not self.made:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.made = True
            fd, temp = tempfile.mkstemp(dir=self.folder, prefix=_TEMP_PREFIX)
            with os.fdopen(fd, "wb") as f:
                f.write(_HEADER % (FORMAT, _checksum(body)) + body)
            os.replace(temp, self.folder / name)
            temp = None
        except OSError as error:
            log.debug("compiled SQL store: cannot write %s in %s: %s", name, self.folder, error)
            return
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)
        self.writes += 1
        if self.writes % CHECK_EVERY == 1:
            self.prune()

    def prune(self, max_files: int = MAX_FILES, keep: int = KEEP_FILES) -> int:
        """Remove the oldest kept files past `max_files` (down to `keep`) and temporary files older than
        STALE_SECONDS; only this store's own files (``<hex>.sql``, ``.tmp-*``) are touched. The number removed."""
        files, removed, now = [], 0, time.time()
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    with contextlib.suppress(OSError):
                        if _NAME.fullmatch(entry.name):
                            files.append((entry.stat().st_mtime, entry.name))
                        elif entry.name.startswith(_TEMP_PREFIX) and now - entry.stat().st_mtime > STALE_SECONDS:
                            os.unlink(entry.path)
                            removed += 1
        except OSError as error:
            log.debug("compiled SQL store: cannot list %s: %s", self.folder, error)
            return removed
        if len(files) > max_files:
            for _, name in sorted(files)[:len(files) - keep]:
                with contextlib.suppress(OSError):
                    os.unlink(self.folder / name)
                    removed += 1
        return removed


def _checksum(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).hexdigest().encode()

