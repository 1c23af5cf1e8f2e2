"""Settings: environment, .env, masking and refusals."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from marketpulse.cli import main
from marketpulse.settings import Settings


def test_environment_variables_override_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETPULSE_KAFKA_BROKER", "kafka://broker.example:19092")
    monkeypatch.setenv("MARKETPULSE_TOPIC_PARTITIONS", "8")
    settings = Settings()
    assert settings.kafka_address == ("broker.example", 19092)
    assert settings.topic_partitions == 8


def test_dotenv_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("MARKETPULSE_REDIS_URL=redis://10.0.0.5:6390/2\n")
    monkeypatch.chdir(tmp_path)
    assert Settings().redis_address == ("10.0.0.5", 6390)


def test_secrets_are_masked() -> None:
    settings = Settings(postgres_password="hunter2", jwt_secret="s3cret", env="test")
    shown = settings.masked()
    assert shown["postgres_password"] == "**********"
    assert shown["jwt_secret"] == "**********"
    assert "hunter2" not in orjson.dumps(shown).decode()
    assert "hunter2" in settings.postgres_dsn()


def test_config_show_prints_masked_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MARKETPULSE_POSTGRES_PASSWORD", "very-secret-password")
    from marketpulse.settings import get_settings

    get_settings.cache_clear()
    try:
        assert main(["config", "show"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "very-secret-password" not in out
    assert orjson.loads(out)["postgres_password"] == "**********"


def test_placeholder_secret_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(env="production")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(env="production", jwt_secret="a-real-but-short-secret")
    assert Settings(env="production", jwt_secret="a-real-secret-" + "x" * 20).env == "production"


def test_sql_names_are_plain_identifiers() -> None:
    with pytest.raises(ValidationError):
        Settings(postgres_user='x"; DROP TABLE users; --')


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.topic_partitions = 3  # type: ignore[misc]
