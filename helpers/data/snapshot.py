"""One load per run: a typed Parquet snapshot of the validated canonical tables, keyed by the inputs' checksums.

Reading, typing and validating a large data folder is the slow part of a report;
every notebook of every period needs the same validated tables. So:

- the runner loads the folder once (:func:`helpers.data.load.load_workbook`), writes the
  snapshot into its own staging folder (:func:`write_snapshot`) and points every
  notebook kernel at it through the environment variable ``WORKBOOK_SNAPSHOT``;
- a notebook run by itself (JupyterLab, nbval) builds a snapshot on first use in the
  cache folder (``WORKBOOK_CACHE``, default ``build/snapshots``) and reuses it while
  the SHA-256 checksums of the input files and the settings that shape the tables
  (timezone, as_of, owner pseudonyms) are unchanged (:func:`load_cached`).

A snapshot folder holds one ``<table>.parquet`` per canonical table (pandas dtypes
kept: categoricals, datetime64[ns], float64) and ``snapshot.json`` (format version,
data folder, input checksums, settings, resolved as_of, source files, the
validation warnings). Extra (non-canonical) columns are not written: they may hold
personal data. The one exception: the extra lead columns the ``lead_quality`` settings name (attributes and the
MQL rule's columns, notebook 05) are kept in ``leads_extras.parquet``, and only those. A failed load is never cached: the error
is raised again, with every finding, on the next try.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
from pathlib import Path

import pandas as pd

from helpers.config import Config, lead_quality_columns
from helpers.data.files import files_named
from helpers.data.load import FORMATS, SourceFile, Workbook, file_sha256, load_workbook
from helpers.data.schema import TABLES
from helpers.errors import Finding
from helpers.paths import PROJ_ROOT

SNAPSHOT_ENV = "WORKBOOK_SNAPSHOT"
CACHE_ENV = "WORKBOOK_CACHE"
DEFAULT_CACHE = PROJ_ROOT / "build" / "snapshots"
META = "snapshot.json"
#: Bump when the snapshot layout or the loader's output changes (old snapshots are then rebuilt).
FORMAT = 4
CANONICAL = tuple(TABLES)   # every canonical table is a Workbook field of the same name


def input_checksums(data_dir: Path) -> dict[str, str]:
    """SHA-256 of every file a load reads: ``{file name: hex digest}`` (canonical table files present)."""
    out = {}
    for path in files_named(data_dir, [f"{name}{ext}" for name in TABLES for ext in FORMATS]):
        out[path.name] = file_sha256(path)   # OPPORTUNITIES.CSV too: the loader reads it (find_table_file)
    return out


def settings_key(config: Config) -> dict:
    """The settings that shape the loaded tables (the rest of the config is applied after loading)."""
    return {"timezone": config.timezone, "pseudonymize_owners": bool(config.pseudonymize_owners),
            "as_of": None if config.as_of is None else config.as_of.strftime("%Y-%m-%d"),
            "lead_columns": lead_quality_columns(config.lead_quality),
            # channels.normalize folds the channel spellings; the fiscal year shapes the load's warnings
            "normalize_channels": bool(config.normalize_channels), "fiscal_year_start_month": config.fiscal_year_start_month}


#: The file holding the extra lead columns the lead_quality settings name.
LEAD_EXTRAS = "leads_extras"


def _named_extras(wb: Workbook) -> pd.DataFrame | None:
    """The extra lead columns the settings name (None when there are none)."""
    extras = wb.extras.get("leads") if wb.extras else None
    named = [c for c in lead_quality_columns(wb.config.lead_quality) if extras is not None and c in extras.columns]
    return extras[named].astype("string") if named else None


def write_snapshot(wb: Workbook, folder: Path, checksums: dict[str, str] | None = None) -> Path:
    """Write `wb`'s canonical tables and metadata into `folder` (created; written aside, then renamed in place);
    sets ``wb.snapshot_id`` (:func:`snapshot_id`) once written. A RowlessWorkbook's (a warehouse run,
    helpers.data.rowless) row tables are listed with their sizes in the warehouse and not written: only
    helpers.data.rowless.read_rowless reads such a snapshot."""
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tables = {}
    for name in CANONICAL:
        frame = getattr(wb, name)
        if frame is not None and not isinstance(frame, pd.DataFrame):   # a warehouse run's row table (rowless.Refused;
            # not imported: rowless imports this module): its rows stay there, its size is its source's
            tables[name] = wb.files[name].rows if name in wb.files else None
        elif frame is not None:
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
            tables[name] = len(frame)
    named = _named_extras(wb)
    if named is not None:
        named.to_parquet(tmp / f"{LEAD_EXTRAS}.parquet", index=False)
    meta = {
        "format": FORMAT,
        "data_dir": str(Path(wb.data_dir).resolve()),
        "checksums": checksums if checksums is not None else {Path(f.path).name: f.sha256 for f in wb.files.values()},
        "settings": settings_key(wb.config),
        "as_of": wb.as_of.strftime("%Y-%m-%d"),
        "first_date": _first_date(wb),
        "tables": tables,
        "files": {name: dataclasses.asdict(f) for name, f in wb.files.items()},
        "findings": [{k: v for k, v in dataclasses.asdict(f).items() if k != "ids" or v} for f in wb.findings],
    }
    (tmp / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
    try:
        tmp.rename(folder)
    except OSError:  # another process published the same snapshot first
        shutil.rmtree(tmp, ignore_errors=True)
    wb.snapshot_id = snapshot_id(meta)  # `wb` now is what the snapshot holds
    return folder


def release_rows(wb: Workbook) -> None:
    """Drop `wb`'s leads, opportunities, touches and their extra columns once :func:`write_snapshot` has written them
    (the kernels read the snapshot; the runner then needs only as_of, the files and the findings), and hand the freed
    memory back to the system: pyarrow's allocator keeps what it freed for reuse (the runner held 3.9 GiB at 10M leads
    while the notebooks ran, 0.6 GiB at 1M; 0.3 GiB after). `wb.opportunities` becomes its empty frame (columns kept).
    A warehouse run's Workbook (row tables not in memory) is left as it is."""
    import gc

    import pyarrow as pa

    for name in ("leads", "touches"):
        if isinstance(getattr(wb, name), pd.DataFrame):
            setattr(wb, name, None)
    if isinstance(wb.opportunities, pd.DataFrame):
        wb.opportunities = wb.opportunities.iloc[:0]
    wb.extras = {}
    gc.collect()
    pa.default_memory_pool().release_unused()


