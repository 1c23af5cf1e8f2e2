"""Market events as they travel on ``market.raw``: quotes and trades, and the feed's cancels and
corrections of earlier trades, packed into frames.

Times are integer nanoseconds since the epoch, UTC, taken from the source. Prices may arrive
missing or non-finite; the schema lets them through so the quality gate can name the fault
(``bad_price``) instead of calling the whole frame malformed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Symbol = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9.:\-_/^]+$")]
Source = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[A-Za-z0-9._:\-]*$",
        description="the feed's short identifier (it names a metric series)",
    ),
]
TimestampNs = Annotated[int, Field(ge=0, description="nanoseconds since the epoch, UTC")]
TradeId = Annotated[str, Field(min_length=1, max_length=64)]


class WireModel(BaseModel):
    """Base of every record on a topic: immutable, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Quote(WireModel):
    """Top of book at one instant."""

    kind: Literal["quote"] = "quote"
    symbol: Symbol
    ts: TimestampNs
    bid: float | None
    ask: float | None
    bid_size: float = 0.0
    ask_size: float = 0.0
    source: Source = ""


class Trade(WireModel):
    """One print."""

    kind: Literal["trade"] = "trade"
    symbol: Symbol
    ts: TimestampNs
    price: float | None
    size: float
    conditions: list[int | str] = Field(default_factory=list)
    source: Source = ""
    updates: list[Literal["open_close", "high_low", "volume"]] | None = Field(
        None,
        description=(
            "the parts of a bar this trade may set, by its conditions under its source's rules "
            "(open and close, high and low, volume with VWAP and trade count); null: every part"
        ),
    )
    id: TradeId | None = Field(
        None, description="the feed's identifier of the trade: what a cancel or correction names"
    )


class TradeCancel(WireModel):
    """The feed's cancel (or error) of an earlier trade: the trade leaves its bars."""

    kind: Literal["cancel"] = "cancel"
    symbol: Symbol
    ts: TimestampNs = Field(description="when the feed announced it")
    trade_id: TradeId
    trade_ts: TimestampNs = Field(description="the cancelled trade's time")
    source: Source = ""


class TradeCorrection(WireModel):
    """The feed's correction of an earlier trade: the trade's price, size and conditions are
    replaced by these, at its time."""

    kind: Literal["correction"] = "correction"
    symbol: Symbol
    ts: TimestampNs = Field(description="when the feed announced it")
    trade_id: TradeId
    trade_ts: TimestampNs = Field(description="the corrected trade's time")
    price: float | None
    size: float
    conditions: list[int | str] = Field(default_factory=list)
    source: Source = ""
    updates: list[Literal["open_close", "high_low", "volume"]] | None = Field(
        None, description="as a trade's, for the corrected conditions"
    )
    id: TradeId | None = Field(
        None, description="the corrected trade's identifier, when the feed gives it a new one"
    )


Event = Annotated[Quote | Trade | TradeCancel | TradeCorrection, Field(discriminator="kind")]


class Frame(WireModel):
    """Many events for one symbol (or a few), produced as one message keyed by symbol."""

    source: Source
    received_ts: TimestampNs
    events: list[Event]


# The detail of a tombstone's dead letter, wherever one is read.
TOMBSTONE = "a record with no value (a tombstone)"


class DeadLetter(WireModel):
    """Input we refused, with why and where it came from; nothing is dropped silently."""

    reason: str = Field(description="machine-readable reason code, e.g. malformed, crossed_quote")
    detail: str
    payload: str = Field(description="the original message (or event), as text")
    topic: str
    partition: int
    offset: int
    key: str | None = None
    truncated: bool = Field(
        False, description="payload holds only the original's start (the whole stays at offset)"
    )

    @classmethod
    def of(
        cls,
        reason: str,
        detail: str,
        payload: bytes | str,
        where: tuple[str, int, int],
        key: bytes | str | None,
        max_bytes: int,
    ) -> DeadLetter:
        """The letter for ``payload`` refused at ``where`` (topic, partition, offset), cut so
        that it fits in a record of ``max_bytes``: quoting can make text six times longer."""
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
        topic, partition, offset = where
        letter = cls(
            reason=reason,
            detail=detail,
            payload=text,
            topic=topic,
            partition=partition,
            offset=offset,
            key=key.decode("utf-8", errors="replace") if isinstance(key, bytes) else key,
        )
        if len(letter.model_dump_json().encode()) <= max_bytes:
            return letter
        kept = text[: max_bytes // 8]  # at most 4 bytes a character, 6 quoted
        detail += f" (payload cut to its first {len(kept):,} of {len(text):,} characters)"
        return letter.model_copy(update={"payload": kept, "detail": detail, "truncated": True})
