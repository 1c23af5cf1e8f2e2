"""The InfluxDB v1 client against the real server."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from marketpulse.settings import Settings
from marketpulse.storage.influx import RETENTION, InfluxClient, InfluxError, auth_headers
from marketpulse.storage.line_protocol import LineProtocolError, Point, encode
from tests.kafka_helpers import unique

pytestmark = [pytest.mark.integration]


async def test_database_and_retention_policies_are_created_idempotently(
    influx: InfluxClient,
) -> None:
    await influx.ensure_database()
    rows = await influx.rows(f'SHOW RETENTION POLICIES ON "{influx.database}"')
    durations = {row["name"]: row["duration"] for row in rows}
    assert durations["quotes_30d"] == "720h0m0s"
    assert durations["indicators_5y"] == "43800h0m0s"
    assert {p.name for p in RETENTION.values()} <= set(durations)


async def test_points_round_trip_and_a_rewrite_replaces(influx: InfluxClient) -> None:
    point = Point(
        "market_data",
        {"open": 1.5, "volume": 100, "closed": True, "note": 'say "hi"'},
        {"symbol": "AAPL", "granularity": "1m"},
        ts=1_700_000_000_000_000_000,
    )
    await influx.write([point, point])
    await influx.write([point])
    rows = await influx.rows("SELECT * FROM market_data")
    assert rows == [
        {"time": point.ts, "open": 1.5, "volume": 100, "closed": True, "note": 'say "hi"',
         "symbol": "AAPL", "granularity": "1m"}
    ]  # fmt: skip


async def test_user_input_is_bound_never_spliced(influx: InfluxClient) -> None:
    await influx.write(
        [Point("q", {"v": float(i)}, {"symbol": s}, ts=i) for i, s in enumerate(["A", "B"], 1)]
    )
    assert [r["v"] for r in await influx.rows("SELECT v FROM q WHERE symbol = $s", {"s": "B"})] == [
        2.0
    ]
    hostile = "A' OR symbol = 'B"
    assert await influx.rows("SELECT v FROM q WHERE symbol = $s", {"s": hostile}) == []


async def test_writes_to_a_missing_database_are_refused_not_retried(services: Settings) -> None:
    missing = services.model_copy(update={"influx_database": unique("nope").replace("-", "_")})
    async with InfluxClient(missing) as client:
        with pytest.raises(InfluxError) as caught:
            await client.write([Point("m", {"v": 1.0}, ts=1)])
    assert caught.value.retriable is False
    assert "404" in str(caught.value)


def test_names_the_protocol_cannot_carry_are_refused() -> None:
    with pytest.raises(LineProtocolError, match="backslash"):
        encode(Point("m\\", {"v": 1.0}))


def test_non_finite_fields_and_empty_tags_are_refused() -> None:
    with pytest.raises(LineProtocolError, match="NaN"):
        encode(Point("m", {"v": math.nan}))
    with pytest.raises(LineProtocolError, match="empty"):
        encode(Point("m", {"v": 1.0}, {"t": ""}))


def test_auth_headers() -> None:
    base = Settings()
    assert "Authorization" not in auth_headers(base)
    token = base.model_copy(update={"influx_token": SecretStr("abc")})
    assert auth_headers(token) == {"Authorization": "Token abc"}
    basic = base.model_copy(update={"influx_username": "u", "influx_password": SecretStr("p")})
    assert auth_headers(basic) == {"Authorization": "Basic dTpw"}


# Printable text with every character the escaping rules mention; no control characters, which
# line protocol cannot carry in names at all.
awkward = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 ,=\"'é漢_-.")), min_size=1, max_size=12
).filter(lambda s: not s.startswith("_") and s.strip() == s)


@settings(
    max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(
    measurement=awkward,
    tag_key=awkward,
    tag_value=awkward,
    field_key=awkward,
    text=st.text(alphabet=st.sampled_from(list("ab ,=\"\\'é")), max_size=12),
    number=st.floats(allow_nan=False, allow_infinity=False, width=64),
)
async def test_awkward_names_and_values_round_trip(
    influx: InfluxClient,
    measurement: str,
    tag_key: str,
    tag_value: str,
    field_key: str,
    text: str,
    number: float,
) -> None:
    if field_key in (tag_key, "time") or tag_key == "time":
        return
    await influx.query("DROP SERIES FROM /.*/")  # the database outlives each example
    point = Point(
        measurement, {field_key: number, field_key + "_s": text}, {tag_key: tag_value}, ts=7
    )
    await influx.write([point])
    quoted = measurement.replace('"', '\\"')
    rows = await influx.rows(f'SELECT * FROM "{quoted}" WHERE time = 7')  # noqa: S608
    assert rows, f"nothing read back for {point}"
    row = rows[-1]
    assert row[tag_key] == tag_value
    assert float(row[field_key]) == number  # large floats come back as JSON integers
    assert row[field_key + "_s"] == text
