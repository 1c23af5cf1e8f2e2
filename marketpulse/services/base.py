"""What every local service offers the stack: a health probe, start and stop."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from marketpulse.errors import ServiceError
from marketpulse.services.process import ManagedProcess, tail, wait_until
from marketpulse.settings import Settings

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Status:
    """One line of ``services status``."""

    name: str
    address: str
    healthy: bool
    managed: bool  # started by `services up` (so `down` will stop it)


class LocalService(ABC):
    """A server the pipeline needs; started on loopback when none is reachable."""

    name: str
    env_hint: str  # the MARKETPULSE_* variables that point at an existing server instead
    start_timeout_s: float = 60.0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.process = ManagedProcess(
            self.name, self.data_dir / "run", self.data_dir / "log", self.process_match
        )

    @property
    @abstractmethod
    def address(self) -> tuple[str, int]:
        """Host and port where the service is expected."""

    @property
    def process_match(self) -> str:
        """A word of the server's command line that identifies our process."""
        return self.name

    @abstractmethod
    def healthy(self) -> bool:
        """Tell, quickly, whether the service answers its own protocol."""

    @abstractmethod
    def start(self) -> None:
        """Install the server if needed and start it in the background."""

    def managed(self) -> bool:
        """Tell whether a server we started is running."""
        return self.process.is_ours()

    def stop(self) -> bool:
        """Stop the server if we started it; return whether there was one."""
        return self.process.stop()

    def log_tail(self) -> str:
        """Return the end of the server's log, for error messages."""
        return tail(self.log_path)

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.process.log_file

    def address_text(self) -> str:
        """The address as host:port."""
        host, port = self.address
        return f"{host}:{port}"

    def status(self) -> Status:
        """Probe the service and report it."""
        return Status(self.name, self.address_text(), self.healthy(), self.managed())

    def ensure_up(self) -> bool:
        """Use a healthy server as it is, or start one; return whether we started it."""
        if self.healthy():
            self.after_ready()
            return False
        host, _port = self.address
        if host not in LOOPBACK:
            raise ServiceError(
                self.name,
                f"nothing healthy answers at {self.address_text()}, and only loopback services "
                f"are started here; start it there or change {self.env_hint}",
            )
        self.start()
        if not wait_until(lambda: self.healthy() or self.died(), self.start_timeout_s):
            raise ServiceError(
                self.name,
                f"started, but not ready at {self.address_text()} within "
                f"{self.start_timeout_s:.0f} s (log: {self.log_path})",
                self.log_tail(),
            )
        if not self.healthy():
            raise ServiceError(
                self.name,
                f"exited while starting at {self.address_text()} (log: {self.log_path})",
                self.log_tail(),
            )
        self.after_ready()
        return True

    def died(self) -> bool:
        """Tell whether the server we started has already exited."""
        return self.process.pid_file.exists() and self.process.exited()

    def after_ready(self) -> None:  # noqa: B027 - an optional hook, not an abstract one
        """Prepare the running server for us (databases, roles); nothing by default."""
