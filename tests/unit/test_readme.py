"""The README's tables must not go stale: every setting and every topic is documented."""

from __future__ import annotations

from pathlib import Path

from marketpulse.settings import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in block.splitlines()] == ["make up", "make test"]


def test_every_setting_is_in_the_configuration_table() -> None:
    for name in Settings.model_fields:
        assert f"| `MARKETPULSE_{name.upper()}` |" in README, name


def test_every_topic_is_in_the_topic_table() -> None:
    from marketpulse.streams.topics import SPECS

    for spec in SPECS:
        assert f"| `{spec.name}` |" in README, spec.name
