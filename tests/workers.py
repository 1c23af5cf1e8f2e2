"""Worker processes started by tests: real subprocesses, readiness read from their logs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from marketpulse.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class WorkerProcess:
    """One Faust worker in a subprocess, logging to a file the test can show on failure."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, *argv],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.proc.pid

    def log(self) -> str:
        """Everything the worker has printed so far."""
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, needle: str, timeout_s: float = 60.0, count: int = 1) -> None:
        """Poll the log until ``needle`` has appeared ``count`` times."""
        deadline = time.monotonic() + timeout_s
        while self.log().count(needle) < count:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited ({self.proc.returncode}):\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {needle!r} in the worker log:\n{self.log()[-3000:]}")
            time.sleep(0.1)

    def wait_for_url(self, url: str, timeout_s: float = 60.0) -> httpx.Response:
        """Poll ``url`` (served by this process) until it answers 200."""
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                response = httpx.get(url, timeout=2)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer 200:\n{self.log()[-3000:]}")
            time.sleep(0.2)

    def stop(self, timeout_s: float = 30.0, signum: int = signal.SIGTERM) -> int:
        """Stop gracefully (SIGTERM, or SIGINT as Ctrl-C sends), killing if it does not exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        """kill -9: no chance to commit, flush or leave the group."""
        self.proc.kill()
        self.proc.wait()
        self._log.close()


def own_settings(tmp_path: Path, **values: Any) -> Settings:
    """Settings for servers of the test's own, under its folder."""
    return Settings().model_copy(update={"data_dir": tmp_path / "own", **values})
