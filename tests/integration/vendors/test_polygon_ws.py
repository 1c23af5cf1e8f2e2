"""The Polygon WebSocket client against a local WebSocket server that speaks Polygon's status
frames and events, and drops the connection mid-stream."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import orjson
import pytest
from websockets.asyncio.server import ServerConnection

from marketpulse import metrics
from marketpulse.policy import Backoff
from marketpulse.schemas.events import Quote, Trade
from marketpulse.vendors.http import VendorError
from marketpulse.vendors.polygon_ws import Batch, PolygonStream
from tests.vendor_helpers import fixture, ws_authenticated, ws_vendor

PG = "polygon"


async def _no_wait(_seconds: float) -> None:
    return None


async def _collect(stream: PolygonStream, enough: Callable[[list[Batch]], bool]) -> list[Batch]:
    got: list[Batch] = []

    async def run() -> None:
        async for batch in stream.batches():
            got.append(batch)
            if enough(got):
                return

    await asyncio.wait_for(run(), 30)
    return got


async def test_a_dropped_stream_reconnects_resubscribes_and_loses_nothing_after() -> None:
    received: list[str] = []

    async def handler(ws: ServerConnection, n: int) -> None:
        await ws_authenticated(ws, received)
        if n == 1:
            await ws.send(fixture(f"{PG}/ws_trades_one.json").decode())
            ws.transport.abort()  # dropped mid-stream, no close frame
            return
        await ws.send(fixture(f"{PG}/ws_subscribed.json").decode())
        for name in (
            "ws_trades_two_one_without_conditions.json",
            "ws_quote.json",
            "ws_minute_agg.json",
            "ws_second_agg.json",
        ):
            await ws.send(fixture(f"{PG}/{name}").decode())
        await ws.wait_closed()

    async with ws_vendor(handler) as (url, auths):
        stream = PolygonStream(
            "test-key", ["T.*", "Q.MSFT", "AM.MSFT"], url, Backoff(0.0, 0.0), _no_wait
        )
        batches = await _collect(stream, lambda got: len(got) == 5)
    events = [e for b in batches for e in b.events]
    bars = [bar for b in batches for bar in b.bars]
    assert stream.connections == 2
    assert [orjson.loads(m)["action"] for m in auths + received] == [
        "auth",
        "auth",
        "subscribe",
        "subscribe",
    ]
    assert orjson.loads(received[-1])["params"] == "T.*,Q.MSFT,AM.MSFT"
    trades = [e for e in events if isinstance(e, Trade)]
    assert [(t.symbol, t.size, t.conditions, t.id) for t in trades] == [
        ("AAPL", 300.0, [14, 41], "4:52983525029412"),
        ("MSFT", 1.0, [14, 37, 41], "12:31527"),
        ("MSFT", 100.0, [], "4:202:1207"),  # "c" absent: a regular trade; one of a TRF
    ]
    first = orjson.loads(fixture(f"{PG}/ws_trades_one.json"))[0]
    assert trades[0].ts == first["t"] * 1_000_000  # milliseconds on the stream
    quote = next(e for e in events if isinstance(e, Quote))
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (
        250.17,
        250.19,
        200.0,  # sizes come in round lots of 100 shares
        300.0,
    )
    minute = next(b for b in bars if b.granularity == "1m")
    agg = orjson.loads(fixture(f"{PG}/ws_minute_agg.json"))[0]
    assert (minute.start, minute.end) == (agg["s"] * 1_000_000, agg["e"] * 1_000_000)
    assert (minute.vwap, minute.volume) == (250.1137, 41830.0)  # "z" is a trade size, not a tape
    assert {b.granularity for b in bars} == {"1m", "1s"}


async def test_a_wrong_key_is_not_retried() -> None:
    async def handler(ws: ServerConnection, _n: int) -> None:
        await ws.send(fixture(f"{PG}/ws_auth_failed.json").decode())
        await ws.wait_closed()

    async with ws_vendor(handler) as (url, _auths):
        stream = PolygonStream("bad-key", ["T.AAPL"], url, Backoff(0.0, 0.0), _no_wait)
        with pytest.raises(VendorError) as caught:
            await _collect(stream, lambda got: True)
    assert caught.value.reason == "unauthorized"
    assert stream.connections == 1


async def test_bad_frames_are_rejected_and_the_stream_goes_on() -> None:
    async def handler(ws: ServerConnection, _n: int) -> None:
        await ws_authenticated(ws, [])
        await ws.send("not json at all")
        await ws.send(
            orjson.dumps(
                [{"ev": "XQ", "sym": "AAPL"}, {"ev": "T", "sym": "AAPL", "p": 1.0}]
            ).decode()
        )
        await ws.send(fixture(f"{PG}/ws_trades_one.json").decode())
        await ws.wait_closed()

    async with ws_vendor(handler) as (url, _auths):
        stream = PolygonStream("k", ["T.AAPL"], url, Backoff(0.0, 0.0), _no_wait)
        batches = await _collect(stream, lambda got: len(got) == 3)
    reasons = [r.reason for b in batches for r in b.rejected]
    assert reasons == ["malformed", "unknown_event", "malformed"]
    assert [e.symbol for e in batches[2].events] == ["AAPL"]


@pytest.mark.parametrize("name", ["ws_max_connections.json", "ws_disconnected.json"])
async def test_a_refused_session_backs_off_and_gives_up_with_the_vendor_s_words(
    name: str,
) -> None:
    refusal = orjson.loads(fixture(f"{PG}/{name}"))[0]

    async def handler(ws: ServerConnection, _n: int) -> None:
        await ws.send(fixture(f"{PG}/{name}").decode())  # the answer to auth
        await ws.close()

    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    before = metrics.VENDOR_WS_REFUSED.labels("polygon", refusal["status"])._value.get()
    async with ws_vendor(handler) as (url, _auths):
        stream = PolygonStream(
            "k",
            ["T.AAPL"],
            url,
            Backoff(1.0, 4.0, random.Random(1)),  # noqa: S311 - jitter, not secrets
            wait,
            max_refusals=4,
        )
        with pytest.raises(VendorError) as caught:
            await _collect(stream, lambda got: True)
    assert caught.value.reason == "refused"
    assert refusal["message"] in caught.value.detail
    assert "4 refusals in a row" in caught.value.detail
    assert stream.connections == 4
    # three waits between four attempts, each within its doubling ceiling: 1, 2, 4 s
    assert len(waits) == 3
    assert all(c / 2 <= w <= c for w, c in zip(waits, [1.0, 2.0, 4.0], strict=True))
    after = metrics.VENDOR_WS_REFUSED.labels("polygon", refusal["status"])._value.get()
    assert after - before == 4


async def test_data_between_refusals_starts_the_count_again() -> None:
    """Refused at auth, then served and evicted mid-stream by a newer connection, then served:
    three refusals' worth of trouble, but never two in a row, the stream's limit."""

    async def handler(ws: ServerConnection, n: int) -> None:
        if n == 1:
            await ws.send(fixture(f"{PG}/ws_auth_timeout.json").decode())
            await ws.close()
            return
        await ws_authenticated(ws, [])
        await ws.send(fixture(f"{PG}/ws_trades_one.json").decode())
        if n == 2:
            await ws.send(fixture(f"{PG}/ws_max_connections.json").decode())
            await ws.close()
            return
        await ws.wait_closed()

    async with ws_vendor(handler) as (url, _auths):
        stream = PolygonStream("k", ["T.AAPL"], url, Backoff(0.0, 0.0), _no_wait, max_refusals=2)
        batches = await _collect(stream, lambda got: len(got) == 2)
    assert [e.symbol for b in batches for e in b.events] == ["AAPL", "AAPL"]
    assert stream.connections == 3
    assert stream.refusals == 0
