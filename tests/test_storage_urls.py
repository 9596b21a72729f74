"""storage.urls: plain URLs in, driver URLs, SQLite paths and asyncpg DSNs out."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url

from storage.urls import async_url, asyncpg_dsn, default_sqlite_url, parse_url, sqlite_path


@pytest.mark.parametrize(
    ("url", "path", "driver_url"),
    [
        (
            "sqlite:///data/outreach.sqlite3",
            "data/outreach.sqlite3",
            "sqlite+aiosqlite:///data/outreach.sqlite3",
        ),
        (
            "sqlite:////var/lib/bot/db.sqlite3",
            "/var/lib/bot/db.sqlite3",
            "sqlite+aiosqlite:////var/lib/bot/db.sqlite3",
        ),
        ("sqlite:///:memory:", ":memory:", "sqlite+aiosqlite:///:memory:"),
        ("SQLite:///x.db", "x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_sqlite_urls(url: str, path: str, driver_url: str) -> None:
    parsed = parse_url(url)
    assert parsed.is_sqlite
    assert sqlite_path(url) == path
    assert async_url(url) == driver_url


def test_sqlite_path_with_spaces_survives_the_round_trip() -> None:
    url = default_sqlite_url(Path("/srv/my data"))
    assert sqlite_path(url) == "/srv/my data/outreach.sqlite3"
    assert make_url(async_url(url)).database == "/srv/my data/outreach.sqlite3"


def test_default_sqlite_url() -> None:
    assert default_sqlite_url(Path("/data")) == "sqlite:////data/outreach.sqlite3"
    assert default_sqlite_url(Path("data")) == "sqlite:///data/outreach.sqlite3"


@pytest.mark.parametrize(
    ("url", "dsn", "driver_url"),
    [
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
        ),
        (
            "postgres://bot:s%40cret@db.example:6432/outreach",
            "postgresql://bot:s%40cret@db.example:6432/outreach",
            "postgresql+asyncpg://bot:s%40cret@db.example:6432/outreach",
        ),
        (
            "postgresql://root@localhost/test?sslmode=require&search_path=bot",
            "postgresql://root@localhost/test?sslmode=require&search_path=bot",
            "postgresql+asyncpg://root@localhost/test",
        ),
    ],
)
def test_postgres_urls(url: str, dsn: str, driver_url: str) -> None:
    parsed = parse_url(url)
    assert not parsed.is_sqlite
    assert asyncpg_dsn(url) == dsn
    assert async_url(url) == driver_url
    assert make_url(driver_url).password in (None, "s@cret")


@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "mysql://root@localhost/db",
        "postgresql+asyncpg://root@localhost/db",
        "sqlite+aiosqlite:///x.db",
        "outreach.sqlite3",
        "sqlite://",
        "sqlite:///",
        "sqlite://host/x.db",
        "sqlite:///x.db?mode=ro",
        "postgresql:/localhost/db",
        "postgresql://localhost",
        "postgresql://localhost/",
        "postgresql://localhost/a/b",
        "postgresql://localhost:port/db",
        "postgresql://localhost:99999/db",
        "postgresql://localhost/db#frag",
    ],
)
def test_bad_urls_raise_a_one_line_value_error(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_url(url)
    message = str(caught.value)
    assert message
    assert "\n" not in message


def test_wrong_backend_helpers_raise() -> None:
    with pytest.raises(ValueError):
        sqlite_path("postgresql://localhost/db")
    with pytest.raises(ValueError):
        asyncpg_dsn("sqlite:///x.db")
