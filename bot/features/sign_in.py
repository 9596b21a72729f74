"""One-time sign-in links to the HR console, for the chat command /web and `outreach web link`.

Only county HR staff and admins get one. The link holds a random secret valid WEB_LINK_MINUTES, used
once; the database keeps only its hash (storage.repositories.web). The console lives in
bot.channels.web; this module only makes the link, so any channel's command can hand it out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.settings import Settings
from storage.repositories import web
from storage.repositories.access import load_member

STAFF_ROLES = frozenset({"hr", "admin"})
SIGN_IN_PATH = "/console/sign-in"


def sign_in_url(settings: Settings, secret: str) -> str:
    """The link a person opens (a confirmation page; the secret is spent by its button)."""
    return f"{settings.web_url}{SIGN_IN_PATH}?t={secret}"


async def sign_in_link(
    *, session: AsyncSession, user_key: str, settings: Settings, now: datetime
) -> str | None:
    """A fresh one-time link for a staff member; None for anyone else. Commits."""
    member = await load_member(session=session, channel_key=user_key)
    if member.role not in STAFF_ROLES or not member.scopes:
        return None
    valid = timedelta(minutes=settings.web_link_minutes)
    secret = await web.create_link(session=session, user_key=user_key, valid=valid, now=now)
    return sign_in_url(settings, secret)
