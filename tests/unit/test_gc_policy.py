"""The worker's garbage-collection policy: full collections rarer, the young ones as they were,
and what survives a full collection frozen; a worker process sets it from its settings before
it starts."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import pytest
from prometheus_client import REGISTRY

import marketpulse.metrics  # noqa: F401  (the frozen objects' gauge)
from marketpulse.gc_policy import collect_fully_every, freeze_survivors, long_lived


class Node:
    """An object that can be in a reference cycle."""

    other: Node | None = None


def test_only_the_full_collections_threshold_changes() -> None:
    before = gc.get_threshold()
    try:
        collect_fully_every(250)
        assert gc.get_threshold() == (before[0], before[1], 250)
    finally:
        gc.set_threshold(*before)


def test_what_survives_a_full_collection_is_frozen(freezing: None) -> None:
    kept = [[i] for i in range(20_000)]  # long-lived containers, like a worker's states
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)
    # out of the collector's sight from now on (no generation holds them), and still alive
    in_sight = {id(o) for o in gc.get_objects()}
    assert not in_sight & {id(part) for part in kept}
    assert kept[-1] == [19_999]
    frozen = REGISTRY.get_sample_value("marketpulse_gc_frozen_objects")
    assert frozen == gc.get_freeze_count()


def test_young_collections_freeze_nothing(freezing: None) -> None:
    kept = [[i] for i in range(5_000)]
    gc.collect(0)
    gc.collect(1)
    assert gc.get_freeze_count() == 0
    assert len(kept) == 5_000


def test_cycles_made_after_a_freeze_are_still_collected(freezing: None) -> None:
    kept = [[i] for i in range(5_000)]
    gc.collect()
    assert gc.get_freeze_count() >= len(kept)
    pairs = []
    for _ in range(1_000):
        a, b = Node(), Node()
        a.other, b.other = b, a
        pairs.append(weakref.ref(a))
    del a, b
    gc.collect()
    assert all(ref() is None for ref in pairs)


def test_the_policy_is_installed_once(freezing: None) -> None:
    freeze_survivors()
    gc.collect()
    assert len(_installed()) == 1


def test_a_long_lived_object_is_frozen_as_it_is_made(freezing: None) -> None:
    made = long_lived(lambda n: [[i] for i in range(n)], 2_000)
    assert gc.get_freeze_count() >= len(made) + 1
    in_sight = {id(o) for o in gc.get_objects()}
    assert id(made) not in in_sight
    assert not in_sight & {id(part) for part in made}
    assert made[-1] == [1_999]
    assert long_lived(lambda _: gc.isenabled(), None) is False  # no collection walks it...
    assert gc.isenabled()  # ...while it is made, and only then


def test_a_long_lived_object_leaves_a_collector_held_off_as_it_was(freezing: None) -> None:
    gc.disable()
    try:
        long_lived(list, "abc")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_long_lived_object_that_fails_to_be_made_leaves_the_collector_on(
    freezing: None,
) -> None:
    with pytest.raises(ValueError, match="not a number"):
        long_lived(float, "not a number")
    assert gc.isenabled()


def test_without_the_policy_a_long_lived_object_is_made_in_sight() -> None:
    gc.unfreeze()
    assert not _installed()
    try:
        made = long_lived(lambda n: [[i] for i in range(n)], 100)
        assert gc.get_freeze_count() == 0
        assert id(made) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()


def _installed() -> list[object]:
    return [cb for cb in gc.callbacks if getattr(cb, "__module__", "") == "marketpulse.gc_policy"]


@pytest.mark.parametrize(("freeze", "hooks"), [("true", "1"), ("false", "0"), (None, "1")])
def test_a_worker_process_collects_as_its_settings_say(freeze: str | None, hooks: str) -> None:
    """Freezing after full collections as the setting says, on when it says nothing."""
    # run_worker up to the point where Faust would take over: the topics and Faust's own start
    # are stood in for, the rest is the worker's start as it runs
    code = (
        "import gc, marketpulse.launch as launch, marketpulse.streams.admin as admin\n"
        "async def no_topics(settings): pass\n"
        "admin.ensure_topics = no_topics\n"
        "import marketpulse.app as faust_app\n"
        "def report():\n"
        "    mine = [c for c in gc.callbacks if c.__module__ == 'marketpulse.gc_policy']\n"
        "    print(gc.get_threshold()[2], len(mine))\n"
        "faust_app.app.main = report\n"
        "from marketpulse.settings import get_settings\n"
        "launch.run_worker(get_settings(), 'warning')\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "MARKETPULSE_WORKER_GC_FREEZE"},
        "MARKETPULSE_WORKER_GC_FULL_EVERY": "321",
        "MARKETPULSE_WORKER_METRICS_PORT": "0",
    }
    if freeze is not None:
        env["MARKETPULSE_WORKER_GC_FREEZE"] = freeze
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["321", hooks]
    assert gc.get_threshold()[2] != 321  # this process untouched: the worker's own setting
    assert not _installed()
