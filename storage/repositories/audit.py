"""The audit log: who viewed, exported, changed or erased which record, when, through which channel.

Append-only: this module has no update or delete function, and nothing else writes the table.
On PostgreSQL a deployment may enforce that for the application's database role too:
`REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM <role>;` (see migration 0004).

Entries never hold personal data: actors are channel keys, targets are row ids or area codes,
actions are names. `record` refuses values that look like a resident ID or a mobile number,
and non-ASCII text in `target_id` and `detail` (names are written in Chinese characters).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import utc_now
from storage.models_access import AuditEntry

# system: scheduled jobs such as retention; wecom: a WeCom member; wxkf: WeChat via 微信客服
CHANNELS = ("telegram", "wecom", "wxkf", "web", "cli", "console", "system")
KEY_CHANNELS = {"tg": "telegram", "wecom": "wecom", "wxkf": "wxkf", "web": "web", "console": "console"}
NAME = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
ACTOR = re.compile(r"^[a-z]+:[\w.@-]{1,120}$")
TARGET_ID = re.compile(r"^[A-Za-z0-9_.:,=-]{1,64}$")
DETAIL = re.compile(r"^[ -~]{1,255}$")  # printable ASCII
RESIDENT_ID = re.compile(r"(?<![0-9])\d{17}[\dXx](?![0-9])")
MOBILE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")


def channel_of(key: str) -> str:
    """The channel a key belongs to ("tg:..." telegram, "wecom:..." wecom, ...); anything else cli."""
    return KEY_CHANNELS.get(key.partition(":")[0], "cli")


def _check(name: str, value: str | None, pattern: re.Pattern[str]) -> None:
    """Raise ValueError when a field is malformed or looks like a personal number."""
    if value is None:
        return
    if not pattern.match(value):
        raise ValueError(f"audit {name} {value!r} is not an id, code or name")
    if name != "actor" and (RESIDENT_ID.search(value) or MOBILE.search(value)):
        raise ValueError(f"audit {name} looks like a personal number: refused")


async def record(
    *,
    session: AsyncSession,
    actor: str,
    action: str,
    target_kind: str,
    target_id: str | int | None,
    channel: str,
    detail: str | None = None,
    now: datetime | None = None,
    commit: bool = True,
) -> AuditEntry:
    """Append one entry; commits unless `commit=False` (then it joins the caller's transaction)."""
    target = None if target_id is None else str(target_id)
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    for name, value, pattern in (
        ("actor", actor, ACTOR),
        ("action", action, NAME),
        ("target_kind", target_kind, NAME),
        ("target_id", target, TARGET_ID),
        ("detail", detail, DETAIL),
    ):
        _check(name, value, pattern)
    entry = AuditEntry(
        actor=actor,
        action=action,
        target_kind=target_kind,
        target_id=target,
        channel=channel,
        detail=detail,
        at=now or utc_now(),
    )
    session.add(entry)
    if commit:
        await session.commit()
    else:
        await session.flush()
    return entry


async def entries(
    *,
    session: AsyncSession,
    since: datetime | None = None,
    actor: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Entries oldest first, from `since` on and of one actor when given. Does not commit."""
    statement = select(AuditEntry).order_by(col(AuditEntry.at), col(AuditEntry.id))
    if since is not None:
        statement = statement.where(col(AuditEntry.at) >= since)
    if actor is not None:
        statement = statement.where(AuditEntry.actor == actor)
    if limit is not None:
        statement = statement.limit(limit)
    return list((await session.exec(statement)).all())
