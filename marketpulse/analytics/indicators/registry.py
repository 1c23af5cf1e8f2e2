"""Indicators by spec string (``sma_20``, ``macd_12_26_9``, ``bb_20_2``, ``sma``), and the set
kept per (symbol, granularity).

Every kind but three is a TA-Lib function (``catalog.py`` says how a spec reads); the engine's
own are ``di_<n>`` (+DI and -DI together), ``vwap_<n>`` (a rolling VWAP) and ``vwap_session``
(anchored to the session). Output names follow the spec (``macdsignal_12_26_9``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable
from functools import cache, partial
from typing import Any, Final

from marketpulse.analytics.indicators import (
    averages,
    bands,
    cycles,
    flows,
    momentum,
    oscillators,
    parabolic,
    ranges,
    statistics,
    swings,
    transforms,
    trend,
    volatility,
    volume,
)
from marketpulse.analytics.indicators.base import Candle, Indicator, Stateful, attribute_names
from marketpulse.analytics.indicators.catalog import (
    Kind,
    UnknownIndicator,
    catalog_entry,
    resolve,
    split,
)
from marketpulse.analytics.indicators.momentum import STOCH
from marketpulse.analytics.indicators.oscillators import (
    CHANGES,
    COMBINATIONS,
    Change,
    PriceOscillator,
)
from marketpulse.analytics.indicators.transforms import MATH, OPERATORS, MathTransform, Operator
from marketpulse.analytics.indicators.trend import DI
from marketpulse.analytics.indicators.volatility import BBANDS, BBANDSFunction
from marketpulse.analytics.indicators.volume import VWAP, CumulativeVWAP

DEFAULT_SPECS = (
    "sma_20", "sma_50", "ema_12", "ema_26", "wma_20", "dema_20", "tema_20", "rsi_14",
    "macd_12_26_9", "stoch_14_3_3", "stochf_14_3", "bb_20_2", "trange", "atr_14", "adx_14",
    "di_14", "obv", "cci_20", "willr_14", "roc_10", "mfi_14", "vwap_session", "vwap_20",
)  # fmt: skip


STOCH_ORDER = ("fastk_period", "slowk_period", "slowd_period", "slowk_matype", "slowd_matype")
BB_ORDER = ("timeperiod", "nbdevup", "matype")


def _named(kind: str, cls: Callable[..., Indicator]) -> Callable[..., Indicator]:
    return lambda *params: cls(kind, *params)


# Each class is named after the TA-Lib function it computes and takes that function's
# parameters in TA-Lib's order.
NAMED: tuple[Callable[..., Indicator], ...] = (
    *averages.TALIB_NAMED,
    *cycles.TALIB_NAMED,
    *momentum.TALIB_NAMED,
    *volatility.TALIB_NAMED,
    *trend.TALIB_NAMED,
    *volume.TALIB_NAMED,
    *ranges.TALIB_NAMED,
    *transforms.TALIB_NAMED,
    *oscillators.TALIB_NAMED,
    *statistics.TALIB_NAMED,
    *bands.TALIB_NAMED,
    *swings.TALIB_NAMED,
    *flows.TALIB_NAMED,
    *parabolic.TALIB_NAMED,
)

KINDS: dict[str, Kind] = {
    **{cls.__name__.lower(): Kind(cls.__name__, cls) for cls in NAMED},
    # the engine's order: the periods first, then the MA types (``stoch_14_3_3``)
    "stoch": Kind("STOCH", STOCH, order=STOCH_ORDER),
    # ``bb_<period>_<deviations>``: one deviation for both bands; ``bbands`` is TA-Lib's own
    "bb": Kind("BBANDS", BBANDS, order=BB_ORDER, tied={"nbdevdn": "nbdevup"}),
    "bbands": Kind("BBANDS", BBANDSFunction),
    "vwap": Kind("VWAP", CumulativeVWAP),
    **{kind: Kind(kind.upper(), _named(kind, Change)) for kind in CHANGES},
    **{kind: Kind(kind.upper(), _named(kind, PriceOscillator)) for kind in COMBINATIONS},
    **{kind: Kind(kind.upper(), _named(kind, MathTransform)) for kind in MATH},
    **{kind: Kind(kind.upper(), _named(kind, Operator)) for kind in OPERATORS},
}


def _own(kind: str, texts: list[str]) -> Callable[[], Indicator] | None:
    """The engine's own kinds: ``di_<n>``, ``vwap_<n>``, ``vwap_session``."""
    if kind == "vwap_session" and not texts:
        return VWAP
    if kind not in ("di", "vwap") or (kind == "vwap" and not texts):
        return None
    if len(texts) > 1 or not texts[-1:] or not texts[0].isdigit() or int(texts[0]) < 1:
        raise UnknownIndicator(f"{kind}_<n>: one period, a whole number of at least 1")
    return partial(DI if kind == "di" else VWAP, int(texts[0]))


