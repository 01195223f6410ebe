"""Per-test CPU seconds of a test run, for conftest.CPU_SECONDS (docs/benchmarks.md, "make test's speed").

A pytest plugin, off unless named: `make test ARGS="-p tests.cpu_seconds"` with CPU_SECONDS_LOG=/tmp/cpu (the default)
appends one JSON line per test to /tmp/cpu.<worker> (gw0, gw1, or main without xdist): the node id, its CPU
seconds (:func:`cpu_now` at teardown minus at setup: the CPU the worker's whole process tree spent meanwhile, kernels
and Chromium included, so a shared fixture counts in the first test that makes it, and a process kept across tests
counts in each test that it works in; orphans are adopted, :func:`adopt_orphans`), its wall seconds and the load
average when it ended. The machine is shared: compare CPU seconds, never wall.

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
    """CPU seconds (user + system) this process tree has spent so far: this process, the children it has waited for
    (getrusage SELF + CHILDREN), and every live descendant with the children each has waited for (psutil, from
    /proc: a live or not yet reaped kernel, Playwright's driver, Chromium and its renderers).

    A difference of two readings is the CPU spent between them wherever it was spent: a process that ends between
    them is read live first and in its parent's waited-for children after (getrusage CHILDREN alone counted only
    children already waited for: a kernel's or a browser's whole CPU fell in the test that reaped it, or, for
    Chromium, a grandchild reaped by the driver the worker waits for only at exit, in none). A process orphaned
    out of the tree (its parent gone before it) would take its CPU with it: the plugin makes the worker the reaper
    of its descendants' orphans (:func:`adopt_orphans`)."""
    import psutil

    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    for process in psutil.Process().children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:   # reaped since the listing: its CPU is now its parent's waited-for children's
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


#: prctl's option that makes this process the reaper of its descendants' orphans (Linux, <linux/prctl.h>).
PR_SET_CHILD_SUBREAPER = 36


def adopt_orphans() -> bool:
    """Make this process its descendants' reaper (Linux), so a process whose parent ends first stays in this process
    tree, for :func:`cpu_now` to read (Chromium's processes when Playwright closes the browser: 40 CPU s of a
    browser session otherwise read live, then gone); True when done. The orphans stay zombies, read as they ended,
    until this process ends (a zombie no one waits for costs a process-table entry, not memory)."""
    import ctypes

    if not sys.platform.startswith("linux"):
        return False
    return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def pytest_configure(config):
    """Adopt the orphans of the processes the tests start (:func:`adopt_orphans`)."""
    adopt_orphans()


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
