"""The benchmarks' own modules (``bench/``, not a package: each script runs from there), loaded
by file for their tests."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.workers import REPO

BENCH = REPO / "bench"


def load(name: str) -> ModuleType:
    """``bench/<name>.py`` as a module of its own; the siblings it imports as it does when run
    from ``bench/`` (``from results import emit``) found there."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as an import has it: a dataclass looks its module up
    sys.path.insert(0, str(BENCH))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module
