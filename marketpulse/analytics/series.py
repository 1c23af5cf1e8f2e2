"""One bar series, (symbol, granularity): its indicators and its signal detectors, advanced
together by each accepted bar, whichever agent applies it (built bars or ready-made ones)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson

from marketpulse.analytics.indicators import Candle, IndicatorSet
from marketpulse.analytics.patterns.detector import DetectorConfig, SignalDetector
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.schemas.signals import Signal


@dataclass
class Applied:
    """A bar the series applied, kept so that a revision can roll back to before it: the bar,
    the series' state before it (JSON) and the signals it fired."""

    bar: Bar
    before: bytes
    signals: list[Signal]

    def to_json(self) -> dict[str, Any]:
        return {
            "bar": self.bar.model_dump(),
            "before": orjson.Fragment(self.before),
            "signals": [signal.model_dump() for signal in self.signals],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Applied:
        return cls(
            Bar.model_validate(raw["bar"]),
            orjson.dumps(raw["before"]),
            [Signal.model_validate(signal) for signal in raw["signals"]],
        )


@dataclass
class Revision:
    """What a revised bar changes downstream: the snapshot of every bar from it on, the signals
    that are new or changed, and those withdrawn (fired before, no longer), each with the
    series' count of revisions, so that a later one replaces an earlier one of the same key."""

    snapshots: list[IndicatorSnapshot]
    signals: list[Signal]


class EncodedDetector:
    """A series' detectors as its table record holds them (JSON), decoded when a bar first
    needs them. A restored series peeks at its forming bar within a second, but its detectors
    wait for its next closed bar (an hour, a day on the coarser granularities), and they are
    more than half of what decoding a series costs: a worker taking over thousands of series
    resumes without them."""

    __slots__ = ("config", "data")

    def __init__(self, config: DetectorConfig, data: bytes) -> None:
        self.config = config
        self.data = data

    def decode(self) -> SignalDetector:
        """The detectors."""
        return SignalDetector.from_state(self.config, orjson.loads(self.data))


class SeriesState:
    """The indicator set, the detectors, the last bar start applied, and the last bars-topic
    offset applied (ready-made bars; built bars are applied where they are built). A series of
    ready-made bars also keeps the open bars of the coarser granularities it rolls up into
    (:meth:`~marketpulse.analytics.bars.BarBuilder.state`, None when there are none). Where its
    granularity allows lateness, the series keeps its last bars (``history``, oldest first) to
    roll back to when one of them is revised, and counts the revisions it has applied (what
    it publishes again carries the count).

    Its record (:meth:`to_bytes`) is two JSON documents on two lines: everything but the
    detectors, then the detectors, which :meth:`from_bytes` leaves encoded until first used
    (:class:`EncodedDetector`).

    A plain class, not a dataclass: the mutation tool leaves decorated classes alone, and the
    revision logic here is what its tests must be shown to guard."""

    def __init__(
        self,
        indicators: IndicatorSet,
        detector: SignalDetector | EncodedDetector,
        last_start: int | None = None,
        offset: int = -1,
        rollup: dict[str, Any] | None = None,
        history: list[Applied] | None = None,
        revisions: int = 0,
    ) -> None:
        self.indicators = indicators
        self._detector = detector
        self.last_start = last_start
        self.offset = offset
        self.rollup = rollup
        self.history = history if history is not None else []
        self.revisions = revisions

    @property
    def detector(self) -> SignalDetector:
        """The detectors, decoded now if the series was restored with them encoded."""
        detector = self._detector
        if isinstance(detector, EncodedDetector):
            detector = self._detector = detector.decode()
        return detector

    @classmethod
    def new(cls, specs: Iterable[str], config: DetectorConfig) -> SeriesState:
        """A state for a series seen for the first time."""
        return cls(IndicatorSet(specs), SignalDetector.new(config))

    def applied(self, bar: Bar) -> bool:
        """Whether the series already has this bar (at this revision or a later one), or has
        gone past its start with no way back (it is older than every bar kept)."""
        return self.has(bar.start, bar.revision)

    def has(self, start: int, revision: int) -> bool:
        """:meth:`applied`, for the bar of this start and revision."""
        if self.last_start is None or start > self.last_start:
            return False
        kept = self.kept(start)
        if kept is not None:
            return kept.revision >= revision
        return not self.history or start < self.history[0].bar.start

    def restates(self, bar: Bar) -> Bar | None:
        """A ready-made bar that is not after the last one, as a revision: of the kept bar with
        its start when its values differ (a revision higher), or new between two kept bars
        (revision 0). None when it repeats a kept bar or is older than every bar kept."""
        history = self.history
        if not history or bar.start < history[0].bar.start:
            return None
        kept = self.kept(bar.start)
        if kept is None:
            return bar.model_copy(update={"revision": 0})
        if _same(kept, bar):
            return None
        return bar.model_copy(update={"revision": kept.revision + 1})

    def kept(self, start: int) -> Bar | None:
        """The kept bar that starts at ``start``, at its latest revision."""
        for applied in reversed(self.history):
            if applied.bar.start == start:
                return applied.bar
        return None

    def advance(self, bar: Bar, keep: int = 0) -> tuple[IndicatorSnapshot, list[Signal]]:
        """Apply an accepted bar: its indicator snapshot and the signals it fires. With
        ``keep``, the last ``keep`` bars are kept for revisions."""
        before = self._state() if keep else b""
        values = self.indicators.update(_candle(bar))
        snapshot = _snapshot(bar, values, self.indicators.readiness())
        self.last_start = bar.start
        signals = self.detector.update(bar, snapshot.values)
        if keep:
            self.history.append(Applied(bar, before, signals))
            del self.history[:-keep]
        return snapshot, signals

    def revise(self, bar: Bar, config: DetectorConfig, keep: int) -> Revision:
        """Apply a bar at or before the last one that the series has not applied
        (:meth:`applied`): roll back to before its start, apply it (in place of the bar it
        revises, or between two kept ones) and every later kept bar again."""
        history = self.history
        if not history or bar.start < history[0].bar.start:
            raise ValueError(f"bar {bar.key()} is older than every bar the series keeps")
        at = next(i for i, kept in enumerate(history) if kept.bar.start >= bar.start)
        replaced = history[at].bar.start == bar.start
        later = [kept.bar for kept in history[at + 1 if replaced else at :]]
        fired = {signal.key(): signal for kept in history[at:] for signal in kept.signals}
        before = orjson.loads(history[at].before)
        del history[at:]
        self.indicators = IndicatorSet.from_state(before["set"])
        self._detector = SignalDetector.from_state(config, before["detector"])
        self.revisions += 1
        again = {"revision": self.revisions}
        snapshots, signals = [], []
        for each in [bar, *later]:
            snapshot, now_fired = self.advance(each, keep)
            snapshots.append(snapshot.model_copy(update=again))
            for signal in now_fired:
                if fired.pop(signal.key(), None) != signal:
                    signals.append(signal.model_copy(update=again))
        gone = {**again, "withdrawn": True}
        signals += [signal.model_copy(update=gone) for signal in fired.values()]
        return Revision(snapshots, signals)

    def _state(self) -> bytes:
        detector = orjson.Fragment(self._detector_json())
        return orjson.dumps({"set": self.indicators.state(), "detector": detector})

    def _detector_json(self) -> bytes:
        detector = self._detector
        if isinstance(detector, EncodedDetector):
            return detector.data
        return orjson.dumps(detector.state())

    def peek(self, bar: dict[str, Any]) -> bytes:
        """The snapshot :meth:`advance` would give on a bar still forming (its fields), as a
        forming record; changing nothing."""
        return forming_record(self.indicators, bar)

    def to_bytes(self) -> bytes:
        """Encode for the table."""
        head = orjson.dumps(
            {
                "set": self.indicators.state(),
                "last_start": self.last_start,
                "offset": self.offset,
                "rollup": self.rollup,
                "history": [kept.to_json() for kept in self.history],
                "revisions": self.revisions,
            }
        )
        return head + b"\n" + self._detector_json()  # JSON escapes every newline in a string

    @classmethod
    def from_bytes(cls, config: DetectorConfig, data: bytes) -> SeriesState:
        """Decode from the table, the detectors left encoded (a record written as one
        document, with the detectors inside, is read whole)."""
        head, split, detector = data.partition(b"\n")
        raw = orjson.loads(head)
        return cls(
            IndicatorSet.from_state(raw["set"]),
            EncodedDetector(config, detector)
            if split
            else SignalDetector.from_state(config, raw["detector"]),
            raw["last_start"],
            raw["offset"],
            raw.get("rollup"),  # states written before roll-ups have none
            [Applied.from_json(kept) for kept in raw.get("history", ())],
            raw.get("revisions", 0),
        )


def forming_record(indicators: IndicatorSet, bar: dict[str, Any]) -> bytes:
    """The snapshot ``indicators`` would give on a bar still forming (a :class:`Bar`'s fields),
    changing nothing, encoded as :class:`IndicatorSnapshot` encodes (a test holds the two
    equal): one goes out every second per series, and a validated model of the bar and of the
    snapshot would cost more than the peek."""
    candle = Candle(bar["start"], bar["open"], bar["high"], bar["low"], bar["close"],
                    bar["volume"])  # fmt: skip
    values, ready = indicators.peek(candle)
    return orjson.dumps(
        {
            "symbol": bar["symbol"],
            "granularity": bar["granularity"],
            "bar_start": bar["start"],
            "values": _finite(values),
            "ready": ready,
            "bar": bar,
            "final": False,
            "revision": 0,
        }
    )


@cache
def blank_indicators(specs: tuple[str, ...]) -> IndicatorSet:
    """A set that has seen no bar, made once per configuration: what a series not started yet
    would show on its first bar. Shared, so only ever peeked (which commits nothing)."""
    return IndicatorSet(specs)


def _same(kept: Bar, bar: Bar) -> bool:
    """Whether two bars of one series and start carry the same values."""
    return kept.model_dump(exclude={"revision"}) == bar.model_dump(exclude={"revision"})


def _candle(bar: Bar) -> Candle:
    return Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)


def _finite(values: dict[str, float]) -> dict[str, float]:
    if all(map(math.isfinite, values.values())):
        return values
    # an output that overflowed is not defined: JSON would carry it as null
    return {name: value for name, value in values.items() if math.isfinite(value)}


def _snapshot(bar: Bar, values: dict[str, float], ready: dict[str, bool]) -> IndicatorSnapshot:
    return IndicatorSnapshot(
        symbol=bar.symbol,
        granularity=bar.granularity,
        bar_start=bar.start,
        values=_finite(values),
        ready=ready,
        bar=bar,
    )
