"""The chaos run's oracle and its API verdict: they must be right for the invariants to mean
anything, so they are checked here on records built by hand."""

from __future__ import annotations

from aiokafka.structs import ConsumerRecord

from marketpulse.schemas.events import DeadLetter, Frame, Quote, Trade
from tests.chaos.invariants import reference
from tests.chaos.probe import BARS, HEALTH, Answer, ApiProbe
from tests.chaos.scenario import Fault, check_api


def record(partition: int, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("t", partition, offset, 0, 0, b"K", value, None, 1, len(value), [])


def test_the_reference_drops_exactly_what_the_gate_refused() -> None:
    first = Trade(symbol="A", ts=10, price=1.0, size=1)
    repeat = Trade(symbol="A", ts=10, price=1.0, size=1)
    bad = Trade(symbol="A", ts=11, price=-1.0, size=1)
    quote = Quote(symbol="B", ts=30, bid=1.0, ask=1.1)

    def frame(received_ts: int, *events: Trade | Quote) -> bytes:
        return (
            Frame(source="s", received_ts=received_ts, events=list(events))
            .model_dump_json()
            .encode()
        )

    frames = [
        record(0, 0, frame(12, first, repeat, bad)),
        record(1, 0, frame(30, quote)),
        record(0, 1, b"not json"),
    ]
    letters = [
        DeadLetter(
            reason=reason,
            detail="",
            payload=event.model_dump_json(),
            topic="t",
            partition=0,
            offset=0,
            key="A",
        )
        .model_dump_json()
        .encode()
        for reason, event in (("duplicate", repeat), ("bad_price", bad))
    ]
    dead = [record(0, i, letter) for i, letter in enumerate(letters)]
    ref = reference({"raw": frames, "deadletter": dead})
    assert ref.trades == {"A": [first]}  # the first of the two identical trades stays
    assert ref.events == 2
    assert ref.horizon == {"A": 10, "B": 30}  # the refused trade at 11 moved no stream time
    assert ref.dead_letters == {"duplicate": 1, "bad_price": 1}


def probe(*answers: tuple[float, str, int]) -> ApiProbe:
    return ApiProbe("http://api", 0.0, answers=[Answer(*a) for a in answers])


def test_the_api_verdict_allows_503_during_a_fault_and_needs_200_after() -> None:
    fault = [Fault("redis", 1.0, 2.0)]
    good = probe((0.5, HEALTH, 200), (1.5, HEALTH, 503), (2.5, HEALTH, 200), (2.6, BARS, 200))
    assert check_api(good, fault).ok
    never = probe((0.5, HEALTH, 200), (2.5, HEALTH, 503), (2.6, BARS, 503))
    assert not check_api(never, fault).ok
    errors = probe((0.5, HEALTH, 500), (2.5, HEALTH, 200), (2.6, BARS, 200))
    verdict = check_api(errors, fault)
    assert not verdict.ok
    assert "not allowed" in verdict.figures
