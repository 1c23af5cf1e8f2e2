"""Settings: environment, .env, masking and refusals."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import jwt
import orjson
import pytest
from pydantic import ValidationError

from marketpulse.analytics.indicators.registry import catalog
from marketpulse.cli import main
from marketpulse.settings import Settings, local_secret


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
    settings = Settings(postgres_password="hunter2", jwt_secret="s3cret" * 6, env="test")
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


def test_production_must_be_given_a_long_enough_jwt_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="set MARKETPULSE_JWT_SECRET in production"):
        Settings(env="production", data_dir=tmp_path)
    assert not (tmp_path / "jwt_secret").exists()  # production invents no key
    for env in ("production", "development"):
        with pytest.raises(ValidationError, match="at least 32 bytes"):
            Settings(env=env, jwt_secret="a-real-but-short-secret")
    assert Settings(env="production", jwt_secret="a-real-secret-" + "x" * 20).env == "production"


def test_without_a_jwt_secret_one_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path / "a").jwt_secret.get_secret_value()
    kept = tmp_path / "a" / "jwt_secret"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert kept.read_text() == first
    assert Settings(data_dir=tmp_path / "a").jwt_secret.get_secret_value() == first
    assert Settings(data_dir=tmp_path / "b").jwt_secret.get_secret_value() != first
    # the key once published as the development default signs nothing that this one accepts
    public = jwt.encode({"sub": "x"}, "change-me-development-only-jwt-secret", "HS256")
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(public, first, algorithms=["HS256"])


def test_a_key_made_by_another_process_first_is_the_one_used(tmp_path: Path) -> None:
    (tmp_path / "jwt_secret").write_text("theirs-" + "k" * 40 + "\n")
    assert local_secret(tmp_path / "jwt_secret") == "theirs-" + "k" * 40


def test_sql_names_are_plain_identifiers() -> None:
    with pytest.raises(ValidationError):
        Settings(postgres_user='x"; DROP TABLE users; --')


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.topic_partitions = 3  # type: ignore[misc]


def test_indicator_specs_are_checked_and_all_means_the_whole_catalog(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MARKETPULSE_INDICATORS", '["sma_20", "all"]')
    specs = Settings().indicators
    assert specs[0] == "sma_20"
    assert specs[1:] == [e["spec"] for e in catalog() if e["spec"] != "sma_20"]
    with pytest.raises(ValidationError, match=r"outside TA-Lib's range \[2, 100000\]"):
        Settings(indicators=["rsi_1"])


@pytest.mark.parametrize(
    "module", ["marketpulse.app", "marketpulse.api.main", "marketpulse.sinks.runner"]
)
def test_a_process_without_calendars_starts_without_the_calendar_library(module: str) -> None:
    # pandas and the calendars take two seconds to import: every worker start (a restart, a
    # rebalance's newcomer) would wait for them
    code = (
        f"import sys, {module}; from marketpulse.settings import get_settings; get_settings(); "
        "print(sorted(m for m in ('pandas', 'pandas_market_calendars') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if "CALENDARS" not in k}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("field", ["calendars", "exchange_calendars"])
def test_an_unknown_calendar_is_refused_and_utc_needs_no_library(field: str) -> None:
    with pytest.raises(ValidationError, match="unknown calendar 'NYZE'"):
        Settings.model_validate({field: {"A": "NYSE", "B": "NYZE"}})
    assert getattr(Settings.model_validate({field: {"X:*": "utc"}}), field) == {"X:*": "utc"}
