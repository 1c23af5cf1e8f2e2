"""What every indicator shares: the candle it eats, its state snapshot, TA-Lib's zero tests.

State is plain data (numbers and nested lists), so an indicator can be written to a Faust
table as JSON and restored exactly: :meth:`Indicator.state` and :meth:`Indicator.load`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any, Final, cast


class Candle:
    """One OHLCV bar: the only input indicators see."""

    __slots__ = ("close", "high", "low", "open", "ts", "volume")

    def __init__(
        self, ts: int, open: float, high: float, low: float, close: float, volume: float
    ) -> None:
        self.ts = ts
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume

    def __repr__(self) -> str:
        return (
            f"Candle(ts={self.ts}, o={self.open}, h={self.high}, l={self.low}, "
            f"c={self.close}, v={self.volume})"
        )


TA_EPSILON: Final = 0.00000000000001  # TA-Lib's zero band (1e-14)


def is_zero(value: float) -> bool:
    """TA-Lib's TA_IS_ZERO: inside (-1e-14, 1e-14)."""
    return -TA_EPSILON < value < TA_EPSILON


def is_zero_scaled(value: float, scale: float) -> bool:
    """TA-Lib's TA_IS_ZERO_SCALED: within 1e-14 of ``scale`` (the size of the operands whose
    difference ``value`` is), so that a tie is a tie at any price level."""
    return abs(value) <= TA_EPSILON * scale


# Each class's attribute names, taken once from __getstate__ (not vars(): compiled classes have
# no __dict__); a compiled __getstate__ costs more than reading the attributes one by one.
_ATTRIBUTES: dict[type, tuple[str, ...]] = {}
# Set by the class or by the constructor from the parameters, the same for every state of one
# spec: not state (the names were about an eighth of a set's bytes, and are shared by every
# series: see ``registry.build``). A compiled class also lists its class-level defaults (a
# function's ``kind`` and ``talib_outputs``) among its attributes, where an interpreted one has
# them on the class: left out, both lay their states out the same. A state that carries them
# is read without them.
FIXED = frozenset({"name", "outputs", "kind", "talib_outputs", "arguments"})


class Stateful:
    """Snapshot and restore every attribute, recursing into stateful children. An attribute
    named with a leading underscore is derived from the others (a value that a forming bar's
    peek would otherwise fetch from objects out of the CPU's cache): not state, worked out
    again by :meth:`settle` after a load.

    The state is positional: the attributes' values in the order of :func:`attribute_names`,
    with no names. A worker decodes tens of thousands of states when it takes partitions over,
    and the names were a third of a state's JSON and most of the dictionaries its parse made;
    the set's state carries a fingerprint of every class's names instead
    (``registry.layout``). The keyed form that records written before carry (a dictionary by
    name, an attribute it lacks keeping its value) still loads."""

    def state(self) -> list[Any]:
        """Return the state as JSON-ready data."""
        return [_copy(getattr(self, name)) for name in attribute_names(self)]

    def load(self, state: list[Any] | dict[str, Any]) -> None:
        """Restore a state returned by :meth:`state` (or the keyed form). The object takes
        the state's lists as they are: a state is made for one load (:meth:`state` returns
        copies, a parse makes new ones), and copying them again is a tenth of a decode."""
        if isinstance(state, dict):
            for key, value in state.items():
                if key not in FIXED:
                    self._restore(key, value)
        else:
            names = attribute_names(self)
            if len(state) != len(names):
                raise ValueError(
                    f"a state of {len(state)} values for {type(self).__name__}'s {len(names)}"
                )
            for i in range(len(names)):
                self._restore(names[i], state[i])
        self.settle()

    def _restore(self, key: str, value: Any) -> None:
        if value is None or isinstance(value, (int, float)):  # a plain attribute
            setattr(self, key, value)
            return
        current = getattr(self, key)
        if isinstance(current, Stateful):
            current.load(value)
        elif isinstance(current, list) and current and isinstance(current[0], Stateful):
            for child, child_state in zip(current, value, strict=True):
                child.load(child_state)
        elif current is None or isinstance(current, tuple):
            # JSON has only lists; the one attribute that starts as None and takes a list is
            # a function's outputs, a tuple, where JSON's null is an output that was not a
            # finite number (JSON has none)
            setattr(self, key, tuple(math.nan if v is None else v for v in value))
        else:
            setattr(self, key, value)

    def settle(self) -> None:
        """Work out the derived attributes from the state just loaded (none here)."""


def attribute_names(stateful: Stateful) -> tuple[str, ...]:
    """The names of a stateful object's state, in its state's order: sorted, because a
    compiled class lists its attributes in the order the class declares them and an
    interpreted one in the order its constructor sets them, and either reads the other's
    states."""
    names = _ATTRIBUTES.get(type(stateful))
    if names is None:
        every = cast("dict[str, Any]", stateful.__getstate__())
        names = _ATTRIBUTES[type(stateful)] = tuple(
            sorted(name for name in every if name not in FIXED and not name.startswith("_"))
        )
    return names


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, Stateful):
        return value.state()
    return value


