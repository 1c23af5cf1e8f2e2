"""One exception tree. ``retriable`` tells callers whether trying again can help."""

from __future__ import annotations


class MarketPulseError(Exception):
    """Base of every error marketpulse raises on purpose."""

    retriable: bool = False


class ServiceError(MarketPulseError):
    """A local service could not be installed, started or reached."""

    def __init__(self, service: str, message: str, log_tail: str = "") -> None:
        self.service = service
        self.log_tail = log_tail
        text = f"{service}: {message}"
        if log_tail:
            text += f"\n--- last lines of the {service} log ---\n{log_tail}"
        super().__init__(text)


class RecordTooLarge(MarketPulseError):
    """A record over ``MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES``: no broker or worker would take it."""


class StoreError(MarketPulseError):
    """A store refused a write (``retriable`` False: the data is at fault) or failed to take it."""

    def __init__(self, message: str, retriable: bool) -> None:
        super().__init__(message)
        self.retriable = retriable
