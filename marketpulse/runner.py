"""Run a worker in this process, or the whole local system until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading

from prometheus_client import start_http_server

from marketpulse.services import stack
from marketpulse.settings import Settings
from marketpulse.storage.postgres import migrate

# The default source of `marketpulse up`: a synthetic market, so there is data from the start.
DEFAULT_SOURCE = ["source", "synthetic"]


def run_worker(settings: Settings, loglevel: str) -> int:
    """Run one Faust worker in the foreground (its own signal handling stops it)."""
    from marketpulse.app import app
    from marketpulse.streams.admin import ensure_topics

    asyncio.run(ensure_topics(settings))
    if settings.worker_metrics_port:
        try:
            start_http_server(settings.worker_metrics_port, settings.worker_metrics_host)
        except OSError as exc:  # a second worker on one host: run on, without its own /metrics
            print(f"worker metrics not served on port {settings.worker_metrics_port}: {exc}")

    sys.argv = ["marketpulse", "worker", "--loglevel", loglevel, "--without-web"]
    app.main()
    return 0


def run_all(settings: Settings) -> int:
    """Start the services, worker, API and default source; stop what was started on Ctrl-C."""
    started = stack.up(settings)
    applied = asyncio.run(migrate(settings))
    print("migrations: " + (", ".join(applied) if applied else "up to date"))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    children = {
        name: subprocess.Popen([sys.executable, "-m", "marketpulse.cli", *argv])  # noqa: S603
        for name, argv in (("worker", ["worker"]), ("api", ["api"]), ("source", DEFAULT_SOURCE))
    }
    api = f"http://{settings.api_host}:{settings.api_port}"
    print("\nmarketpulse is running:")
    print(f"  API       {api}/api/v1  (docs {api}/docs, health {api}/api/v1/monitoring/health)")
    print(f"  broker    {settings.kafka_broker}")
    print(f"  influxdb  {settings.influx_url}")
    print(f"  postgres  {settings.postgres_host}:{settings.postgres_port}")
    print(f"  redis     {settings.redis_url}")
    print("Press Ctrl-C to stop (data is kept under .data/).", flush=True)
    try:
        while not stop.is_set():
            for name, child in children.items():
                if child.poll() is not None:
                    print(f"{name} exited with status {child.returncode}", file=sys.stderr)
                    return child.returncode or 1
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
        print("stopped: " + (", ".join(started) if started else "nothing else was started here"))
