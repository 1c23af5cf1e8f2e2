"""The benchmarks' CPU accounting from ``/proc``: a process is found by its parent and its
name, and one that keeps a core busy is seen keeping one busy, by its pid and by the machine's
count."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.bench_scripts import load

# its command name, a second of CPU, "done", then nothing (blocked on its input) until it is
# told to go
BUSY = """
import sys, time
print(open("/proc/self/comm").read().strip(), flush=True)
end = time.process_time() + 1.0
while time.process_time() < end:
    pass
print("done", flush=True)
sys.stdin.read()
"""


def test_a_busy_process_is_seen_keeping_a_core_busy() -> None:
    scale_out, proc = load("scale_out"), load("proc")
    child = subprocess.Popen([sys.executable, "-c", BUSY], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert child.stdout is not None
        name = child.stdout.readline().strip()  # as it runs (a parent may have renamed itself)
        assert child.pid in proc.named(name)
        assert child.pid in proc.children(os.getpid())
        meter = scale_out.CoreMeter([child.pid])
        assert child.stdout.readline() == "done\n"
        cores = meter.cores()
    finally:
        child.communicate("")
    # it ran on one core for most of the window (a shared machine may take some of it)
    assert 0.3 < cores.workers <= 1.05
    assert cores.machine >= cores.workers * 0.9  # the machine's count includes it
    assert cores.machine <= (os.cpu_count() or 1) * 1.05
    assert cores.bench < 0.3  # this process only waited
    assert cores.steal >= 0
