"""CPU time of the processes a benchmark measures, from ``/proc`` (Linux): this shared VM's
noise moves it less than wall-clock rates, so it shows a change in the work done."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """The process's user and system CPU time so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _each(name: str) -> Iterator[tuple[int, str]]:
    """Every process's pid and its ``/proc/<pid>/<name>``; one that ended meanwhile is left
    out."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), (entry / name).read_text()
            except OSError:
                continue


def children(pid: int) -> list[int]:
    """The process's direct children (uvicorn's workers, say)."""
    return [child for child, stat in _each("stat") if int(stat.rsplit(")", 1)[1].split()[1]) == pid]


def named(prefix: str) -> list[int]:
    """The processes whose command name starts with ``prefix`` (the broker's, say)."""
    return [pid for pid, comm in _each("comm") if comm.startswith(prefix)]


def machine_seconds() -> tuple[float, float]:
    """CPU seconds the machine's cores have been busy so far (all of them together, idle and
    waiting on I/O left out), and those the hypervisor took for other guests (steal): on a
    shared VM a core is not wholly this machine's."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick
