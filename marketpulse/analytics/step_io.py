"""What the agents' pure steps take and give: the message, the state they read, the records to
send and the states to write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from pydantic import BaseModel

from marketpulse.analytics.ingest import SymbolState
from marketpulse.analytics.patterns.detector import DetectorConfig
from marketpulse.analytics.quality import GateConfig
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.sessions import BarCuts
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import DeadLetter
from marketpulse.streams.topics import DEADLETTER, INDICATORS, SIGNALS, bars_topic_name


@dataclass(frozen=True)
class Message:
    """One input record and where it came from (the topic's full name, as dead letters say)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass(frozen=True)
class StepConfig:
    """The settings the steps decide by."""

    gate: GateConfig
    granularities: dict[str, int]
    cuts: BarCuts  # each symbol's cut of each granularity
    indicators: tuple[str, ...]
    detector: DetectorConfig
    max_message_bytes: int
    forming_interval_ns: int = 0  # analytics.forming at most this often per symbol; 0: never
    # the bars a series keeps to roll back to, per granularity that allows lateness
    kept_bars: dict[str, int] = field(default_factory=dict)


class StateStore(Protocol):
    """The states a step reads: a symbol's (gate and open bars) and a series'."""

    def symbol(self, key: bytes) -> SymbolState | None:
        """The symbol's state, None for a symbol not seen yet."""

    def series(self, key: bytes) -> SeriesState | None:
        """The series' state, None for a series not seen yet."""


@dataclass
class MemoryStore:
    """States in dicts: for running the steps outside a worker (benchmarks, tests, tools)."""

    symbols: dict[bytes, SymbolState] = field(default_factory=dict)
    all_series: dict[bytes, SeriesState] = field(default_factory=dict)

    def symbol(self, key: bytes) -> SymbolState | None:
        return self.symbols.get(key)

    def series(self, key: bytes) -> SeriesState | None:
        return self.all_series.get(key)

    def write(self, outputs: StepOutputs) -> None:
        """Keep the states a step returned."""
        self.symbols.update(outputs.symbols)
        self.all_series.update(outputs.series)


class Send(NamedTuple):
    """One record to send: the topic's name without the deployment's prefix, the key, and the
    record (bytes are sent as they are). A tuple: a frame makes several, and a frozen dataclass
    costs five times as much to make."""

    topic: str
    key: bytes | None
    record: BaseModel | bytes


@dataclass
class StepOutputs:
    """Everything one message produced, in the order it is to be sent, and the states to write
    (the step updated them in place)."""

    sends: list[Send] = field(default_factory=list)
    symbols: dict[bytes, SymbolState] = field(default_factory=dict)
    series: dict[bytes, SeriesState] = field(default_factory=dict)
    redelivered: list[str] = field(default_factory=list)  # which state had seen the input
    events: tuple[str, int] | None = None  # the frame's source and how many events it held
    last_event: tuple[str, int] | None = None  # a symbol and its latest accepted event time
    inert: int = 0  # accepted trades that by their conditions update no part of a bar
    unopened: int = 0  # bars closed without a trade that could open them (not published)
    too_late: int = 0  # trades too late for a granularity (accepted for one that allows more)
    restated_too_late: int = 0  # restated bars whose coarser bar could not be revised
    forming: list[str] = field(default_factory=list)  # each forming record's granularity

    def refuse(
        self, message: Message, reason: str, detail: str, payload: bytes, limit: int
    ) -> None:
        """Dead-letter ``payload`` (the message or part of it) with a reason."""
        where = (message.topic, message.partition, message.offset)
        letter = DeadLetter.of(reason, detail, payload, where, message.key or None, limit)
        self.sends.append(Send(DEADLETTER.name, message.key, letter))

    def publish(self, key: bytes | None, bar: Bar) -> None:
        """Send a bar that passed the gate on its granularity's topic."""
        self.sends.append(Send(bars_topic_name(bar.granularity), key, bar))

    def advance(self, key: bytes | None, bar: Bar, series: SeriesState, config: StepConfig) -> None:
        """Apply a published bar that the series has not applied yet (a revision when it is
        not after the last one); send the snapshots and signals it gives."""
        keep = config.kept_bars.get(bar.granularity, 0)
        if series.last_start is None or bar.start > series.last_start:
            snapshot, signals = series.advance(bar, keep)
            snapshots = [snapshot]
        else:
            revision = series.revise(bar, config.detector, keep)
            snapshots, signals = revision.snapshots, revision.signals
        self.sends.extend(Send(INDICATORS.name, key, snapshot) for snapshot in snapshots)
        self.sends.extend(Send(SIGNALS.name, key, signal) for signal in signals)


def series_key(bar: Bar) -> bytes:
    """The state key of the bar's series."""
    return key_of_series(bar.symbol, bar.granularity)


def key_of_series(symbol: str, granularity: str) -> bytes:
    """The state key of a symbol's series of one granularity."""
    return f"{symbol}|{granularity}".encode()


def new_series(config: StepConfig) -> SeriesState:
    """A series seen for the first time."""
    return SeriesState.new(config.indicators, config.detector)
