"""``analytics.indicators`` -> Signal records on ``analytics.signals``.

Snapshots carry their bar, so this agent sees exactly the bars the indicator agent accepted, in
order, with their indicator values: no join of two topics. Each (symbol, granularity) keeps
one SignalDetector in the ``pattern-state`` table, written after the signals are sent.
"""

from __future__ import annotations

from functools import partial

from faust import StreamT
from faust.types import EventT

from marketpulse.agents.loop import process_each
from marketpulse.agents.outputs import Outbox
from marketpulse.analytics.patterns.detector import SignalDetector
from marketpulse.app import app, topics
from marketpulse.metrics import REDELIVERED, SIGNALS_OUT
from marketpulse.schemas.bars import IndicatorSnapshot
from marketpulse.settings import get_settings
from marketpulse.streams.codecs import bytes_table
from marketpulse.tables.live import LiveStates
from marketpulse.tables.pattern_state import PatternState

settings = get_settings()
config = settings.detector_config()

pattern_state = bytes_table(app, "pattern-state", settings.topic_partitions)
states: LiveStates[PatternState] = LiveStates(
    pattern_state, partial(PatternState.from_bytes, config)
)


@app.agent(topics.indicators)
async def detect_patterns(stream: StreamT[bytes]) -> None:
    """Run the detectors on each snapshot's bar and publish what fires."""
    await process_each(stream, _process, states)


@app.on_partitions_assigned.connect
async def _forget_states(*_args: object, **_kwargs: object) -> None:
    states.clear()


async def _process(event: EventT[bytes]) -> None:
    outbox = Outbox()
    snapshot = await outbox.decode(event, IndicatorSnapshot)
    if snapshot is None:
        return
    key = f"{snapshot.symbol}|{snapshot.granularity}".encode()
    state = states.get(key) or PatternState(SignalDetector.new(config))
    if event.message.offset <= state.offset or (
        state.last_start is not None and snapshot.bar_start <= state.last_start
    ):
        # Already applied: a redelivery, or the indicator agent repeating a snapshot after a
        # restart (it writes its state after sending).
        REDELIVERED.labels(agent="patterns").inc()
        return
    for signal in state.detector.update(snapshot.bar, snapshot.values):
        await outbox.send(topics.signals, event.key, signal)
        SIGNALS_OUT.labels(kind=signal.kind).inc()
    state.last_start, state.offset = snapshot.bar_start, event.message.offset
    states.put(key, state, state.to_bytes())
