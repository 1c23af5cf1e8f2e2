"""The mutation tool's copy of the repository: mutmut's trace of which tests reach which
function is kept while no Python file changes, and dropped when one does (mutmut would trace
only tests it has not seen, and run a new function's mutants without the old tests that now
reach it); and the mutants a run takes up again, by their last verdicts."""

from __future__ import annotations

import json
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


def test_a_run_goes_on_with_the_mutants_not_run_or_again_with_the_survivors(
    tmp_path: Path,
) -> None:
    module = "marketpulse/streams/delivery.py"
    mutated = tmp_path / "unit" / "mutants" / module
    mutated.parent.mkdir(parents=True)
    names = [f"marketpulse.streams.delivery.x_seal__mutmut_{i}" for i in range(1, 6)]
    mutated.write_text("".join(f"def {name.rsplit('.', 1)[1]}(): pass\n" for name in names))
    # not run, survived, killed, reached no test, timed out
    codes = dict(zip(names, [None, 0, 1, 33, -24], strict=True))
    Path(f"{mutated}.meta").write_text(json.dumps({"exit_code_by_key": codes}))
    tree = tmp_path / "unit"
    assert tool.selected(tree, [module], tool.NOT_RUN) == [names[0]]
    assert tool.selected(tree, [module], tool.SURVIVED | tool.NO_TESTS) == [names[1], names[3]]
    assert tool.selected(tree, ["marketpulse/streams/batches.py"], tool.NOT_RUN) == []
