"""A dead letter fits in one record whatever it carries: the payload is cut when, quoted, it
would not, and the letter says so."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marketpulse.schemas.events import DeadLetter

LIMIT = 64 << 10
WHERE = ("market.raw", 3, 17)


def test_a_payload_that_fits_is_kept_whole_with_its_origin() -> None:
    letter = DeadLetter.of("malformed", "not JSON", b"\xffabc", WHERE, b"AAPL", LIMIT)
    assert (letter.payload, letter.truncated) == ("\ufffdabc", False)
    assert (letter.topic, letter.partition, letter.offset, letter.key) == (*WHERE, "AAPL")
    assert letter.detail == "not JSON"


@given(st.text(min_size=1, max_size=40), st.integers(1, 4 * LIMIT))
def test_any_payload_is_cut_to_fit_and_keeps_its_start(unit: str, length: int) -> None:
    text = (unit * (length // len(unit) + 1))[:length]
    letter = DeadLetter.of("malformed", "why", text, WHERE, None, LIMIT)
    assert len(letter.model_dump_json().encode()) <= LIMIT
    assert text.startswith(letter.payload)
    assert letter.truncated == (letter.payload != text)
    if letter.truncated:
        assert letter.detail == f"why (payload cut to its first {len(letter.payload):,} of " \
            f"{len(text):,} characters)"  # fmt: skip


def test_control_characters_six_times_longer_quoted_still_fit() -> None:
    text = "\x01" * (LIMIT // 2)
    letter = DeadLetter.of("malformed", "why", text, WHERE, None, LIMIT)
    assert letter.truncated
    assert len(letter.model_dump_json().encode()) <= LIMIT