def _first_date(wb: Workbook) -> str | None:
    """The first data date of `wb` as YYYY-MM-DD (what a warehouse run's rowless Workbook gives the notebooks:
    helpers.data.rowless), None when no row has a created_at."""
    from helpers.data.load import first_data_date

    try:
        first = first_data_date(wb)
    except ValueError:   # no created_at at all
        return None
    return None if pd.isna(first) else pd.Timestamp(first).strftime("%Y-%m-%d")


def _matches(meta: dict, data_dir: Path, config: Config, checksums: dict[str, str] | None) -> bool:
    """Is the snapshot described by `meta` the load of `data_dir` under `config` (and these checksums, when given)?"""
    if meta.get("format") != FORMAT or meta.get("data_dir") != str(data_dir.resolve()):
        return False
    wanted, stored = settings_key(config), meta.get("settings", {})
    if any(wanted[k] != stored.get(k) for k in ("timezone", "pseudonymize_owners", "lead_columns", "normalize_channels",
                                                "fiscal_year_start_month")):
        return False
    # as_of: the same setting, or the date the snapshot resolved (the runner passes that date on to every notebook)
    if not (wanted["as_of"] == stored.get("as_of") or (wanted["as_of"] is not None and wanted["as_of"] == meta.get("as_of"))):
        return False
    return checksums is None or meta.get("checksums") == checksums


