"""A pytest plugin for mutation runs only.

- mutmut 3.7 reads ``item._nodeid``, which pytest 9 no longer sets (the id is ``item.nodeid``).
  mutmut 3.8 reads the public name but needs a click that faust-streaming refuses, so the lock
  holds 3.7 and this restores the old attribute.
- mutmut runs each mutant's tests in a fork of a process that has already run the tests once,
  so a function whose results the package caches (the indicator catalog, say) would answer from
  the parent's cache and its mutants would never run: every cache of the package is emptied
  before the tests are collected.
"""

from __future__ import annotations

import sys

import pytest


def pytest_configure(config: pytest.Config) -> None:
    for name, module in list(sys.modules.items()):
        if name == "marketpulse" or name.startswith("marketpulse."):
            for value in list(vars(module).values()):
                clear = getattr(value, "cache_clear", None)
                if callable(clear) and hasattr(value, "__wrapped__"):
                    clear()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item._nodeid = item.nodeid  # type: ignore[attr-defined]
