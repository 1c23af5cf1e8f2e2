"""Run a worker in this process, or the whole local system until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time

from prometheus_client import start_http_server

from marketpulse.cli import DEFAULT_SYMBOLS
from marketpulse.gc_policy import collect_fully_every, freeze_survivors
from marketpulse.services import stack
from marketpulse.settings import Settings
from marketpulse.storage.setup import prepare_stores
from marketpulse.up_screen import Status, first_start_account, screen

# The default source of `marketpulse up`: a synthetic market, so there is data from the start,
# with three days of its past first: enough bars for every default indicator on 1m, 5m and 1h.
DEFAULT_RATE = 200
DEFAULT_HISTORY_DAYS = 3
DEFAULT_SOURCE = [
    "source", "synthetic", "--rate", str(DEFAULT_RATE), "--history-days", str(DEFAULT_HISTORY_DAYS)
]  # fmt: skip


def run_worker(settings: Settings, loglevel: str) -> int:
    """Run one Faust worker in the foreground (its own signal handling stops it)."""
    import mode.loop

    mode.loop.use("uvloop")  # before the app and any event loop exist
    collect_fully_every(settings.worker_gc_full_every)
    if settings.worker_gc_freeze:
        freeze_survivors()
    from marketpulse.app import app
    from marketpulse.streams.admin import ensure_topics

    asyncio.run(ensure_topics(settings))
    _serve_metrics(settings.worker_metrics_port, settings.worker_metrics_host, "worker")

    sys.argv = ["marketpulse", "worker", "--loglevel", loglevel, "--without-web"]
    app.main()
    return 0


def _serve_metrics(port: int, host: str, who: str) -> None:
    if not port:
        return
    try:
        start_http_server(port, host)
    except OSError as exc:  # a second process on one host: run on, without its own /metrics
        print(f"{who} metrics not served on port {port}: {exc}")


def run_sinks_process(settings: Settings) -> int:
    """Run every enabled sink in the foreground until SIGINT or SIGTERM."""
    from marketpulse.sinks.service import run_sinks

    _serve_metrics(settings.sink_metrics_port, settings.worker_metrics_host, "sink")

    async def main() -> None:
        task = asyncio.create_task(run_sinks(settings))
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    return 0


def run_all(settings: Settings) -> int:
    """Start the services, worker, API and default source; stop what was started on Ctrl-C."""
    started = stack.up(settings)
    asyncio.run(prepare_stores(settings))
    account = asyncio.run(first_start_account(settings))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    children = {}
    for name, argv in (
        ("worker", ["worker"]),
        ("sinks", ["sinks"]),
        ("api", ["api"]),
        ("source", DEFAULT_SOURCE),
    ):
        # each process logs to a file of its own: the terminal keeps the one screen below
        with (logs / f"{name}.log").open("ab") as log:
            children[name] = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "marketpulse.cli", *argv], stdout=log, stderr=log
            )
    source = (
        f"synthetic {DEFAULT_SYMBOLS}, {DEFAULT_RATE} events/s after {DEFAULT_HISTORY_DAYS} days "
        "of history (`marketpulse source`)"
    )
    for line in screen(settings, account, source, f"{logs}/{{worker,sinks,api,source}}.log"):
        print(line)
    status, live = Status(), sys.stdout.isatty()
    next_status = time.monotonic() + 2
    try:
        while not stop.is_set():
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"\n{name} exited with status {child.returncode}: see {logs}/{name}.log")
                    return child.returncode or 1
            if time.monotonic() >= next_status:
                line = status.line(settings, time.monotonic())
                print(f"\r{line:<78}" if live else line, end="" if live else "\n", flush=True)
                next_status = time.monotonic() + (2 if live else 30)
            stop.wait(0.5)
        return 0
    finally:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        stack.down(settings, only=set(started))
        print("\nstopped: " + (", ".join(started) if started else "nothing else was started here"))
