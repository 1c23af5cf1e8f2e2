"""The worker's own step over frames, with no broker (the engine alone), and the settings every
benchmark's workers run with. Apart from ``pipeline.py``, so that a child process that runs
only the step (``engine_ab.py``'s, under callgrind) imports no more than the step does."""

from __future__ import annotations

import time
import uuid

from marketpulse.analytics.ingest import SymbolState
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.series import SeriesState
from marketpulse.analytics.step_io import MemoryStore, Message
from marketpulse.analytics.steps import apply_frame
from marketpulse.clock import SystemClock
from marketpulse.settings import Settings

# The worker encodes each changed state once a commit (Faust's, every 2.8 s or 10,000 frames),
# some 2,500 frames of a backlog; here once every 500, so that the engine alone is not the
# cheaper for it.
COMMIT_FRAMES = 500


def work_alone(
    settings: Settings,
    backlog: list[tuple[bytes, bytes]],
    clock: list[int] | None = None,
    store: MemoryStore | None = None,
) -> float:
    """Seconds a frame of ``backlog`` takes through the worker's own step, without Kafka: the
    same pure step, every record encoded as the worker encodes it and every changed state once
    every :data:`COMMIT_FRAMES` frames. ``clock``: the wall clock as each frame comes (which
    paces the forming bars), else now for all; ``store``: the states to start from, else
    none."""
    config, time_ = settings.step_config(), PartitionTime()
    store = store or MemoryStore()
    changed: dict[bytes, SeriesState | SymbolState] = {}
    now = SystemClock().now_ns()
    started = time.process_time()
    for offset, (key, payload) in enumerate(backlog):
        message = Message("market.raw", 0, offset, key, payload)
        outputs = apply_frame(store, time_, message, now if clock is None else clock[offset],
                              config)  # fmt: skip
        for out in outputs.sends:
            if not isinstance(out.record, bytes):
                out.record.model_dump_json()
        store.write(outputs)
        changed.update(outputs.series)
        changed.update(outputs.symbols)
        if offset % COMMIT_FRAMES == COMMIT_FRAMES - 1 or offset == len(backlog) - 1:
            for state in changed.values():
                state.to_bytes()
            changed.clear()
    return (time.process_time() - started) / len(backlog)


def bench_settings(base: Settings) -> Settings:
    """Topics of their own, so that each worker of the run drains its own copy of the frames."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}."
    return base.model_copy(
        update={"topic_prefix": prefix, "granularities": ["1s"], "worker_id": prefix + "w"}
    )