class Indicator(Stateful, ABC):
    """An incremental indicator: O(1) (or O(period)) work per bar, bounded state."""

    name: str
    outputs: tuple[str, ...]

    @abstractmethod
    def update(self, candle: Candle) -> None:
        """Take the next bar."""

    @property
    @abstractmethod
    def initialized(self) -> bool:
        """Tell whether values are available (TA-Lib's first output bar has been reached)."""

    @abstractmethod
    def values(self) -> dict[str, float]:
        """Return the current outputs by name; empty before the first output bar."""

    def write(self, out: dict[str, float]) -> None:
        """Put the current outputs into ``out`` (the set's hot path; no dict per indicator)."""
        out.update(self.values())

    def peek(self, candle: Candle) -> dict[str, float]:
        """The outputs :meth:`update` would give on ``candle``, committing nothing: what a bar
        still forming would show if it closed now."""
        out: dict[str, float] = {}
        self.peek_into(candle, out)
        return out

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        """Put the outputs :meth:`peek` gives into ``out`` (the set's hot path: one dict for
        every indicator); whether every output is defined. This one saves the state, updates
        and restores it; the indicators that forming bars peek on every series work it out
        from their state instead (several times faster)."""
        saved = self.state()
        self.update(candle)
        values = self.values()
        self.load(saved)
        out.update(values)
        return len(values) == len(self.outputs)

    def reset(self) -> None:
        """Forget everything, as if no bar had been seen."""
        self.load(type(self)(*self.params()).state())

    @abstractmethod
    def params(self) -> tuple[Any, ...]:
        """The constructor arguments."""


class SingleOutput(Indicator):
    """An indicator with one output, ``value``, None before its first output bar."""

    value: float | None = None

    @property
    def initialized(self) -> bool:
        return self.value is not None

    def values(self) -> dict[str, float]:
        return {} if self.value is None else {self.name: self.value}

    def write(self, out: dict[str, float]) -> None:
        if self.value is not None:
            out[self.name] = self.value

    def peek_into(self, candle: Candle, out: dict[str, float]) -> bool:
        value = self.peek_value(candle)
        if value is None:
            return False
        out[self.name] = value
        return True

    @abstractmethod
    def peek_value(self, candle: Candle) -> float | None:
        """The value :meth:`update` would give on ``candle`` (None before the first output),
        committing nothing: every single-output indicator works it out from its state."""


# A periodic indicator's name and outputs, one copy of each for every object of that name:
# the averages inside other indicators (a MACD's, a DEMA's) are a dozen a series of the default
# set, and a copy each would be a twentieth of a restored series' heap.
_PERIODIC_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {}


class Periodic(SingleOutput):
    """A single-output indicator over ``period`` bars, named ``<prefix>_<period>``."""

    def __init__(self, period: int, prefix: str) -> None:
        if period < 1:
            raise ValueError(f"{prefix} period must be at least 1, got {period}")
        self.period = period
        name = f"{prefix}_{period}"
        names = _PERIODIC_NAMES.get(name)
        if names is None:
            names = _PERIODIC_NAMES[name] = (name, (name,))
        self.name, self.outputs = names
        self.value = None

    def params(self) -> tuple[Any, ...]:
        return (self.period,)


def parameter_text(value: float) -> str:
    """A parameter as a spec and an output name write it: ``20``, ``2``, ``0.02``."""
    return str(value) if isinstance(value, int) else f"{value:.15g}"


class Function(Indicator):
    """A TA-Lib function: :meth:`step` gives its outputs in TA-Lib's order, or None before its
    first output bar (after which TA-Lib has a value on every bar).

    Named from the spec kind and the parameters: ``kind_p1_p2`` for one output,
    ``kind_<TA-Lib output>_p1_p2`` for each of several. An output that is not a finite number
    (TA-Lib's NaN for a logarithm of a negative, its infinity for a division by zero) is left
    out: JSON, the stores and the charts have no place for it.
    """

    kind: str = ""
    talib_outputs: tuple[str, ...] = ("real",)

    def __init__(self, *params: float) -> None:
        self.arguments = params
        suffix = "".join(f"_{parameter_text(p)}" for p in params)
        self.name = f"{self.kind}{suffix}"
        many = len(self.talib_outputs) > 1
        self.outputs = (
            tuple(f"{self.kind}_{out}{suffix}" for out in self.talib_outputs)
            if many
            else (self.name,)
        )
        self.current: tuple[float, ...] | None = None

    @abstractmethod
    def step(self, candle: Candle) -> tuple[float, ...] | None:
        """Take the next bar; return the outputs, or None before the first output bar."""

    def update(self, candle: Candle) -> None:
        out = self.step(candle)
        if out is not None:
            self.current = out

    @property
    def initialized(self) -> bool:
        return self.current is not None

    def values(self) -> dict[str, float]:
        out: dict[str, float] = {}
        self.write(out)
        return out

    def write(self, out: dict[str, float]) -> None:
        current = self.current
        if current is not None:
            for name, value in zip(self.outputs, current, strict=True):
                if math.isfinite(value):
                    out[name] = value

    def params(self) -> tuple[Any, ...]:
        return self.arguments


class Chosen(Function):
    """A member of a family of functions that differ in one formula, chosen by ``kind``."""

    def __init__(self, kind: str, *params: float) -> None:
        self.kind = kind
        super().__init__(*params)

    def params(self) -> tuple[Any, ...]:
        return (self.kind, *self.arguments)
