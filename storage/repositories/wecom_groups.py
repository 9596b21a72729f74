"""Content sends to WeCom group chats, claimed once (appchat/send has no documented duplicate check).

    claim(digest)            before the request: a new row "sending" (committed); an existing row
                             is returned instead: the send was tried before
    settle(digest, state)    "sent" with WeCom's msgid, or "maybe" (the outcome stays unknown)
    release(digest)          WeCom refused for sure: forget the claim, a later try may send
    purge(before)            old claims

`digest` is the sha256 of the chat id and the caller's dedupe key. Each function commits.
"""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models_wecom import GROUP_SENDING, WecomGroupSend
from storage.repositories.wecom import _insert


async def claim(*, session: AsyncSession, digest: str, now: float) -> WecomGroupSend | None:
    """Claim a send; None when claimed now, else the row of an earlier try."""
    statement = _insert(session, WecomGroupSend.__table__).values(
        digest=digest, state=GROUP_SENDING, created_at=now
    )
    result = await session.exec(statement.on_conflict_do_nothing(index_elements=["digest"]))  # type: ignore[call-overload]
    await session.commit()
    if result.rowcount:
        return None
    return await session.get(WecomGroupSend, digest)


async def settle(*, session: AsyncSession, digest: str, state: str, msgid: str | None = None) -> None:
    """Record what became of a claimed send."""
    await session.exec(
        update(WecomGroupSend)  # type: ignore[call-overload]
        .where(col(WecomGroupSend.digest) == digest)
        .values(state=state, msgid=msgid)
    )
    await session.commit()


async def release(*, session: AsyncSession, digest: str) -> None:
    """WeCom refused the send for sure: nothing reached the chat, a later try may send."""
    await session.exec(delete(WecomGroupSend).where(col(WecomGroupSend.digest) == digest))  # type: ignore[call-overload]
    await session.commit()


async def purge(*, session: AsyncSession, before: float) -> int:
    """Forget claims made before `before`."""
    result = await session.exec(
        delete(WecomGroupSend).where(col(WecomGroupSend.created_at) < before)  # type: ignore[call-overload]
    )
    await session.commit()
    return int(result.rowcount or 0)
