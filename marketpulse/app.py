"""The Faust app, wiring only: ``faust -A marketpulse.app worker`` and ``marketpulse worker``.

Agents are imported at the end, explicitly: an import error must stop the worker, where Faust's
autodiscovery would only log it and run without the agent.
"""

from __future__ import annotations

from marketpulse.settings import get_settings
from marketpulse.streams.faust_app import create_app
from marketpulse.streams.topics import declare

settings = get_settings()
app = create_app(settings)
topics = declare(app, settings)

from marketpulse.agents import raw_frames, ready_made_bars  # noqa: E402 - the agents
from marketpulse.streams import delivery, outbox  # noqa: E402
from marketpulse.tables import agent_states  # noqa: E402
from marketpulse.tables.flush import FlushOnCommit  # noqa: E402

flush = FlushOnCommit(outbox.BATCHES.soon, agent_states.journal)
app.sensors.add(flush)
app.sensors.add(delivery.guard)
delivery.apply(outbox.BATCHES.delivered, flush)


@app.on_before_shutdown.connect
async def _close_warm_ups(*_args: object, **_kwargs: object) -> None:
    for agent in (raw_frames, ready_made_bars):
        await agent.warm_up.close()
