"""Trade conditions: which trades set which parts of a bar, against the vendor's rules applied
independently (pandas, straight from the vendor-format table shipped in the package)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import orjson
import pandas as pd
import pytest

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.conditions import (
    EVERY_PART,
    HIGH_LOW,
    OPEN_CLOSE,
    VOLUME,
    ConditionTable,
    mask_of,
    parts_of,
)
from marketpulse.analytics.ingest import SymbolState
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.sessions import cut_for
from marketpulse.analytics.step_io import MemoryStore, Message, StepOutputs
from marketpulse.analytics.steps import apply_frame
from marketpulse.analytics.ticks import tick_of
from marketpulse.conditions import mark, shipped, table_from
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import Frame, Trade
from marketpulse.settings import Settings
from marketpulse.vendors.polygon import parse_conditions

S = 1_000_000_000
M = 60 * S
T0 = 1_700_000_040 * S  # a minute boundary
FAR = 1 << 62

# Polygon's codes: 14 intermarket sweep (sets everything), 37 odd lot (volume only), 2 average
# price (volume only), 32 sold out of sequence (high/low and volume), 22 prior reference price
# (high/low and volume), 15 market center official close (nothing), 12 Form T (volume only)
REGULAR, SWEEP, ODD_LOT, AVERAGE, OUT_OF_SEQUENCE, PRIOR, OFFICIAL_CLOSE = (
    [], [14], [37], [2], [32], [22], [15]
)  # fmt: skip


def vendor_rules() -> dict[int, dict[str, bool]]:
    """The shipped table read as plain JSON: each trade condition's consolidated rules."""
    text = resources.files("marketpulse.vendors.data").joinpath("polygon_conditions.json")
    body = json.loads(text.read_text())
    return {
        row["id"]: row["update_rules"]["consolidated"]
        for row in body["results"]
        if "trade" in row["data_types"]
    }


def expected_bars(
    trades: list[tuple[int, float, float, list[int]]], length: int = M
) -> list[dict[str, Any]]:
    """Bars of ``length`` (minutes unless said) by the vendor's rules, computed with pandas: a
    trade sets a part only when every one of its conditions allows it; a bar with no trade that
    may set the open has none; the high and low take in the open and close."""
    rules = vendor_rules()

    def allows(codes: list[int], key: str) -> bool:
        return all(rules[c][key] for c in codes if c in rules)

    frame = pd.DataFrame(
        [
            {
                "ts": ts, "price": price, "size": size, "minute": ts - ts % length,
                "oc": allows(codes, "updates_open_close"),
                "hl": allows(codes, "updates_high_low"),
                "vol": allows(codes, "updates_volume"),
            }
            for ts, price, size, codes in trades
        ]
    ).sort_values("ts", kind="stable")  # fmt: skip
    out = []
    for minute, group in frame.groupby("minute"):
        oc = group[group.oc]
        if oc.empty:
            continue
        first, last = oc.price.iloc[0], oc.price.iloc[-1]
        hl, vol = group[group.hl], group[group.vol]
        out.append({
            "start": int(minute), "open": first, "close": last,
            "high": max([*hl.price, first, last]), "low": min([*hl.price, first, last]),
            "volume": float(vol["size"].sum()), "trades": len(vol),
            "vwap": float((vol.price * vol["size"]).sum() / vol["size"].sum())
            if vol["size"].sum() > 0 else None,
        })  # fmt: skip
    return out


