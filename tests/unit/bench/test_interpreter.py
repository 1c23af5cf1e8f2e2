"""A benchmark's child Python runs the code a ``PYTHONPATH`` names, even when started in this
checkout (as ``make bench`` starts every script), where ``python -m`` and ``-c`` would put the
checkout first: an A/B against another version's tree must not run this one's code twice."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.bench_scripts import load
from tests.workers import REPO


def _python(*args: str) -> list[str]:
    command: list[str] = load("interpreter").python(*args)
    return command


def _imported(*args: str, pythonpath: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    done = subprocess.run(_python(*args), cwd=REPO, env=env, capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return done.stdout.strip()


def test_a_child_runs_the_tree_on_its_pythonpath_not_the_checkout(tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "marketpulse").mkdir(parents=True)
    (other / "marketpulse" / "__init__.py").write_text("")
    (other / "probe.py").write_text("import marketpulse; print(marketpulse.__file__)\n")
    show = "import marketpulse; print(marketpulse.__file__)"
    assert _imported("-c", show, pythonpath=other).startswith(str(other))
    assert _imported("-m", "probe", pythonpath=other).startswith(str(other))
