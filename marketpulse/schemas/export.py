"""The JSON Schema of every topic, written to ``schemas/json/`` for consumers outside Python."""

from __future__ import annotations

from pathlib import Path

import orjson

from marketpulse.streams.topics import SPECS, TopicSpec

JSON_DIR = Path(__file__).parent / "json"


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


def export(directory: Path = JSON_DIR) -> list[Path]:
    """Write every topic's schema; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for spec in SPECS:
        path = directory / file_name(spec)
        path.write_bytes(schema_document(spec))
        written.append(path)
    return written
