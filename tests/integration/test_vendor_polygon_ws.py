"""The Polygon WebSocket client against a local WebSocket server that speaks the recorded
status frames and events, and drops the connection mid-stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import orjson
import pytest
from websockets.asyncio.server import ServerConnection

from marketpulse.policy import Backoff
from marketpulse.schemas.events import Quote, Trade
from marketpulse.vendors.http import VendorError
from marketpulse.vendors.polygon_ws import Batch, PolygonStream
from tests.vendor_helpers import sample, ws_array, ws_authenticated, ws_vendor

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
            await ws.send(
                sample(f"{PG}/ws_stocks_T_array_single__client-python_mock_server.json").decode()
            )
            ws.transport.abort()  # dropped mid-stream, no close frame
            return
        for name in ("ws_stocks_T_array_two_events__client-python_mock_server.json",):
            await ws.send(sample(f"{PG}/{name}").decode())
        for name in (
            "spec_example_ws_stocks_Q.json",
            "spec_example_ws_stocks_AM.json",
            "spec_example_ws_stocks_A.json",
        ):
            await ws.send(ws_array(name).decode())
        await ws.wait_closed()

    async with ws_vendor(handler) as (url, auths):
        stream = PolygonStream(
            "test-key", ["T.*", "Q.MSFT", "AM.GTE"], url, Backoff(0.0, 0.0), _no_wait
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
    assert orjson.loads(received[-1])["params"] == "T.*,Q.MSFT,AM.GTE"
    trades = [e for e in events if isinstance(e, Trade)]
    assert [(t.symbol, t.size, t.conditions) for t in trades] == [
        ("AAPL", 300.0, [14, 41]),
        ("AMZN", 1.0, [14, 37, 41]),
        ("AMZN", 100.0, []),
    ]
    assert trades[0].ts == 1651684192462 * 1_000_000
    quote = next(e for e in events if isinstance(e, Quote))
    assert (quote.bid, quote.ask, quote.bid_size, quote.ask_size) == (
        114.125,
        114.128,
        10_000.0,
        16_000.0,
    )
    minute = next(b for b in bars if b.granularity == "1m")
    assert (minute.start, minute.end) == (1610144640000 * 1_000_000, 1610144700000 * 1_000_000)
    assert (minute.vwap, minute.volume) == (0.4488, 4110.0)
    assert {b.granularity for b in bars} == {"1m", "1s"}


async def test_a_wrong_key_is_not_retried() -> None:
    async def handler(ws: ServerConnection, _n: int) -> None:
        await ws.send(sample(f"{PG}/ws_status_auth_failed__client-php_issue17.json").decode())
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
        await ws.send(
            sample(f"{PG}/ws_stocks_T_array_single__client-python_mock_server.json").decode()
        )
        await ws.wait_closed()

    async with ws_vendor(handler) as (url, _auths):
        stream = PolygonStream("k", ["T.AAPL"], url, Backoff(0.0, 0.0), _no_wait)
        batches = await _collect(stream, lambda got: len(got) == 3)
    reasons = [r.reason for b in batches for r in b.rejected]
    assert reasons == ["malformed", "unknown_event", "malformed"]
    assert [e.symbol for e in batches[2].events] == ["AAPL"]
