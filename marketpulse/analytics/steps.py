"""The agents' steps, pure: one input message in, every output and every state to write out.

``apply_frame`` is the whole path of a ``market.raw`` frame: decode, the quality gate, the
symbol's event-time bars, the bars of quiet symbols that are now due, and for each closed bar
its series (indicators, then signal detectors); at most once an interval per symbol, its bars
still forming with the values their indicators would take (peeked, committing nothing).
``apply_ready_made_bar`` is the path of a bar that arrives whole on ``market.bars.raw``: the
bar gate, then the same series step. Neither touches Faust, a broker or a clock (the wall
clock comes in as an argument); the agents send what they return, in order, and write the
states. So a unit test can follow a frame all the way to its signals.
"""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from marketpulse.analytics.bars import BarBuilder
from marketpulse.analytics.frames import Rejection, decode_frame
from marketpulse.analytics.ingest import SymbolState, step
from marketpulse.analytics.partition_time import PartitionTime
from marketpulse.analytics.quality import Verdict, check_bar, check_built_bar, widened
from marketpulse.analytics.series import SeriesState, blank_indicators, forming_record
from marketpulse.analytics.step_io import (
    Message,
    Send,
    StateStore,
    StepConfig,
    StepOutputs,
    key_of_series,
    new_series,
    series_key,
)
from marketpulse.analytics.ticks import originals
from marketpulse.schemas.bars import Bar
from marketpulse.streams.topics import CLEAN, FORMING


def apply_frame(
    store: StateStore, time: PartitionTime, message: Message, now_ns: int, config: StepConfig
) -> StepOutputs:
    """Apply one ``market.raw`` message to its symbol and its partition's time.

    ``now_ns`` is the wall clock, read by the gate's future-timestamp check only. ``time`` and
    the states ``store`` hands out are updated in place; the ones to write are returned.
    """
    out = StepOutputs()
    limit = config.max_message_bytes
    decoded = decode_frame(message.value)
    if isinstance(decoded, Rejection):
        out.refuse(message, decoded.reason, decoded.detail, message.value, limit)
        return out
    key = message.key
    if not key:
        out.refuse(message, "malformed", "frames must be keyed by symbol", message.value, limit)
        return out
    symbol = key.decode("utf-8", errors="replace")
    state = _symbol(store, key, config)
    if message.offset <= state.offset:
        out.redelivered.append("bars")
        return out
    out.events = (decoded.source, len(decoded.events))
    grace = config.gate.grace_ns
    time.stream_time, stepped = step(state, decoded, symbol, time.stream_time, now_ns, grace)
    out.inert, out.unopened, out.too_late = stepped.inert, stepped.unopened, stepped.too_late
    if stepped.accepted:  # accepted only: a refused future timestamp must not hide a stale feed
        out.last_event = (symbol, stepped.latest)
    state.offset, state.partition = message.offset, message.partition
    if stepped.rejected:
        # Refused and partly accepted frames carry each event's JSON as it came.
        as_sent = dict(zip(map(id, decoded.events), originals(message.value, decoded), strict=True))
        for rejected, verdict in stepped.rejected:
            out.refuse(message, verdict.reason, verdict.detail, as_sent[id(rejected)], limit)
        if stepped.accepted:
            clean = {
                "source": decoded.source,
                "received_ts": decoded.received_ts,
                "events": [orjson.Fragment(as_sent[id(event)]) for event in stepped.accepted],
            }
            out.sends.append(Send(CLEAN.name, key, orjson.dumps(clean)))
    elif stepped.accepted:
        out.sends.append(Send(CLEAN.name, key, message.value))  # the frame as it came
    for bar in stepped.bars:
        _publish(out, store, key, bar, config, message)
    interval = config.forming_interval_ns
    if interval and now_ns - state.forming_ns >= interval:
        _forming(out, store, key, state, config)
        state.forming_ns = now_ns
    quiet = []
    for other in time.pop_due():
        if other == key:
            continue
        other_state = _symbol(store, other, config)
        for bar in other_state.bars.close(time.stream_time, grace):
            _publish(out, store, other, bar, config, message)
        out.unopened += other_state.bars.take_unopened()
        other_state.stream_time = time.stream_time
        quiet.append((other, other_state))
    out.symbols[key] = state
    time.schedule(key, state.bars.next_close(grace))
    for other, other_state in quiet:
        out.symbols[other] = other_state
        time.schedule(other, other_state.bars.next_close(grace))
    return out


def apply_ready_made_bar(store: StateStore, message: Message, config: StepConfig) -> StepOutputs:
    """Gate one ``market.bars.raw`` message against its series; publish and apply it if it
    passes."""
    out = StepOutputs()
    limit = config.max_message_bytes
    try:
        bar = Bar.model_validate_json(message.value)
    except ValidationError as exc:
        out.refuse(message, "malformed", str(exc.errors()[0]["msg"]), message.value, limit)
        return out
    if message.key != bar.symbol.encode():
        detail = f"Bar for {bar.symbol} keyed {message.key!r}"
        out.refuse(message, "symbol_mismatch", detail, message.value, limit)
        return out
    if bar.granularity not in config.granularities:
        kept = ", ".join(config.granularities)
        detail = f"{bar.granularity} bars are not kept here (MARKETPULSE_GRANULARITIES: {kept})"
        out.refuse(message, "bad_granularity", detail, message.value, limit)
        return out
    key = series_key(bar)
    series = store.series(key) or new_series(config)
    if message.offset <= series.offset:
        out.redelivered.append("series")
        return out
    cut = config.cuts.of(bar.symbol)[bar.granularity]
    verdict = check_bar(bar, series.last_start, config.gate, cut)
    restated = None if verdict is None else series.restates(widened(bar))
    if verdict is not None and restated is None:
        if series.kept(bar.start) is not None:  # a kept bar, with the same values
            verdict = Verdict("duplicate", f"bar {bar.key()} already accepted")
        out.refuse(message, verdict.reason, verdict.detail, message.value, limit)
        return out
    bar = restated or widened(bar)
    kept_before = [applied.bar for applied in series.history]
    out.publish(message.key, bar)
    out.advance(message.key, bar, series, config)
    series.offset = message.offset
    out.series[key] = series
    _roll_up(out, store, message, bar, series, config, kept_before)
    return out


