"""Polygon's WebSocket events read into our records: what the recorded sessions leave out."""

from __future__ import annotations

from marketpulse.schemas.events import Trade
from marketpulse.vendors.polygon_ws import parse_frame, trade_id


def test_a_trade_s_id_joins_the_exchange_the_facility_and_polygon_s_trade_id() -> None:
    assert trade_id({"x": 4, "trfi": 202, "i": "1207"}) == "4:202:1207"
    assert trade_id({"x": 11, "i": "54732"}) == "11:54732"
    assert trade_id({"x": 11}) is None
    assert trade_id({"x": 11, "i": ""}) is None
    batch = parse_frame([{"ev": "T", "sym": "MSFT", "x": 11, "p": 250.2, "s": 100, "t": 1}])
    (trade,) = batch.events
    assert isinstance(trade, Trade)
    assert trade.id is None  # a trade without an ID is still a trade
