"""The JSON Schema of every topic, written to ``schemas/json/`` for consumers outside Python, and
an AsyncAPI document of the topics made from the same schemas (``schemas/asyncapi.json``)."""

from __future__ import annotations

from pathlib import Path

import orjson

from marketpulse.streams.topics import SPECS, TopicSpec

JSON_DIR = Path(__file__).parent / "json"
ASYNCAPI = Path(__file__).parent / "asyncapi.json"


def schema_document(spec: TopicSpec) -> bytes:
    """The JSON Schema of one topic's records, as formatted bytes."""
    schema = spec.schema.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"marketpulse:{spec.name}"
    schema["description"] = f"Records on {spec.name}: {spec.carries}."
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def file_name(spec: TopicSpec) -> str:
    """``market.bars.<granularity>`` -> ``market.bars.json``: one file serves all of them."""
    return spec.name.replace(".<granularity>", "") + ".json"


def asyncapi_document() -> bytes:
    """AsyncAPI 3.0: one channel per topic (``{granularity}`` a parameter), keyed by symbol, its
    message's payload the topic's JSON Schema."""
    channels, operations, messages = {}, {}, {}
    for spec in SPECS:
        channel = file_name(spec).removesuffix(".json").replace(".", "_")
        address = spec.name.replace("<granularity>", "{granularity}")
        schema = orjson.loads(schema_document(spec))
        messages[channel] = {
            "name": spec.schema.__name__,
            "contentType": "application/json",
            "summary": spec.carries,
            "payload": {"schemaFormat": "application/schema+json;version=draft-2020-12",
                        "schema": schema},
            "bindings": {"kafka": {"key": {"type": "string", "description": "the symbol"}}},
        }  # fmt: skip
        channels[channel] = {
            "address": address,
            "description": f"{spec.carries}. Prefixed by MARKETPULSE_TOPIC_PREFIX if set.",
            "messages": {channel: {"$ref": f"#/components/messages/{channel}"}},
        }
        if "{granularity}" in address:
            channels[channel]["parameters"] = {
                "granularity": {"description": "a configured bar granularity, e.g. 1m"}
            }
        operations[f"receive_{channel}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{channel}"},
        }
    document = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "marketpulse topics",
            "version": "1",
            "description": "Every record is keyed by its symbol and delivered at least once; "
            "records with an identity (symbol, granularity, bar start, name) repeat identically "
            "when redelivered. See docs/consumers.md.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def export(directory: Path = JSON_DIR, asyncapi: Path = ASYNCAPI) -> list[Path]:
    """Write every topic's schema and the AsyncAPI document; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in SPECS:
        path = directory / file_name(spec)
        path.write_bytes(schema_document(spec))
        written.append(path)
    asyncapi.write_bytes(asyncapi_document())
    return [*written, asyncapi]
