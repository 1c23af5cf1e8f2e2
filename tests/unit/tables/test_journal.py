"""Undoing a step that failed half-way: the states go back to their last checkpoint and the
steps since are applied again, so the worker goes on as if the failed step had never come
(the same states, the same records after it). The real steps and state codecs, over live
states in front of a stand-in table; the worker's path on the broker is in
tests/e2e/test_state_flush.py."""

from __future__ import annotations

from functools import partial

from marketpulse.analytics.ingest import SymbolState
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import Message, StepConfig, StepOutputs
from marketpulse.analytics.steps import apply_frame
from marketpulse.tables.journal import Journal
from marketpulse.tables.live_states import LiveStates
from tests.table_helpers import Table
from tests.unit.analytics.test_steps import NOW, RAW, config, frame, minute_walk

SYMBOLS = (b"AAPL", b"MSFT")


class Worker:
    """A worker's states, partition time and journal, its frames applied as its agent applies
    them (the step, then the puts, then the journal's note)."""

    def __init__(self, cfg: StepConfig) -> None:
        self.config = cfg
        self.symbols: LiveStates[SymbolState] = LiveStates(
            Table(),
            lambda data: SymbolState.from_bytes(data, cfg.gate, cfg.cuts.of("AAPL")),
            SymbolState.to_bytes,
            self.unsent,
        )
        self.series: LiveStates[SeriesState] = LiveStates(
            Table(), partial(SeriesState.from_bytes, cfg.detector), SeriesState.to_bytes,
            self.unsent,
        )  # fmt: skip
        self.journal = Journal(self.series, self.symbols)
        self.times: dict[int, PartitionTime] = {}
        self.journal.derive(self.times)
        self.applied = 0  # steps applied, again or not

    def unsent(self, topic: str, partition: int, key: bytes, value: bytes) -> None:
        """Where a flush's records would go to the broker."""

    def symbol(self, key: bytes) -> SymbolState | None:
        return self.symbols.get(key)

    def series_of(self, key: bytes) -> SeriesState | None:
        return self.series.get(key)

    def step(self, message: Message) -> StepOutputs:
        outputs = self.apply(message)
        self.journal.record(partial(self.apply, message))
        return outputs

    def apply(self, message: Message) -> StepOutputs:
        self.applied += 1
        outputs = apply_frame(Store(self), self.time(), message, NOW, self.config)
        for key, series in outputs.series.items():
            self.series.put(key, series, 0)
        for key, state in outputs.symbols.items():
            self.symbols.put(key, state, 0)
        return outputs

    def time(self) -> PartitionTime:
        """The partition's time, rebuilt from the symbols' states when forgotten."""
        time = self.times.get(0)
        if time is None:
            rebuilt = PartitionTime.rebuild(self.symbols.stored(), self.config.gate.grace_ns)
            time = self.times[0] = rebuilt.get(0, PartitionTime())
        return time

    def half_step(self, message: Message) -> None:
        """A step that changes the states in place, then fails before it puts them."""
        apply_frame(Store(self), self.time(), message, NOW, self.config)

    def fail_half_way(self, message: Message) -> None:
        self.half_step(message)
        self.journal.undo()

    def encoded(self) -> dict[bytes, bytes]:
        states = [*self.series.stored(), *self.symbols.stored()]
        return {key: state.to_bytes() for key, state in states}


class Store:
    """The states as the step reads them."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def symbol(self, key: bytes) -> SymbolState | None:
        return self.worker.symbol(key)

    def series(self, key: bytes) -> SeriesState | None:
        return self.worker.series_of(key)


def messages() -> list[Message]:
    """Two symbols' minutes, a frame a minute each, in turn: every frame closes a bar."""
    walks = {key: minute_walk(40, seed) for seed, key in enumerate(SYMBOLS)}
    out = []
    for minute in range(40):
        for key in SYMBOLS:
            trades = [{**t, "symbol": key.decode()} for t in walks[key][minute]]
            out.append(Message(RAW, 0, len(out), key, frame(*trades)))
    return out


def sent(outputs: StepOutputs) -> list[tuple[str, bytes]]:
    return [
        (send.topic, send.record if isinstance(send.record, bytes) else
         send.record.model_dump_json().encode())
        for send in outputs.sends
    ]  # fmt: skip


def test_a_failed_step_is_undone_the_worker_goes_on_as_if_it_had_not_come() -> None:
    cfg = config(granularities=["1m", "5m"])
    frames = messages()
    failing = {17, 30, 31}  # one after a flush, then two in a row
    clean, undone = Worker(cfg), Worker(cfg)
    for i, message in enumerate(frames):
        if i == 12:
            clean.journal.flush()
            undone.journal.flush()
        if i in failing:
            undone.fail_half_way(message)
            continue
        assert sent(undone.step(message)) == sent(clean.step(message)), i
    assert undone.encoded() == clean.encoded()
    assert len(undone.encoded()) == 2 + 2 * 2  # both symbols, each on 1m and 5m


def test_the_state_a_failed_step_changed_in_place_is_restored() -> None:
    worker = Worker(config())
    frames = messages()
    for message in frames[:6]:
        worker.step(message)
    before = worker.encoded()
    worker.half_step(frames[6])
    assert worker.encoded() != before  # the step changed the objects in use
    worker.journal.undo()
    assert worker.encoded() == before


def test_each_step_is_applied_again_at_most_once_however_many_fail_after_it() -> None:
    worker = Worker(config())
    frames = messages()
    for message in frames[:10]:
        worker.step(message)
    worker.fail_half_way(frames[10])
    assert worker.applied == 20  # the ten steps, each once again
    for i in range(11, 20):
        worker.step(frames[i])
        worker.fail_half_way(frames[i])  # a poisoned input after each good one
    assert worker.applied == 20 + 9 * 2  # each good step once, and once again at its undo
    worker.journal.flush()
    worker.fail_half_way(frames[20])
    assert worker.applied == 38  # nothing since the flush to apply again
