"""Detached processes with pid files and logs under the data directory."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    """Poll ``check`` until it is true or ``timeout_s`` has passed; return its last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def tail(path: Path, lines: int = 20) -> str:
    """Return the last ``lines`` lines of a log file, or a note that there is none."""
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class ManagedProcess:
    """One long-running program that ``services up`` started, tracked by a pid file."""

    def __init__(self, name: str, run_dir: Path, log_dir: Path, match: str) -> None:
        self.name = name
        self.pid_file = run_dir / f"{name}.pid"
        self.log_file = log_dir / f"{name}.log"
        self._match = match  # a word of the command line, so a recycled pid is never signalled

    def spawn(self, argv: Sequence[str], env: dict[str, str] | None = None) -> int:
        """Start ``argv`` in its own session, logging to the log file; return its pid."""
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        self.pid_file.write_text(str(proc.pid))
        return proc.pid

    def pid(self) -> int | None:
        """Return the pid of the running process we started, or None."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][:1]
        if self._match.encode() not in cmdline or state == "Z":
            return None
        return pid

    def is_ours(self) -> bool:
        """Tell whether a process we started is running."""
        return self.pid() is not None

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Stop the process we started (TERM, then KILL); return whether one was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not wait_until(lambda: self.pid() is None, timeout_s):
            os.kill(pid, signal.SIGKILL)
            wait_until(lambda: self.pid() is None, 5.0)
        self.pid_file.unlink(missing_ok=True)
        return True
