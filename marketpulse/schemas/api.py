"""Request and response models of the API (documented in OpenAPI, with examples)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from marketpulse.storage.repositories.users import User

T = TypeVar("T")

TICKER = r"^[A-Za-z0-9.:_^-]{1,32}$"  # a symbol as the API takes it, in a path or a body
WATCHLIST_MAX = 50
Username = Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.-]+$", examples=["alice"])
Password = Field(min_length=8, max_length=72, examples=["correct horse battery"])
TotpCode = Field(pattern=r"^[0-9]{6}$", examples=["123456"])


class Request(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Metadata(BaseModel):
    """What every response carries besides its data."""

    timestamp: str = Field(examples=["2026-11-25T10:00:00.000Z"])
    version: str = Field(examples=["0.1.0"])
    api_version: str = Field(examples=["1"])
    cache_used: bool
    request_id: str = Field(examples=["4f6c1f0e8b7a4c35a1d2e3f405162738"])


class Envelope(BaseModel, Generic[T]):
    """A success: ``{data, metadata}``."""

    data: T
    metadata: Metadata


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str = Field(examples=["NOT_FOUND"])
    message: str = Field(examples=["no data for symbol ZZZZ"])
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """A failure: ``{error, metadata}``."""

    error: ErrorDetail
    metadata: Metadata


class RegisterRequest(Request):
    """A new account."""

    username: str = Username
    email: str = Field(
        max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", examples=["alice@example.com"]
    )
    password: str = Password
    full_name: str | None = Field(None, max_length=255, examples=["Alice Liddell"])

    @field_validator("password")
    @classmethod
    def _fits_bcrypt(cls, value: str) -> str:
        if len(value.encode()) > 72:
            raise ValueError("passwords are limited to 72 bytes in UTF-8 (bcrypt's input)")
        return value


class LoginRequest(Request):
    """Credentials (also accepted as an OAuth2 password form)."""

    username: str = Field(min_length=1, max_length=50, examples=["alice"])
    password: str = Field(min_length=1, max_length=72, examples=["correct horse battery"])


class SecondFactorRequest(Request):
    """The second login step: the token from the first, and a TOTP code."""

    mfa_token: str = Field(min_length=1, max_length=4096)
    code: str = TotpCode


class RefreshRequest(Request):
    """A refresh token to exchange (it is rotated: use the new one next time)."""

    refresh_token: str = Field(min_length=1, max_length=4096)


class CodeRequest(Request):
    """A TOTP code."""

    code: str = TotpCode


class Tokens(BaseModel):
    """An access token for requests and a refresh token to get the next one."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type
    expires_in: int = Field(description="seconds the access token is valid", examples=[900])


class MfaChallenge(BaseModel):
    """The password was right; now send a TOTP code with this token to /auth/login/2fa."""

    mfa_required: Literal[True] = True
    mfa_token: str
    expires_in: int = Field(examples=[300])


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash or TOTP secret)."""

    user_id: UUID
    username: str
    email: str
    full_name: str | None
    roles: list[str] = Field(examples=[["user"]])
    is_active: bool
    totp_enabled: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The public view of a user row."""
        return cls.model_validate(user.model_dump())


class TotpEnrolment(BaseModel):
    """The secret to put in an authenticator app; confirm it with /auth/2fa/verify."""

    secret: str
    otpauth_uri: str = Field(
        examples=["otpauth://totp/marketpulse:alice?secret=...&issuer=marketpulse"]
    )


class RolesUpdate(Request):
    """New roles for a user (admin)."""

    roles: list[Literal["user", "analyst", "admin"]] = Field(min_length=1, examples=[["analyst"]])


class BatchRequest(Request):
    """Several symbols at once."""

    symbols: list[str] = Field(min_length=1, examples=[["AAPL", "MSFT"]])
    type: Literal["quote", "bar", "indicators"] = Field(
        "quote", description="the latest of which record"
    )
    granularity: str = Field("1m", description="for bars and indicators", examples=["1m"])


class GranularityInfo(BaseModel):
    """A bar granularity the pipeline builds."""

    name: str = Field(examples=["1m"])
    seconds: int = Field(examples=[60])


class StreamedIndicator(BaseModel):
    """An indicator the stream keeps, and how to ask ``/indicators`` for it."""

    spec: str = Field(examples=["bb_20_2"])
    name: str = Field(examples=["bb"])
    params: str | None = Field(examples=["20,2"])
    outputs: list[str] = Field(examples=[["bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2"]])


class AvailableIndicator(BaseModel):
    """A kind ``/indicators`` computes at TA-Lib's defaults when asked by its name alone."""

    name: str = Field(examples=["kama"])
    spec: str = Field(examples=["kama_30"])
    function: str = Field(description="TA-Lib's function", examples=["KAMA"])
    group: str = Field(description="TA-Lib's group", examples=["Overlap Studies"])
    overlay: bool = Field(description="drawn over the prices (same scale) or in its own pane")
    outputs: list[str] = Field(examples=[["kama_30"]])


class Catalog(BaseModel):
    """What the pipeline serves: its granularities, the indicators it streams, and every kind
    it computes on demand."""

    granularities: list[GranularityInfo]
    indicators: list[StreamedIndicator]
    available: list[AvailableIndicator]


class LiveSource(BaseModel):
    """A streaming source running now, and the symbols it publishes."""

    source: str = Field(examples=["synthetic"])
    symbols: list[str] = Field(examples=[["AAPL", "MSFT"]])
    since: datetime | None = Field(description="when it started")


class Watchlist(Request):
    """A user's watch list, in the user's order."""

    symbols: list[Annotated[str, Field(pattern=TICKER)]] = Field(
        max_length=WATCHLIST_MAX, examples=[["AAPL", "MSFT"]]
    )

    @field_validator("symbols")
    @classmethod
    def _upper_once_each(cls, symbols: list[str]) -> list[str]:
        return list(dict.fromkeys(s.upper() for s in symbols))


class RetentionUpdate(Request):
    """A retention policy's new duration (InfluxQL, e.g. 30d, 52w, INF)."""

    duration: str = Field(pattern=r"^(INF|[0-9]{1,6}[hdw])$", examples=["400d"])
