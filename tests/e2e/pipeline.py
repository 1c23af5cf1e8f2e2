"""A pipeline of its own for one test: a topic namespace, a worker group, helpers to read it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import orjson
import pandas as pd
import pytest
from aiokafka.structs import ConsumerRecord

from marketpulse.schemas.events import Frame, Trade
from marketpulse.settings import Settings
from tests.kafka_helpers import consume_until, unique
from tests.workers import WorkerProcess

READY = "[^---Recovery]: Worker ready"
S = 1_000_000_000
M = 60 * S
GRACE = 2 * S  # the default grace_ms


class Pipeline:
    """Workers that share a namespace and a group; everything the test reads comes from them."""

    def __init__(self, base: Settings, tmp_path: Path, **env: str) -> None:
        self.prefix = unique("t") + "."
        # a database of its own, empty unless the test stores bars: series start cold, as the
        # test's own bars expect, whatever other tests have stored
        env = {
            "MARKETPULSE_INFLUX_DATABASE": unique("db").replace("-", "_"),
            # the broker holds a group's joins for half of it: a worker starts (and a restarted
            # one takes over) in seconds, not ten
            "MARKETPULSE_KAFKA_SESSION_TIMEOUT_S": "4",
            **env,
        }
        overrides = {
            key.removeprefix("MARKETPULSE_").lower(): orjson.loads(v)
            if v.startswith(("[", "{"))
            else v
            for key, v in env.items()
        }
        self.settings = Settings.model_validate(
            {**base.model_dump(), **overrides, "topic_prefix": self.prefix}
        )
        self.env = {
            "MARKETPULSE_TOPIC_PREFIX": self.prefix,
            "MARKETPULSE_WORKER_ID": unique("w"),
            "MARKETPULSE_WORKER_METRICS_PORT": "0",
            **env,
        }
        self.tmp_path = tmp_path
        self.workers: list[WorkerProcess] = []

    def start_worker(self) -> WorkerProcess:
        log = self.tmp_path / f"worker{len(self.workers)}.log"
        worker = WorkerProcess(["-m", "marketpulse.cli", "worker"], self.env, log)
        self.workers.append(worker)
        worker.wait_for_log(READY)
        return worker

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()  # one that exited by itself still has its log to close

    async def read(
        self, topic: str, count: int, timeout_s: float = 90
    ) -> list[ConsumerRecord[bytes, bytes]]:
        """Every record on one of our topics, once at least ``count`` have arrived."""
        return await consume_until(
            self.settings, [self.prefix + topic], lambda rs: len(rs) >= count, timeout_s
        )


def decoded(records: list[ConsumerRecord[bytes, bytes]]) -> list[dict[str, object]]:
    """The JSON values of records."""
    return [orjson.loads(r.value) for r in records]


@contextlib.contextmanager
def one_partition(
    base: Settings, tmp_path: Path, granularities: str, indicators: str, **env: str
) -> Iterator[Pipeline]:
    """A pipeline whose topics have one partition: every symbol shares the stream time, so which
    bars have closed follows from the newest event alone."""
    pipeline = Pipeline(
        base,
        tmp_path,
        MARKETPULSE_TOPIC_PARTITIONS="1",
        MARKETPULSE_GRANULARITIES=granularities,
        MARKETPULSE_INDICATORS=indicators,
        **env,
    )
    try:
        yield pipeline
    finally:
        pipeline.stop()


def one_trade_frames(trades: list[Trade]) -> list[tuple[int, str, Frame]]:
    """Each trade as a frame of its own, received at its event time, for ``replay.publish``."""
    return [(t.ts, t.symbol, Frame(source="test", received_ts=t.ts, events=[t])) for t in trades]


def expected_bars(trades: list[Trade], length: int, horizon: int) -> pd.DataFrame:
    """An independent resample of ``trades``: the bars of ``length`` closed at stream time
    ``horizon``."""
    frame = pd.DataFrame([(t.ts, t.price, t.size) for t in trades], columns=["ts", "p", "v"])
    frame["start"] = frame["ts"] - frame["ts"] % length
    frame["pv"] = frame["p"] * frame["v"]
    g = frame.groupby("start")
    bars = pd.DataFrame(
        {"open": g["p"].first(), "high": g["p"].max(), "low": g["p"].min(),
         "close": g["p"].last(), "volume": g["v"].sum(), "trades": g["p"].count(),
         "vwap": g["pv"].sum() / g["v"].sum()}
    )  # fmt: skip
    return bars[bars.index + length + GRACE <= horizon]


def assert_bars_equal(bars: list[dict[str, object]], symbol: str, expected: pd.DataFrame) -> None:
    """``symbol``'s bars among ``bars`` are exactly the ``expected`` rows."""
    ours = sorted((b for b in bars if b["symbol"] == symbol), key=lambda b: int(str(b["start"])))
    assert [b["start"] for b in ours] == list(expected.index)
    for bar, (_, row) in zip(ours, expected.iterrows(), strict=True):
        assert (bar["open"], bar["high"], bar["low"], bar["close"]) == (
            row["open"], row["high"], row["low"], row["close"]
        )  # fmt: skip
        assert bar["volume"] == pytest.approx(row["volume"])
        assert bar["trades"] == row["trades"]


def minute_frames(
    symbol: str, t0: int, minutes: int, seed: int, seconds: tuple[int, ...] = (3, 20, 41)
) -> list[Frame]:
    """One frame per minute from ``t0``, of that minute's trades at ``seconds``: a random walk
    of cent prices from 100, with sizes of 1 to 8."""
    rng = np.random.default_rng(seed)
    price, frames = 100.0, []
    for minute in range(minutes):
        trades = []
        for second in seconds:
            price = round(price * float(np.exp(rng.normal(0, 0.004))), 2)
            ts = t0 + minute * M + second * S
            trades.append(Trade(symbol=symbol, ts=ts, price=price, size=float(rng.integers(1, 9))))
        frames.append(Frame(source="test", received_ts=trades[-1].ts, events=trades))
    return frames
