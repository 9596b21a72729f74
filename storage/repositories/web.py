"""The web feature's own rows: web chat pages, one-time sign-in links and console sessions.

Secrets (a link's, a session cookie's) are 256-bit random strings handed to the caller once; only
their SHA-256 is stored, so a copy of the database signs nobody in. Writers commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models_access import AuditEntry, Invitation
from storage.models_web import SignInLink, WebChatPage, WebSession


def secret_hash(secret: str) -> str:
    """The stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh URL-safe secret (43 characters, 256 bits)."""
    return secrets.token_urlsafe(32)


# ---------------------------------------------------------------- web chat pages


async def load_page(*, session: AsyncSession, key: str) -> str | None:
    """The sealed page of a web chat, or None."""
    row = await session.get(WebChatPage, key)
    return row.sealed if row is not None else None


async def save_page(*, session: AsyncSession, key: str, sealed: str, now: float) -> None:
    """Store a web chat's sealed page. Commits."""
    row = await session.get(WebChatPage, key)
    if row is None:
        session.add(WebChatPage(key=key, sealed=sealed, updated_at=now))
    else:
        row.sealed, row.updated_at = sealed, now
    await session.commit()


# ---------------------------------------------------------------- sign-in links


async def create_link(*, session: AsyncSession, user_key: str, valid: timedelta, now: datetime) -> str:
    """A one-time sign-in secret for a person, valid for `valid`. Commits; returns the secret."""
    secret = new_secret()
    session.add(SignInLink(user_key=user_key, token_hash=secret_hash(secret), expires_at=now + valid))
    await session.commit()
    return secret


async def redeem_link(*, session: AsyncSession, secret: str, now: datetime) -> str | None:
    """The person a link signs in, marking it used; None when unknown, used or expired. Commits."""
    digest = secret_hash(secret)
    row = (await session.exec(select(SignInLink).where(SignInLink.token_hash == digest))).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    claim = (
        update(SignInLink)
        .where(col(SignInLink.id) == row.id, col(SignInLink.used_at).is_(None))
        .values(used_at=now)
    )
    if (await session.exec(claim)).rowcount != 1:  # used meanwhile by another request
        await session.rollback()
        return None
    user_key = row.user_key
    await session.commit()
    return user_key


# ---------------------------------------------------------------- console sessions


@dataclass(frozen=True)
class SessionRow:
    """A live console session."""

    id: int
    user_key: str


async def open_session(*, session: AsyncSession, user_key: str, now: float) -> str:
    """A new console session for a person. Commits; returns the cookie's secret."""
    secret = new_secret()
    session.add(WebSession(user_key=user_key, token_hash=secret_hash(secret), last_seen_at=now))
    await session.commit()
    return secret


async def touch_session(
    *, session: AsyncSession, secret: str, now: float, idle_seconds: float
) -> SessionRow | None:
    """The live session of a cookie, its idle clock restarted; None when unknown, ended or idle. Commits."""
    digest = secret_hash(secret)
    row = (await session.exec(select(WebSession).where(WebSession.token_hash == digest))).first()
    if row is None or row.ended_at is not None or now - row.last_seen_at > idle_seconds or row.id is None:
        return None
    found = SessionRow(row.id, row.user_key)
    row.last_seen_at = now
    await session.commit()
    return found


async def end_session(*, session: AsyncSession, session_id: int, now: datetime) -> None:
    """Sign a session out. Commits."""
    await session.exec(update(WebSession).where(col(WebSession.id) == session_id).values(ended_at=now))
    await session.commit()


# ---------------------------------------------------------------- admin lists


async def recent_invitations(*, session: AsyncSession, limit: int = 200) -> list[Invitation]:
    """The newest invitations first (no codes: only their hashes are stored)."""
    query = select(Invitation).order_by(col(Invitation.id).desc()).limit(limit)
    return list((await session.exec(query)).all())


async def recent_audit(
    *, session: AsyncSession, before_id: int | None, limit: int, actor: str | None = None
) -> list[AuditEntry]:
    """Audit entries newest first, a page at a time by keyset."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if before_id is not None:
        query = query.where(col(AuditEntry.id) < before_id)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    return list((await session.exec(query)).all())
