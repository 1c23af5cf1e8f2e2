"""The indicator A/B's instruction count: callgrind counts what runs inside the compiled set's
``update``, so the count grows with the bars, and not with what runs around them (the
interpreter's start, the imports, making the bars)."""

from __future__ import annotations

from tests.bench_scripts import load


def test_the_count_is_of_the_updates() -> None:
    instructions = load("indicators_ab").instructions
    fifty = instructions(50, None)
    assert fifty > 50 * 1_000  # a bar of 23 indicators runs thousands of instructions
    assert instructions(100, None) > 1.9 * fifty  # the update's work, not a fixed cost
