"""The repository stands alone: no tracked file reads or cites anything outside it, and every
document it links to is inside it."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.workers import REPO

# Documents that lived beside the repository once; what the code owes them is in docs/.
OUTSIDE = [
    "../" + "shared",
    "vendor" + "-samples",
    "SPEC" + ".md",
    "ARCHITECTURE" + ".md",
    "CONVENTIONS" + ".md",
    "SOURCES" + ".md",
]
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)")


def tracked() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    return listed.splitlines()


def text_of(name: str) -> str | None:
    try:
        return (REPO / name).read_text()
    except UnicodeDecodeError:
        return None  # a binary file (an image) cites nothing


@pytest.mark.parametrize("needle", OUTSIDE)
def test_no_file_refers_outside_the_repository(needle: str) -> None:
    found = [name for name in tracked() if needle in (text_of(name) or "")]
    assert found == [], f"{needle!r} in {found}"


def test_every_relative_markdown_link_resolves_inside_the_repository() -> None:
    broken = []
    for name in tracked():
        if not name.endswith(".md"):
            continue
        for target in MARKDOWN_LINK.findall(text_of(name) or ""):
            if "://" in target or target.startswith("mailto:"):
                continue
            path = ((REPO / name).parent / target).resolve()
            if not path.is_relative_to(REPO) or not path.exists():
                broken.append(f"{name}: {target}")
    assert broken == []