def _roll_up(
    out: StepOutputs,
    store: StateStore,
    message: Message,
    bar: Bar,
    series: SeriesState,
    config: StepConfig,
    kept_before: list[Bar],
) -> None:
    """Fold a ready-made bar into the coarser configured granularities of its symbol (1m into
    5m, 1h and the session's 1d, say), and publish each coarser bar that is complete: once a
    finer bar reaches its end (ready-made bars of a series come in order).

    The series keeps as ``rollup`` the coarser bars folded from the finer bars it no longer
    keeps for revisions (every finer bar, without lateness); the finer bars it keeps are folded
    in afresh at each step, so that a restated one changes the coarser bar it falls in. That
    bar, when complete and published already, is restated in turn (:func:`_restate`); when
    not, it simply has the restated values when it completes."""
    length = config.granularities[bar.granularity]
    coarser = {
        name: cut
        for name, cut in config.cuts.of(bar.symbol).items()
        if config.granularities[name] > length
    }
    if not coarser:
        return
    settled = (
        BarBuilder(bar.symbol, coarser)
        if series.rollup is None
        else BarBuilder.from_state(coarser, series.rollup)
    )
    kept = [applied.bar for applied in series.history]
    if kept:
        for finer in kept_before:
            if finer.start < kept[0].start:  # kept no more
                settled.add_bar(finer)
        view = BarBuilder.from_state(coarser, settled.state())
        for finer in kept:
            view.add_bar(finer)
        complete = view.close(kept[-1].end, 0)
        settled.close(kept[0].start, 0)  # all their finer bars settled: published already
    else:
        settled.add_bar(bar)
        complete = settled.close(bar.end, 0)
    series.rollup = settled.state() if any(settled.open.values()) else None
    key = bar.symbol.encode()  # the message's key: the gate has checked they agree
    for done in complete:
        coarse = out.series.get(series_key(done)) or store.series(series_key(done))
        if coarse is None or coarse.last_start is None or done.start > coarse.last_start:
            _publish(out, store, key, done, config, message)
        elif done.start <= bar.start < done.end:
            _restate(out, key, done, coarse, config)


def _restate(
    out: StepOutputs, key: bytes, bar: Bar, series: SeriesState, config: StepConfig
) -> None:
    """Publish a coarser bar again whose finer bar was restated, and revise its series; if the
    series cannot go back to it (its granularity allows less lateness), count it."""
    restated = series.restates(bar)
    if restated is None:
        if series.kept(bar.start) is None:
            out.restated_too_late += 1
        return  # else the same values: the restatement changed nothing at this granularity
    out.publish(key, restated)
    out.advance(key, restated, series, config)
    out.series[series_key(restated)] = series


def _forming(
    out: StepOutputs, store: StateStore, key: bytes, state: SymbolState, config: StepConfig
) -> None:
    """Send the symbol's bars still forming, each with the values its series' indicators would
    take if it closed now; no state changes. A series that already has the bar (applied again
    after a restart that lost the symbol's state) is skipped."""
    for bar in state.bars.forming():
        skey = key_of_series(bar["symbol"], bar["granularity"])
        series = out.series.get(skey) or store.series(skey)
        if series is None:
            record = forming_record(blank_indicators(config.indicators), bar)
        elif series.has(bar["start"], bar["revision"]):
            continue
        else:
            record = series.peek(bar)
        out.sends.append(Send(FORMING.name, key, record))
        out.forming.append(bar["granularity"])


def _symbol(store: StateStore, key: bytes, config: StepConfig) -> SymbolState:
    found = store.symbol(key)
    if found is not None:
        return found
    symbol = key.decode("utf-8", errors="replace")
    return SymbolState.new(symbol, config.gate, config.cuts.of(symbol))


def _publish(
    out: StepOutputs, store: StateStore, key: bytes, bar: Bar, config: StepConfig, cause: Message
) -> None:
    """Publish a bar built here and advance its series, unless the series already has it: the
    frame is being applied again after a restart that kept the series' state and lost the
    symbol's, and the snapshot and signals went out the first time. A bar that cannot be
    published is dead-lettered where the message that closed it (``cause``) was read."""
    verdict = check_built_bar(bar)
    if verdict is not None:
        payload = bar.model_dump_json().encode()
        out.refuse(cause, verdict.reason, verdict.detail, payload, config.max_message_bytes)
        return
    out.publish(key, bar)
    skey = series_key(bar)
    series = out.series.get(skey) or store.series(skey) or new_series(config)
    if series.applied(bar):
        out.redelivered.append("series")
        return
    out.advance(key, bar, series, config)
    out.series[skey] = series
