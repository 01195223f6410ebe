"""Per-test CPU seconds of a test run, for conftest.CPU_SECONDS (the README's "make test's speed").

A pytest plugin, off unless named: `make test ARGS="-p tests.cpu_seconds"` with CPU_SECONDS_LOG=/tmp/cpu (the default)
appends one JSON line per test to /tmp/cpu.<worker> (gw0, gw1, or main without xdist): the node id, its CPU
seconds (user + system of the worker and of the processes it waited for, kernels included: getrusage SELF +
CHILDREN, setup to teardown, so a shared fixture counts in the first test that makes it), its wall seconds and the
load average when it ended. The machine is shared: compare CPU seconds, never wall.

`python tests/cpu_seconds.py /tmp/cpu.*` sums the lines by scheduling group (conftest.xdist_group_of), the most CPU
first, beside the group's value in conftest.CPU_SECONDS, and per worker.
"""
from __future__ import annotations

import collections
import json
import os
import resource
import sys
import time
from pathlib import Path

import pytest


def cpu_now() -> float:
    """CPU seconds (user + system) of this process and of the children it has waited for."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Time one test, setup to teardown, and append its line to CPU_SECONDS_LOG.<worker>."""
    cpu, wall = cpu_now(), time.monotonic()
    yield
    line = {"id": item.nodeid, "cpu": round(cpu_now() - cpu, 3), "wall": round(time.monotonic() - wall, 3),
            "load": round(os.getloadavg()[0], 2)}
    log = Path(f"{os.environ.get('CPU_SECONDS_LOG', '/tmp/cpu')}.{os.environ.get('PYTEST_XDIST_WORKER', 'main')}")
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def summary(paths: list[str]) -> list[str]:
    """The lines of the logs `paths` summed by group: 'CPU s, tests, group (CPU_SECONDS: value)', most CPU first,
    then a line per worker and the total."""
    from conftest import CPU_SECONDS, xdist_group_of

    groups, counts, workers = collections.Counter(), collections.Counter(), collections.Counter()
    for path in paths:
        for text in Path(path).read_text(encoding="utf-8").splitlines():
            test = json.loads(text)
            group = xdist_group_of(test["id"])
            groups[group] += test["cpu"]
            counts[group] += 1
            workers[Path(path).suffix.lstrip(".")] += test["cpu"]
    out = [f"{cpu:8.1f} {counts[g]:5d}  {g} (CPU_SECONDS: {CPU_SECONDS.get(g, CPU_SECONDS.get(g.split('[', 1)[0], '-'))})"
           for g, cpu in groups.most_common()]
    out += [f"{cpu:8.1f}        worker {w}" for w, cpu in sorted(workers.items())]
    return out + [f"{sum(groups.values()):8.1f} {sum(counts.values()):5d}  in all"]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    print("\n".join(summary(sys.argv[1:])))
