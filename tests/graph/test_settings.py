"""Settings: one declaration read from the environment and flags, and written into the README."""

from __future__ import annotations

import dataclasses
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from graph.limits import Limits
from graph.settings import OPTIONS, ConfigError, Settings, find_data_dir, markdown_table

README = Path(__file__).parents[2] / "README.md"

# For every variable: a value to set, and what the settings must then hold.
GOOD = {
    "MONGODB_URI": (
        "mongodb://db.example:27017/prod",
        "mongodb_uri",
        "mongodb://db.example:27017/prod",
    ),
    "CREDGRAPH_DATA_DIR": None,  # tested apart: a path
    "CREDGRAPH_SECRET": ("from-env", "secret", "from-env"),
    "CREDGRAPH_HOST": ("0.0.0.0", "host", "0.0.0.0"),
    "CREDGRAPH_PORT": ("8123", "port", 8123),
    "CREDGRAPH_WORKERS": ("4", "workers", 4),
    "CREDGRAPH_TOKEN_TTL": ("12h", "token_ttl", timedelta(hours=12)),
    "CREDGRAPH_DB_TIMEOUT": ("10s", "db_timeout", 10.0),
    "CREDGRAPH_MAX_CONCURRENT": ("4", "max_concurrent", 4),
    "CREDGRAPH_MAX_WAITING": ("20", "max_waiting", 20),
    "CREDGRAPH_EMBEDDED_DURABLE": ("false", "embedded_durable", False),
    "CREDGRAPH_MAX_DOCUMENT": ("512KiB", "max_document", 512 * 1024),
    "CREDGRAPH_MAX_BODY": ("2MiB", "max_body", 2 * 1024 * 1024),
    "CREDGRAPH_MAX_DEPTH": ("12", "limits", Limits(max_depth=12)),
    "CREDGRAPH_MAX_ALIASES": ("5", "limits", Limits(max_aliases=5)),
    "CREDGRAPH_MAX_TOKENS": ("900", "limits", Limits(max_tokens=900)),
    "CREDGRAPH_MAX_COST": ("50", "limits", Limits(max_cost=50)),
    "CREDGRAPH_INTROSPECTION": ("off", "introspection", False),
    "CREDGRAPH_CORS_ORIGINS": (
        "https://a.example, http://b.example:8080",
        "cors_origins",
        ("https://a.example", "http://b.example:8080"),
    ),
    "CREDGRAPH_PUBLIC_URL": ("https://c.example/", "public_url", "https://c.example"),
    "CREDGRAPH_BODY_TIMEOUT": ("5m", "body_timeout", 300.0),
    "CREDGRAPH_HEADER_TIMEOUT": ("2s", "header_timeout", 2.0),
    "CREDGRAPH_LOG_FORMAT": ("json", "log_format", "json"),
    "CREDGRAPH_METRICS_TOKEN": ("scrape-me", "metrics_token", "scrape-me"),
    "CREDGRAPH_REMINDER_EVERY": ("off", "reminder_every", 0.0),
    "CREDGRAPH_WEBHOOK_EVERY": ("5s", "webhook_every", 5.0),
}
BAD = {
    "MONGODB_URI": "mongodb://host:notaport/x",
    "CREDGRAPH_PORT": "70000",
    "CREDGRAPH_WORKERS": "0",
    "CREDGRAPH_TOKEN_TTL": "3 weeks",
    "CREDGRAPH_DB_TIMEOUT": "0s",
    "CREDGRAPH_REMINDER_EVERY": "never",
    "CREDGRAPH_MAX_CONCURRENT": "0",
    "CREDGRAPH_MAX_WAITING": "many",
    "CREDGRAPH_EMBEDDED_DURABLE": "maybe",
    "CREDGRAPH_MAX_DOCUMENT": "10GB",
    "CREDGRAPH_MAX_BODY": "-1",
    "CREDGRAPH_MAX_DEPTH": "deep",
    "CREDGRAPH_MAX_ALIASES": "1.5",
    "CREDGRAPH_MAX_TOKENS": "0",
    "CREDGRAPH_MAX_COST": "banana",
    "CREDGRAPH_INTROSPECTION": "2",
    "CREDGRAPH_CORS_ORIGINS": "dash.example.com",
    "CREDGRAPH_PUBLIC_URL": "ftp://x",
    "CREDGRAPH_BODY_TIMEOUT": "60",
    "CREDGRAPH_HEADER_TIMEOUT": "1y",
    "CREDGRAPH_LOG_FORMAT": "xml",
}


