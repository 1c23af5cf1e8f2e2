"""Every candlestick pattern over one symbol's bars, one bar at a time.

The candle averages are shared: patterns that read the same setting, at the same candle offset,
with the same first bar, read one running total (TA-Lib's totals depend on where they start,
so the first bar is part of what makes two totals the same).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from marketpulse.analytics.patterns.candles import RANGE_COLUMNS, History, RangeType
from marketpulse.analytics.patterns.candlestick import (
    REGISTRY,
    Candlestick,
    Hikkake,
    Rule,
    lookback,
)

_Key = tuple[str, int, int]  # setting name, candle offset, first bar
# column (an index into a set's history columns), end (-1 - candle offset), period, factor,
# divisor, first bar
_Spec = tuple[int, int, int, float, float, int]
# a pattern's rule, its averages' slots, its first bar and its first output bar
_Entry = tuple[Rule, tuple[int, ...], int, int]


@dataclass(frozen=True)
class _Layout:
    """What a set of chosen patterns shares whatever the symbol, worked out once per choice:
    the history columns the averages read, the averages' settings, the running totals' windows
    (an average's index, column, the end and start of its window, its first bar), each
    pattern's rule with its slots and first bars (None for a rule each set makes for itself:
    ``own`` gives its index, slots and first bars), and the last first bar of any average.

    A worker holds a set for every series, and its collector walks every object each holds:
    these were about 170 tuples and closures a set, half of a series' objects."""

    columns: tuple[str, ...]
    specs: tuple[_Spec, ...]
    windows: tuple[tuple[int, int, int, int, int], ...]
    patterns: tuple[Candlestick, ...]
    rules: tuple[_Entry | None, ...]
    own: tuple[tuple[int, tuple[int, ...], int, int], ...]
    last_start: int
    choice: str  # the chosen names, digested: what a state says it was made with


@cache
def _layout(chosen: tuple[str, ...]) -> _Layout:
    keys: dict[_Key, int] = {}
    columns: list[str] = []
    specs: list[_Spec] = []
    patterns: list[Candlestick] = []
    rules: list[_Entry | None] = []
    own = []
    for pattern in (REGISTRY[n] for n in chosen):
        first_output = lookback(pattern)
        first = first_output - pattern.warmup
        slots = []
        for setting, offset in pattern.uses:
            key = (setting.name, offset, first)
            if key not in keys:
                keys[key] = len(specs)
                divisor = 2.0 if setting.range_type is RangeType.SHADOWS else 1.0
                column = RANGE_COLUMNS[setting.range_type]
                if column not in columns:
                    columns.append(column)
                specs.append(
                    (columns.index(column), -1 - offset, setting.period, setting.factor,
                     divisor, first)
                )  # fmt: skip
            slots.append(keys[key])
        if pattern.shared:
            rules.append((pattern.make(), tuple(slots), first, first_output))
        else:
            own.append((len(patterns), tuple(slots), first, first_output))
            rules.append(None)
        patterns.append(pattern)
    windows = tuple(
        (i, column, end, end - period, first)
        for i, (column, end, period, _f, _d, first) in enumerate(specs)
        if period
    )
    last_start = max((spec[5] for spec in specs), default=-1)
    choice = hashlib.blake2b("\n".join(chosen).encode(), digest_size=8).hexdigest()
    return _Layout(tuple(columns), tuple(specs), windows, tuple(patterns), tuple(rules),
                   tuple(own), last_start, choice)  # fmt: skip