def matching_meta(folder: Path, data_dir: Path, config: Config, checksums: dict[str, str] | None = None) -> dict | None:
    """The snapshot.json of the snapshot in `folder` when it is the load of `data_dir` under `config` (see
    :func:`_matches`), else None (also for a missing or unreadable one)."""
    try:
        meta = json.loads((Path(folder) / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if _matches(meta, Path(data_dir), config, checksums) else None


def read_snapshot(folder: Path, data_dir: Path, config: Config, checksums: dict[str, str] | None = None) -> Workbook | None:
    """The Workbook stored in `folder` when it is the load of `data_dir` under `config` (see :func:`_matches`), else None."""
    folder = Path(folder)
    meta = matching_meta(folder, data_dir, config, checksums)
    if meta is None:
        return None
    if any(not (folder / f"{name}.parquet").is_file() for name in meta["tables"]):
        return None   # a warehouse run's snapshot without the rows (helpers.data.rowless.read_rowless reads it)
    tables = _tables(folder, snapshot_id(meta), tuple(meta["tables"]))
    frames = {name: tables[name].copy(deep=False) for name in meta["tables"]}   # copy-on-write: a notebook's change stays its own
    extras = {"leads": tables[LEAD_EXTRAS].copy(deep=False)} if LEAD_EXTRAS in tables else {}
    wb = Workbook(
        data_dir=Path(data_dir), config=config, as_of=pd.Timestamp(meta["as_of"]),
        **{name: frames.get(name) for name in CANONICAL},
        findings=[Finding(**{**f, "rows": tuple(f["rows"]), "values": tuple(f["values"]), "ids": tuple(f.get("ids", ()))})
                  for f in meta["findings"]],
        files={name: SourceFile(**f) for name, f in meta["files"].items()}, extras=extras)
    wb.snapshot_id = snapshot_id(meta)
    return wb


@functools.lru_cache(maxsize=1)
def _tables(folder: Path, _snapshot_id: str, names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """The snapshot's tables (and its lead extras) as read from `folder`, once per process and snapshot contents:
    the notebooks of a run's kernel open the same snapshot one after another (7 reads of every table a period before;
    at 1M leads each read is seconds). Callers take shallow copies (pandas copy-on-write keeps them apart)."""
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}
    extras_file = folder / f"{LEAD_EXTRAS}.parquet"
    if extras_file.is_file():
        tables[LEAD_EXTRAS] = pd.read_parquet(extras_file)
    return tables


def snapshot_id(meta: dict) -> str:
    """The identity of a snapshot's contents: SHA-256 (hex) over its format, data folder, input checksums, the
    settings that shaped it, the resolved as_of and the table sizes (``snapshot.json``); equal ids, equal tables."""
    keys = ("format", "data_dir", "checksums", "settings", "as_of", "tables")
    text = json.dumps({k: meta.get(k) for k in keys}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_folder(data_dir: Path) -> Path:
    """Where a notebook run alone keeps the snapshot of `data_dir` (one per data folder)."""
    root = Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)
    return root / hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]


def load_cached(data_dir: str | Path, config: Config) -> Workbook:
    """The validated Workbook of `data_dir`: from the run's snapshot, else the cache while the inputs are unchanged, else loaded (and cached).

    Same result as :func:`helpers.data.load.load_workbook` (extra columns aside);
    raises what it raises (DataValidationError, WorkbookError).
    """
    data_dir = Path(data_dir)
    run_snapshot = os.environ.get(SNAPSHOT_ENV)
    if run_snapshot:
        wb = read_snapshot(Path(run_snapshot), data_dir, config)
        if wb is not None:
            return wb
    if not data_dir.is_dir():
        return load_workbook(data_dir, config)  # its error names the folder
    checksums = input_checksums(data_dir)
    folder = cache_folder(data_dir)
    wb = read_snapshot(folder, data_dir, config, checksums)
    if wb is not None:
        return wb
    wb = load_workbook(data_dir, config)
    try:
        write_snapshot(wb, folder, checksums)
    except OSError:
        pass  # a read-only cache only costs speed
    return wb