# A realistic minute-by-minute sequence: odd lots at the extremes, an average-price print far
# from the market, an out-of-sequence print setting a high, an official close setting nothing,
# a sweep that is also an odd lot, a code the table does not know, a minute of odd lots only.
SEQUENCE: list[tuple[int, float, float, list[int]]] = [
    (T0 + 1 * S, 100.00, 100, REGULAR),
    (T0 + 2 * S, 99.00, 7, ODD_LOT),  # would be the low
    (T0 + 3 * S, 100.50, 200, SWEEP),
    (T0 + 4 * S, 95.00, 5000, AVERAGE),  # far from the market: no price at all
    (T0 + 5 * S, 101.00, 100, OUT_OF_SEQUENCE),  # a high, not a close
    (T0 + 6 * S, 100.25, 30, SWEEP + ODD_LOT),  # an odd lot whatever else it is
    (T0 + 7 * S, 100.10, 100, REGULAR),
    (T0 + 8 * S, 100.40, 0, OFFICIAL_CLOSE),
    (T0 + M + 1 * S, 100.30, 10, ODD_LOT),  # the second minute opens with an odd lot...
    (T0 + M + 2 * S, 100.20, 100, PRIOR),  # ...a prior-reference print...
    (T0 + M + 3 * S, 100.35, 300, [99]),  # ...an unknown code: no say, so a regular trade
    (T0 + M + 4 * S, 100.15, 100, REGULAR),
    (T0 + 2 * M + 5 * S, 100.90, 20, ODD_LOT),  # a minute of odd lots only: no bar
    (T0 + 2 * M + 6 * S, 100.95, 40, ODD_LOT),
    (T0 + 3 * M + 1 * S, 101.10, 100, REGULAR),
]


def trades_of(sequence: list[tuple[int, float, float, list[int]]]) -> list[Trade]:
    return [Trade(symbol="AAPL", ts=ts, price=p, size=z, conditions=list(c), source="polygon")
            for ts, p, z, c in sequence]  # fmt: skip


def build(trades: list[Trade], granularities: dict[str, int] | None = None) -> list[Bar]:
    builder = BarBuilder("AAPL", granularities or {"1m": M})
    for trade in trades:
        assert trade.price is not None
        builder.add_trade(trade.ts, trade.price, trade.size, mask_of(trade.updates))
    return builder.close(FAR, 0)


def test_bars_follow_the_vendor_s_rules_for_every_condition() -> None:
    table = shipped("polygon")
    assert table is not None
    bars = build(mark(trades_of(SEQUENCE), table))
    got = [
        {"start": b.start, "open": b.open, "close": b.close, "high": b.high, "low": b.low,
         "volume": b.volume, "trades": b.trades, "vwap": b.vwap}
        for b in bars
    ]  # fmt: skip
    want = expected_bars(SEQUENCE)
    assert [g["start"] for g in got] == [w["start"] for w in want] == [T0, T0 + M, T0 + 3 * M]
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w)
    # what the rules change, said plainly: the odd lot and the average-price print set no low,
    # the out-of-sequence print sets the high but not the close, both count in volume
    first = bars[0]
    assert (first.open, first.high, first.low, first.close) == (100.0, 101.0, 100.0, 100.1)
    assert first.volume == 100 + 7 + 200 + 5000 + 100 + 30 + 100
    assert build(trades_of(SEQUENCE))[0].low == 95.0  # every trade setting everything


def test_in_any_order_within_a_bar_the_open_and_close_are_the_eligible_first_and_last() -> None:
    table = shipped("polygon")
    trades = mark(trades_of(SEQUENCE), table)
    shuffled = [trades[i] for i in (6, 1, 0, 5, 3, 2, 4, 7, 11, 8, 10, 9, 13, 12, 14)]
    assert build(shuffled) == build(trades)


def test_a_source_without_rules_is_unchanged() -> None:
    trades = trades_of(SEQUENCE)
    assert mark(trades, None) == trades
    assert all(t.updates is None for t in trades)
    every = build(trades)
    assert [b.trades for b in every] == [8, 4, 2, 1]
    assert every[0].low == 95.0


def test_a_trade_that_updates_nothing_changes_no_bar_and_is_counted_yet_kept_on_clean() -> None:
    config = Settings(granularities=["1m"]).step_config()
    store, time_ = MemoryStore(), PartitionTime()
    sequence = [
        (T0 + S, 100.0, 100, REGULAR), (T0 + 2 * S, 100.4, 50, OFFICIAL_CLOSE),
        (T0 + 3 * S, 100.3, 0, OFFICIAL_CLOSE), (T0 + M + 5 * S, 100.5, 100, REGULAR),
    ]  # fmt: skip
    trades = mark(trades_of(sequence), shipped("polygon"))
    assert [t.updates for t in trades] == [None, [], [], None]
    frame = Frame(source="polygon", received_ts=T0 + M + 6 * S, events=trades)
    message = Message("market.raw", 0, 0, b"AAPL", frame.model_dump_json().encode())
    out = apply_frame(store, time_, message, T0 + M + 6 * S, config)
    assert out.inert == 2
    clean = [s for s in out.sends if s.topic == "market.clean"]
    assert len(orjson.loads(clean[0].record)["events"]) == 4  # type: ignore[arg-type]
    bars = [s.record for s in out.sends if isinstance(s.record, Bar)]
    assert [(b.open, b.high, b.low, b.close, b.volume, b.trades) for b in bars] == [
        (100.0, 100.0, 100.0, 100.0, 100.0, 1)
    ]


