"""The quality gate: pure checks that refuse bad events and bars with a reason code.

Reason codes (also the ``reason`` label of ``marketpulse_deadletters_total``):

``malformed``        the message does not parse into its schema
``symbol_mismatch``  an event's symbol differs from the message key (it would land in another
                     symbol's partition state)
``bad_price``        a price is missing, NaN, infinite, zero or negative
``negative_size``    a size or volume is negative
``non_finite``       a bar built here would hold a value that is not a finite number (only with
                     bounds set near the float limit)
``out_of_range``     a price above ``max_price``, or a size or volume above ``max_size`` (or not
                     a number): bounded inputs keep every sum, VWAP and indicator finite
``crossed_quote``    bid > ask (a locked quote, bid == ask, passes)
``future_timestamp`` the event is more than ``max_future_ns`` ahead of the clock
``duplicate``        the same event (or bar, with the same values) was already accepted
``price_spike``      the price is further than ``spike_bound`` (relative) from the last good one,
                     until ``spike_confirmations`` events in a row confirm the new level
``late``             the event is more than the grace period behind the partition's stream time
                     (a trade: more than the grace period and the largest allowed lateness)
``bad_ohlc``         a ready-made bar breaks low <= open, close <= high by more than float noise
``bad_granularity``  a ready-made bar's start/end do not match its granularity
``outside_session``  a trade, or a ready-made bar's start, outside every session of the symbol's
                     calendar (extended hours included when bars take them)
``out_of_order``     a ready-made bar starts before the last one accepted for its series
``unknown_trade``    a cancel or correction names no trade kept for it: none of that id at that
                     time, or one older than the cancel window (``MARKETPULSE_CANCEL_WINDOW_MS``)
``announced_early``  a cancel or correction announced before the trade it names
"""

from __future__ import annotations

import base64
import math
import zlib
from array import array
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

from msgspec.structs import astuple

from marketpulse.analytics.sessions import Cut, cut_for
from marketpulse.analytics.ticks import CancelTick, CorrectionTick, QuoteTick, Tick, TradeTick
from marketpulse.schemas.bars import Bar

# Compiled code reads an imported name from the module's dictionary at every use, and a Final
# one from a C static: the tick types and ``astuple``, read for every event here and in the
# step, are taken from these.
QUOTE: Final = QuoteTick
TRADE: Final = TradeTick
CANCEL: Final = CancelTick
CORRECTION: Final = CorrectionTick
fields_of: Final = astuple


@dataclass(frozen=True)
class GateConfig:
    """The gate's bounds; every one is a setting."""

    grace_ns: int = 2_000_000_000
    max_future_ns: int = 5_000_000_000
    spike_bound: float = 0.2
    spike_confirmations: int = 3
    dedup_window: int = 256  # fingerprints remembered per symbol
    # price x size must stay far from the float limit (1.8e308) after summing a bar's trades
    max_price: float = 1e12
    max_size: float = 1e15
    # the granularities that allow lateness past the grace period, and how much (ns): a trade
    # within the largest may still revise a closed bar
    lateness: tuple[tuple[str, int], ...] = ()
    # how long a symbol keeps its trades for cancels and corrections (ns of stream time)
    cancel_window_ns: int = 0

    @property
    def trade_lateness_ns(self) -> int:
        """How far behind stream time a trade may be: the grace period and the largest
        allowed lateness."""
        return self.grace_ns + max((ns for _, ns in self.lateness), default=0)


@dataclass(frozen=True)
class Verdict:
    """Why an event (or bar) was refused."""

    reason: str
    detail: str


def _good_price(value: float | None) -> TypeGuard[float]:
    # two comparisons, which compiled code makes on the unboxed double, where math.isfinite is
    # a call through the module (twice a quote); NaN fails either comparison
    return value is not None and 0.0 < value < math.inf


def _stable(value: int | str) -> int:
    return value if isinstance(value, int) else zlib.crc32(value.encode())


