"""The committed JSON Schemas match the code, and real records validate against them."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import orjson
import pytest

from marketpulse.analytics.indicators.registry import IndicatorSet, expand
from marketpulse.schemas.bars import Bar
from marketpulse.schemas.events import DeadLetter, Frame, Quote, Trade
from marketpulse.schemas.export import (
    ASYNCAPI,
    JSON_DIR,
    asyncapi_document,
    export,
    file_name,
    schema_document,
)
from marketpulse.schemas.news import NewsItem
from marketpulse.schemas.signals import Signal
from marketpulse.streams.topics import SPECS, TopicSpec
from tests.factories import make_snapshot


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_committed_schema_is_current(spec: TopicSpec) -> None:
    committed = JSON_DIR / file_name(spec)
    assert committed.exists(), f"missing {committed}: run `marketpulse schemas export`"
    assert committed.read_bytes() == schema_document(spec), (
        f"{committed.name} is stale: run `marketpulse schemas export` and commit the result"
    )


def test_export_writes_one_file_per_topic_and_the_asyncapi_document(tmp_path: Path) -> None:
    written = export(tmp_path, tmp_path / "asyncapi.json")
    assert sorted(p.name for p in written) == sorted(
        [*(file_name(s) for s in SPECS), "asyncapi.json"]
    )


def test_the_committed_asyncapi_document_is_current() -> None:
    assert ASYNCAPI.read_bytes() == asyncapi_document(), (
        "asyncapi.json is stale: run `marketpulse schemas export` and commit the result"
    )


def test_the_asyncapi_document_has_every_topic_with_its_schema() -> None:
    document = orjson.loads(asyncapi_document())
    assert document["asyncapi"] == "3.0.0"
    channels = document["channels"]
    assert sorted(c["address"] for c in channels.values()) == sorted(
        spec.name.replace("<granularity>", "{granularity}") for spec in SPECS
    )
    for name, channel in channels.items():
        (ref,) = [m["$ref"] for m in channel["messages"].values()]
        message = document["components"]["messages"][ref.rsplit("/", 1)[1]]
        spec = next(s for s in SPECS if s.name.replace("<granularity>", "{granularity}")
                    == channel["address"])  # fmt: skip
        assert message["payload"]["schema"] == orjson.loads(schema_document(spec))
        assert document["operations"][f"receive_{name}"]["channel"] == {
            "$ref": f"#/channels/{name}"
        }


SAMPLES = {
    "market.raw": Frame(
        source="t",
        received_ts=5,
        events=[
            Quote(symbol="A", ts=1, bid=1.0, ask=2.0),
            Trade(symbol="A", ts=2, price=1.5, size=3, conditions=[1, "X"]),
        ],
    ),
    "market.bars.<granularity>": Bar(
        symbol="A", granularity="1m", start=0, end=60_000_000_000, open=1, high=2, low=0.5,
        close=1.5, volume=10, vwap=1.2, trades=4,
    ),
    "analytics.indicators": make_snapshot("A", "1m", 0, {"sma_20": 1.0}, {"sma_20": True}),
    "analytics.forming": make_snapshot("A", "1m", 0, {"sma_20": 1.0}, {"sma_20": True},
                                       final=False),
    "analytics.signals": Signal(
        symbol="A", granularity="1d", ts=0, kind="candlestick", name="cdlengulfing",
        strength=100, direction="bullish",
    ),
    "market.deadletter": DeadLetter(
        reason="malformed", detail="x", payload="{", topic="market.raw", partition=0, offset=3
    ),
    "market.news": NewsItem(
        symbol="A", id="x", published_ts=0, title="t", url="https://example.com/a",
        publisher="P", provider="newsapi",
    ),
}  # fmt: skip
SAMPLES["market.bars.raw"] = SAMPLES["market.bars.<granularity>"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_records_validate_and_junk_does_not(spec: TopicSpec) -> None:
    schema = orjson.loads((JSON_DIR / file_name(spec)).read_bytes())
    sample = SAMPLES.get(spec.name, SAMPLES["market.raw"])
    jsonschema.validate(orjson.loads(sample.model_dump_json()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"unexpected": True}, schema)


def test_a_snapshot_names_only_outputs_of_the_catalog() -> None:
    schema = orjson.loads((JSON_DIR / "analytics.indicators.json").read_bytes())
    specs = [*expand(["all"]), "di_14", "vwap_20", "vwap_session", "bb_10_1.5", "stddev_5_-2"]
    every = {name: 1.0 for name in IndicatorSet(specs).outputs()}
    snapshot = make_snapshot("A", "1m", 0, every, dict.fromkeys(specs, True))
    jsonschema.validate(orjson.loads(snapshot.model_dump_json()), schema)
    for unknown in ("nosuch_3", "sma_x", "SMA_20", "sma_20_"):
        odd = make_snapshot("A", "1m", 0, {unknown: 1.0}, {})
        with pytest.raises(jsonschema.ValidationError, match="does not match"):
            jsonschema.validate(orjson.loads(odd.model_dump_json()), schema)
