"""The one settings class, read from ``MARKETPULSE_*`` variables and ``.env``."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from marketpulse.analytics.granularity import activity_of, kept_bars, parse_granularity
from marketpulse.analytics.indicators.registry import DEFAULT_SPECS, build, expand
from marketpulse.analytics.patterns.candlestick import REGISTRY as CANDLESTICKS
from marketpulse.analytics.patterns.charts import ChartConfig
from marketpulse.analytics.patterns.detector import DetectorConfig
from marketpulse.analytics.patterns.levels import LevelConfig
from marketpulse.analytics.patterns.trend import TrendConfig
from marketpulse.analytics.quality import GateConfig

if TYPE_CHECKING:
    from marketpulse.analytics.sessions import BarCuts
    from marketpulse.analytics.step_io import StepConfig

# Role and database names are spliced into DDL when `services up` creates them, so keep them plain.
_SQL_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
JWT_SECRET_FILE = "jwt_secret"  # noqa: S105 - a file name under data_dir, not a secret


def local_secret(path: Path) -> str:
    """The signing key kept at ``path``, made on first use: random, readable by its owner only,
    and the same for every process that shares the data directory."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: theirs is the key
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
    return secret


def _jwt_secret(data: dict[str, Any]) -> SecretStr:
    # production must be given its key: replicas have to share it, and none may invent one
    if data["env"] == "production":
        return SecretStr("")
    return SecretStr(local_secret(data["data_dir"] / JWT_SECRET_FILE))


UTC_CALENDAR = "utc"  # the calendars setting's name for UTC clock boundaries


