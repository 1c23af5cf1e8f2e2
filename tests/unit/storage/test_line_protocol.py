"""Line protocol as InfluxDB's specification writes it: escaping, field types, refusals (the
round trip through a real InfluxDB is in tests/integration/storage/test_influx.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from marketpulse.storage import line_protocol
from marketpulse.storage.line_protocol import LineProtocolError, Point, encode, remember


@pytest.fixture(autouse=True)
def cold_caches() -> None:
    """Each test escapes its names afresh: the caches are the process's, and a test must not
    pass on what an earlier one left there."""
    line_protocol._heads.clear()
    line_protocol._field_keys.clear()


def test_a_plain_point() -> None:
    point = Point("market_data", {"close": 10.5, "trades": 3}, {"symbol": "AAPL"}, 1_700_000_000)
    assert encode(point) == "market_data,symbol=AAPL close=10.5,trades=3i 1700000000"


def test_without_a_timestamp_the_server_stamps_it() -> None:
    assert encode(Point("m", {"v": 1.0})) == "m v=1.0"


def test_tags_are_sorted_whatever_order_they_come_in() -> None:
    point = Point("m", {"v": 1.0}, {"symbol": "A", "granularity": "1m", "kind": "x"})
    assert encode(point) == "m,granularity=1m,kind=x,symbol=A v=1.0"


def test_each_part_escapes_what_the_specification_says() -> None:
    point = Point(
        "my measure,ment",
        {"field key,=x": 'say "hi" \\ bye'},
        {"tag key,=": "tag value,=x"},
    )
    assert encode(point) == (
        "my\\ measure\\,ment,tag\\ key\\,\\==tag\\ value\\,\\=x "
        'field\\ key\\,\\=x="say \\"hi\\" \\\\ bye"'
    )


def test_field_types() -> None:
    fields = {"f": 1.25, "i": -7, "t": True, "n": False, "s": "text", "whole": 2.0}
    assert encode(Point("m", fields)) == 'm f=1.25,i=-7i,t=true,n=false,s="text",whole=2.0'


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused_by_name(value: float) -> None:
    with pytest.raises(LineProtocolError, match=r"field 'close' is .*no NaN or inf"):
        encode(Point("m", {"close": value}))


@pytest.mark.parametrize(
    ("point", "message"),
    [
        (Point("back\\slash", {"v": 1.0}), r"point 'back\\slash': names cannot hold"),
        (Point("m", {"v": 1.0}, {"k\\ey": "v"}), "point 'm': names cannot hold a backslash"),
        (Point("m", {"v": 1.0}, {"key": "va\\lue"}), "point 'm': names cannot hold a backslash"),
        (Point("m2", {"fi\\eld": 1.0}), "point 'm2': names cannot hold a backslash"),
        (Point("m", {"v": 1.0}, {"key": ""}), "tag 'key'='': empty tag keys and values"),
        (Point("m", {"v": 1.0}, {"": "value"}), "tag ''='value': empty tag keys and values"),
        (Point("", {"v": 1.0}), "point '' needs a measurement and a field"),
        (Point("m", {}), "point 'm' needs a measurement and a field"),
    ],
)
def test_points_line_protocol_cannot_carry_are_refused_with_why(point: Point, message: str) -> None:
    with pytest.raises(LineProtocolError) as caught:
        encode(point)
    assert str(caught.value).startswith(message)


def test_numpy_numbers_are_written_as_numbers_or_refused_plainly() -> None:
    assert encode(Point("m", {"v": np.float64(1.5)})) == "m v=1.5"
    with pytest.raises(LineProtocolError, match="field 'n' is a int64: line protocol takes"):
        encode(Point("m", {"n": np.int64(3)}))  # type: ignore[dict-item]


def test_a_backslash_in_a_string_value_is_escaped_not_refused() -> None:
    assert encode(Point("m", {"s": "a\\b"})) == 'm s="a\\\\b"'


def test_series_and_field_keys_are_cached_per_series_and_name() -> None:
    first = encode(Point("m", {"a,b": 1.0}, {"symbol": "X"}))
    second = encode(Point("m", {"a,b": 2.0}, {"symbol": "Y"}))  # another series, same field key
    third = encode(Point("n", {"a,b": 3.0}, {"symbol": "X"}))  # another measurement
    assert first == "m,symbol=X a\\,b=1.0"
    assert second == "m,symbol=Y a\\,b=2.0"
    assert third == "n,symbol=X a\\,b=3.0"


def test_a_full_cache_is_emptied_before_it_takes_more(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_protocol, "_CACHE_LIMIT", 2)
    cache: dict[str, str] = {}
    assert remember(cache, "a", "1") == "1"
    remember(cache, "b", "2")
    assert cache == {"a": "1", "b": "2"}  # at the limit: kept
    remember(cache, "c", "3")
    assert cache == {"c": "3"}
