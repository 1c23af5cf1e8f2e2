"""Trade-condition tables at run time, and the trades they mark.

A source with rules (Polygon) marks each trade, before it is published on ``market.raw``, with
the parts of a bar its conditions let it update (``Trade.updates``), so that the worker, the
batch commands and a replay of the topic all build the same bars from the same records. The
table is the vendor's own, fetched by its client at start and refreshed daily
(``MARKETPULSE_CONDITIONS_REFRESH_S``); a refresh that fails keeps the table in use, is noted in
PostgreSQL (``condition_tables``) and shown by the API's ``/health``. A source that starts
without the vendor takes the last good table kept there, else the one shipped in the package
(``vendors/data/``, for use without a key). A source without a table marks nothing: every trade
updates every part, as before conditions were read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any, Final

from marketpulse.analytics.conditions import EVERY_PART, ConditionTable, parts_of
from marketpulse.metrics import CONDITIONS_UNKNOWN
from marketpulse.schemas.events import Event, Trade, TradeCorrection
from marketpulse.storage.repositories.condition_tables import ConditionTables
from marketpulse.vendors.polygon import parse_conditions

log = logging.getLogger(__name__)

# each source with a shipped table: its file in vendors/data/ (the vendor's own format) and
# the parser of that format
SHIPPED: Final[dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, int]]]]] = {
    "polygon": ("polygon_conditions.json", parse_conditions),
}


def _shipped_body(source: str) -> dict[str, Any]:
    name = SHIPPED[source][0]
    body: dict[str, Any] = json.loads(
        resources.files("marketpulse.vendors.data").joinpath(name).read_text()
    )
    return body


def shipped(source: str) -> ConditionTable | None:
    """The table shipped for ``source``, or None when it has none."""
    if source not in SHIPPED:
        return None
    return ConditionTable(source, SHIPPED[source][1](_shipped_body(source)))


def table_from(spec: str) -> ConditionTable:
    """``SOURCE`` (its shipped table) or ``SOURCE=FILE`` (a file of the vendor's conditions
    response, as fetched); ValueError naming the sources that have tables otherwise."""
    source, _, path = spec.partition("=")
    if source not in SHIPPED:
        raise ValueError(
            f"no condition rules for source {source!r}; sources with rules: {', '.join(SHIPPED)}"
        )
    try:
        body = json.loads(Path(path).read_text()) if path else _shipped_body(source)
        return ConditionTable(source, SHIPPED[source][1](body))
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not a {source} conditions response ({exc})") from exc


def mark(events: Iterable[Event], table: ConditionTable | None) -> list[Event]:
    """``events`` with each trade (and each correction, by its corrected conditions) that has
    conditions marked with the parts it updates (none marked without a table, or when one
    already says); codes the table does not know are counted, logged once, and have no say."""
    if table is None:
        return list(events)
    marked: list[Event] = []
    for event in events:
        if not isinstance(event, Trade | TradeCorrection):
            marked.append(event)
            continue
        if event.conditions and event.updates is None:
            mask, unknown = table.mask(event.conditions)
            if unknown:
                _unknown(table, unknown)
            if mask != EVERY_PART:
                event = event.model_copy(update={"updates": parts_of(mask)})
        marked.append(event)
    return marked


_reported: set[tuple[str, str]] = set()


def _unknown(table: ConditionTable, codes: list[str]) -> None:
    CONDITIONS_UNKNOWN.labels(source=table.source).inc(len(codes))
    for code in codes:
        if (table.source, code) not in _reported and len(_reported) < 1000:
            _reported.add((table.source, code))
            log.warning(
                "%s: condition %s is not in table %s: it updates every part of the bar",
                table.source, code, table.version,
            )  # fmt: skip


class ConditionRules:
    """One source's table in use, refreshed from its vendor."""

    def __init__(
        self,
        source: str,
        kept: ConditionTables,
        fetch: Callable[[], Awaitable[ConditionTable]],
        fallback: ConditionTable | None,
    ) -> None:
        """``fallback``: the table to start with when the vendor cannot be reached and none
        was ever kept (the shipped one)."""
        self.source = source
        self.kept = kept
        self.fetch = fetch
        self.fallback = fallback
        self.table: ConditionTable | None = None

    async def refresh(self) -> ConditionTable | None:
        """Fetch the vendor's table and keep it; when that fails, say so and go on with the
        table in use (at start: the last good one kept, else the shipped one)."""
        try:
            table = await self.fetch()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("%s: condition table not refreshed (%s)", self.source, error)
            await self.kept.failed(self.source, error)
            if self.table is None:
                self.table = await self.kept.load(self.source) or self.fallback
            return self.table
        await self.kept.fetched(self.source, table)
        if self.table is None or table.version != self.table.version:
            log.info("%s: condition table %s in use", self.source, table.version)
        self.table = table
        return table

    async def refresh_every(
        self, interval_s: float, use: Callable[[ConditionTable | None], None]
    ) -> None:
        """Refresh every ``interval_s`` and hand each result to ``use``, until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            use(await self.refresh())
