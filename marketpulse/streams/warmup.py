"""Warm-up in the worker: before a symbol's first message is applied, each of its series that
has no state yet is warmed from the bars stored in InfluxDB before the live bar the message
falls in (:mod:`marketpulse.analytics.warmup`). That live bar is the live one: a stored bar
with its start (today's partial daily bar, the current minute of an earlier run) is left out,
so the handover has no gap and no bar twice.

A store that cannot answer leaves the series cold (its snapshots' ``readiness`` says which
values are not warm yet), is logged and counted, and the message goes on: warm-up never holds
the live stream back. Each series is tried once per worker process.
"""

from __future__ import annotations

import logging
from functools import partial

from marketpulse.analytics.frames import Rejection, decode_frame
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import StepConfig, key_of_series
from marketpulse.analytics.warmup import warmed, warmup_bars
from marketpulse.metrics import SERIES_WARMED, WARMUP_FAILURES
from marketpulse.schemas.bars import Bar
from marketpulse.settings import Settings
from marketpulse.storage import history
from marketpulse.storage.influx import InfluxClient, InfluxError
from marketpulse.tables.journal import Journal
from marketpulse.tables.live_states import LiveStates

log = logging.getLogger(__name__)


class WarmUp:
    """The series this worker has tried to warm, and how."""

    def __init__(
        self,
        settings: Settings,
        config: StepConfig,
        states: LiveStates[SeriesState],
        journal: Journal,
    ) -> None:
        self.settings = settings
        self.config = config
        self.states = states  # the series' states, where a warmed one is put
        self.journal = journal  # where the put is noted, as a step's are
        self.enabled = "influxdb" in settings.warmup_from
        self.bars = warmup_bars(config.indicators, settings.warmup_unstable_bars)
        self.symbols: set[bytes] = set()  # symbols whose series have all been looked at
        # one client for the worker's life, opened at the first cold symbol: the symbols,
        # warmed one after another (thousands after a cold start), share its session and its
        # connections rather than each opening its own
        self._influx: InfluxClient | None = None

    async def frame(self, key: bytes | None, value: bytes, partition: int) -> None:
        """Warm the series of a frame's symbol, once, before its first bar."""
        if not self.enabled or not key or key in self.symbols:
            return
        frame = decode_frame(value)
        if isinstance(frame, Rejection) or not frame.events:
            return  # the step refuses it; a later frame warms the symbol
        await self._symbol(key, min(event.ts for event in frame.events), partition)

    async def bar(self, key: bytes | None, value: bytes, partition: int) -> None:
        """Warm the series of a ready-made bar's symbol, once, before its first bar."""
        if not self.enabled or not key or key in self.symbols:
            return
        try:
            bar = Bar.model_validate_json(value)
        except ValueError:
            return  # the step dead-letters it
        await self._symbol(key, bar.start, partition)

    async def _symbol(self, key: bytes, ts: int, partition: int) -> None:
        self.symbols.add(key)
        symbol = key.decode("utf-8", errors="replace")
        cuts = self.config.cuts.of(symbol)
        cold = [
            granularity
            for granularity in self.config.granularities
            if self.states.get(key_of_series(symbol, granularity)) is None
        ]
        if not cold:
            return
        if self._influx is None:
            self._influx = InfluxClient(self.settings)
        influx = self._influx
        try:
            for granularity in cold:
                bounds = cuts[granularity].bounds(ts)
                live = bounds[0] if bounds is not None else ts
                state = await stored_history(
                    influx, symbol, granularity, live, self.bars, self.config
                )
                if state is not None:
                    skey = key_of_series(symbol, granularity)
                    self.states.put(skey, state, partition)
                    # an undo puts it again as it was warmed (the steps since changed it)
                    again = partial(self._put, skey, state.to_bytes(), partition)
                    self.journal.record(again)
                    SERIES_WARMED.labels(source="influxdb").inc()
                    log.info("warmed %s %s from InfluxDB on %d bars", symbol, granularity,
                             state.indicators.bars)  # fmt: skip
        except (InfluxError, TimeoutError) as exc:
            WARMUP_FAILURES.labels(source="influxdb").inc()
            log.warning("warm-up of %s from InfluxDB failed, it starts cold: %s", symbol, exc)

    def _put(self, key: bytes, encoded: bytes, partition: int) -> None:
        self.states.put(key, SeriesState.from_bytes(self.config.detector, encoded), partition)

    async def close(self) -> None:
        """Close the client to InfluxDB, if one was opened (the worker is stopping)."""
        if self._influx is not None:
            await self._influx.close()
            self._influx = None


async def stored_history(
    influx: InfluxClient, symbol: str, granularity: str, live: int, count: int, config: StepConfig
) -> SeriesState | None:
    """The series warmed on the last ``count`` bars stored before ``live`` (a bar start), or
    None when none are stored."""
    rows = await history.bars(influx, symbol, granularity, None, live, count)
    if not rows:
        return None
    return warmed(config.indicators, config.detector, [Bar.model_validate(row) for row in rows])
