"""Run a worker in this process, or the whole local system until Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

from marketpulse.services import stack
from marketpulse.services.process import wait_until
from marketpulse.settings import Settings


def run_worker(loglevel: str) -> int:
    """Run one Faust worker in the foreground (its own signal handling stops it)."""
    from marketpulse.app import app

    sys.argv = ["marketpulse", "worker", "--loglevel", loglevel, "--without-web"]
    app.main()
    return 0


def run_all(settings: Settings) -> int:
    """Start the services, the worker and the API; stop what was started on Ctrl-C."""
    started = stack.up(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    worker = subprocess.Popen([sys.executable, "-m", "marketpulse.cli", "worker"])
    print("\nmarketpulse is running:")
    print(f"  broker    {settings.kafka_broker}")
    print(f"  influxdb  {settings.influx_url}")
    print(f"  postgres  {settings.postgres_host}:{settings.postgres_port}")
    print(f"  redis     {settings.redis_url}")
    print("Press Ctrl-C to stop (data is kept under .data/).", flush=True)
    try:
        while not stop.is_set():
            if worker.poll() is not None:
                print(f"worker exited with status {worker.returncode}", file=sys.stderr)
                return worker.returncode or 1
            stop.wait(0.5)
        return 0
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            if not wait_until(lambda: worker.poll() is not None, 30):
                worker.kill()
        stack.down(settings, only=set(started))
        print("stopped: " + (", ".join(started) if started else "nothing else was started here"))
