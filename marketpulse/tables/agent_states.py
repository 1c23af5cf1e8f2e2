"""The tables the agents keep, and the live states in front of them.

- ``bar-state``: one record per symbol, its quality gate's memory and its open bars
  (:class:`~marketpulse.analytics.ingest.SymbolState`);
- ``series-state``: one record per (symbol, granularity), its indicators and signal detectors
  (:class:`~marketpulse.analytics.series.SeriesState`), whichever agent advances it.

Both are keyed like the topics that feed them, so each key lives in its symbol's partition.
Both agents' steps since the states were last encoded are in one journal, to undo a step that
fails (:mod:`marketpulse.tables.journal`).
"""

from __future__ import annotations

from functools import partial

from marketpulse.analytics.ingest import SymbolState
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import StepOutputs
from marketpulse.app import app
from marketpulse.settings import get_settings
from marketpulse.streams.codecs import bytes_table
from marketpulse.streams.outbox import BATCHES
from marketpulse.tables.journal import Journal
from marketpulse.tables.live_states import LiveStates

settings = get_settings()
_gate, _cuts = settings.gate_config(), settings.bar_cuts()

symbols: LiveStates[SymbolState] = LiveStates(
    bytes_table(app, "bar-state", settings.topic_partitions),
    lambda data: SymbolState.from_bytes(data, _gate, _cuts),
    SymbolState.to_bytes,
    BATCHES.append,
)
series: LiveStates[SeriesState] = LiveStates(
    bytes_table(app, "series-state", settings.topic_partitions),
    partial(SeriesState.from_bytes, settings.detector_config()),
    SeriesState.to_bytes,
    BATCHES.append,
)
# a symbol's state implies its series' (the bars it has closed): flushed after them
journal: Journal = Journal(series, symbols)


def put_all(outputs: StepOutputs, partition: int) -> None:
    """Put the states a step leaves (its symbols' and its series')."""
    for key, state in outputs.series.items():
        series.put(key, state, partition)
    for key, symbol in outputs.symbols.items():
        symbols.put(key, symbol, partition)


class LiveStore:
    """The states as the pure steps read them."""

    def symbol(self, key: bytes) -> SymbolState | None:
        return symbols.get(key)

    def series(self, key: bytes) -> SeriesState | None:
        return series.get(key)


store = LiveStore()


@app.on_partitions_assigned.connect
async def _forget_states(*_args: object, **_kwargs: object) -> None:
    """On a (re)assignment the tables are the truth."""
    journal.reset()
