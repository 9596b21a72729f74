"""Leases of the WeCom channel: one process at a time sends a user's messages or reads a 客服 stream.

    take(name, holder, seconds)   take the lease, or extend one's own; False while another holds it
    give_back(name, holder)       let it go at once (a dead process's lease runs out instead)

Each function commits. The names hold no user id in clear: callers hash it (`lease_name`).
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, or_
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models_wecom import WecomLease
from storage.repositories.wecom import _insert


def lease_name(kind: str, subject: str) -> str:
    """A lease's name: its kind and the sha256 of what it is about (a user key, an account)."""
    return f"{kind}:{hashlib.sha256(subject.encode()).hexdigest()}"


async def take(*, session: AsyncSession, name: str, holder: str, now: float, seconds: float) -> bool:
    """Take (or extend) the lease unless another holder's has not run out; True when held now."""
    statement = _insert(session, WecomLease.__table__).values(name=name, holder=holder, until=now + seconds)
    # One statement, so two takers cannot both win: the row's own lock decides between them.
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "until": now + seconds},
        where=or_(col(WecomLease.until) < now, col(WecomLease.holder) == holder),
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    await session.commit()
    return bool(result.rowcount)


async def give_back(*, session: AsyncSession, name: str, holder: str) -> None:
    """End one's own lease (someone else's is left alone)."""
    await session.exec(
        delete(WecomLease).where(col(WecomLease.name) == name, col(WecomLease.holder) == holder)  # type: ignore[call-overload]
    )
    await session.commit()
