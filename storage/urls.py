"""Database URLs: the plain `sqlite:///` and `postgresql://` forms users write, and what drivers need."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote, unquote, urlsplit, urlunsplit

MEMORY = ":memory:"
SQLITE_FILE_NAME = "outreach.sqlite3"
_POSTGRES_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database URL: the backend plus the SQLite path or the asyncpg DSN."""

    backend: Literal["sqlite", "postgresql"]
    sqlite_path: str | None = None  # a file path or ":memory:"
    asyncpg_dsn: str | None = None  # `postgresql://...`, query kept (asyncpg reads it)

    @property
    def is_sqlite(self) -> bool:
        """True for SQLite, False for PostgreSQL."""
        return self.backend == "sqlite"

    @property
    def async_url(self) -> str:
        """The SQLAlchemy URL with the async driver (the PostgreSQL query string is left out)."""
        if self.sqlite_path is not None:
            path = self.sqlite_path if self.sqlite_path == MEMORY else quote(self.sqlite_path)
            return f"sqlite+aiosqlite:///{path}"
        # SQLAlchemy would hand query parameters to asyncpg.connect() as keyword arguments, where
        # e.g. `search_path` is refused; storage.db connects with the full DSN instead.
        parts = urlsplit(self.asyncpg_dsn or "")
        return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, "", ""))


def parse_url(url: str) -> DatabaseUrl:
    """Parse a plain database URL; raise ValueError for a malformed or unsupported one."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("database URL is empty")
    url = url.strip()
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "sqlite":
        return DatabaseUrl(backend="sqlite", sqlite_path=_sqlite_path(url))
    if scheme in _POSTGRES_SCHEMES:
        return DatabaseUrl(backend="postgresql", asyncpg_dsn=_postgres_dsn(url))
    shown = scheme or url[:20]
    raise ValueError(f"unsupported database URL scheme {shown!r}: use sqlite:/// or postgresql://")


def async_url(url: str) -> str:
    """The SQLAlchemy async URL (`sqlite+aiosqlite` or `postgresql+asyncpg`) for a plain URL."""
    return parse_url(url).async_url


def sqlite_path(url: str) -> str:
    """The file path (or ":memory:") of a `sqlite:///` URL."""
    parsed = parse_url(url)
    if parsed.sqlite_path is None:
        raise ValueError("not a sqlite:/// URL")
    return parsed.sqlite_path


def asyncpg_dsn(url: str) -> str:
    """The asyncpg DSN of a `postgresql://` or `postgres://` URL."""
    parsed = parse_url(url)
    if parsed.asyncpg_dsn is None:
        raise ValueError("not a postgresql:// URL")
    return parsed.asyncpg_dsn


def default_sqlite_url(data_dir: Path) -> str:
    """The URL of the bot's SQLite file inside `data_dir`."""
    return f"sqlite:///{quote((Path(data_dir) / SQLITE_FILE_NAME).as_posix())}"


def _sqlite_path(url: str) -> str:
    """The path part of a `sqlite:///path` URL."""
    if not url.lower().startswith("sqlite:///"):
        raise ValueError("malformed SQLite URL: expected sqlite:///relative/path or sqlite:////absolute/path")
    rest = url[len("sqlite:///") :]
    if "?" in rest or "#" in rest:
        raise ValueError("SQLite URL takes no query string or fragment (percent-encode '?' and '#')")
    path = unquote(rest)
    if not path:
        raise ValueError("SQLite URL has no file path")
    return path


def _postgres_dsn(url: str) -> str:
    """Validate a PostgreSQL URL and return it as an asyncpg DSN."""
    parts = urlsplit(url)
    if not url[len(parts.scheme) :].startswith("://"):
        raise ValueError("malformed PostgreSQL URL: expected postgresql://user@host:port/database")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when it is read
    except ValueError:
        raise ValueError("malformed PostgreSQL URL: the port is not a number from 0 to 65535") from None
    database = parts.path.lstrip("/")
    if not database or "/" in database:
        raise ValueError("malformed PostgreSQL URL: name one database, as in postgresql://host/db")
    if parts.fragment:
        raise ValueError("PostgreSQL URL takes no fragment")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))
