"""Frame decoding: valid frames parse, malformed ones are named precisely."""

from __future__ import annotations

import pytest

from marketpulse.analytics.frames import Rejection, decode_frame
from marketpulse.schemas.events import Frame, Quote, Trade


def test_valid_frame_round_trips() -> None:
    frame = Frame(
        source="synthetic",
        received_ts=5,
        events=[
            Quote(symbol="AAPL", ts=1, bid=1.0, ask=1.1, bid_size=100, ask_size=200),
            Trade(symbol="AAPL", ts=2, price=1.05, size=10, conditions=[12, "T"]),
        ],
    )
    assert decode_frame(frame.model_dump_json().encode()) == frame


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        (b"", "empty"),
        (b"not json", "frame"),
        (b'{"source": "x", "received_ts": 1}', "events"),
        (b'{"source": "x", "received_ts": 1, "events": [{"kind": "bogus"}]}', "events.0"),
        (b'{"source": "x", "received_ts": -1, "events": []}', "received_ts"),
        (
            b'{"source": "x", "received_ts": 1, "events": '
            b'[{"kind": "quote", "symbol": "A B", "ts": 1, "bid": 1, "ask": 2}]}',
            "events.0.quote.symbol",
        ),
        (b'{"source": "x", "received_ts": 1, "events": [], "extra": 1}', "extra"),
    ],
)
def test_malformed_frames_are_rejected_with_where(payload: bytes, where: str) -> None:
    result = decode_frame(payload)
    assert isinstance(result, Rejection)
    assert result.reason == "malformed"
    assert where in result.detail
