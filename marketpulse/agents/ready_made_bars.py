"""The agent on ``market.bars.raw``: each ready-made bar (file replay, vendor aggregates) through
:func:`marketpulse.analytics.steps.apply_ready_made_bar` (the bar gate, then the series'
snapshot and signals), its outputs sent, its series' state put and the step noted in the journal
(as :mod:`marketpulse.agents.raw_frames` does). What reads ``market.bars.<g>`` sees only gated
bars, and the worker never reads back its own output.
"""

from __future__ import annotations

from functools import partial

from faust import StreamT
from faust.types import EventT

from marketpulse.analytics.step_io import Message, StepOutputs
from marketpulse.analytics.steps import apply_ready_made_bar
from marketpulse.app import app, topics
from marketpulse.settings import get_settings
from marketpulse.streams.agent_loop import process_each, send_step
from marketpulse.streams.warmup import WarmUp
from marketpulse.tables import agent_states
from marketpulse.tables.agent_states import store

CONFIG = get_settings().step_config()
warm_up = WarmUp(get_settings(), CONFIG, agent_states.series, agent_states.journal)


@app.agent(topics.bars_raw)
async def apply_ready_made_bars(stream: StreamT[bytes]) -> None:
    """Gate each ready-made bar, then publish it and advance its series."""
    await process_each(stream, _process, agent_states.journal)


async def _process(event: EventT[bytes]) -> None:
    m = event.message
    await warm_up.bar(event.key, event.value, m.partition)
    message = Message(m.topic, m.partition, m.offset, event.key, event.value)
    await send_step(partial(_apply, message), agent_states.journal)


def _apply(message: Message) -> StepOutputs:
    """Step a ready-made bar and put the states it leaves."""
    outputs = apply_ready_made_bar(store, message, CONFIG)
    agent_states.put_all(outputs, message.partition)
    return outputs
