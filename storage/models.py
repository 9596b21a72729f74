"""Tables and their API shapes, as model families: XBase, X (the table), XCreate, XPublic."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Dialect, Double, Text, TypeDecorator
from sqlmodel import Field, SQLModel

KEY_LENGTH = 128  # "tg:<chat id>", "console:local": far below this
LANGUAGE_LENGTH = 16
ROLE_LENGTH = 16
DEFAULT_LANGUAGE = "zh_Hans"
DEFAULT_ROLE = "household"

# Named constraints let later SQLite batch migrations drop or alter them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to SQLite's naive values; convert PostgreSQL's to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# ---------------------------------------------------------------- user


class UserBase(SQLModel):
    """Fields a user row shares with its API shapes."""

    channel_key: str = Field(max_length=KEY_LENGTH, unique=True, index=True)
    # Console users have no Telegram id; NULLs do not collide in a unique index.
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    language: str = Field(default=DEFAULT_LANGUAGE, max_length=LANGUAGE_LENGTH)
    role: str = Field(default=DEFAULT_ROLE, max_length=ROLE_LENGTH)


class User(UserBase, table=True):
    """A person reached through one channel (a Telegram chat, the local console)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utc_now}
    )


class UserCreate(UserBase):
    """What a caller gives to create a user."""


class UserPublic(UserBase):
    """A user as shown outside the storage layer."""

    id: int
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- conversation


class ConversationBase(SQLModel):
    """Fields a conversation row shares with its API shapes."""

    state: str = Field(sa_type=Text)  # JSON of the dialog state
    last_update_id: int | None = Field(default=None, sa_type=BigInteger)


class Conversation(ConversationBase, table=True):
    """The dialog state of one channel key; written by storage.conversations without the ORM."""

    key: str = Field(primary_key=True, max_length=KEY_LENGTH)
    # Epoch seconds as a float: written on every update, so the cheapest portable type.
    updated_at: float = Field(sa_type=Double)


class ConversationCreate(ConversationBase):
    """What a caller gives to create a conversation."""

    key: str = Field(max_length=KEY_LENGTH)


class ConversationPublic(ConversationBase):
    """A conversation as shown outside the storage layer."""

    key: str
    updated_at: float


# ---------------------------------------------------------------- area


class AreaBase(SQLModel):
    """A place in the five-level hierarchy: province, city, county, township, village."""

    # GB/T 2260 codes: 6 digits for provinces, cities and counties, 9 for townships and
    # 12 for villages (the statistical area codes), each starting with its parent's digits.
    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=64)
    parent_code: str | None = Field(default=None, max_length=12, index=True)
    level: int = Field(ge=1, le=5)  # 1 province .. 5 village


class Area(AreaBase, table=True):
    """One area; the whole list is loaded into memory at start-up for the village picker."""


class AreaCreate(AreaBase):
    """An area as imported from a CSV file."""


class AreaPublic(AreaBase):
    """An area as shown to people and scripts."""
