"""helpers.data.memory: a folder's load makes jemalloc pyarrow's default pool, unless the user chose one or the process
runs under an address-space limit. Each case runs in a fresh process (the pool is process-wide)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers.paths import PROJ_ROOT, SAMPLE_DATA_DIR

PROBE = """
import sys
import pyarrow as pa
before = pa.default_memory_pool().backend_name
from helpers.data.load import load_workbook
wb = load_workbook(sys.argv[1])
leads = pa.array(wb.leads["lead_id"].astype("string"), from_pandas=True)
print(before, pa.default_memory_pool().backend_name, len(wb.leads), leads.null_count)
"""


def _pools(env_pool: str | None = None, limit: int | None = None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    if env_pool:
        env["ARROW_DEFAULT_MEMORY_POOL"] = env_pool
    prefix = f"import resource; resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n" if limit else ""
    out = subprocess.run([sys.executable, "-c", prefix + PROBE, str(SAMPLE_DATA_DIR)], env=env, cwd=PROJ_ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return out


def _has_jemalloc() -> bool:
    import pyarrow as pa

    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        return False
    return True


@pytest.mark.skipif(not _has_jemalloc(), reason="this pyarrow build has no jemalloc")
def test_load_switches_the_default_pool_to_jemalloc():
    before, after, rows, nulls = _pools()
    assert before == "mimalloc" and after == "jemalloc"
    assert int(rows) > 0 and nulls == "0"   # the tables are the same (every lead has its id)


def test_a_pool_the_user_chose_is_kept():
    before, after, _, _ = _pools("system")
    assert before == after == "system"


def test_no_switch_under_an_address_space_limit():
    before, after, _, _ = _pools(limit=4 << 30)
    assert after == before != "jemalloc"
