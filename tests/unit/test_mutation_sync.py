"""The mutation tool's copy of the repository: mutmut's trace of which tests reach which
function is kept while no Python file changes, and dropped when one does (mutmut would trace
only tests it has not seen, and run a new function's mutants without the old tests that now
reach it)."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.mutation.__main__ as tool

FILES = {
    "README.md": "the landing page\n",
    "marketpulse/gate.py": "WINDOW = 256\n",
    "tests/unit/test_gate.py": "def test_window() -> None:\n    pass\n",
}


def test_the_trace_is_dropped_when_a_python_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, tree = tmp_path / "repo", tmp_path / "tree"
    for name, text in FILES.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    monkeypatch.setattr(tool, "REPO", repo)
    monkeypatch.setattr(tool, "tracked_files", lambda: list(FILES))
    tool.sync(tree)
    assert {name: (tree / name).read_text() for name in FILES} == FILES
    stats = tree / "mutants" / "mutmut-stats.json"
    stats.parent.mkdir()
    stats.write_text("{}")
    tool.sync(tree)  # nothing changed
    assert stats.exists()
    (repo / "README.md").write_text("another page\n")
    tool.sync(tree)  # copied, but no code changed
    assert (tree / "README.md").read_text() == "another page\n"
    assert stats.exists()
    (repo / "tests/unit/test_gate.py").write_text(FILES["tests/unit/test_gate.py"] + "# more\n")
    tool.sync(tree)
    assert not stats.exists()
    stats.write_text("{}")
    (tree / "tests/unit/test_gone.py").write_text("")  # not in the repository any more
    tool.sync(tree)
    assert not (tree / "tests/unit/test_gone.py").exists()
    assert not stats.exists()
    stats.write_text("{}")
    (repo / "marketpulse/gate.py").write_text("WINDOW = 512\n")
    tool.sync(tree)
    assert not stats.exists()
