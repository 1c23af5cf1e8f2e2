"""Bars -> one IndicatorSnapshot on ``analytics.indicators`` and the signals on
``analytics.signals``, per bar.

Each (symbol, granularity) keeps one :class:`SeriesState` in the ``series-state`` table. Bars
built by the bar agent are applied there, in the same step that closes them (operator chaining:
the bar, its snapshot and its signals leave together, with no broker round trip between). The
agent here takes the ready-made bars (file replay, vendor aggregates) from ``market.bars.raw``
through the bar gate, and publishes each that passes on ``market.bars.<g>`` with its snapshot
and signals: what reads ``market.bars.<g>`` sees only gated bars, and the worker never reads
back its own output.
"""

from __future__ import annotations

from functools import partial

from faust import StreamT
from faust.types import EventT

from marketpulse.agents.loop import process_each
from marketpulse.agents.outputs import Outbox
from marketpulse.analytics.quality import check_bar
from marketpulse.analytics.series import SeriesState
from marketpulse.app import app, topics
from marketpulse.metrics import BARS_OUT, INDICATOR_SNAPSHOTS, REDELIVERED, SIGNALS_OUT
from marketpulse.schemas.bars import Bar
from marketpulse.settings import get_settings
from marketpulse.streams.codecs import bytes_table
from marketpulse.tables.live import LiveStates

settings = get_settings()
config = settings.detector_config()

series_table = bytes_table(app, "series-state", settings.topic_partitions)
states: LiveStates[SeriesState] = LiveStates(series_table, partial(SeriesState.from_bytes, config))


@app.on_partitions_assigned.connect
async def _forget_states(*_args: object, **_kwargs: object) -> None:
    states.reset()


def series_key(bar: Bar) -> bytes:
    """The table key of the bar's series."""
    return f"{bar.symbol}|{bar.granularity}".encode()


def load(key: bytes) -> SeriesState:
    """The series' state, or a new one."""
    return states.get(key) or SeriesState.new(settings.indicators, config)


async def publish_bar(outbox: Outbox, key: bytes | None, bar: Bar) -> None:
    """Send a bar that passed the gate on its granularity's topic."""
    BARS_OUT.labels(granularity=bar.granularity).inc()
    await outbox.send(topics.bars[bar.granularity], key, bar)


async def advance(outbox: Outbox, key: bytes | None, state: SeriesState, bar: Bar) -> None:
    """Apply an accepted bar to its series and send its snapshot and signals."""
    snapshot, signals = state.advance(bar)
    await outbox.send(topics.indicators, key, snapshot)
    INDICATOR_SNAPSHOTS.labels(granularity=bar.granularity).inc()
    for signal in signals:
        await outbox.send(topics.signals, key, signal)
        SIGNALS_OUT.labels(kind=signal.kind).inc()


@app.agent(topics.bars_raw)
async def apply_ready_made_bars(stream: StreamT[bytes]) -> None:
    """Gate each ready-made bar, then publish it and advance its series."""
    await process_each(stream, _process, states)


async def _process(event: EventT[bytes]) -> None:
    outbox = Outbox()
    payload: bytes = event.value
    bar = await outbox.decode(event, Bar)
    if bar is None:
        return
    if bar.granularity not in topics.bars:
        built = ", ".join(topics.bars)
        detail = f"{bar.granularity} bars are not kept here (MARKETPULSE_GRANULARITIES: {built})"
        await outbox.dead_letter(event, "bad_granularity", detail, payload)
        return
    key = series_key(bar)
    state = load(key)
    if event.message.offset <= state.offset:
        REDELIVERED.labels(agent="series").inc()
        return
    verdict = check_bar(bar, state.last_start)
    if verdict is not None:
        await outbox.dead_letter(event, verdict.reason, verdict.detail, payload)
        return
    await publish_bar(outbox, event.key, bar)
    await advance(outbox, event.key, state, bar)
    state.offset = event.message.offset
    states.put(key, state, state.to_bytes(), event.message.partition)
