"""Configuration from the environment."""

from __future__ import annotations

import pytest

from jiuzhu.config import ConfigError, load_config

BASE = {"JIUZHU_DATABASE_URL": "sqlite://", "JIUZHU_SECRET_KEY": "k"}


def test_missing_database_url_names_the_variable():
    with pytest.raises(ConfigError, match="JIUZHU_DATABASE_URL is not set"):
        load_config({"JIUZHU_SECRET_KEY": "k"})


def test_missing_secret_key_names_the_variable():
    with pytest.raises(ConfigError, match="JIUZHU_SECRET_KEY is not set"):
        load_config({"JIUZHU_DATABASE_URL": "sqlite://"})


def test_values_are_parsed():
    cfg = load_config({**BASE, "JIUZHU_PLUGINS": "shexian, dangtu", "JIUZHU_SECURE_COOKIES": "0",
                       "JIUZHU_LOGIN_MAX_FAILURES": "3"})
    assert cfg["JIUZHU_PLUGINS"] == ["shexian", "dangtu"]
    assert cfg["SESSION_COOKIE_SECURE"] is False
    assert cfg["JIUZHU_LOGIN_MAX_FAILURES"] == 3
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "sqlite://"


def test_malformed_value_is_refused_with_its_name():
    with pytest.raises(ConfigError, match="JIUZHU_SECURE_COOKIES='maybe' is not valid"):
        load_config({**BASE, "JIUZHU_SECURE_COOKIES": "maybe"})


def test_readme_documents_every_setting():
    from pathlib import Path

    from jiuzhu.config import SETTINGS

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    missing = [s.env for s in SETTINGS if s.env not in readme]
    assert missing == []
