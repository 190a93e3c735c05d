from __future__ import annotations

import stat
from datetime import timedelta

import pytest

from graph.settings import ConfigError, Settings


def test_defaults_generate_a_private_secret_once(tmp_path):
    settings = Settings.load({}, data_dir=tmp_path / "data")
    secret_file = tmp_path / "data" / "secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(settings.secret) >= 32
    assert Settings.load({}, data_dir=tmp_path / "data").secret == settings.secret
    assert settings.mongodb_uri is None
    assert settings.token_ttl == timedelta(days=30)


def test_environment_is_read(tmp_path):
    settings = Settings.load(
        {
            "CREDGRAPH_DATA_DIR": str(tmp_path / "env-dir"),
            "CREDGRAPH_SECRET": "from-env",
            "MONGODB_URI": "mongodb://db.example:27017/prod",
            "CREDGRAPH_TOKEN_TTL": "12h",
            "CREDGRAPH_DB_TIMEOUT": "10s",
        }
    )
    assert settings.data_dir == (tmp_path / "env-dir").resolve()
    assert settings.secret == "from-env"
    assert settings.mongodb_uri == "mongodb://db.example:27017/prod"
    assert settings.token_ttl == timedelta(hours=12)
    assert settings.db_timeout == 10.0
    assert not (tmp_path / "env-dir" / "secret").exists()


def test_flags_override_the_environment(tmp_path):
    settings = Settings.load(
        {"CREDGRAPH_DATA_DIR": str(tmp_path / "env"), "MONGODB_URI": "mongodb://env:1/"},
        data_dir=tmp_path / "flag",
        mongodb_uri="mongodb://flag:2/",
    )
    assert settings.data_dir == (tmp_path / "flag").resolve()
    assert settings.mongodb_uri == "mongodb://flag:2/"


@pytest.mark.parametrize("value", ["30", "0d", "-1d", "3 weeks", "1y"])
def test_bad_durations_are_config_errors(tmp_path, value):
    with pytest.raises(ConfigError, match="CREDGRAPH_TOKEN_TTL"):
        Settings.load({"CREDGRAPH_TOKEN_TTL": value}, data_dir=tmp_path)


def test_unusable_data_dir_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="data directory"):
        Settings.load({}, data_dir=blocker / "data")