def _fingerprint(fields: tuple[Any, ...], quote: bool) -> Any:
    """A hash of everything that makes an event (``fields``, its ``astuple``), equal across
    processes.

    Python's hash of ints, floats and tuples of them does not depend on PYTHONHASHSEED (only
    str and bytes hashes do), so trade conditions given as text are turned into numbers first.
    The fields stay untyped: compiled code would otherwise unbox each one and box it again for
    the tuple, which made this five times slower than the interpreter.
    """
    ts, first, second = fields[1], fields[2], fields[3]
    if quote:  # symbol, ts, bid, ask, bid_size, ask_size, source
        return hash((2, ts, first, second, fields[4], fields[5]))
    if isinstance(first, str):  # a cancel or correction: symbol, ts, trade_id, trade_ts, ...
        named = (3, ts, zlib.crc32(first.encode()), second)
        if len(fields) == 5:  # a cancel: then its source
            return hash(named)
        # a correction: price, size, conditions, source, updates, id
        return hash((*named, fields[4], fields[5], *map(_stable, fields[6])))
    # symbol, ts, price, size, conditions, source, updates, id: two prints alike in all else
    # are two trades when the feed gives them two ids
    conditions, trade_id = fields[4], fields[7]
    if trade_id is not None:
        crc = zlib.crc32(trade_id.encode())
        return hash((1, crc, ts, first, second, *map(_stable, conditions)))
    if conditions:
        return hash((1, ts, first, second, *map(_stable, conditions)))
    return hash((1, ts, first, second))


def _amendment_fault(
    fields: tuple[Any, ...], correction: bool, config: GateConfig
) -> Verdict | None:
    """Why a cancel or a correction (``fields``: its ``astuple``) is refused before the checks
    every event has: a correction's price and size as a trade's, and either announced before
    the trade it names."""
    if correction:
        fault = _trade_fault(fields[4], fields[5], config)
        if fault is not None:
            return fault
    ts, trade_ts = fields[1], fields[3]
    if trade_ts > ts:
        return Verdict("announced_early", f"announced at ts {ts}, of a trade at ts {trade_ts}")
    return None


def _trade_fault(price: float | None, size: float, config: GateConfig) -> Verdict | None:
    """Why a trade's (or a correction's) price and size are refused, or None."""
    if not _good_price(price):
        return Verdict("bad_price", f"trade price={price}")
    if size < 0:
        return Verdict("negative_size", f"trade size={size}")
    if not size <= config.max_size:
        return Verdict("out_of_range", f"trade size={size} > {config.max_size}")
    if price > config.max_price:
        return Verdict("out_of_range", f"trade price={price} > {config.max_price}")
    return None


