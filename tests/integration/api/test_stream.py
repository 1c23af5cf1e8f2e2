"""The live WebSocket: token checks, subscriptions, records from the analytics topics, and a
slow client closed without holding up the others."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import jwt
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

from marketpulse import metrics
from marketpulse.api.main import create_app
from marketpulse.streams.topics import FORMING, INDICATORS, bars_topic_name
from tests.api_helpers import (
    SECRET,
    Account,
    ApiStack,
    api_settings,
    serve,
    sign_in,
    ws_reply,
)
from tests.factories import make_bar, make_snapshot
from tests.kafka_helpers import produce

pytestmark = [pytest.mark.integration]
START = 1_700_006_400 * 10**9


@pytest.fixture(scope="module")
async def live(api: ApiStack) -> AsyncIterator[str]:
    """An API whose live feed is reading; clients may queue 200 messages."""
    settings = api_settings(api.settings, ws_queue_size=200)
    app = create_app(settings)
    async with serve(settings, app) as url:
        deadline = time.monotonic() + 30
        while not app.state.feed_ready.is_set():
            assert time.monotonic() < deadline, "the live feed did not start"
            await asyncio.sleep(0.05)
        yield url.replace("http://", "ws://") + "/api/v1/stream"


async def _subscribe(ws: ClientConnection, channels: list[str], symbols: list[str]) -> None:
    await ws.send(
        orjson.dumps({"action": "subscribe", "channels": channels, "symbols": symbols}).decode()
    )
    await ws_reply(ws, "subscribed")


async def test_a_bad_token_is_closed_with_1008(api: ApiStack, live: str) -> None:
    for url in (live, f"{live}?token=not-a-token"):
        async with connect(url) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008


async def test_a_binary_frame_is_closed_with_1003_and_others_go_on(
    api: ApiStack, live: str
) -> None:
    account = await sign_in(api.client, api.pool, "user")
    async with (
        connect(f"{live}?token={account.access}") as ws,
        connect(f"{live}?token={account.access}") as other,
    ):
        await ws.send(b'{"action": "ping"}')
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
        await other.send(orjson.dumps({"action": "ping"}).decode())
        assert (await ws_reply(other, "pong"))["type"] == "pong"
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1003
    assert "text frames" in closed.value.rcvd.reason


async def test_the_connection_ends_when_its_token_expires(api: ApiStack, live: str) -> None:
    account: Account = await sign_in(api.client, api.pool, "user")
    claims = jwt.decode(account.access, SECRET, algorithms=["HS256"])
    claims["exp"] = int(time.time()) + 2
    short = jwt.encode(claims, SECRET, "HS256")
    async with connect(f"{live}?token={short}") as ws:
        await _subscribe(ws, ["bars"], ["AAPL"])
        # no record is sent for AAPL here; the next thing to arrive is the close
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008
    assert "expired" in closed.value.rcvd.reason


async def test_subscribers_get_their_records_only(api: ApiStack, live: str) -> None:
    account: Account = await sign_in(api.client, api.pool, "user")
    async with connect(live, additional_headers=account.headers) as ws:
        await ws.send('{"action": "subscribe", "channels": ["trades"], "symbols": ["AAPL"]}')
        assert (await ws_reply(ws, "error"))["code"] == "INVALID_SUBSCRIPTION"
        await ws.send("not json")
        assert (await ws_reply(ws, "error"))["code"] == "INVALID_MESSAGE"
        await _subscribe(ws, ["bars"], ["wsa"])
        await ws.send('{"action": "ping"}')
        await ws_reply(ws, "pong")
        topic = api.settings.topic(bars_topic_name("1m"))
        other = make_bar("WSB", "1m", START)
        mine = [make_bar("WSA", "1m", START + i * 60 * 10**9, 100 + i) for i in range(3)]
        await produce(
            api.settings,
            topic,
            [(b.symbol.encode(), b.model_dump_json().encode()) for b in [other, *mine]],
        )
        got = [await ws_reply(ws, "bars") for _ in mine]
        assert [m["data"]["start"] for m in got] == [b.start for b in mine]
        assert {m["symbol"] for m in got} == {"WSA"}
        await ws.send('{"action": "unsubscribe", "channels": ["bars"], "symbols": ["WSA"]}')
        assert (await ws_reply(ws, "unsubscribed"))["subscriptions"] == []


async def test_the_forming_channel_streams_bars_still_open(api: ApiStack, live: str) -> None:
    account: Account = await sign_in(api.client, api.pool, "user")
    async with connect(live, additional_headers=account.headers) as ws:
        await _subscribe(ws, ["forming"], ["WSF"])
        forming = [make_snapshot("WSF", "1m", START, {"sma_2": 100.0 + i}, final=False)
                   for i in range(2)]  # fmt: skip
        closed = make_snapshot("WSF", "1m", START, {"sma_2": 101.0})
        await produce(api.settings, api.settings.topic(INDICATORS.name),
                      [(b"WSF", closed.model_dump_json().encode())])  # fmt: skip
        await produce(api.settings, api.settings.topic(FORMING.name),
                      [(b"WSF", s.model_dump_json().encode()) for s in forming])  # fmt: skip
        got = [await ws_reply(ws, "forming") for _ in forming]
        # only the forming records: the closed snapshot goes to the indicators channel
        assert [m["data"]["values"]["sma_2"] for m in got] == [100.0, 101.0]
        assert [m["data"]["final"] for m in got] == [False, False]
        assert [m["data"]["bar"]["final"] for m in got] == [False, False]


class StalledClient:
    """A WebSocket client that stops reading: a raw socket with a small receive buffer driven by
    websockets' sans-I/O protocol (client libraries keep reading into memory on their own)."""

    def __init__(self, url: str) -> None:
        self.protocol = ClientProtocol(parse_uri(url))
        self.messages: list[bytes | str] = []
        self._reader: asyncio.StreamReader
        self._writer: asyncio.StreamWriter

    async def open(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(
            sock, (self.protocol.uri.host, self.protocol.uri.port)
        )
        self._reader, self._writer = await asyncio.open_connection(sock=sock, limit=4096)
        self.protocol.send_request(self.protocol.connect())
        await self._flush()
        while self.protocol.state is State.CONNECTING:
            await self._read_once()
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc

    async def _flush(self) -> None:
        self._writer.write(b"".join(self.protocol.data_to_send()))
        await self._writer.drain()

    async def _read_once(self) -> bool:
        data = await asyncio.wait_for(self._reader.read(65536), 30)
        if not data:
            self.protocol.receive_eof()
            return False
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode in (Opcode.TEXT, Opcode.BINARY):
                self.messages.append(event.data)
        await self._flush()  # pongs and the close reply
        return True

    async def send(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        await self._flush()

    async def read_until_closed(self) -> None:
        while self.protocol.close_rcvd is None and await self._read_once():
            pass
        self._writer.close()


async def test_a_slow_client_is_closed_and_others_keep_up(api: ApiStack, live: str) -> None:
    account: Account = await sign_in(api.client, api.pool, "user")
    token = f"{live}?token={account.access}"
    count = 3000
    values = {f"value_{i}": float(i) for i in range(200)}  # about 3 kB a message, 10 MB in all
    snapshots = [make_snapshot("WSS", "1m", START + i * 60 * 10**9, values) for i in range(count)]
    before = metrics.WS_DROPPED._value.get()
    slow = StalledClient(token)
    await slow.open()
    await slow.send('{"action": "subscribe", "channels": ["indicators"], "symbols": ["WSS"]}')
    async with connect(token) as fast:
        await _subscribe(fast, ["indicators"], ["WSS"])
        await produce(
            api.settings,
            api.settings.topic(INDICATORS.name),
            [(b"WSS", s.model_dump_json().encode()) for s in snapshots],
        )
        received = [await ws_reply(fast, "indicators") for _ in range(count)]
        assert [m["data"]["bar_start"] for m in received] == [s.bar_start for s in snapshots]
    await slow.read_until_closed()
    assert slow.protocol.close_rcvd is not None
    assert slow.protocol.close_rcvd.code == 1013
    assert orjson.loads(slow.messages[0])["type"] == "subscribed"
    assert len(slow.messages) < count
    assert metrics.WS_DROPPED._value.get() == before + 1
