"""The bot's own messages that showed a person's data, for /forget to delete them in the chat.

Telegram lets a bot delete its messages for 48 hours (DELETABLE_SECONDS); older rows are useless
and are dropped whenever a chat's list is read. Only ids and times are stored, never text.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models_trust import SentMessage

DELETABLE_SECONDS = 48 * 3600


async def record(*, session: AsyncSession, channel_key: str, message_ids: Iterable[int], now: float) -> None:
    """Remember messages just sent to a chat. Commits."""
    session.add_all(SentMessage(channel_key=channel_key, message_id=i, sent_at=now) for i in message_ids)
    await session.commit()


async def take_deletable(*, session: AsyncSession, channel_key: str, now: float) -> list[int]:
    """The ids of the chat's messages still deletable, oldest first; the chat's rows are removed. Commits."""
    rows = select(SentMessage.message_id, SentMessage.sent_at).where(SentMessage.channel_key == channel_key)
    found = (await session.exec(rows.order_by(col(SentMessage.id)))).all()
    await session.exec(delete(SentMessage).where(col(SentMessage.channel_key) == channel_key))  # type: ignore[call-overload]
    await session.exec(delete(SentMessage).where(col(SentMessage.sent_at) < now - DELETABLE_SECONDS))  # type: ignore[call-overload]
    await session.commit()
    return [message_id for message_id, sent_at in found if sent_at >= now - DELETABLE_SECONDS]
