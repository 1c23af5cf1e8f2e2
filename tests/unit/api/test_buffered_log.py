"""The API's batching log handler: every line written, in order, soon; warnings at once."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator

import pytest

from marketpulse.api.buffered_log import BufferedStreamHandler


class CountingStream(io.StringIO):
    """A stream that counts its writes."""

    writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, BufferedStreamHandler, CountingStream]]:
    stream = CountingStream()
    handler = BufferedStreamHandler(stream, flush_s=0.5, capacity=50)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"test.buffered.{time.monotonic_ns()}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield logger, handler, stream
    logger.removeHandler(handler)
    handler.close()


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_lines_wait_for_the_timer_then_go_out_in_one_write(
    logged: tuple[logging.Logger, BufferedStreamHandler, CountingStream],
) -> None:
    logger, _, stream = logged
    for i in range(10):
        logger.info("request %d", i)
    assert _lines(stream) == []  # buffered, not lost: the timer writes them
    deadline = time.monotonic() + 5
    while not _lines(stream):
        assert time.monotonic() < deadline, "the timer never wrote the lines"
        time.sleep(0.01)
    assert _lines(stream) == [f"INFO request {i}" for i in range(10)]
    assert stream.writes == 1


def test_a_warning_is_written_at_once_after_the_lines_before_it(
    logged: tuple[logging.Logger, BufferedStreamHandler, CountingStream],
) -> None:
    logger, _, stream = logged
    logger.info("first")
    logger.warning("trouble")
    assert _lines(stream) == ["INFO first", "WARNING trouble"]


def test_a_full_buffer_is_written_without_waiting(
    logged: tuple[logging.Logger, BufferedStreamHandler, CountingStream],
) -> None:
    logger, handler, stream = logged
    for i in range(handler.capacity):
        logger.info("line %d", i)
    assert len(_lines(stream)) == handler.capacity
    assert stream.writes == 1


def test_shutdown_writes_what_is_waiting(
    logged: tuple[logging.Logger, BufferedStreamHandler, CountingStream],
) -> None:
    logger, handler, stream = logged
    logger.info("last words")
    handler.flush()  # what logging.shutdown does for every handler at exit
    assert _lines(stream) == ["INFO last words"]