class EventGate:
    """Per-symbol gate state: last good price, a pending new level, recent fingerprints.

    The last ``dedup_window`` accepted fingerprints are remembered: enough for a vendor's
    resend after a reconnect, small enough to write back with every commit. (A duplicate older
    than the grace period is refused as late before it is looked up; whole frames delivered
    twice by the broker are skipped by offset before they reach the gate.)

    A fingerprint covers the event's time, so an event later than every one remembered
    (``newest``) is no duplicate of any, and is only written into the window: a ring of 8-byte
    integers, 2 KB a symbol in one block. Only an event at or before ``newest`` is looked up:
    among the few remembered since ``newest`` was reached when it is at that very time (a burst
    of prints at one instant), else in a set of the whole window, made when first needed and
    dropped once a window's worth of events has gone by without a lookup. A set of Python
    integers kept for every event took 25 KB a symbol, scattered over the heap: with hundreds
    of symbols each frame's lookups, insertions and evictions missed the CPU's caches, a sixth
    of the engine's time.
    """

    def __init__(self, config: GateConfig) -> None:
        self.config = config
        self.trade_window = config.trade_lateness_ns  # read for every trade: worked out once
        self.last_price: float | None = None
        self.pending_price: float | None = None
        self.pending_count = 0
        # fingerprints, a ring once full (its oldest at ``_head``)
        self.recent: array[int] = array("q")
        self._head = 0
        # the latest time remembered, -1 before any (event times are not negative): a plain
        # integer, which compiled code keeps unboxed where None beside it would box every time
        self.newest = -1
        self._since = 0  # fingerprints remembered since ``newest`` was reached, that one too
        self._window: set[Any] | None = None  # every fingerprint of ``recent``, while looked up
        self._unused = 0  # fingerprints remembered since ``_window`` was last looked in

    def check(self, event: Tick, stream_time: int, now_ns: int) -> Verdict | None:
        """Return why ``event`` is refused, or None when it is accepted (and remembered)."""
        return self.check_fields(event, fields_of(event), stream_time, now_ns)

    def check_fields(
        self, event: Tick, fields: tuple[Any, ...], stream_time: int, now_ns: int
    ) -> Verdict | None:
        """:meth:`check`, given the event's ``astuple``: every slot in one call, which the
        step reads too (compiled code reads a msgspec struct's attributes through the generic
        lookup, which would be the largest part of the gate's time)."""
        config = self.config
        kind = type(event)  # not isinstance: see ingest.step
        quote = kind is QUOTE
        if quote:  # symbol, ts, bid, ask, bid_size, ask_size, source
            bid: float | None = fields[2]
            ask: float | None = fields[3]
            if not (_good_price(bid) and _good_price(ask)):
                return Verdict("bad_price", f"quote bid={bid} ask={ask}")
            bid_size: float = fields[4]
            ask_size: float = fields[5]
            if bid_size < 0 or ask_size < 0:
                return Verdict("negative_size", f"bid_size={bid_size} ask_size={ask_size}")
            limit = config.max_size
            if not (bid_size <= limit and ask_size <= limit):
                return Verdict("out_of_range", f"bid_size={bid_size} ask_size={ask_size} > {limit}")
            if ask > config.max_price:
                return Verdict("out_of_range", f"ask {ask} > {config.max_price}")
            if bid > ask:
                return Verdict("crossed_quote", f"bid {bid} > ask {ask}")
            price = (bid + ask) / 2
        elif kind is TRADE:  # symbol, ts, price, size, conditions, source, ...
            fault = _trade_fault(fields[2], fields[3], config)
            if fault is not None:
                return fault
            price = fields[2]
        else:  # a cancel or a correction: symbol, ts, trade_id, trade_ts, then a correction's
            price = None  # not a new price of the market: no spike check
            fault = _amendment_fault(fields, kind is CORRECTION, config)
            if fault is not None:
                return fault
        ts: int = fields[1]
        if ts > now_ns + config.max_future_ns:
            ahead = (ts - now_ns) / 1e9
            return Verdict("future_timestamp", f"ts {ts} is {ahead:.3f} s ahead of the clock")
        if ts < stream_time - (config.grace_ns if quote else self.trade_window):
            behind = (stream_time - ts) / 1e9
            return Verdict("late", f"ts {ts} is {behind:.3f} s behind stream time")
        fingerprint = _fingerprint(fields, quote)
        if self._seen(fingerprint, ts):
            return Verdict("duplicate", f"{event.kind} at ts {ts} already accepted")
        if price is not None:
            spike = self._spike(price)
            if spike is not None:
                return spike
        self._remember(fingerprint, ts)
        return None

    def _seen(self, fingerprint: Any, ts: int) -> bool:
        """Whether ``fingerprint`` (of an event at ``ts``) is remembered."""
        newest = self.newest
        if ts > newest:
            return False
        recent = self.recent
        if ts == newest and self._since <= _BURST:
            # every fingerprint at ``newest`` is among the last ``_since`` remembered; the
            # newest is just before the head (at -1 while the ring fills, its head at 0), and a
            # negative index wraps the ring
            last = self._head - 1
            for back in range(min(self._since, len(recent))):
                if recent[last - back] == fingerprint:
                    return True
            return False
        window = self._window
        if window is None:
            window = self._window = set(recent)
        self._unused = 0
        return fingerprint in window

    def _remember(self, fingerprint: Any, ts: int) -> None:
        recent, window = self.recent, self._window
        if len(recent) < self.config.dedup_window:
            recent.append(fingerprint)
        else:
            head = self._head
            if window is not None:
                window.discard(recent[head])
            recent[head] = fingerprint
            head += 1
            self._head = 0 if head == len(recent) else head
        if window is not None:
            window.add(fingerprint)
            self._unused += 1
            if self._unused >= len(recent):
                self._window = None
        if ts > self.newest:
            self.newest, self._since = ts, 1
        else:
            self._since += 1

    def _spike(self, price: float) -> Verdict | None:
        bound = self.config.spike_bound
        last = self.last_price
        if last is None or abs(price / last - 1.0) <= bound:
            self.last_price = price
            self.pending_price, self.pending_count = None, 0
            return None
        pending = self.pending_price
        if pending is not None and abs(price / pending - 1.0) <= bound:
            self.pending_count += 1
        else:
            self.pending_price, self.pending_count = price, 1
        if self.pending_count >= self.config.spike_confirmations:
            self.last_price = price  # the new level is confirmed: accept from here on
            self.pending_price, self.pending_count = None, 0
            return None
        return Verdict("price_spike", f"{price} is {abs(price / last - 1.0):.1%} from {last}")

    def state(self) -> dict[str, Any]:
        """JSON-ready state, the fingerprints aside (:meth:`remembered`)."""
        return {
            "last_price": self.last_price,
            "pending_price": self.pending_price,
            "pending_count": self.pending_count,
            "newest": None if self.newest < 0 else self.newest,
            "since": self._since,
        }

    def remembered(self) -> bytes:
        """The fingerprints remembered, oldest first, as 8-byte integers (``array("q")``'s)."""
        recent, head = self.recent, self._head
        return (recent[head:] + recent[:head] if head else recent).tobytes()

    @classmethod
    def from_state(
        cls,
        config: GateConfig,
        state: dict[str, Any],
        remembered: bytes | None = None,
        latest: int | None = None,
    ) -> EventGate:
        """Rebuild a gate from :meth:`state` and :meth:`remembered` (None: a state that holds
        them itself, base64 under ``recent``, as states were written before). ``latest``: a
        time no remembered event is after (the symbol's stream time), for a state written
        before the gate kept ``newest``; without it every event is looked up."""
        gate = cls(config)
        gate.last_price = state["last_price"]
        gate.pending_price = state["pending_price"]
        gate.pending_count = state["pending_count"]
        if remembered is None:
            remembered = base64.b64decode(state["recent"])
        # oldest first; a window set smaller since keeps the newest
        gate.recent.frombytes(remembered[-8 * config.dedup_window :])
        if "newest" in state:
            newest = state["newest"]
            gate.newest, gate._since = -1 if newest is None else newest, state["since"]
        elif gate.recent:
            # only ``_seen``'s set can say which are at the latest time
            gate.newest, gate._since = _LATEST if latest is None else latest, _BURST + 1
        return gate


