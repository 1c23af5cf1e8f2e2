"""The one settings class, read from ``MARKETPULSE_*`` variables and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Role and database names are spliced into DDL when `services up` creates them, so keep them plain.
_SQL_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,62}$"
PLACEHOLDER_SECRET = "change-me"  # noqa: S105 - a marker that is refused outside development


class Settings(BaseSettings):
    """Effective configuration of every marketpulse process."""

    model_config = SettingsConfigDict(
        env_prefix="MARKETPULSE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(Path(".data"), description="local state: services, logs, pid files")

    kafka_broker: str = Field("kafka://127.0.0.1:9092", description="Faust broker URL")
    kafka_tansu_compat: bool = Field(
        False, description="work around Tansu's ListOffsets and InitProducerId gaps"
    )
    kafka_fetch_max_wait_ms: int = Field(50, ge=1, le=5000)
    kafka_session_timeout_s: float = Field(10.0, gt=0)
    topic_partitions: int = Field(4, ge=1)
    worker_id: str = Field("marketpulse", description="Faust app id (consumer group)")
    worker_metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(9100, ge=0, description="worker /metrics; 0 turns it off")

    influx_url: str = "http://127.0.0.1:8086"
    influx_rpc_port: int = 8088
    influx_database: str = "marketpulse"
    influx_username: str | None = None
    influx_password: SecretStr | None = None
    influx_token: SecretStr | None = None

    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = Field("marketpulse", pattern=_SQL_NAME)
    postgres_password: SecretStr = SecretStr("marketpulse")
    postgres_database: str = Field("marketpulse", pattern=_SQL_NAME)

    redis_url: str = "redis://127.0.0.1:6379/0"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    jwt_secret: SecretStr = SecretStr(PLACEHOLDER_SECRET)

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.env == "production" and self.jwt_secret.get_secret_value() == PLACEHOLDER_SECRET:
            raise ValueError(
                "MARKETPULSE_JWT_SECRET still holds the placeholder; "
                "set a real secret in production"
            )
        return self

    @property
    def kafka_address(self) -> tuple[str, int]:
        """Host and port of the first bootstrap server."""
        first = self.kafka_broker.split(";")[0].split(",")[0]
        return _host_port(first, 9092)

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