class Settings(BaseSettings):
    """Effective configuration of every marketpulse process."""

    model_config = SettingsConfigDict(
        env_prefix="MARKETPULSE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    env: Literal["development", "test", "production"] = Field(
        "development",
        description="development, test or production (production must be given its secrets)",
    )
    data_dir: Path = Field(Path(".data"), description="local state: services, logs, pid files")

    kafka_broker: str = Field("kafka://127.0.0.1:9092", description="Faust broker URL")
    kafka_tansu_compat: bool = Field(
        False, description="work around Tansu's ListOffsets and InitProducerId gaps"
    )
    kafka_fetch_max_wait_ms: int = Field(
        50, ge=1, le=5000, description="consumer fetch wait: it sets the end-to-end latency"
    )
    kafka_producer_linger_ms: int = Field(
        5,
        ge=0,
        le=1000,
        description="how long the worker's producer waits to fill a batch: fewer, larger batches "
        "cost the broker less per record (Kafka 4's default)",
    )
    kafka_producer_batch_bytes: int = Field(
        1 << 20,
        ge=16 << 10,
        description="the largest batch the worker's producer builds per partition (at most "
        "MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES): the records sent to a partition within the "
        "linger share one (at 16 KiB each forwarded frame was a batch of its own)",
    )
    kafka_session_timeout_s: float = Field(10.0, gt=0, description="consumer-group session timeout")
    kafka_producer_timeout_s: float = Field(
        1200.0, gt=0, description="how long a worker's send may wait for the broker before it fails"
    )
    kafka_max_message_bytes: int = Field(
        1 << 20,
        ge=64 << 10,
        description="largest record a source sends or a worker takes; larger input is "
        "dead-lettered as too_large",
    )
    topic_partitions: int = Field(4, ge=1, description="partitions of every topic and table")
    topic_prefix: str = Field("", description="namespace for every topic, e.g. backfill-")
    worker_id: str = Field("marketpulse", description="Faust app id (consumer group)")
    worker_metrics_host: str = Field(
        "127.0.0.1", description="where the worker serves Prometheus /metrics"
    )
    worker_metrics_port: int = Field(9100, ge=0, description="worker /metrics; 0 turns it off")
    worker_gc_full_every: int = Field(
        1000,
        ge=1,
        description="collections of the garbage collector's middle generation between two full "
        "ones in a worker (CPython's default 10): a full collection walks every state the "
        "worker holds and has not frozen, about 0.65 s per 1,000 symbols",
    )
    worker_gc_freeze: bool = Field(
        True,
        description="freeze what survives each full garbage collection in a worker, so that the "
        "next one walks only what was promoted since, not every state again, and each state "
        "decoded from a table as it is made (docs/operations.md)",
    )
    metrics_max_sources: int = Field(
        32, ge=1, description="sources with their own metric series; later ones count as other"
    )
    metrics_max_symbols: int = Field(
        5000, ge=1, description="symbols with their own metric series; later ones count as other"
    )

    granularities: list[str] = Field(
        ["1m", "5m", "1h", "1d"],
        description="bar granularities: s, m, h, d multiples (e.g. 5m), 1w, 1mo",
    )
    calendars: dict[str, str] = Field(
        {},
        description='symbol pattern -> exchange calendar (e.g. {"AAPL": "NYSE", "*.AX": '
        '"XASX", "X:*": "utc"}); the first match decides, utc or no match: UTC bars',
    )
    exchange_calendars: dict[str, str] = Field(
        {},
        description="exchange (as the symbols table names it) -> calendar, for the symbols no "
        'pattern of MARKETPULSE_CALENDARS matches (e.g. {"NYSE": "NYSE", "NASDAQ": '
        '"NASDAQ"})',
    )
    bar_hours: Literal["regular", "extended"] = Field(
        "regular", description="calendar bars from regular hours only, or extended hours too"
    )
    calendar_first_year: int = Field(1990, ge=1900, description="calendar sessions from")
    calendar_last_year: int = Field(2035, le=2200, description="calendar sessions through")
    grace_ms: int = Field(2000, ge=0, description="how long a bar waits for late events")
    max_future_ms: int = Field(5000, ge=0, description="how far ahead of the clock events may be")
    allowed_lateness_ms: dict[str, int] = Field(
        {},
        description="granularity -> how long past the grace period a closed bar may still be "
        'revised by a late trade or a restated vendor bar (e.g. {"1m": 300000}); none: never',
    )
    cancel_window_ms: int = Field(
        0,
        ge=0,
        le=86_400_000,
        description="how long (stream time) a symbol keeps its trades for the feed's cancels "
        "and corrections to name them; a closed bar they change is revised within its allowed "
        "lateness; 0: no trade kept, and a cancel or correction is dead-lettered as unknown_trade",
    )
    warmup_from: list[Literal["influxdb", "polygon"]] = Field(
        ["influxdb"],
        description="where a series that starts takes its history from before its first live "
        "bar: the bars stored in InfluxDB; polygon: the live Polygon source first stores what "
        "InfluxDB lacks of its symbols' history; []: series start cold",
    )
    warmup_unstable_bars: int = Field(
        0,
        ge=0,
        description="bars of warm-up beyond the longest lookback of the indicators, for the "
        "exponential ones to settle (TA-Lib's unstable period; 0 as there)",
    )
    revision_max_bars: int = Field(
        32,
        ge=1,
        description="the most bars a series may keep to roll back revisions; an allowed "
        "lateness that needs more is refused",
    )
    forming_interval_ms: int = Field(
        1000,
        ge=0,
        description="how often, at most, a symbol's open bars and their indicator values go to "
        "analytics.forming (wall clock, on the symbol's frames); 0: never",
    )
    forming_retention_ms: int = Field(
        3_600_000,
        ge=60_000,
        description="how long analytics.forming keeps its records (set when the topic is "
        "created): each is superseded within seconds",
    )
    max_price: float = Field(
        1e12, gt=0, le=1e100, description="higher prices are refused as out_of_range"
    )
    max_size: float = Field(
        1e15,
        gt=0,
        le=1e100,
        description="larger trade or quote sizes, and bar volumes, are refused as out_of_range",
    )
    spike_bound: float = Field(0.2, gt=0, description="relative move refused as a price spike")
    spike_confirmations: int = Field(3, ge=1, description="events that confirm a new level")
    dedup_window: int = Field(256, ge=1, description="recent events remembered per symbol")
    indicators: list[str] = Field(
        list(DEFAULT_SPECS),
        description="indicator specs to stream ('all': every spec of `marketpulse indicators "
        "--catalog`)",
    )

    candlestick_patterns: list[str] = Field(
        list(CANDLESTICKS),
        description="TA-Lib candlestick patterns to detect (cdl* names); a series restored after "
        "a change starts the new choice over its last 15 bars (docs/pipeline.md)",
    )
    ma_cross_pairs: list[str] = Field(
        ["sma_20/sma_50", "ema_12/ema_26"], description="fast/slow outputs for golden/death crosses"
    )
    rsi_overbought: float = Field(70.0, gt=0, lt=100, description="RSI above: overbought")
    rsi_oversold: float = Field(30.0, gt=0, lt=100, description="RSI below: oversold")
    adx_trending: float = Field(25.0, gt=0, description="ADX at or above: a trend starts")
    adx_ranging: float = Field(20.0, gt=0, description="ADX below: the trend ends")
    squeeze_lookback: int = Field(120, ge=2, description="bars a Bollinger squeeze is judged over")
    swing_left: int = Field(2, ge=1, description="bars before a swing point that it must exceed")
    swing_right: int = Field(2, ge=1, description="bars after it, so swings are known that late")
    level_tolerance: float = Field(0.005, gt=0, description="relative distance of a level touch")
    chart_tolerance: float = Field(0.015, gt=0, description="how alike tops or shoulders must be")
    chart_min_depth: float = Field(0.03, gt=0, description="neckline distance from the tops")
    chart_head_margin: float = Field(0.02, gt=0, description="how far the head exceeds shoulders")
    chart_max_wait: int = Field(30, ge=1, description="bars a shape waits for its neckline break")

    influx_url: str = Field("http://127.0.0.1:8086", description="the InfluxDB v1 HTTP API")
    influx_rpc_port: int = Field(8088, description="the RPC port of the local InfluxDB (loopback)")
    influx_database: str = Field("marketpulse", description="InfluxDB database")
    influx_username: str | None = Field(None, description="InfluxDB Basic auth user")
    influx_password: SecretStr | None = Field(None, description="InfluxDB Basic auth password")
    influx_token: SecretStr | None = Field(
        None, description="Authorization: Token, for the v1 endpoints of InfluxDB 2.x and 3.x"
    )
    influx_write_chunk: int = Field(10000, ge=1, description="lines per InfluxDB write request")
    influx_write_concurrency: int = Field(4, ge=1, description="write requests in flight")

    postgres_host: str = Field("127.0.0.1", description="PostgreSQL host")
    postgres_port: int = Field(5432, description="PostgreSQL port")
    postgres_user: str = Field(
        "marketpulse", pattern=_SQL_NAME, description="PostgreSQL user (a plain SQL identifier)"
    )
    postgres_password: SecretStr = Field(
        SecretStr("marketpulse"), description="PostgreSQL password"
    )
    postgres_database: str = Field(
        "marketpulse", pattern=_SQL_NAME, description="PostgreSQL database (a plain SQL identifier)"
    )

    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL")

    sinks: list[Literal["quotes", "bars", "indicators", "signals", "signals_pg", "cache"]] = Field(
        ["quotes", "bars", "indicators", "signals", "signals_pg", "cache"],
        description="which sinks `marketpulse sinks` runs",
    )
    quote_storage: Literal["all", "sampled", "off"] = Field(
        "sampled", description="quotes to InfluxDB: every one, the last per interval, or none"
    )
    quote_sample_ms: int = Field(1000, ge=1, description="the sampling interval of stored quotes")
    sink_batch_size: int = Field(5000, ge=1, description="items a sink writes per request")
    sink_linger_ms: int = Field(200, ge=0, description="how long a sink waits to fill a batch")
    sink_retry_base_ms: int = Field(100, ge=1, description="first retry delay; doubles")
    sink_retry_max_ms: int = Field(5000, ge=1, description="longest retry delay")
    sink_breaker_failures: int = Field(5, ge=1, description="failures that open the breaker")
    sink_breaker_cooldown_ms: int = Field(5000, ge=0, description="open breaker's pause")
    sink_metrics_port: int = Field(9101, ge=0, description="sinks' /metrics; 0 turns it off")

    alphavantage_api_key: SecretStr | None = Field(None, description="Alpha Vantage API key")
    alphavantage_url: str = Field(
        "https://www.alphavantage.co", description="Alpha Vantage base URL"
    )
    alphavantage_per_minute: int = Field(5, ge=1, description="our quota (free tier: 5)")
    alphavantage_per_day: int = Field(25, ge=1, description="our quota (free tier: 25)")
    polygon_api_key: SecretStr | None = Field(None, description="Polygon (Massive) API key")
    polygon_url: str = Field(
        "https://api.polygon.io", description="Polygon base URL (https://api.massive.com works too)"
    )
    polygon_ws_url: str = Field(
        "wss://socket.polygon.io/stocks",
        description="the stocks WebSocket (wss://delayed.polygon.io/stocks: the delayed feed)",
    )
    polygon_ws_max_refusals: int = Field(
        10,
        ge=1,
        description="sessions in a row the Polygon WebSocket may refuse (max_connections, "
        "disconnected) before the stream stops with an error",
    )
    polygon_per_minute: int = Field(5, ge=1, description="our quota (free tier: 5)")
    conditions_refresh_s: float = Field(
        86_400.0,
        gt=0,
        description="how often a live source refetches its vendor's trade-condition rules",
    )
    newsapi_api_key: SecretStr | None = Field(None, description="NewsAPI.org API key")
    newsapi_url: str = Field("https://newsapi.org", description="NewsAPI base URL")
    newsapi_per_day: int = Field(100, ge=1, description="our quota (developer plan: 100)")

    api_host: str = Field("127.0.0.1", description="API bind address")
    api_port: int = Field(8000, description="API port")
    api_workers: int = Field(1, ge=1, description="uvicorn worker processes")
    api_trust_proxy: bool = Field(
        False, description="take client IP and scheme from X-Forwarded-* (behind a proxy only)"
    )
    api_cors_origins: list[str] = Field([], description="origins allowed by CORS")
    api_max_body_bytes: int = Field(65536, ge=1024, description="larger request bodies get 413")
    api_header_timeout_s: float = Field(
        10.0, gt=0, description="a request's headers must arrive within this, else 408"
    )
    api_body_timeout_s: float = Field(
        30.0, gt=0, description="a request's body must arrive within this of its headers, else 408"
    )
    api_shutdown_timeout_s: int = Field(
        10, ge=1, description="how long a stopping API waits for open requests and connections"
    )
    api_max_connections: int = Field(
        1000, ge=1, description="connections and requests in flight per API process; past it 503"
    )
    ws_session_check_s: float = Field(
        5.0, gt=0, description="how often open WebSockets' sessions are re-checked"
    )
    ws_max_per_user: int = Field(
        10, ge=1, description="open WebSocket connections per user, per API process"
    )
    ws_max_per_address: int = Field(
        50, ge=1, description="open WebSocket connections per client address, per API process"
    )
    api_rate_window_s: int = Field(60, ge=1, description="the sliding rate-limit window")
    api_rate_ip: int = Field(1200, ge=1, description="requests per window per client IP")
    api_rate_user: int = Field(600, ge=1, description="requests per window per user")
    api_rate_endpoints: dict[str, int] = Field(
        {"auth": 20, "register": 5, "indicators": 300, "batch": 120},
        description="requests per window per client and endpoint group (auth, register: per "
        "address)",
    )
    api_cache_ttl_s: int = Field(60, ge=1, description="how long history responses are cached")
    api_batch_max: int = Field(50, ge=1, description="symbols per batch request")
    api_compute_max_bars: int = Field(
        20000, ge=100, description="stored bars read to compute an indicator on demand"
    )
    api_login_lock_failures: int = Field(
        5, ge=1, description="failed sign-ins for one username that lock it (from any address)"
    )
    api_login_lock_window_s: int = Field(
        900, ge=1, description="how long failed sign-ins are counted towards the lock"
    )
    api_login_lock_s: int = Field(900, ge=1, description="how long a locked username stays locked")
    api_registration_open: bool = Field(True, description="whether anyone may register")
    ws_queue_size: int = Field(
        1000, ge=200, description="messages queued per WebSocket client before it is closed"
    )
    jwt_secret: SecretStr = Field(
        default_factory=_jwt_secret,
        description="JWT signing key, at least 32 bytes; required in production. Unset "
        "elsewhere, a random key is made once and kept in `<data_dir>/jwt_secret` (mode 0600)",
    )
    bcrypt_rounds: int = Field(12, ge=4, le=16, description="bcrypt cost of new password hashes")

    @field_validator("granularities")
    @classmethod
    def _known_granularities(cls, value: list[str]) -> list[str]:
        for name in value:
            parse_granularity(name)
        return value

    @model_validator(mode="after")
    def _warmup_source_configured(self) -> Settings:
        if "polygon" in self.warmup_from and self.polygon_api_key is None:
            raise ValueError(
                "MARKETPULSE_WARMUP_FROM names polygon, but MARKETPULSE_POLYGON_API_KEY is not "
                "set: set the key, or take polygon out of the warm-up sources"
            )
        return self

    @model_validator(mode="after")
    def _batch_fits(self) -> Settings:
        # the broker takes a batch as one message: one larger than its limit is refused whole
        if self.kafka_producer_batch_bytes > self.kafka_max_message_bytes:
            raise ValueError(
                f"MARKETPULSE_KAFKA_PRODUCER_BATCH_BYTES ({self.kafka_producer_batch_bytes:,}) "
                f"is over MARKETPULSE_KAFKA_MAX_MESSAGE_BYTES ({self.kafka_max_message_bytes:,})"
            )
        return self

    @model_validator(mode="after")
    def _lateness_fits(self) -> Settings:
        for name, ms in self.allowed_lateness_ms.items():
            where = f"MARKETPULSE_ALLOWED_LATENESS_MS[{name!r}]"
            if name not in self.granularities:
                raise ValueError(f"{where}: {name} is not in MARKETPULSE_GRANULARITIES")
            if activity_of(name) is not None:
                raise ValueError(f"{where}: {name} bars close on a trade, not on time, so "
                                 "they cannot be revised")  # fmt: skip
            if ms < 0:
                raise ValueError(f"{where}: {ms} is negative")
            kept = kept_bars(ms * 1_000_000, parse_granularity(name))
            if kept > self.revision_max_bars:
                raise ValueError(
                    f"{where}: {ms} ms of {name} bars needs {kept} bars kept per series to roll "
                    f"back, more than MARKETPULSE_REVISION_MAX_BARS ({self.revision_max_bars})"
                )
        return self

    @field_validator("calendars", "exchange_calendars")
    @classmethod
    def _known_calendars(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value.values():
            if name != UTC_CALENDAR:
                # imported only once a calendar is named: the library and pandas take two
                # seconds to import, and settings validate their defaults in every process
                from marketpulse.calendars import check_calendar

                check_calendar(name)
        return value

    @field_validator("candlestick_patterns")
    @classmethod
    def _known_patterns(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(CANDLESTICKS))
        if unknown:
            raise ValueError(f"unknown candlestick patterns: {', '.join(unknown)}")
        return value

    @field_validator("ma_cross_pairs")
    @classmethod
    def _pairs(cls, value: list[str]) -> list[str]:
        for pair in value:
            if pair.count("/") != 1 or not all(pair.split("/")):
                raise ValueError(
                    f"moving-average pair {pair!r}: write fast/slow, e.g. sma_50/sma_200"
                )
        return value

    @field_validator("indicators")
    @classmethod
    def _known_indicators(cls, value: list[str]) -> list[str]:
        specs = expand(value)
        for spec in specs:
            build(spec)
        return specs

    def topic(self, name: str) -> str:
        """A topic's name in this deployment's namespace."""
        return f"{self.topic_prefix}{name}"

    def sink_group(self, sink: str) -> str:
        """The consumer group of a sink."""
        return f"{self.worker_id}-sink-{sink}"

    def consumer_groups(self) -> list[str]:
        """The worker's consumer group and those of the configured sinks."""
        return [self.worker_id, *(self.sink_group(name) for name in self.sinks)]

    def detector_config(self) -> DetectorConfig:
        """Each series' signal detectors: candlesticks, trend, levels and chart patterns."""
        pairs = tuple((p.split("/")[0], p.split("/")[1]) for p in self.ma_cross_pairs)
        trend = TrendConfig(
            ma_pairs=pairs,
            rsi_overbought=self.rsi_overbought,
            rsi_oversold=self.rsi_oversold,
            adx_trending=self.adx_trending,
            adx_ranging=self.adx_ranging,
            squeeze_lookback=self.squeeze_lookback,
        )
        levels = LevelConfig(self.swing_left, self.swing_right, self.level_tolerance)
        charts = ChartConfig(
            self.chart_tolerance, self.chart_min_depth, self.chart_head_margin, self.chart_max_wait
        )
        return DetectorConfig(tuple(self.candlestick_patterns), trend, levels, charts)

    def bar_cuts(self) -> BarCuts:
        """How each symbol's bars are cut: by its calendar's sessions, or in UTC."""
        from marketpulse.analytics.sessions import BarCuts, SessionTable

        calendars: list[tuple[str, SessionTable | None]] = []
        by_symbol: dict[str, SessionTable] = {}
        if self.calendars or self.exchange_calendars:  # the library only when one is used
            from marketpulse.calendars import session_table, symbol_exchanges

            def table(name: str) -> SessionTable:
                first, last = self.calendar_first_year, self.calendar_last_year
                return session_table(name, self.bar_hours, first, last)

            calendars = [
                (pattern, None if name == UTC_CALENDAR else table(name))
                for pattern, name in self.calendars.items()
            ]
            if self.exchange_calendars:
                by_symbol = {
                    symbol: table(self.exchange_calendars[exchange])
                    for symbol, exchange in symbol_exchanges(self).items()
                    if self.exchange_calendars.get(exchange, UTC_CALENDAR) != UTC_CALENDAR
                }
        return BarCuts(self.granularities, calendars, by_symbol)

    def granularity_lengths(self) -> dict[str, int]:
        """Each configured granularity and its length in ns."""
        return {name: parse_granularity(name) for name in self.granularities}

    def gate_config(self) -> GateConfig:
        """The quality gate's bounds."""
        return GateConfig(
            grace_ns=self.grace_ms * 1_000_000,
            max_future_ns=self.max_future_ms * 1_000_000,
            spike_bound=self.spike_bound,
            spike_confirmations=self.spike_confirmations,
            dedup_window=self.dedup_window,
            max_price=self.max_price,
            max_size=self.max_size,
            lateness=tuple((name, ms * 1_000_000) for name, ms in self.lateness().items()),
            cancel_window_ns=self.cancel_window_ms * 1_000_000,
        )

    def lateness(self) -> dict[str, int]:
        """The granularities that allow lateness, and how much (ms)."""
        return {name: ms for name, ms in self.allowed_lateness_ms.items() if ms > 0}

    def step_config(self) -> StepConfig:
        """What the agents' pure steps decide by."""
        # imported here: step_io names the topics, and the topics module imports these settings
        from marketpulse.analytics.step_io import StepConfig

        return StepConfig(
            gate=self.gate_config(),
            granularities=self.granularity_lengths(),
            cuts=self.bar_cuts(),
            indicators=tuple(self.indicators),
            detector=self.detector_config(),
            max_message_bytes=self.kafka_max_message_bytes,
            forming_interval_ns=self.forming_interval_ms * 1_000_000,
            kept_bars={
                name: kept_bars(ms * 1_000_000, parse_granularity(name))
                for name, ms in self.lateness().items()
            },
        )

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        secret = self.jwt_secret.get_secret_value()
        if self.env == "production" and not secret:
            raise ValueError(
                "set MARKETPULSE_JWT_SECRET in production (every API replica shares it)"
            )
        if len(secret.encode()) < 32:
            raise ValueError("MARKETPULSE_JWT_SECRET must be at least 32 bytes (HS256's key size)")
        return self

    @property
    def kafka_address(self) -> tuple[str, int]:
        """Host and port of the first bootstrap server."""
        first = self.kafka_broker.split(";")[0].split(",")[0]
        return _host_port(first, 9092)

    def bootstrap_servers(self) -> str:
        """The broker list as Kafka clients want it: ``host:port,host:port``."""
        urls = self.kafka_broker.replace(";", ",").split(",")
        return ",".join(url.split("://", 1)[-1] for url in urls)

    @property
    def influx_address(self) -> tuple[str, int]:
        """Host and port of InfluxDB's HTTP API."""
        return _host_port(self.influx_url, 8086)

    @property
    def redis_address(self) -> tuple[str, int]:
        """Host and port of Redis."""
        return _host_port(self.redis_url, 6379)

    def postgres_dsn(self) -> str:
        """Return the libpq DSN, password included."""
        password = self.postgres_password.get_secret_value()
        return (
            f"postgresql://{self.postgres_user}:{password}@{self.postgres_host}:"
            f"{self.postgres_port}/{self.postgres_database}"
        )

    def masked(self) -> dict[str, Any]:
        """Return the settings as plain values with every secret masked."""
        shown: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if isinstance(value, SecretStr):
                value = "**********" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            shown[name] = value
        return shown


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url if "://" in url else f"tcp://{url}")
    return parts.hostname or "127.0.0.1", parts.port or default_port


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once on first use."""
    return Settings()
