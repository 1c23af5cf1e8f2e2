"""What a spec string means: the TA-Lib function, its parameters by TA-Lib's names, checked
against TA-Lib's ranges, and the catalog that lets a user check every spec against TA-Lib.

A spec is a kind (TA-Lib's function name in lower case, or one of the engine's own short names
such as ``bb``) followed by parameters joined by underscores, in the kind's order (TA-Lib's
unless the kind says otherwise); parameters left out take TA-Lib's defaults, so the bare kind
(``sma``) is the function at its defaults (``sma_30``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from marketpulse.analytics.indicators.base import Indicator, parameter_text
from marketpulse.analytics.indicators.talib_functions import FUNCTIONS

Value = int | float
OWN_DEFAULT_MA = 11  # TA-Lib's "the function's own default": the parameter's default


class UnknownIndicator(ValueError):
    """A spec names no indicator, or gives it the wrong parameters."""


@dataclass(frozen=True)
class Kind:
    """A spec kind: the TA-Lib function it computes and how a spec gives the parameters.

    ``factory`` takes the function's parameters in TA-Lib's order. ``order`` is the order a spec
    gives them in (TA-Lib's names; default TA-Lib's own order); ``tied`` parameters are not
    given but copy another (``bb_20_2``'s one deviation is both of TA-Lib's).
    """

    function: str
    factory: Callable[..., Indicator]
    order: tuple[str, ...] | None = None
    tied: dict[str, str] = field(default_factory=dict)

    @property
    def parameters(self) -> list[dict[str, Any]]:
        """TA-Lib's parameters of the function (name, type, default, min, max)."""
        return list(FUNCTIONS[self.function]["parameters"])

    @property
    def spec_order(self) -> tuple[str, ...]:
        """The parameters a spec gives, in its order."""
        if self.order is not None:
            return self.order
        return tuple(p["name"] for p in self.parameters if p["name"] not in self.tied)


@dataclass(frozen=True)
class Resolved:
    """A spec read: its kind, and every TA-Lib parameter's value in TA-Lib's order."""

    kind: str
    entry: Kind
    values: dict[str, Value]

    @property
    def canonical(self) -> str:
        """The spec with every parameter written out (``sma`` -> ``sma_30``)."""
        given = [parameter_text(self.values[name]) for name in self.entry.spec_order]
        return "_".join([self.kind, *given])

    def build(self) -> Indicator:
        """The indicator, fresh."""
        return self.entry.factory(*self.values.values())


def signature(kind: str, entry: Kind) -> str:
    """How a spec of this kind is written, with each parameter's type, range and default."""
    by_name = {p["name"]: p for p in entry.parameters}
    if not entry.spec_order:
        return f"{kind} ({entry.function}, no parameters)"
    parts = []
    for name in entry.spec_order:
        p = by_name[name]
        kind_text = "MA type" if p["type"] == "matype" else p["type"]
        parts.append(f"{name} ({kind_text} in [{p['min']}, {p['max']}], default {p['default']})")
    shape = "_".join([kind, *(f"<{n}>" for n in entry.spec_order)])
    return f"{shape} ({entry.function}): " + "; ".join(parts)


def _number(text: str) -> Value | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return None


def split(spec: str) -> tuple[str, list[str]]:
    """The kind and the parameter texts: the kind runs to the first number (kinds such as
    ``plus_di`` and ``ht_dcperiod`` hold underscores, parameters never do)."""
    tokens = spec.split("_")
    at = next((i for i, t in enumerate(tokens) if _number(t) is not None), len(tokens))
    return "_".join(tokens[:at]), tokens[at:]


def resolve(spec: str, kinds: dict[str, Kind]) -> Resolved:
    """Read a spec against the known kinds; refuse it with the kind's signature when wrong."""
    kind, texts = split(spec.strip().lower())
    entry = kinds.get(kind)
    if entry is None:
        raise UnknownIndicator(
            f"unknown indicator {kind!r} in {spec!r}; `marketpulse indicators --catalog` lists "
            f"every one (known kinds: {', '.join(sorted(kinds))})"
        )
    order = entry.spec_order
    if len(texts) > len(order):
        raise UnknownIndicator(
            f"{spec!r}: {kind} takes at most {len(order)} parameters: {signature(kind, entry)}"
        )
    by_name = {p["name"]: p for p in entry.parameters}
    values: dict[str, Value] = {p["name"]: p["default"] for p in entry.parameters}
    for name, text in zip(order, texts, strict=False):
        values[name] = _checked(spec, kind, entry, by_name[name], text)
    for name, source in entry.tied.items():
        values[name] = values[source]
    return Resolved(kind, entry, values)


def _checked(spec: str, kind: str, entry: Kind, parameter: dict[str, Any], text: str) -> Value:
    value = _number(text)
    integer = parameter["type"] != "float"
    if value is None or (integer and not isinstance(value, int)):
        wanted = "a whole number" if integer else "a number"
        raise UnknownIndicator(
            f"{spec!r}: {parameter['name']} must be {wanted}, got {text!r}; "
            f"{signature(kind, entry)}"
        )
    if not parameter["min"] <= value <= parameter["max"]:
        raise UnknownIndicator(
            f"{spec!r}: {parameter['name']} {text} is outside TA-Lib's range "
            f"[{parameter['min']}, {parameter['max']}]; {signature(kind, entry)}"
        )
    if parameter["type"] == "matype" and value == OWN_DEFAULT_MA:
        return int(parameter["default"])
    return value if integer else float(value)


def catalog_entry(kind: str, entry: Kind) -> dict[str, Any]:
    """The kind at its defaults, in TA-Lib's names: what ``--catalog`` prints for it."""
    resolved = resolve(kind, {kind: entry})
    indicator = resolved.build()
    function = FUNCTIONS[entry.function]
    return {
        "spec": resolved.canonical,
        "function": entry.function,
        "group": function["group"],
        "overlay": function["overlay"],
        "parameters": dict(resolved.values),
        "inputs": dict(function["inputs"]),
        "outputs": dict(zip(indicator.outputs, function["outputs"], strict=True)),
    }
