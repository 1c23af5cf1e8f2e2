"""A pytest plugin for mutation runs only: mutmut 3.7 reads ``item._nodeid``, which pytest 9
no longer sets (the id is ``item.nodeid``). mutmut 3.8 reads the public name but needs a click
that faust-streaming refuses, so the lock holds 3.7 and this restores the old attribute."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item._nodeid = item.nodeid  # type: ignore[attr-defined]
