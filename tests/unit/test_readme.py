"""The README and the reference pages must not go stale: every setting and every topic is
documented."""

from __future__ import annotations

from marketpulse.settings import Settings
from marketpulse.settings_reference import reference
from tests.workers import REPO

README = (REPO / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.splitlines()] == ["make up", "make test"]


def test_the_configuration_reference_is_current() -> None:
    """docs/configuration.md is generated from the settings class: regenerate it with
    `marketpulse config docs > docs/configuration.md`."""
    assert (REPO / "docs" / "configuration.md").read_text() == reference()
    assert all(field.description for field in Settings.model_fields.values())


def test_every_topic_is_in_the_topic_table() -> None:
    from marketpulse.streams.topics import SPECS

    pipeline = (REPO / "docs" / "pipeline.md").read_text()
    for spec in SPECS:
        assert f"| `{spec.name}` |" in pipeline, spec.name
