"""The README and the reference pages must not go stale: every setting and every topic is
documented."""

from __future__ import annotations

import re

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


def test_every_test_the_security_report_names_exists() -> None:
    """docs/security.md cites a test for each promise: each file must exist, and each test
    named with its file (``file.py::test_name``, or a list after ``file.py``) must be in it."""
    report = (REPO / "docs" / "security.md").read_text()
    files = {name: REPO / name for name in re.findall(r"`(tests/[\w/]+\.py)", report)}
    assert len(files) >= 15
    for path in files.values():
        assert path.exists(), path
    by_short = {path.name: path for path in files.values()}
    for row in report.splitlines():
        for file, tests in re.findall(r"`(?:tests/[\w/]+/)?(\w+\.py)(?:::(\w+))?`", row):
            names = [tests] if tests else []
            names += re.findall(rf"{re.escape(file)}` \(([^)]*)\)", row)
            for name in (n for group in names for n in re.findall(r"test_\w+", group)):
                assert f"def {name}(" in by_short[file].read_text(), (file, name)