def test_a_bar_no_trade_could_open_is_not_published_and_is_counted() -> None:
    trades = mark(trades_of([(T0 + S, 10.0, 5, ODD_LOT), (T0 + 2 * S, 11.0, 5, ODD_LOT)]),
                  shipped("polygon"))  # fmt: skip
    builder = BarBuilder("AAPL", {"1m": M})
    for t in trades:
        assert t.price is not None
        builder.add_trade(t.ts, t.price, t.size, mask_of(t.updates))
    assert builder.close(FAR, 0) == []
    assert builder.take_unopened() == 1
    assert builder.take_unopened() == 0


def test_a_trade_that_may_set_the_close_but_not_the_high_still_gives_a_well_formed_bar() -> None:
    builder = BarBuilder("AAPL", {"1m": M})
    builder.add_trade(T0 + S, 10.0, 1, EVERY_PART)
    builder.add_trade(T0 + 2 * S, 12.0, 1, OPEN_CLOSE | VOLUME)  # above every high so far
    builder.add_trade(T0 + 3 * S, 8.0, 1, HIGH_LOW)  # a low, not a close
    (bar,) = builder.close(FAR, 0)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume) == (10.0, 12.0, 8.0, 12.0, 2.0)


def test_the_state_of_a_bar_without_prices_yet_survives_a_restart() -> None:
    table = shipped("polygon")
    trades = mark(trades_of(SEQUENCE), table)
    granularities = {"1m": M, "5m": 5 * M, "t3": cut_for("t3", None)}
    whole = build(trades, granularities)
    builder = BarBuilder("AAPL", granularities)
    for i, t in enumerate(trades):
        assert t.price is not None
        if i == 9:  # the second minute holds only an odd lot so far
            state = orjson.loads(orjson.dumps(builder.state()))
            assert state["open"]["1m"][-1][1:5] == [None, None, None, None]
            builder = BarBuilder.from_state(granularities, state)
        builder.add_trade(t.ts, t.price, t.size, mask_of(t.updates))
    assert builder.close(FAR, 0) == whole


def test_tick_and_volume_bars_count_only_what_counts_in_volume() -> None:
    trades = mark(trades_of(SEQUENCE[:8]), shipped("polygon"))
    bars = build(trades, {"t3": cut_for("t3", None), "v300": cut_for("v300", None)})
    ticks = [b for b in bars if b.granularity == "t3"]
    # eight trades, the official close not counted: seven. The first three make a bar; the
    # next three (average price, out of sequence, an odd lot) have no trade that may open one
    assert [b.trades for b in ticks] == [3]
    assert ticks[0].volume == 100 + 7 + 200
    volume = [b for b in bars if b.granularity == "v300"]
    assert volume[0].volume == 307  # a trade closes the bar it takes past the threshold


def test_several_conditions_allow_a_part_only_when_every_one_does() -> None:
    table = ConditionTable("t", {"1": EVERY_PART, "2": VOLUME, "3": HIGH_LOW | VOLUME})
    assert table.mask([]) == (EVERY_PART, [])
    assert table.mask([1]) == (EVERY_PART, [])
    assert table.mask([1, 3]) == (HIGH_LOW | VOLUME, [])
    assert table.mask([3, 2]) == (VOLUME, [])
    assert table.mask(["2", 9, "x"]) == (VOLUME, ["9", "x"])  # unknown: no say, reported
    assert table.version == ConditionTable("u", dict(reversed(table.rules.items()))).version
    assert table.version != ConditionTable("t", {**table.rules, "2": 0}).version
    assert len(table.version) == 12
    assert int(table.version, 16) >= 0
    for mask in range(8):
        assert mask_of(parts_of(mask)) == mask
    assert parts_of(EVERY_PART) is None
    assert parts_of(HIGH_LOW | VOLUME) == ["high_low", "volume"]


