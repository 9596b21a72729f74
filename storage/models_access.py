"""Tables of the access feature (model families as in storage/models.py), and the `Member` shape.

access_scope   the areas a user's role covers (admin: province or city, hr: counties, worker:
               townships or villages); the role itself is `user.role`
invitation     one-time codes to join with a role and a scope; only a hash of the code is kept
audit_log      who viewed, exported, changed or erased which record; append-only, ids only
rate_limit     per key and action: a fixed window's start and how many hits it has seen
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import DEFAULT_ROLE, KEY_LENGTH, ROLE_LENGTH, UTCDateTime, utc_now

LEVEL_LENGTH = 16  # province, city, county, township, village
AREA_CODE_LENGTH = 12
CODE_HASH_LENGTH = 64  # hex SHA-256
ACTION_LENGTH = 64
TARGET_KIND_LENGTH = 32
TARGET_ID_LENGTH = 64
CHANNEL_LENGTH = 16
DETAIL_LENGTH = 255


@dataclass(frozen=True)
class Member:
    """Who a channel key is for access decisions: a role and its (level, code) scopes.

    Defined here rather than in bot.features.access.rules because the storage layer builds it and may not
    import bot; bot.features.access.rules re-exports it.
    """

    key: str
    role: str = DEFAULT_ROLE
    scopes: tuple[tuple[str, str], ...] = ()


# ---------------------------------------------------------------- scope


class ScopeBase(SQLModel):
    """Fields a scope row shares with its API shapes."""

    level: str = Field(max_length=LEVEL_LENGTH)
    code: str = Field(max_length=AREA_CODE_LENGTH)


class Scope(ScopeBase, table=True):
    """One area a user's role covers."""

    __tablename__ = "access_scope"
    __table_args__ = (UniqueConstraint("user_id", "level", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ScopeCreate(ScopeBase):
    """What a caller gives to add a scope."""

    user_id: int


class ScopePublic(ScopeBase):
    """A scope as shown outside the storage layer."""

    id: int
    user_id: int
    created_at: datetime


# ---------------------------------------------------------------- invitation


class InvitationBase(SQLModel):
    """Fields an invitation shares with its API shapes."""

    role: str = Field(max_length=ROLE_LENGTH)
    level: str = Field(max_length=LEVEL_LENGTH)
    area_code: str = Field(max_length=AREA_CODE_LENGTH)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class Invitation(InvitationBase, table=True):
    """A one-time code to join; the code itself is never stored, only its SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=CODE_HASH_LENGTH, unique=True, index=True)
    created_by: str = Field(max_length=KEY_LENGTH)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by: str | None = Field(default=None, max_length=KEY_LENGTH)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=KEY_LENGTH)


class InvitationCreate(InvitationBase):
    """What a caller gives to create an invitation (the repository makes the code)."""

    created_by: str


class InvitationPublic(InvitationBase):
    """An invitation as shown outside the storage layer (no hash, no code)."""

    id: int
    created_by: str
    created_at: datetime
    used_at: datetime | None
    used_by: str | None
    revoked_at: datetime | None


# ---------------------------------------------------------------- audit log


class AuditEntryBase(SQLModel):
    """Fields an audit entry shares with its API shapes: ids, codes and action names only."""

    actor: str = Field(max_length=KEY_LENGTH, index=True)  # channel key, or "cli:<account>"
    action: str = Field(max_length=ACTION_LENGTH)  # "hr.export", "erase", "access.refused", ...
    target_kind: str = Field(max_length=TARGET_KIND_LENGTH)  # household, member, user, invitation, ...
    target_id: str | None = Field(default=None, max_length=TARGET_ID_LENGTH)
    channel: str = Field(max_length=CHANNEL_LENGTH)  # telegram, cli, console
    detail: str | None = Field(default=None, max_length=DETAIL_LENGTH)


class AuditEntry(AuditEntryBase, table=True):
    """One audited access; rows are only ever added (no update or delete in the code)."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)


class AuditEntryCreate(AuditEntryBase):
    """What a caller gives to record an entry."""


class AuditEntryPublic(AuditEntryBase):
    """An audit entry as shown outside the storage layer."""

    id: int
    at: datetime


# ---------------------------------------------------------------- rate limit


class RateLimitBase(SQLModel):
    """Fields a rate-limit row shares with its API shapes."""

    key: str = Field(primary_key=True, max_length=KEY_LENGTH)
    action: str = Field(primary_key=True, max_length=ACTION_LENGTH)
    window_start: datetime = Field(sa_type=UTCDateTime)
    count: int = 0


class RateLimit(RateLimitBase, table=True):
    """Hits of one key for one action in the current fixed window."""

    __tablename__ = "rate_limit"


class RateLimitCreate(RateLimitBase):
    """What a caller gives to start a window."""


class RateLimitPublic(RateLimitBase):
    """A rate-limit row as shown outside the storage layer."""
