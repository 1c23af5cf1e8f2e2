"""Polygon's (Massive's) stocks WebSocket: trades (``T``), quotes (``Q``), second and minute
aggregates (``A``, ``AM``).

The session: the server says ``connected``; we send ``auth``; it says ``auth_success`` (or
``auth_failed``: no retrying a wrong key); we subscribe. Every frame is a JSON array that may mix
events and symbols. A dropped connection is reopened after a backoff, authenticated and
subscribed again.

The server may also refuse or end a session with a status: ``max_connections`` (the account's
connections are all in use, or a newer one took this one's place), ``disconnected``,
``auth_timeout``. Each is logged and counted, and the session is tried again after the backoff;
after ``max_refusals`` refusals in a row (no data in between) the stream stops with an error
that quotes the vendor, since another process holding the account's connection will not go
away by itself. Field quirks: ``T`` and ``Q`` times are ms; ``Q`` sizes are round lots (x100);
``A``/``AM`` ``s``/``e`` are the bar's start and end in ms (``z`` there is the average trade
size, not the tape).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from marketpulse import metrics
from marketpulse.policy import Backoff
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Quote, Trade
from marketpulse.vendors.common import Rejected
from marketpulse.vendors.http import VendorError
from marketpulse.vendors.polygon import PROVIDER, SOURCE, agg_bar

log = logging.getLogger(__name__)
_MS = 1_000_000
_GOOD = {"connected", "auth_success", "success"}  # "success" answered auth on older servers
REFUSALS = ("max_connections", "disconnected", "auth_timeout")  # and any other unknown status
_AGGREGATES = {"A": ("1s", 1_000 * _MS), "AM": ("1m", 60_000 * _MS)}


@dataclass
class Batch:
    """What one frame held."""

    events: list[Quote | Trade] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


def trade_id(item: dict[str, Any]) -> str | None:
    """A trade's identifier: Polygon's trade ID (``i``) is unique per ticker, exchange (``x``)
    and reporting facility (``trfi``), so those go with it. Two prints alike in the same
    millisecond are then two trades, not a duplicate."""
    if item.get("i") in (None, ""):
        return None
    return ":".join(str(item[key]) for key in ("x", "trfi", "i") if key in item)


def _event(item: dict[str, Any]) -> Quote | Trade | Bar:
    kind = item["ev"]
    if kind == "T":
        return Trade(
            symbol=item["sym"],
            ts=int(item["t"]) * _MS,
            price=float(item["p"]),
            size=float(item["s"]),
            conditions=list(item.get("c") or []),
            source=SOURCE,
            id=trade_id(item),
        )
    if kind == "Q":
        return Quote(
            symbol=item["sym"],
            ts=int(item["t"]) * _MS,
            bid=float(item["bp"]),
            ask=float(item["ap"]),
            bid_size=float(item["bs"]) * 100,
            ask_size=float(item["as"]) * 100,
            source=SOURCE,
        )
    granularity, length = _AGGREGATES[kind]
    return agg_bar(item, item["sym"], granularity, int(item["s"]) * _MS, length)


def parse_frame(frame: Any) -> Batch:
    """A data frame's events as our records; status events are left out."""
    batch = Batch()
    items = frame if isinstance(frame, list) else [frame]
    for item in items:
        if not isinstance(item, dict) or item.get("ev") == "status":
            continue
        if item.get("ev") not in ("T", "Q", *_AGGREGATES):
            batch.rejected.append(
                Rejected("unknown_event", f"ev={item.get('ev')!r}", str(item)[:500])
            )
            continue
        try:
            record = _event(item)
        except (KeyError, TypeError, ValueError) as exc:
            batch.rejected.append(
                Rejected("malformed", f"{item.get('ev')}: {exc}", str(item)[:500])
            )
            continue
        if isinstance(record, Bar):
            batch.bars.append(record)
        else:
            batch.events.append(record)
    return batch


class _Refused(Exception):
    """The server refused or ended the session with a status."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status


def _refusal(statuses: list[dict[str, Any]]) -> _Refused | None:
    for status in statuses:
        name = str(status.get("status"))
        if name not in _GOOD and name != "auth_failed":
            return _Refused(name, str(status.get("message", "")))
    return None


class PolygonStream:
    """A subscription that survives dropped connections."""

    def __init__(
        self,
        api_key: str,
        subscriptions: list[str],
        url: str = "wss://socket.polygon.io/stocks",
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_refusals: int = 10,
    ) -> None:
        self._key = api_key
        self.subscriptions = subscriptions  # e.g. ["T.AAPL", "Q.AAPL", "AM.AAPL"]
        self.url = url
        self.backoff = backoff or Backoff(0.5, 30.0)
        self._sleep = sleep
        self.max_refusals = max_refusals
        self.connections = 0
        self.refusals = 0  # in a row: data in between starts the count again

    async def _statuses(self, ws: ClientConnection) -> list[dict[str, Any]]:
        statuses = _status_events(orjson.loads(await ws.recv()))
        refused = _refusal(statuses)
        if refused is not None:
            raise refused
        return statuses

    async def _open(self, ws: ClientConnection) -> None:
        """Authenticate and subscribe."""
        await self._statuses(ws)  # "connected"
        await ws.send(orjson.dumps({"action": "auth", "params": self._key}).decode())
        statuses = await self._statuses(ws)
        if any(s.get("status") == "auth_failed" for s in statuses):
            message = statuses[0].get("message", "auth_failed")
            raise VendorError(PROVIDER, "unauthorized", str(message), False)
        params = ",".join(self.subscriptions)
        await ws.send(orjson.dumps({"action": "subscribe", "params": params}).decode())

    async def batches(self) -> AsyncIterator[Batch]:
        """Every data frame as a batch, reconnecting as needed, until the caller stops."""
        while True:
            try:
                async with connect(self.url) as ws:
                    self.connections += 1
                    await self._open(ws)
                    async for message in ws:
                        try:
                            frame = orjson.loads(message)
                        except orjson.JSONDecodeError:
                            text = str(message)[:500]
                            yield Batch(rejected=[Rejected("malformed", "not JSON", text)])
                            continue
                        refused = _refusal(_status_events(frame))
                        if refused is not None:
                            raise refused
                        batch = parse_frame(frame)
                        if batch.events or batch.bars:
                            self.refusals = 0
                            self.backoff.reset()
                        if batch.events or batch.bars or batch.rejected:
                            yield batch
                reason = "closed by the server"
            except _Refused as exc:
                self._refused(exc)
                reason = str(exc)
            except (ConnectionClosed, InvalidHandshake, OSError) as exc:
                reason = str(exc) or type(exc).__name__
            delay = self.backoff.next_delay()
            log.warning("polygon stream ended (%s); reconnecting in %.1f s", reason, delay)
            await self._sleep(delay)

    def _refused(self, refused: _Refused) -> None:
        """Count a refusal; give up after ``max_refusals`` in a row."""
        self.refusals += 1
        label = refused.status if refused.status in REFUSALS else "other"
        metrics.VENDOR_WS_REFUSED.labels(PROVIDER, label).inc()
        log.warning("polygon refused the session (%s), %d in a row", refused, self.refusals)
        if self.refusals >= self.max_refusals:
            detail = f"{refused} ({self.refusals} refusals in a row; is another process using "
            detail += "the account's connection?)"
            raise VendorError(PROVIDER, "refused", detail, False) from refused


def _status_events(frame: Any) -> list[dict[str, Any]]:
    items = frame if isinstance(frame, list) else [frame]
    return [e for e in items if isinstance(e, dict) and e.get("ev") == "status"]
