"""Detached processes with pid files and logs under the data directory."""

from __future__ import annotations

import os
import signal
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

    def spawn(self, argv: Sequence[str]) -> int:
        """Start ``argv`` (an absolute program path first) in its own session; return its pid.

        posix_spawn rather than Popen: the server outlives this process, and a dropped Popen
        object would complain that its child is still running.
        """
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            pid = os.posix_spawn(
                argv[0],
                list(argv),
                dict(os.environ),
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log, 1),
                    (os.POSIX_SPAWN_DUP2, log, 2),
                ],
                setsid=True,
            )
        finally:
            os.close(log)
        self.pid_file.write_text(str(pid))
        return pid

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

    def exited(self) -> bool:
        """Tell whether the process we started has ended (a zombie counts as ended)."""
        try:
            pid = int(self.pid_file.read_text().strip())
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (OSError, ValueError):
            return True
        return stat.split(") ")[-1][:1] == "Z"

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
