"""``market.bars.<g>`` -> one IndicatorSnapshot per bar on ``analytics.indicators``.

Bars built here and ready-made ones (file replay, vendor aggregates) arrive on the same topics,
so every bar passes the bar gate first. Each (symbol, granularity) keeps one IndicatorSet in the
``indicator-state`` table, written after the snapshot is acknowledged.
"""

from __future__ import annotations

from faust import StreamT
from faust.types import EventT

from marketpulse.agents.loop import process_each
from marketpulse.agents.outputs import Outbox
from marketpulse.analytics.indicators import Candle
from marketpulse.analytics.quality import check_bar
from marketpulse.app import app, topics
from marketpulse.metrics import INDICATOR_SNAPSHOTS, REDELIVERED
from marketpulse.schemas.bars import Bar, IndicatorSnapshot
from marketpulse.settings import get_settings
from marketpulse.streams.codecs import bytes_table
from marketpulse.streams.topics import bars_topic_name
from marketpulse.tables.indicator_state import IndicatorState
from marketpulse.tables.live import LiveStates

settings = get_settings()

indicator_state = bytes_table(app, "indicator-state", settings.topic_partitions)


@app.agent(topics.all_bars)
async def compute_indicators(stream: StreamT[bytes]) -> None:
    """Update the bar's IndicatorSet and publish the snapshot."""
    await process_each(stream, _process, states)


states: LiveStates[IndicatorState] = LiveStates(indicator_state, IndicatorState.from_bytes)


@app.on_partitions_assigned.connect
async def _forget_states(*_args: object, **_kwargs: object) -> None:
    states.clear()


async def _process(event: EventT[bytes]) -> None:
    outbox = Outbox()
    payload: bytes = event.value
    message = event.message
    bar = await outbox.decode(event, Bar)
    if bar is None:
        return
    if message.topic != settings.topic(bars_topic_name(bar.granularity)):
        detail = f"a {bar.granularity} bar on {message.topic}"
        await outbox.dead_letter(event, "bad_granularity", detail, payload)
        return
    key = f"{bar.symbol}|{bar.granularity}".encode()
    state = states.get(key) or IndicatorState.new(settings.indicators)
    if message.offset <= state.offset:
        REDELIVERED.labels(agent="indicators").inc()
        return
    verdict = check_bar(bar, state.last_start)
    if verdict is not None:
        await outbox.dead_letter(event, verdict.reason, verdict.detail, payload)
        return
    indicators = state.indicators
    values = indicators.update(
        Candle(bar.start, bar.open, bar.high, bar.low, bar.close, bar.volume)
    )
    snapshot = IndicatorSnapshot(
        symbol=bar.symbol,
        granularity=bar.granularity,
        bar_start=bar.start,
        values=values,
        ready=indicators.readiness(),
        bar=bar,
    )
    await outbox.send(topics.indicators, event.key, snapshot)
    INDICATOR_SNAPSHOTS.labels(granularity=bar.granularity).inc()
    state.last_start, state.offset = bar.start, message.offset
    states.put(key, state, state.to_bytes())