# A burst of events at one instant is looked up among the last this many remembered (compared
# one by one); a longer one in the window's set.
_BURST: Final = 8
_LATEST: Final = 2**63 - 1


# Adjusted prices are computed (raw price x factor), and decimal text read into binary floats is
# rounded: either can leave a close a few ulps outside its bar's range, which is noise, not a
# bad bar. A real inconsistency is at least one price tick, over a millionth of the price for
# anything traded. A relative 1e-12 (thousands of ulps, a million times less than a tick) keeps
# the two apart at any price level.
OHLC_TOLERANCE: Final = 1e-12


def range_holds(bar: Bar) -> bool:
    """Whether the bar's low and high hold its open and close, float noise aside."""
    return bar.low <= min(bar.open, bar.close) * (1 + OHLC_TOLERANCE) and bar.high >= max(
        bar.open, bar.close
    ) * (1 - OHLC_TOLERANCE)


def widened(bar: Bar) -> Bar:
    """The bar with its low and high widened to hold its open and close (for a bar whose range
    holds them up to float noise), so that no later step sees a negative shadow."""
    low, high = min(bar.low, bar.open, bar.close), max(bar.high, bar.open, bar.close)
    if low == bar.low and high == bar.high:
        return bar
    return bar.model_copy(update={"low": low, "high": high})


def check_bar(
    bar: Bar, last_start: int | None, config: GateConfig, cut: Cut | None = None
) -> Verdict | None:
    """Check a ready-made bar against OHLC invariants, the gate's bounds, its granularity (the
    bounds ``cut`` gives, UTC's by default) and its series order."""
    prices = (bar.open, bar.high, bar.low, bar.close)
    if not all(_good_price(p) for p in prices):
        return Verdict("bad_price", f"bar prices {prices}")
    if not range_holds(bar):
        return Verdict("bad_ohlc", f"o={bar.open} h={bar.high} l={bar.low} c={bar.close}")
    if bar.high > config.max_price:
        return Verdict("out_of_range", f"bar high {bar.high} > {config.max_price}")
    if bar.volume < 0:
        return Verdict("negative_size", f"bar volume {bar.volume}")
    if not bar.volume <= config.max_size:
        return Verdict("out_of_range", f"bar volume {bar.volume} > {config.max_size}")
    try:
        cut = cut or cut_for(bar.granularity, None)
    except ValueError as exc:
        return Verdict("bad_granularity", str(exc))
    if cut.timeless:
        return Verdict("bad_granularity", f"{bar.granularity} bars are built here from trades")
    bounds = cut.bounds(bar.start)
    if bounds is None:
        return Verdict("outside_session", f"bar {bar.key()} starts outside every session")
    if bounds != (bar.start, bar.end):
        return Verdict("bad_granularity", f"[{bar.start}, {bar.end}) is not one {bar.granularity}")
    if last_start is not None and bar.start == last_start:
        return Verdict("duplicate", f"bar {bar.key()} already accepted")
    if last_start is not None and bar.start < last_start:
        return Verdict("out_of_order", f"bar {bar.key()} starts before {last_start}")
    return None


def check_built_bar(bar: Bar) -> Verdict | None:
    """Refuse a bar built here whose values are not all finite numbers: JSON has none to carry
    them, and a subscriber would read ``null`` for a price."""
    values = (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.vwap or 0.0)
    if all(map(math.isfinite, values)):
        return None
    return Verdict("non_finite", f"bar {bar.key()} o={bar.open} h={bar.high} l={bar.low} "
                                 f"c={bar.close} v={bar.volume} vwap={bar.vwap}")  # fmt: skip