class CandlestickSet:
    """The chosen patterns (default: all) with their running averages and the bars they read."""

    def __init__(self, names: Iterable[str] | None = None) -> None:
        chosen = tuple(REGISTRY) if names is None else tuple(names)
        unknown = [n for n in chosen if n not in REGISTRY]
        if unknown:
            raise ValueError(f"unknown candlestick patterns: {', '.join(unknown)}")
        self.history = History()
        self.names = list(chosen)
        layout = _layout(chosen)
        history = self.history
        # the history's columns the averages read (its lists, changed in place)
        self._columns: list[list[float]] = [getattr(history, name) for name in layout.columns]
        self._specs = layout.specs
        self.totals: list[float] = [0.0] * len(self._specs)
        # one view of the averages for every rule, its slots set before each (a worker holds
        # thousands of sets, and its collector walks every object each holds)
        self._averages = _Averages(self._specs, self._columns, self.totals)
        made = {i: (layout.patterns[i].make(), slots, first, first_output)
                for i, slots, first, first_output in layout.own}  # fmt: skip
        self._rules: list[_Entry] = [
            made[i] if entry is None else entry for i, entry in enumerate(layout.rules)
        ]
        self._last_start = layout.last_start
        self._choice = layout.choice
        self._windows = layout.windows

    def update(self, o: float, h: float, l: float, c: float) -> list[int]:  # noqa: E741
        """Add a bar; return every pattern's value on it, in :attr:`names` order (0 before a
        pattern's first output bar)."""
        history = self.history
        history.push(o, h, l, c)
        bar = history.count - 1
        totals = self.totals
        if bar <= self._last_start:
            self._start_totals(bar)
        out: list[int] = []
        averages = self._averages
        for rule, slots, first, first_output in self._rules:
            averages.slots = slots
            if bar >= first_output:
                out.append(rule(history, averages))
            else:
                if bar >= first:
                    rule(history, averages)  # a stateful rule warming up
                out.append(0)
        columns = self._columns
        if bar > self._last_start:
            for i, column, end, start, _first in self._windows:  # TA-Lib: total += new - old
                values = columns[column]
                totals[i] += values[end] - values[start]
        else:
            for i, column, end, start, first in self._windows:
                if bar >= first:
                    values = columns[column]
                    totals[i] += values[end] - values[start]
        return out

    def state(self) -> dict[str, Any]:
        """Everything needed to go on after a restart: the recent bars, the running totals,
        stateful rules' pending patterns (JSON-ready; floats round-trip exactly). The chosen
        patterns are the configuration's: the state holds only their digest (the 61 names were
        a tenth of a series' state), for :meth:`from_state` to tell whether they changed."""
        h = self.history
        keep = min(len(h.o), History.KEEP)
        return {
            "choice": self._choice,
            "count": h.count,
            "bars": [h.o[-keep:], h.h[-keep:], h.l[-keep:], h.c[-keep:]] if keep else [[]] * 4,
            "totals": list(self.totals),
            "rules": {
                name: rule.state()
                for name, (rule, _slots, _f, _l) in zip(self.names, self._rules, strict=True)
                if isinstance(rule, Hikkake)
            },
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], names: Iterable[str] | None = None
    ) -> CandlestickSet:
        """Rebuild the set of the chosen patterns (default: all) from :meth:`state`, or from
        a state that lists its patterns (``names``, as workers wrote it before).

        A state made with another choice (the configuration changed since) cannot carry on:
        its running totals are laid out for those patterns. The chosen set then starts over
        the state's kept bars, as a series whose first bars they were (the averages start
        later than TA-Lib's over the whole series would, so a value right at a threshold may
        come out otherwise)."""
        chosen = tuple(REGISTRY) if names is None else tuple(names)
        listed = state.get("names")  # None: the state names its choice by a digest
        if listed is None:
            same = state["choice"] == _layout(chosen).choice
        else:
            same = tuple(listed) == chosen
        if not same:
            return cls._started_over(chosen, state["bars"])
        engine = cls(chosen)
        o, h, l, c = state["bars"]  # noqa: E741
        engine.history.load(o, h, l, c, state["count"])
        engine.totals[:] = state["totals"]
        for name, (rule, _slots, _f, _l) in zip(engine.names, engine._rules, strict=True):
            if name in state["rules"] and isinstance(rule, Hikkake):
                rule.load(state["rules"][name])
        return engine

    @classmethod
    def _started_over(cls, chosen: tuple[str, ...], bars: list[list[float]]) -> CandlestickSet:
        engine = cls(chosen)
        for o, h, l, c in zip(*bars, strict=True):  # noqa: E741
            engine.update(o, h, l, c)
        return engine

    def _start_totals(self, bar: int) -> None:
        """TA-Lib starts each total at its pattern's first bar: the window summed in order,
        from 0.0."""
        for i, (column, end, period, _factor, _divisor, first) in enumerate(self._specs):
            if bar == first and period:
                values = self._columns[column]
                total = 0.0
                for back in range(end - period, end):
                    total += values[back]
                self.totals[i] = total


class _Averages(Sequence[float]):
    """The candle averages of the pattern whose ``slots`` are set, on the current bar, worked
    out only when its rule reads them (most rules stop at a colour or body check first):
    ``TA_CANDLEAVERAGE``. One per set, its slots set before each rule."""

    __slots__ = ("_columns", "_specs", "_totals", "slots")

    def __init__(
        self, specs: tuple[_Spec, ...], columns: list[list[float]], totals: list[float]
    ) -> None:
        self._specs, self._columns, self._totals = specs, columns, totals
        self.slots: tuple[int, ...] = ()

    def __getitem__(self, n: int) -> float:  # type: ignore[override]
        i = self.slots[n]
        column, end, period, factor, divisor, _first = self._specs[i]
        if period:
            return factor * (self._totals[i] / period) / divisor
        # ShadowLong, ShadowVeryLong: the candle itself
        return factor * self._columns[column][end] / divisor

    def __len__(self) -> int:
        return len(self.slots)
