"""Settings: defaults, TRICKLE_* overrides, and the instance secret."""

from __future__ import annotations

import stat

import pytest

from app.config import Config, environment_overrides, resolve_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("TRICKLE_SECRET_KEY", "TRICKLE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_the_instance_secret_is_created_once_and_private(tmp_path):
    first = resolve_settings(str(tmp_path), None)["SECRET_KEY"]
    second = resolve_settings(str(tmp_path), None)["SECRET_KEY"]
    assert first == second
    assert len(first) == 64
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_an_empty_secret_file_is_refused(tmp_path, monkeypatch):
    (tmp_path / "secret_key").write_text("")
    monkeypatch.setattr("app.config.time.sleep", lambda _seconds: None)
    with pytest.raises(RuntimeError, match="secret_key is empty"):
        resolve_settings(str(tmp_path), None)


def test_environment_overrides_are_typed_and_beat_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("TRICKLE_SECRET_KEY", "from-env")
    monkeypatch.setenv("TRICKLE_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("TRICKLE_PROXY_FIX", "2")
    settings = resolve_settings(str(tmp_path), None)
    assert (settings["SECRET_KEY"], settings["RATELIMIT_ENABLED"], settings["PROXY_FIX"]) == (
        "from-env",
        False,
        2,
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'trickle.db'}"
    assert not (tmp_path / "secret_key").exists()


def test_the_demo_is_off_unless_switched_on(tmp_path, monkeypatch):
    monkeypatch.delenv("TRICKLE_DEMO", raising=False)
    assert resolve_settings(str(tmp_path), None)["DEMO"] is False
    monkeypatch.setenv("TRICKLE_DEMO", "1")
    assert resolve_settings(str(tmp_path), None)["DEMO"] is True


def test_explicit_config_beats_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TRICKLE_DATABASE_URL", "sqlite:///env.db")
    settings = resolve_settings(str(tmp_path), {"DATABASE_URL": "sqlite:///given.db"})
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:///given.db"


def test_only_trickle_prefixed_names_are_read():
    assert environment_overrides(
        Config, {"SECRET_KEY": "x", "TRICKLE_ASK_TOKEN_MAX_AGE_SECONDS": "60"}
    ) == {"ASK_TOKEN_MAX_AGE_SECONDS": 60}


def test_the_password_hash_and_the_clock_never_come_from_the_environment():
    environ = {"TRICKLE_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1", "TRICKLE_CLOCK": "0"}
    assert environment_overrides(Config, environ) == {}
    assert Config.PASSWORD_HASH_METHOD == "scrypt"
