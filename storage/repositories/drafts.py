"""Finding unfinished dialogs (drafts) that have been left alone, for reminders."""

from __future__ import annotations

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Conversation


async def idle_drafts(*, session: AsyncSession, flow: str, idle_since: float, limit: int = 500) -> list[str]:
    """Keys of conversations in `flow` not touched since `idle_since` (epoch seconds). Does not commit."""
    # The state is compact JSON written by dialogs.model.State.to_json: the flow appears as "flow":"<id>",
    # or, when the user stepped out of it, as a kept draft "drafts":{..."<id>":"<sealed>"...}.
    # A LIKE scan of an hourly job is cheaper than a column written on every update of the hot path.
    current, kept = f'%"flow":"{flow}"%', f'%"drafts":{{%"{flow}":"%'
    in_flow = or_(col(Conversation.state).like(current), col(Conversation.state).like(kept))
    query = (
        select(Conversation.key)
        .where(col(Conversation.updated_at) < idle_since, in_flow)
        .order_by(col(Conversation.updated_at))
        .limit(limit)
    )
    return list((await session.exec(query)).all())