def test_every_setting_is_declared_with_a_sample():
    assert {option.env for option in OPTIONS} == set(GOOD)


@pytest.mark.parametrize("env", [e for e, sample in GOOD.items() if sample])
def test_each_variable_is_read(tmp_path, env):
    value, attribute, expected = GOOD[env]
    settings = Settings.load({env: value}, flags={"data_dir": str(tmp_path)})
    assert getattr(settings, attribute) == expected


@pytest.mark.parametrize("env", sorted(BAD))
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, env):
    with pytest.raises(ConfigError, match=f"^{env}="):
        Settings.load({env: BAD[env]}, flags={"data_dir": str(tmp_path)})


def test_defaults_generate_a_private_secret_once(tmp_path):
    flags = {"data_dir": str(tmp_path / "data")}
    settings = Settings.load({}, flags=flags)
    secret_file = tmp_path / "data" / "secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(settings.secret) >= 32
    assert Settings.load({}, flags=flags).secret == settings.secret
    assert settings.mongodb_uri is None
    assert settings.token_ttl == timedelta(days=30)
    assert settings.embedded_durable is True
    assert settings.cors_origins == ()


def test_flags_override_the_environment(tmp_path):
    settings = Settings.load(
        {"CREDGRAPH_DATA_DIR": str(tmp_path / "env"), "MONGODB_URI": "mongodb://env:1/"},
        flags={"data_dir": str(tmp_path / "flag"), "mongodb_uri": "mongodb://flag:2/"},
    )
    assert settings.data_dir == (tmp_path / "flag").resolve()
    assert settings.mongodb_uri == "mongodb://flag:2/"
    with pytest.raises(ConfigError, match=r"^--port="):
        Settings.load({}, flags={"data_dir": str(tmp_path), "port": "70000"})


def test_unusable_data_dir_is_a_config_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ConfigError, match="data directory"):
        Settings.load({}, flags={"data_dir": str(blocker / "data")})


def test_the_data_directory_is_found_in_any_parent(tmp_path):
    (tmp_path / ".credgraph").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_data_dir(deep) == tmp_path / ".credgraph"
    elsewhere = tmp_path.parent / f"{tmp_path.name}-other"
    elsewhere.mkdir()
    with pytest.raises(ConfigError, match=r"looked for \.credgraph"):
        Settings.load({}, flags={"data_dir": str(elsewhere / ".credgraph")}, create=False)


def test_the_readme_table_is_the_declaration():
    assert markdown_table() in README.read_text(), (
        "README's Configuration table differs from graph/settings.py; paste:\n" + markdown_table()
    )


def test_workers_read_back_every_setting_they_are_given(tmp_path):
    """`serve --workers` hands its settings to each worker as the environment: every one that
    is not `serve`'s own comes back as it was (the secret too, so tokens verify anywhere)."""
    given = {env: sample[0] for env, sample in GOOD.items() if sample}
    settings = Settings.load(given, flags={"data_dir": str(tmp_path)})
    again = Settings.load(settings.environment(), create=False)
    serve_only = {option.attribute for option in OPTIONS if option.serve_only}
    for field in dataclasses.fields(Settings):
        if field.name not in serve_only:
            assert getattr(again, field.name) == getattr(settings, field.name), field.name
