"""The Arrow memory pool a folder's load allocates from: jemalloc, which hands freed pages back to the system.

pyarrow allocates every Arrow buffer (the CSV parse, the typed columns, the engine tables) from its default memory
pool, mimalloc since pyarrow 20. mimalloc keeps the pages a parse freed for later allocations, so a process's peak
resident memory holds the text cells of a large file long after they were typed: at 1M leads the load and core
figures peaked at 590-610 MiB with mimalloc and at 555-560 MiB with jemalloc, for the same CPU seconds
(``make bench-scale``; docs/benchmarks.md, issue 26). Arrow's own jemalloc settings return dirty pages within a second
(https://arrow.apache.org/docs/cpp/memory.html, ``ARROW_DEFAULT_MEMORY_POOL``).

:func:`use_lean_pool` makes jemalloc the process's default pool, once, where the user has not chosen a pool
(``ARROW_DEFAULT_MEMORY_POOL`` set: their choice is kept), the pyarrow build has jemalloc, and the process runs
without an address-space limit (``ulimit -v``: jemalloc reserves address space in large extents, and the loader's
other settings under such a limit are helpers.data.files.duckdb_config's). Arrays already made keep the pool they
came from. No I/O.
"""
from __future__ import annotations

import functools
import os

#: The pool chosen where the user has not (pyarrow's name of it: pyarrow.jemalloc_memory_pool).
LEAN_POOL = "jemalloc"


def address_space_limited() -> bool:
    """True when the process runs under an address-space limit (RLIMIT_AS, ``ulimit -v``)."""
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return soft != resource.RLIM_INFINITY and soft > 0


@functools.lru_cache(maxsize=1)
def use_lean_pool() -> str:
    """Make :data:`LEAN_POOL` pyarrow's default memory pool where the user has not chosen one (module notes); returns
    the name of the default pool afterwards (``jemalloc``, or the pool left as it was: ``mimalloc``, ``system``)."""
    import pyarrow as pa

    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL") or address_space_limited():
        return pa.default_memory_pool().backend_name
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:   # a pyarrow built without jemalloc: its default stays
        return pa.default_memory_pool().backend_name
    pa.set_memory_pool(pool)
    return pool.backend_name
