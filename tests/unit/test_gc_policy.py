"""The worker's garbage-collection policy: full collections rarer, the young ones as they were;
a worker process sets it from its settings before it starts."""

from __future__ import annotations

import gc
import os
import subprocess
import sys

from marketpulse.gc_policy import collect_fully_every


def test_only_the_full_collections_threshold_changes() -> None:
    before = gc.get_threshold()
    try:
        collect_fully_every(250)
        assert gc.get_threshold() == (before[0], before[1], 250)
    finally:
        gc.set_threshold(*before)


def test_a_worker_process_collects_fully_as_its_settings_say() -> None:
    # run_worker up to the point where Faust would take over: the topics and Faust's own start
    # are stood in for, the rest is the worker's start as it runs
    code = (
        "import gc, marketpulse.launch as launch, marketpulse.streams.admin as admin\n"
        "async def no_topics(settings): pass\n"
        "admin.ensure_topics = no_topics\n"
        "import marketpulse.app as faust_app\n"
        "faust_app.app.main = lambda: print(gc.get_threshold()[2])\n"
        "from marketpulse.settings import get_settings\n"
        "launch.run_worker(get_settings(), 'warning')\n"
    )
    env = {**os.environ, "MARKETPULSE_WORKER_GC_FULL_EVERY": "321",
           "MARKETPULSE_WORKER_METRICS_PORT": "0"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "321"
    assert gc.get_threshold()[2] != 321  # this process untouched: the worker's own setting
