"""The chaos run: the full stack under synthetic load, the scripted faults, then the invariants.

    .venv/bin/python -m tests.chaos [--pace 1.0] [--rate 2000]

``pace`` scales every hold (how long load runs between faults, how long a store stays down);
the test suite runs it at a fraction of the full length.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from marketpulse.settings import Settings
from marketpulse.streams.lag import group_lag
from tests.chaos.invariants import (
    Check,
    check_bars,
    check_indicators,
    check_stores,
    check_unique,
    read_outputs,
    reference,
)
from tests.chaos.probe import BARS, HEALTH, ApiProbe
from tests.chaos.stack import ChaosStack

ALLOWED = {200, 503}  # up, or honestly down while a store is
RECOVERY_S = 30.0  # the longest a client may see 503 after a store is back


@dataclass(frozen=True)
class Fault:
    """A fault, from when it hit to when the component was back (seconds into the run)."""

    name: str
    began: float
    back: float


@dataclass
class ChaosRun:
    """One run: what happened, and what held."""

    stack: ChaosStack
    pace: float
    report: Callable[[str], None] = print
    faults: list[Fault] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return time.monotonic() - self.began

    async def hold(self, seconds: float) -> None:
        """Let the load run (this is the scenario's pacing, not synchronisation)."""
        await asyncio.sleep(seconds * self.pace)

    async def fault(self, name: str, hit: Callable[[], object], heal: Callable[[], object],
                    down_s: float) -> None:  # fmt: skip
        """Hit, keep it down for ``down_s`` (paced), heal; write it down."""
        began = self.now()
        self.report(f"[{began:6.1f}s] {name}")
        await asyncio.to_thread(hit)
        await self.hold(down_s)
        await asyncio.to_thread(heal)
        self.faults.append(Fault(name, began, self.now()))
        self.report(f"[{self.now():6.1f}s]   back")

    async def run(self) -> list[Check]:
        stack = self.stack
        self.report("starting the stack: own InfluxDB, PostgreSQL and Redis; worker, sinks, API")
        await stack.open()
        self.began = time.monotonic()
        probe = ApiProbe(stack.api_url, self.began)
        stop_probe = asyncio.Event()
        probing = asyncio.create_task(probe.run(stop_probe))
        source = stack.start_source()
        self.report(f"[{self.now():6.1f}s] synthetic load: {stack.rate} events/s")
        await self.hold(20)
        stores = stack.stores
        await self.fault(
            "kill -9 worker-a, then restart it",
            lambda: stack.processes["worker-a"].kill(),
            lambda: stack.start_worker("worker-a"),
            5,
        )
        await self.hold(15)
        await self.fault("InfluxDB stopped, then started", stores["influxdb"].stop,
                         stores["influxdb"].ensure_up, 15)  # fmt: skip
        await self.hold(15)
        await self.fault("PostgreSQL restarted", stores["postgres"].stop,
                         stores["postgres"].ensure_up, 0)  # fmt: skip
        await self.hold(15)
        await self.fault("Redis restarted", stores["redis"].stop, stores["redis"].ensure_up, 0)
        await self.hold(15)
        await self.fault(
            "worker-b joins, then leaves",
            lambda: stack.start_worker("worker-b"),
            lambda: stack.processes["worker-b"].stop(),
            20,
        )
        await self.hold(15)
        source.stop()
        self.report(f"[{self.now():6.1f}s] load stopped; waiting for every consumer to catch up")
        drained = await drain(stack.settings)
        stop_probe.set()
        await probing
        self.report(f"[{self.now():6.1f}s] " + ("caught up" if drained else "NOT caught up"))
        inputs, outputs = await read_outputs(stack.settings)
        ref = reference(inputs)
        self.checks = [
            check_bars(stack.settings, ref, outputs),
            check_indicators(stack.settings, ref, outputs),
            check_unique(outputs),
            await check_stores(stack.settings, outputs),
            check_api(probe, self.faults),
            check_processes(stack),
        ]
        return self.checks


async def drain(settings: Settings, timeout_s: float = 120.0) -> bool:
    """Poll until the worker and every sink group have nothing left to read."""
    deadline = time.monotonic() + timeout_s
    groups = settings.consumer_groups()
    while time.monotonic() < deadline:
        lags = await group_lag(settings, groups)
        if lags[settings.worker_id] == 0 and all(lag in (0, None) for lag in lags.values()):
            return True
        await asyncio.sleep(1)
    return False


def check_api(probe: ApiProbe, faults: list[Fault]) -> Check:
    """Every answer was 200, or 503 while a store was down; after each fault both endpoints
    answered 200 again within RECOVERY_S, with nobody restarting the API."""
    counts = Counter((a.path, a.status) for a in probe.answers)
    bad = {k: n for k, n in counts.items() if k[1] not in ALLOWED}
    recoveries = []
    for fault in faults:
        after = [a for a in probe.answers if a.at >= fault.back]
        firsts = [next((a.at for a in after if a.path == p and a.status == 200), None)
                  for p in (HEALTH, BARS)]  # fmt: skip
        recovered = None if None in firsts else max(f for f in firsts if f is not None)
        recoveries.append((fault.name, None if recovered is None else recovered - fault.back))
    slow = [(n, s) for n, s in recoveries if s is None or s > RECOVERY_S]
    last = {a.path: a.status for a in probe.answers}
    ok = bool(probe.answers) and not bad and not slow and set(last.values()) == {200}
    by_status = ", ".join(f"{path.rsplit('/', 1)[-1]} {status}: {n}"
                          for (path, status), n in sorted(counts.items()))  # fmt: skip
    back = "; ".join(f"{n}: {'never' if s is None else f'{s:.1f} s'}" for n, s in recoveries)
    figures = f"{len(probe.answers)} answers ({by_status}); 200 again after {back}"
    if bad:
        figures += f"\n      not allowed: {bad}"
    return Check("the API stayed up or answered 503, and recovered", ok, figures)


def check_processes(stack: ChaosStack) -> Check:
    """Nothing died that the script did not kill or stop."""
    running = {n: p.proc.poll() is None for n, p in stack.processes.items()}
    expected = {n: n not in {"worker-b", "source"} for n in running}
    figures = ", ".join(f"{n} {'running' if r else 'exited'}" for n, r in sorted(running.items()))
    return Check("no process died unscripted", running == expected, figures)


async def chaos(base: Settings, root: Path, pace: float, rate: int,
                report: Callable[[str], None] = print) -> list[Check]:  # fmt: skip
    """Run the scenario in ``root``; return the checks (the stack is stopped either way)."""
    stack = ChaosStack(base, root, rate)
    try:
        return await ChaosRun(stack, pace, report).run()
    finally:
        await asyncio.to_thread(stack.close)


def print_checks(checks: list[Check], report: Callable[[str], None] = print) -> None:
    """Each invariant, held or not, with its figures."""
    for check in checks:
        report(f"{'HOLDS' if check.ok else 'FAILS'}  {check.name}\n      {check.figures}")
