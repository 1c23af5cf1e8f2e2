"""The configuration reference, docs/configuration.md, written from the settings class itself
(``marketpulse config docs``), so that it cannot fall behind the code."""

from __future__ import annotations

import json
from typing import Any

from pydantic import SecretStr
from pydantic_core import PydanticUndefined

from marketpulse.settings import Settings

HEADER = """# Configuration

Every setting is an environment variable `MARKETPULSE_<NAME>` (or a line in `.env`), read by one
pydantic-settings class, `marketpulse/settings.py`; `marketpulse config show` prints the
effective values with secrets hidden. Lists and maps are JSON
(`MARKETPULSE_GRANULARITIES='["1m","1h"]'`). Secrets are hidden in every log and answer; with
`MARKETPULSE_ENV=production` the JWT secret must be given. `make` sets
`MARKETPULSE_KAFKA_TANSU_COMPAT=1` for the local broker (docs/operations.md).

This page is generated: `marketpulse config docs > docs/configuration.md` (a test fails when it
is stale).

| variable | default | meaning |
|---|---|---|
"""


def _default(value: Any) -> str:
    if value is None or value is PydanticUndefined:
        return "(none)"
    if isinstance(value, SecretStr):
        return "(the local services' own)"
    if isinstance(value, list | dict):
        text = json.dumps(value, separators=(",", ":"))
        return f"`{text}`" if len(text) <= 60 else f"{len(value)} entries (see the code)"
    if value == "":
        return "(empty)"
    return f"`{str(value).lower() if isinstance(value, bool) else value}`"


def reference() -> str:
    """The Markdown page."""
    rows = [
        f"| `MARKETPULSE_{name.upper()}` | "
        f"{'(made on first start)' if field.default_factory else _default(field.default)} | "
        f"{field.description} |"
        for name, field in Settings.model_fields.items()
    ]
    return HEADER + "\n".join(rows) + "\n"
