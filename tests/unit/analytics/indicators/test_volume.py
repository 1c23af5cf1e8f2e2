"""The session VWAP's session boundary when the session does not start at UTC midnight, for
an update and for a peek."""

from __future__ import annotations

from marketpulse.analytics.indicators.base import Candle
from marketpulse.analytics.indicators.volume import NS_PER_DAY, VWAP

H = 3_600_000_000_000
OPEN = 14 * H + H // 2  # 14:30 UTC, New York's 09:30 in winter
DAY = 20_000 * NS_PER_DAY  # a midnight, UTC


def test_a_session_offset_moves_the_restart_to_the_sessions_start() -> None:
    vwap = VWAP(session_offset_ns=OPEN)
    # half-hourly bars from 12:00 to 16:00 UTC, each at its own price
    seen = []
    for i in range(9):
        start = DAY + 12 * H + i * H // 2
        price = 100.0 + i
        vwap.update(Candle(start, price, price, price, price, 10.0))
        seen.append((start - DAY, vwap.values()["vwap_session"]))
    by_time = dict(seen)
    assert by_time[14 * H] == 102.0  # 12:00-14:00 are one session: (100+101+102+103+104)/5
    assert by_time[14 * H + H // 2] == 105.0  # 14:30 starts a new one
    assert by_time[15 * H] == 105.5


def test_a_peek_restarts_at_the_offset_session_s_start_as_the_update_does() -> None:
    vwap = VWAP(session_offset_ns=OPEN)
    for i in range(9):
        price = 100.0 + i
        candle = Candle(DAY + 12 * H + i * H // 2, price, price, price, price, 10.0)
        peeked = vwap.peek(candle)
        vwap.update(candle)
        assert peeked == vwap.values(), i


def test_without_an_offset_the_session_restarts_at_utc_midnight() -> None:
    vwap = VWAP()
    for start, price in ((DAY - H, 50.0), (DAY, 70.0), (DAY + H, 80.0)):
        vwap.update(Candle(start, price, price, price, price, 1.0))
    assert vwap.values() == {"vwap_session": 75.0}
