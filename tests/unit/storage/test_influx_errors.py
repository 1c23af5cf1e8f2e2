"""A statement error from InfluxDB is a refusal of the query (our bug: the API answers 500)
unless it speaks of the server's own state (shutting down, a query killed, too many at once),
which the next try may not meet (an outage: the API answers 503, a sink retries)."""

from __future__ import annotations

import pytest

from marketpulse.storage.influx import statement_error


@pytest.mark.parametrize(
    "message",
    [
        "query engine shutdown",  # as InfluxDB answered while it stopped, under the chaos test
        "query interrupted",
        "query aborted",
        "max concurrent queries reached",
    ],
)
def test_the_server_s_own_state_is_an_outage(message: str) -> None:
    error = statement_error(message)
    assert error.retriable
    assert message in str(error)


@pytest.mark.parametrize(
    "message",
    [
        "database not found: nowhere",
        "error parsing query: found FROM, expected identifier at line 1, char 8",
        "shutdown",  # not the engine's words: a field or a measurement, say
    ],
)
def test_anything_else_is_a_refusal(message: str) -> None:
    assert not statement_error(message).retriable