def test_unknown_codes_are_counted_per_source() -> None:
    from prometheus_client import REGISTRY

    def unknown() -> float:
        return (
            REGISTRY.get_sample_value("marketpulse_conditions_unknown_total", {"source": "polygon"})
            or 0.0
        )

    before = unknown()
    marked = mark(trades_of([(T0, 1.0, 1, [14, 97, 98])]), shipped("polygon"))
    assert unknown() - before == 2
    assert marked[0].updates is None  # 14 allows everything; 97 and 98 have no say


def test_the_shipped_table_parses_as_the_vendor_publishes_it() -> None:
    table = shipped("polygon")
    assert table is not None
    rules = vendor_rules()
    assert set(table.rules) == {str(code) for code in rules}
    assert table.rules["37"] == VOLUME
    assert table.rules["32"] == HIGH_LOW | VOLUME
    assert table.rules["15"] == 0
    assert table.rules["38"] == OPEN_CLOSE | HIGH_LOW
    assert shipped("synthetic") is None


def test_a_conditions_response_with_other_data_types_and_rows_without_rules() -> None:
    body = {
        "results": [
            {"id": 12, "data_types": ["trade"], "update_rules": {"consolidated": {
                "updates_high_low": False, "updates_open_close": False, "updates_volume": True}}},
            {"id": 12, "data_types": ["bbo", "nbbo"], "name": "a quote condition"},
            {"id": 60, "data_types": ["trade"], "name": "an indicator: no update rules"},
        ]
    }  # fmt: skip
    assert parse_conditions(body) == {"12": VOLUME, "60": EVERY_PART}


def test_a_table_from_a_file_or_the_shipped_one_and_a_clear_refusal(tmp_path: Any) -> None:
    assert table_from("polygon") == shipped("polygon")
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"results": [{"id": 1, "data_types": ["trade"]}]}))
    assert table_from(f"polygon={path}").rules == {"1": EVERY_PART}
    with pytest.raises(ValueError, match="sources with rules: polygon"):
        table_from("nasdaq")
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a polygon conditions response"):
        table_from(f"polygon={path}")


def test_a_symbol_state_round_trips_with_condition_marked_bars() -> None:
    config = Settings(granularities=["1m"]).step_config()
    state = SymbolState.new("AAPL", config.gate, {"1m": M})
    state.bars.add_trade(T0 + S, 10.0, 5, VOLUME)
    again = SymbolState.from_bytes(state.to_bytes(), config.gate, {"1m": M})
    assert again.bars.state() == state.bars.state()


def test_a_bar_of_trades_that_may_set_only_the_last_sale_has_its_range_from_them() -> None:
    builder = BarBuilder("AAPL", {"1m": M})
    builder.add_trade(T0 + S, 10.0, 1, OPEN_CLOSE | VOLUME)
    builder.add_trade(T0 + 2 * S, 9.0, 1, OPEN_CLOSE | VOLUME)
    (bar,) = builder.close(FAR, 0)
    assert (bar.open, bar.high, bar.low, bar.close) == (10.0, 10.0, 9.0, 9.0)


def test_the_step_counts_unopened_bars_of_its_own_symbol_and_of_quiet_ones() -> None:
    config = Settings(granularities=["1m"]).step_config()
    store, time_ = MemoryStore(), PartitionTime()
    table = shipped("polygon")

    def step_frame(
        symbol: str, offset: int, sequence: list[tuple[int, float, float, list[int]]]
    ) -> StepOutputs:
        trades = [t.model_copy(update={"symbol": symbol}) for t in mark(trades_of(sequence), table)]
        frame = Frame(source="polygon", received_ts=sequence[-1][0], events=trades)
        message = Message(
            "market.raw", 0, offset, symbol.encode(), frame.model_dump_json().encode()
        )
        out = apply_frame(store, time_, message, sequence[-1][0], config)
        store.write(out)  # the states written, as the agent writes them
        return out

    step_frame("AAA", 0, [(T0 + S, 10.0, 5, ODD_LOT)])
    step_frame("BBB", 1, [(T0 + 2 * S, 20.0, 5, ODD_LOT)])
    # AAA's own frame closes its minute of odd lots; BBB's closes as a quiet symbol's
    out = step_frame("AAA", 2, [(T0 + M + 5 * S, 10.0, 100, REGULAR)])
    assert out.unopened == 2
    assert not [s for s in out.sends if isinstance(s.record, Bar)]