def build(spec: str) -> Indicator:
    """Make the indicator a spec names, its name and outputs the strings every indicator of the
    spec shares: a forming record peeks thousands of series in turn, and keys that stay in the
    CPU's cache (their hashes kept in them) cost less than one fresh copy each."""
    return _made(_maker(spec), _names(spec))


def _made(maker: Callable[[], Indicator], names: tuple[str, tuple[str, ...]]) -> Indicator:
    made = maker()
    made.name, made.outputs = names
    return made


@cache
def _names(spec: str) -> tuple[str, tuple[str, ...]]:
    made = _maker(spec)()
    return made.name, made.outputs


@cache
def _maker(spec: str) -> Callable[[], Indicator]:
    """What makes a spec's indicator, read once: a worker builds the same few specs for every
    series it starts or restores from its table, and reading one against the catalog costs
    more than building it. A spec refused is not kept (it raises each time)."""
    kind, texts = split(spec.strip().lower())
    own = _own(kind, texts) if kind in ("di", "vwap", "vwap_session") else None
    if own is not None:
        return own
    if kind == "mavp":
        raise UnknownIndicator("TA-Lib's MAVP is left out: its period is a series, not a parameter")
    return resolve(spec, KINDS).build


_PROBE_LIMIT: Final = 100_000  # bars fed to find a first output; no TA-Lib function needs as many


@cache
def first_output(spec: str) -> int:
    """How many bars come before the indicator's first output (TA-Lib's lookback): found by
    feeding it a series that no indicator's domain refuses (positive, moving, with volume)."""
    indicator = build(spec)
    for bars in range(_PROBE_LIMIT):
        if indicator.initialized:
            return max(bars - 1, 0)
        price = 100.0 + 10.0 * math.sin(bars / 7.0) + bars % 3
        indicator.update(Candle(bars, price, price + 1.5, price - 1.5, price + 0.5, 1000.0))
    raise ValueError(f"indicator {spec} has no first output in {_PROBE_LIMIT} bars")


def catalog() -> list[dict[str, Any]]:
    """Every TA-Lib kind at its defaults, with TA-Lib's names (``indicators --catalog``)."""
    return list(catalog_by_kind().values())


@cache
def catalog_by_kind() -> dict[str, dict[str, Any]]:
    """:func:`catalog` by kind (made once: it builds every indicator)."""
    return {kind: catalog_entry(kind, entry) for kind, entry in sorted(KINDS.items())}


ALL = "all"
# What a parameter looks like in an output name: 20, 2, 0.02, -1.5, 1e-05.
PARAMETER_TEXT = r"-?[0-9][0-9.e+-]*"


def output_names() -> str:
    """A regular expression that every output name matches: one of the outputs' stems (the
    name without its parameters: ``bbands_upperband``, ``macdsignal``, ``plus_di``), then the
    parameters; for the JSON Schema of the snapshots."""
    stems = {"vwap_session"}  # the engine's own kind whose stem no catalog entry has
    for entry in catalog_by_kind().values():
        for output in entry["outputs"]:
            tokens = output.split("_")
            while tokens and split(tokens[-1])[0] == "":
                tokens.pop()
            stems.add("_".join(tokens))
    # anchored at both ends, so any order of the alternatives matches the same names: sorted
    # for a schema that reads the same from one run to the next
    alternatives = "|".join(sorted(stems))
    return rf"^(?:{alternatives})(?:_{PARAMETER_TEXT})*$"


def expand(specs: Iterable[str]) -> list[str]:
    """The specs, with ``all`` standing for every spec of the catalog; each spec once, in
    order."""
    out: dict[str, None] = {}
    for spec in specs:
        for one in [e["spec"] for e in catalog()] if spec.strip().lower() == ALL else [spec]:
            out.setdefault(one, None)
    return list(out)


