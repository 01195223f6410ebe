"""tests/cpu_seconds.py's reading of the CPU a test spends: live and grandchild processes counted where they work."""
from __future__ import annotations

import subprocess
import sys

from cpu_seconds import cpu_now

#: A Python child that burns `BURN` CPU seconds, says so on stdout, then waits for its stdin to close.
BURN = 0.4
BURNER = ("import sys, time\n"
          f"t = time.process_time()\nwhile time.process_time() - t < {BURN}: pass\n"
          "print('done', flush=True)\nsys.stdin.read()\n")


def _burner(*prefix: str) -> subprocess.Popen:
    return subprocess.Popen([*prefix, sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def test_a_child_counts_while_it_works_not_when_it_is_reaped():
    """A child that burns 0.4 CPU s in the first interval and is reaped in the second counts in the first (getrusage
    CHILDREN alone: 0 s then 0.4 s), and the second gets only its exit."""
    child = _burner()
    start = cpu_now()
    assert child.stdout.readline() == "done\n"
    worked = cpu_now() - start
    start = cpu_now()
    child.stdin.close()
    child.wait()
    reaped = cpu_now() - start
    assert worked >= BURN - 0.02
    assert reaped < 0.15


def test_a_grandchild_counts_though_only_its_parent_reaps_it():
    """A grandchild (as Chromium under Playwright's driver) that burns 0.4 CPU s and ends counts, live or reaped by its
    parent, a shell this process has not waited for yet (getrusage CHILDREN alone: 0 s)."""
    parent = subprocess.Popen(["sh", "-c", '"$@" < /dev/null; echo reaped; exec sleep 60', "sh", sys.executable, "-c",
                               BURNER], stdout=subprocess.PIPE, text=True)
    start = cpu_now()
    assert parent.stdout.readline() == "done\n"
    assert parent.stdout.readline() == "reaped\n"
    worked = cpu_now() - start
    parent.kill()
    parent.wait()
    assert worked >= BURN - 0.02


#: Run in a process of its own (adopting orphans would last for the rest of a test worker's session): a shell's
#: child orphaned when the shell ends, read while it burns and after it ended; prints the two readings.
ORPHAN = """
import json, subprocess, sys, time
import psutil
from cpu_seconds import adopt_orphans, cpu_now
burner = sys.argv[1]
assert adopt_orphans()
parent = subprocess.Popen(["sh", "-c", '"$@" &', "sh", sys.executable, "-c", burner], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
parent.wait()   # the shell ends at once: its child, the burner, is orphaned to this process
orphan, = (p for p in psutil.Process().children() if p.pid != parent.pid and p.cmdline()[-1:] == [burner])
start = cpu_now()
assert parent.stdout.readline() == "done\\n"
worked = cpu_now() - start
start = cpu_now()
parent.stdin.close()   # the orphan's stdin: it ends, and no one waits for it
deadline = time.monotonic() + 10
while orphan.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
    time.sleep(0.01)
print(json.dumps([worked, cpu_now() - start]))
"""


def test_an_orphan_counts_where_it_works_and_leaves_nothing_when_it_ends():
    """A grandchild orphaned by its parent's end (as Chromium's processes when the browser closes) counts in the
    interval it works in, and its end takes no CPU back: the plugin adopts orphans (PR_SET_CHILD_SUBREAPER), so the
    ended orphan stays in the process tree as a zombie (without it, it is not in the tree: the first reading was 0 s,
    or, read live before, the second about -0.4 s)."""
    import json
    from pathlib import Path

    out = subprocess.run([sys.executable, "-c", ORPHAN, BURNER], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    worked, ended = json.loads(out.stdout)
    assert worked >= BURN - 0.02
    assert -0.02 < ended < 0.15
