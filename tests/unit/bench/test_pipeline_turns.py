"""The pipeline benchmark's turns: each side timed in alternation, the least turn of each kept
(the machine's other tenants only ever add time), and a share made of the two."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tests.bench_scripts import load


def timed(name: str, times: list[float], calls: list[str]) -> Callable[[], float]:
    turns: Iterator[float] = iter(times)

    def turn() -> float:
        calls.append(name)
        return next(turns)

    return turn


def test_the_least_turn_of_each_side_in_alternation() -> None:
    pipeline = load("pipeline")
    calls: list[str] = []
    first = timed("first", [3.0, 1.5, 2.0], calls)
    second = timed("second", [1.0, 4.0, 0.5], calls)
    assert pipeline.least_in_turns(first, second) == (1.5, 0.5)
    assert calls == ["first", "second"] * 3


def test_a_share_is_the_first_sides_least_over_the_seconds() -> None:
    pipeline = load("pipeline")
    calls: list[str] = []
    share = pipeline.share_in_turns(
        timed("first", [2.0, 1.0], calls), timed("second", [4.0, 1.25], calls), turns=2
    )
    assert share == 0.8
    assert calls == ["first", "second", "first", "second"]