class IndicatorSet:
    """Every configured indicator over one series of bars, updated together."""

    def __init__(self, specs: Iterable[str] = DEFAULT_SPECS) -> None:
        self.specs = tuple(specs)
        makers, names, self.first_outputs = _plan(self.specs)
        self.indicators = [_made(makers[i], names[i]) for i in range(len(makers))]
        self.bars = 0

    def update(self, candle: Candle) -> dict[str, float]:
        """Take the next bar; return every output that is defined."""
        self.bars += 1
        out: dict[str, float] = {}
        for indicator in self.indicators:
            indicator.update(candle)
            indicator.write(out)
        return out

    def peek(self, candle: Candle) -> tuple[dict[str, float], dict[str, bool]]:
        """What :meth:`update` would return on ``candle``, and the readiness after it,
        committing nothing: the values of a bar still forming."""
        out: dict[str, float] = {}
        ready = {}
        bars = self.bars + 1  # with this one
        # by index: a zip is an iterator and a tuple unpacked and checked at each indicator,
        # a third of this loop's time beside the peeks (a forming bar peeks every series)
        specs, indicators, firsts = self.specs, self.indicators, self.first_outputs
        for i in range(len(indicators)):
            # before its first output there is nothing to work out
            ready[specs[i]] = bars > firsts[i] and indicators[i].peek_into(candle, out)
        return out, ready

    def readiness(self) -> dict[str, bool]:
        """Whether each indicator has reached its first output bar."""
        return {
            spec: ind.initialized for spec, ind in zip(self.specs, self.indicators, strict=True)
        }

    def outputs(self) -> list[str]:
        """Every output name, in order."""
        return [name for ind in self.indicators for name in ind.outputs]

    def state(self) -> dict[str, Any]:
        """JSON-ready state of every indicator, and the fingerprint of their layout."""
        return {
            "bars": self.bars,
            "layout": layout(self.specs),
            "indicators": {
                spec: ind.state() for spec, ind in zip(self.specs, self.indicators, strict=True)
            },
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> IndicatorSet:
        """Rebuild a set from :meth:`state`. A state of another layout (written by a build
        whose indicators keep other attributes, or the same in another order) is refused: read
        by position it would give wrong values with no error. A state with no layout is in
        the keyed form, read by name."""
        specs = tuple(state["indicators"])
        written = state.get("layout")
        if written is not None and written != layout(specs):
            raise StateLayoutChanged(
                f"an indicator state of layout {written}, where this build's is "
                f"{layout(specs)}: written by another version of the indicators"
            )
        restored = cls(specs)
        restored.bars = state["bars"]
        for spec, indicator in zip(restored.specs, restored.indicators, strict=True):
            indicator.load(state["indicators"][spec])
        return restored


@cache
def _plan(
    specs: tuple[str, ...],
) -> tuple[
    tuple[Callable[[], Indicator], ...], tuple[tuple[str, tuple[str, ...]], ...], tuple[int, ...]
]:
    """What building a set of these specs takes, looked up once for the whole set (a worker
    builds one per series it starts or restores, tens of thousands in a recovery)."""
    return (
        tuple(_maker(spec) for spec in specs),
        tuple(_names(spec) for spec in specs),
        tuple(first_output(spec) for spec in specs),
    )


class StateLayoutChanged(ValueError):
    """An indicator state that this build's indicators do not lay out the same way."""


@cache
def layout(specs: tuple[str, ...]) -> str:
    """A fingerprint of the specs' states' layout: every stateful object's class and attribute
    names, in order, each indicator's children included."""
    digest = hashlib.blake2b(digest_size=6)
    for spec in specs:
        digest.update(f"{spec}:{_layout_of(build(spec))};".encode())
    return digest.hexdigest()


def _layout_of(stateful: Stateful) -> str:
    parts = []
    for name in attribute_names(stateful):
        value = getattr(stateful, name)
        children = value if isinstance(value, list) else [value]
        inner = ",".join(_layout_of(c) for c in children if isinstance(c, Stateful))
        parts.append(f"{name}({inner})" if inner else name)
    return f"{type(stateful).__name__}[{' '.join(parts)}]"
