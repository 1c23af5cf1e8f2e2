"""Bars by activity (every N trades, N shares, N of value) against independent computations,
fed in an order that event time corrects, and carried through a checkpoint."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.sessions import cut_for
from marketpulse.schemas.bars import Bar

S = 1_000_000_000
GRACE = 2 * S


def _trades(count: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = 1_700_000_000 * S + np.cumsum(rng.integers(1, 400, count)) * 10_000_000
    price = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.001, count))), 4)
    size = rng.integers(1, 30, count) * 10.0
    return pd.DataFrame({"ts": ts, "price": price, "size": size})


def _arrival_order(trades: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The trades as a feed delivers them: each up to a second late, never past the grace."""
    rng = np.random.default_rng(seed)
    arrival = trades["ts"] + rng.integers(0, S, len(trades))
    return trades.iloc[np.argsort(arrival.to_numpy(), kind="stable")]


def _build(name: str, trades: pd.DataFrame, checkpoint_every: int = 0) -> list[Bar]:
    cuts = {name: cut_for(name, None)}
    builder = BarBuilder("X", cuts)
    bars: list[Bar] = []
    stream_time = 0
    for i, (ts, price, size) in enumerate(trades.itertuples(index=False)):
        builder.add_trade(int(ts), float(price), float(size))
        stream_time = max(stream_time, int(ts))
        bars += builder.close(stream_time, GRACE)
        if checkpoint_every and i % checkpoint_every == 0:
            state = orjson.loads(orjson.dumps(builder.state()))
            builder = BarBuilder.from_state(cuts, state)
    return bars + builder.close(stream_time + 10 * GRACE, GRACE)


def _expected(trades: pd.DataFrame, group: np.ndarray) -> pd.DataFrame:
    g = trades.assign(group=group).groupby("group", sort=True)
    return pd.DataFrame({"start": g["ts"].first(), "end": g["ts"].last() + 1,
                         "open": g["price"].first(), "high": g["price"].max(),
                         "low": g["price"].min(), "close": g["price"].last(),
                         "volume": g["size"].sum(), "trades": g["ts"].count()})  # fmt: skip


def _groups_by_threshold(measure: np.ndarray, threshold: float) -> np.ndarray:
    """Each trade's bar: a bar closes on the trade that takes its sum to the threshold."""
    group, total, out = 0, 0.0, []
    for value in measure:
        out.append(group)
        total += value
        if total >= threshold:
            group, total = group + 1, 0.0
    return np.array(out)


@pytest.mark.parametrize(
    ("name", "measure", "threshold"),
    [("t50", "count", 50), ("v5000", "size", 5000), ("d400000", "value", 400_000)],
)
def test_activity_bars_equal_an_independent_computation(
    name: str, measure: str, threshold: float
) -> None:
    trades = _trades(3000, 1)
    values = {"count": np.ones(len(trades)), "size": trades["size"].to_numpy(),
              "value": (trades["price"] * trades["size"]).to_numpy()}[measure]  # fmt: skip
    groups = _groups_by_threshold(values, threshold)
    want = _expected(trades, groups)
    # published: the bars that reached the threshold (all but, perhaps, the last)
    reached = (pd.Series(values).groupby(groups).sum() >= threshold).to_numpy()
    expected = want[reached].reset_index(drop=True)
    bars = _build(name, _arrival_order(trades, 2))
    got = pd.DataFrame([(b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.trades)
                        for b in bars], columns=want.columns)  # fmt: skip
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert {b.granularity for b in bars} == {name}
    assert all(b.vwap == pytest.approx(
        (trades["price"] * trades["size"])[(trades["ts"] >= b.start) & (trades["ts"] < b.end)].sum()
        / b.volume) for b in bars[:5])  # fmt: skip


def test_a_checkpoint_between_trades_changes_no_bar() -> None:
    trades = _arrival_order(_trades(1500, 3), 4)
    assert _build("v3000", trades, checkpoint_every=7) == _build("v3000", trades)


def test_a_trade_that_crosses_the_threshold_is_not_split() -> None:
    builder = BarBuilder("X", {"v100": cut_for("v100", None)})
    for i, size in enumerate((60.0, 70.0, 10.0)):
        builder.add_trade(i * S, 10.0 + i, size)
    (bar,) = builder.close(10 * S, 0)
    assert (bar.volume, bar.trades, bar.close) == (130.0, 2, 11.0)  # 60 + 70: one bar
    assert builder.open["v100"][0][5] == 10.0  # the third trade starts the next


def test_trades_of_one_time_keep_their_arrival_order_across_a_checkpoint() -> None:
    cuts = {"t3": cut_for("t3", None)}
    builder = BarBuilder("X", cuts)
    builder.add_trade(5 * S, 12.0, 1.0)
    builder = BarBuilder.from_state(cuts, orjson.loads(orjson.dumps(builder.state())))
    builder.add_trade(5 * S, 11.0, 1.0)  # the same time, cheaper, later
    builder.add_trade(4 * S, 13.0, 1.0)  # earlier in event time, arrived last
    (bar,) = builder.close(5 * S + GRACE, GRACE)
    assert (bar.open, bar.close) == (13.0, 11.0)


def test_a_trade_settles_exactly_at_stream_time_minus_grace_and_is_waited_for_till_then() -> None:
    builder = BarBuilder("X", {"t1": cut_for("t1", None), "1m": cut_for("1m", None)})
    builder.add_trade(10 * S, 10.0, 1.0)
    builder.add_trade(11 * S, 11.0, 1.0)
    assert builder.next_close(GRACE) == 10 * S + GRACE  # the first pending trade settles then
    assert builder.close(10 * S + GRACE - 1, GRACE) == []
    (bar,) = builder.close(10 * S + GRACE, GRACE)
    assert (bar.granularity, bar.start, bar.end) == ("t1", 10 * S, 10 * S + 1)
    assert builder.next_close(GRACE) == 11 * S + GRACE


def test_activity_bars_listed_first_hold_no_time_bar_back() -> None:
    builder = BarBuilder("X", {"t2": cut_for("t2", None), "1m": cut_for("1m", None)})
    for second in (1, 2, 61):
        builder.add_trade(second * S, 10.0 + second, 1.0)
    closed = builder.close(200 * S, GRACE)
    assert sorted((b.granularity, b.start) for b in closed) == [
        ("1m", 0), ("1m", 60 * S), ("t2", 1 * S),
    ]  # fmt: skip


def test_a_state_from_before_activity_bars_restores_with_nothing_pending() -> None:
    state = {"symbol": "X", "open": {"t5": []}}
    builder = BarBuilder.from_state({"t5": cut_for("t5", None)}, state)
    assert builder.pending == []
