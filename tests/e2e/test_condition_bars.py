"""Trade conditions, stream = batch: a recorded Polygon WebSocket session through the real
client (its condition rules fetched from a local server in Polygon's format), the broker and a
worker gives the bars `marketpulse bars` gives on the same trades with the same rules."""

from __future__ import annotations

import asyncio
import contextlib
import csv
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pandas as pd
import pytest
from aiohttp import web
from pydantic import SecretStr
from websockets.asyncio.server import ServerConnection

from marketpulse.cli import main
from marketpulse.files.bar_files import iso_local
from marketpulse.settings import Settings
from marketpulse.storage.postgres import migrate
from marketpulse.streams.sources.vendor import stream_polygon
from tests.e2e.pipeline import Pipeline, decoded, one_partition
from tests.kafka_helpers import unique
from tests.vendor_helpers import Answer, fake_vendor, fixture, ws_authenticated, ws_vendor

pytestmark = [pytest.mark.e2e]
UTC = ZoneInfo("UTC")


@pytest.fixture
def pipeline(services: Settings, tmp_path: Path) -> Iterator[Pipeline]:
    with one_partition(services, tmp_path, '["1m"]', '["sma_3"]') as p:
        yield p


def _session(symbol: str) -> list[list[dict[str, object]]]:
    frames: list[list[dict[str, object]]] = orjson.loads(fixture("polygon/ws_trades_session.json"))
    return [[dict(event, sym=symbol) for event in frame] for frame in frames]


def _conditions_response(tmp_path: Path) -> Path:
    """Both pages of the vendor's answer as one response, for the batch command."""
    pages = [orjson.loads(fixture(f"polygon/{name}.json"))
             for name in ("reference_conditions", "reference_conditions_page2")]  # fmt: skip
    path = tmp_path / "conditions.json"
    path.write_bytes(orjson.dumps({"results": [r for page in pages for r in page["results"]]}))
    return path


def _trades_file(tmp_path: Path, frames: list[list[dict[str, object]]]) -> Path:
    trades = [e for frame in frames for e in frame if e["ev"] == "T"]
    table = pd.DataFrame({
        "timestamp": [pd.Timestamp(int(e["t"]), unit="ms", tz="UTC").isoformat()  # type: ignore[call-overload]
                      for e in trades],
        "price": [e["p"] for e in trades],
        "size": [e["s"] for e in trades],
        "conditions": [";".join(map(str, e.get("c", []))) for e in trades],  # type: ignore[call-overload]
    })  # fmt: skip
    path = tmp_path / "trades.csv"
    table.to_csv(path, index=False)
    return path


def _batch(tmp_path: Path, trades: Path, symbol: str, *conditions: str) -> list[tuple[str, ...]]:
    out = tmp_path / "batch.csv"
    args = ["bars", "--input", str(trades), "--output", str(out), "--granularity", "1m",
            "--symbol", symbol, *conditions]  # fmt: skip
    assert main(args) == 0
    with out.open() as handle:
        return [tuple(row) for row in csv.reader(handle)][1:]


def _rows(bars: list[dict[str, object]]) -> list[tuple[str, ...]]:
    return [
        (iso_local(int(b["start"]), UTC), str(b["symbol"]), str(b["granularity"]),  # type: ignore[call-overload]
         *(repr(float(b[k])) for k in ("open", "high", "low", "close", "volume")))  # type: ignore[arg-type]
        for b in sorted(bars, key=lambda b: int(b["start"]))  # type: ignore[call-overload]
    ]  # fmt: skip


async def test_a_polygon_session_makes_the_bars_the_batch_makes_by_the_same_rules(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    symbol = unique("C").upper().replace("-", "")[:10]
    frames = _session(symbol)
    trades = _trades_file(tmp_path, frames)
    expected = _batch(tmp_path, trades, symbol, "--conditions",
                      f"polygon={_conditions_response(tmp_path)}")  # fmt: skip
    # the rules matter in this session: every trade setting everything gives other bars
    assert _batch(tmp_path, trades, symbol) != expected
    assert len(expected) == 4

    def rest(request: web.Request) -> Answer:
        if "cursor" in request.query:
            return Answer(fixture("polygon/reference_conditions_page2.json"))
        page = orjson.loads(fixture("polygon/reference_conditions.json"))
        next_url = f"{server.url}/v3/reference/conditions?cursor=Mg"
        return Answer(orjson.dumps({**page, "next_url": next_url}))

    async def session(ws: ServerConnection, _n: int) -> None:
        await ws_authenticated(ws, [])
        for frame in frames:
            await ws.send(orjson.dumps(frame).decode())
        await ws.wait_closed()

    await migrate(pipeline.settings)
    pipeline.start_worker()
    async with fake_vendor(rest) as server, ws_vendor(session) as (url, _auths):
        settings = pipeline.settings.model_copy(update={
            "polygon_api_key": SecretStr("test-key"), "polygon_url": server.url,
            "polygon_ws_url": url,
            "polygon_per_minute": 1000,
        })  # fmt: skip
        task = asyncio.create_task(stream_polygon(settings, [symbol], ["T", "Q"], 10))
        try:
            bars = decoded(await pipeline.read("market.bars.1m", len(expected)))
            raw = decoded(await pipeline.read("market.raw", 1))
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert _rows(bars) == expected
    marked = {tuple(e["conditions"]): e["updates"] for f in raw for e in f["events"]  # type: ignore[attr-defined]
              if e["kind"] == "trade"}  # fmt: skip
    assert marked[(37,)] == ["volume"]
    assert marked[(32,)] == ["high_low", "volume"]
    assert marked[(15,)] == []
    assert marked[()] is None