def test_trades_of_one_time_open_and_close_in_the_order_they_came() -> None:
    builder = BarBuilder("AAPL", {"1m": M})
    for price in (10.0, 11.0, 9.0):
        builder.add_trade(T0 + S, price, 1, EVERY_PART)
    (bar,) = builder.close(FAR, 0)
    assert (bar.open, bar.close) == (10.0, 9.0)


def test_a_trade_s_parts_travel_with_its_tick() -> None:
    (trade,) = mark(trades_of([(T0, 1.0, 5, ODD_LOT)]), shipped("polygon"))
    assert isinstance(trade, Trade)
    assert tick_of(trade).updates == ["volume"]
    assert tick_of(trade.model_copy(update={"updates": None})).updates is None


def test_finer_bars_roll_up_into_a_coarser_one() -> None:
    start = T0 - T0 % (5 * M)
    minutes = [
        Bar(symbol="AAPL", granularity="1m", start=start + i * M, end=start + (i + 1) * M,
            open=o, high=h, low=lo, close=c, volume=v, vwap=w, trades=n)
        for i, (o, h, lo, c, v, w, n) in enumerate([
            (10.0, 11.0, 9.5, 10.5, 100.0, 10.2, 3), (10.5, 12.0, 10.1, 11.0, 50.0, 11.5, 2),
            (11.0, 11.2, 8.0, 9.0, 10.0, 9.1, 1), (9.0, 9.5, 8.5, 9.2, 40.0, 9.0, 4),
        ])
    ]  # fmt: skip
    builder = BarBuilder("AAPL", {"5m": 5 * M})
    for minute in minutes:
        builder.add_bar(minute)
    (bar,) = builder.close(FAR, 0)
    assert (bar.open, bar.high, bar.low, bar.close) == (10.0, 12.0, 8.0, 9.2)
    assert (bar.volume, bar.trades) == (200.0, 10)
    assert bar.vwap == pytest.approx((100 * 10.2 + 50 * 11.5 + 10 * 9.1 + 40 * 9.0) / 200)


@pytest.mark.parametrize(
    ("trades", "high", "low"),
    [
        # an open above every high and low trade, a close below them
        ([(12.0, OPEN_CLOSE | VOLUME), (10.0, EVERY_PART), (11.0, HIGH_LOW),
          (8.0, OPEN_CLOSE | VOLUME)], 12.0, 8.0),
        # an open below them, a close above
        ([(7.0, OPEN_CLOSE | VOLUME), (10.0, EVERY_PART), (13.0, OPEN_CLOSE)], 13.0, 7.0),
    ],
)  # fmt: skip
def test_a_bar_s_range_takes_in_an_open_and_close_beyond_its_high_and_low_trades(
    trades: list[tuple[float, int]], high: float, low: float
) -> None:
    builder = BarBuilder("AAPL", {"1m": M})
    for i, (price, parts) in enumerate(trades):
        builder.add_trade(T0 + (i + 1) * S, price, 1, parts)
    (bar,) = builder.close(FAR, 0)
    assert (bar.high, bar.low) == (high, low)


def test_every_unopened_bar_is_counted() -> None:
    builder = BarBuilder("AAPL", {"1m": M, "5m": 5 * M})
    builder.add_trade(T0 + S, 10.0, 5, VOLUME)
    builder.add_trade(T0 + M + S, 10.0, 5, VOLUME)
    assert builder.close(FAR, 0) == []
    assert builder.take_unopened() == 4  # two minutes, each in five minutes of its own


def test_a_trade_before_the_rolled_up_bars_of_its_bar_sets_the_open() -> None:
    start = T0 - T0 % (5 * M)
    builder = BarBuilder("AAPL", {"5m": 5 * M})
    minute = Bar(symbol="AAPL", granularity="1m", start=start + M, end=start + 2 * M,
                 open=10.0, high=11.0, low=9.0, close=10.5, volume=10, trades=1)  # fmt: skip
    builder.add_bar(minute)
    builder.add_trade(start + S, 9.5, 5, EVERY_PART)
    (bar,) = builder.close(FAR, 0)
    assert (bar.open, bar.close) == (9.5, 10.5)
