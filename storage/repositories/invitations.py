"""One-time invitation codes: create, redeem (once, before expiry, unless revoked), revoke.

The code is shown once, to whoever created it, and only its SHA-256 is stored: the codes are
random (128 bits), so a plain hash cannot be reversed by guessing. Redeeming marks the row
used with a conditional UPDATE, so two people racing with the same code cannot both win.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import utc_now
from storage.models_access import Invitation, Member
from storage.repositories.access import grant, load_member

CODE_BYTES = 16  # token_urlsafe(16): 22 characters of [A-Za-z0-9_-], fits a /start payload
OK, UNKNOWN, EXPIRED, USED, REVOKED, OTHER_ROLE = "ok", "unknown", "expired", "used", "revoked", "other_role"


@dataclass(frozen=True)
class Redemption:
    """What redeeming a code did: the outcome, the invitation's id, and the member afterwards."""

    outcome: str  # ok, unknown, expired, used, revoked, other_role
    invitation_id: int | None = None
    member: Member | None = None
    invitation: Invitation | None = None


def code_hash(code: str) -> str:
    """The stored form of a code."""
    return hashlib.sha256(code.strip().encode("utf-8")).hexdigest()


async def create(
    *,
    session: AsyncSession,
    role: str,
    level: str,
    area_code: str,
    expires_at: datetime,
    created_by: str,
    now: datetime | None = None,
) -> tuple[str, Invitation]:
    """A new invitation and its code (shown once, never stored). Commits."""
    code = secrets.token_urlsafe(CODE_BYTES)
    invitation = Invitation(
        role=role,
        level=level,
        area_code=area_code,
        expires_at=expires_at,
        code_hash=code_hash(code),
        created_by=created_by,
        created_at=now or utc_now(),
    )
    session.add(invitation)
    await session.commit()
    return code, invitation


async def find(*, session: AsyncSession, code: str) -> Invitation | None:
    """The invitation of a code, or None. Does not commit."""
    statement = select(Invitation).where(Invitation.code_hash == code_hash(code))
    return (await session.exec(statement.execution_options(populate_existing=True))).first()


def state_of(invitation: Invitation | None, now: datetime) -> str:
    """Why an invitation can or cannot be used now."""
    if invitation is None:
        return UNKNOWN
    if invitation.revoked_at is not None:
        return REVOKED
    if invitation.used_at is not None:
        return USED
    return EXPIRED if invitation.expires_at <= now else OK


async def redeem(
    *, session: AsyncSession, code: str, channel_key: str, now: datetime | None = None
) -> Redemption:
    """Use a code for a channel key: it gets the role and the scope. Commits when it succeeds."""
    now = now or utc_now()
    invitation = await find(session=session, code=code)
    outcome = state_of(invitation, now)
    if invitation is None or outcome != OK:
        return Redemption(outcome, invitation.id if invitation else None, invitation=invitation)
    member = await load_member(session=session, channel_key=channel_key)
    if member.role not in ("household", invitation.role):
        return Redemption(OTHER_ROLE, invitation.id, member, invitation)
    if not await _claim(session, invitation, channel_key, now):
        invitation_id = invitation.id  # the rollback expires the row
        await session.rollback()
        return Redemption(USED, invitation_id)
    scope = ((invitation.level, invitation.area_code),)
    member = await grant(session=session, channel_key=channel_key, role=invitation.role, scopes=scope)
    return Redemption(OK, invitation.id, member, invitation)


async def _claim(session: AsyncSession, invitation: Invitation, channel_key: str, now: datetime) -> bool:
    """Mark the invitation used, unless someone else did first (or it was revoked meanwhile)."""
    statement = (
        update(Invitation)
        .where(
            col(Invitation.id) == invitation.id,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
            col(Invitation.expires_at) > now,
        )
        .values(used_at=now, used_by=channel_key)
    )
    return bool((await session.exec(statement)).rowcount)


async def revoke(
    *, session: AsyncSession, code: str, by: str, now: datetime | None = None
) -> Invitation | None:
    """Revoke an unused code; the invitation, or None when there is none. Commits."""
    invitation = await find(session=session, code=code)
    if invitation is None:
        return None
    if invitation.revoked_at is None and invitation.used_at is None:
        invitation.revoked_at, invitation.revoked_by = now or utc_now(), by
        await session.commit()
    return invitation
