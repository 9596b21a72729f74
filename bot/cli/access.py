"""`outreach admin add`, `invite`, `users`, `revoke`, `audit`, `erase`, `purge`, `keys rotate`.

Plain functions returning exit codes, free of typer and aiogram so they start fast. Each brings
the schema up to date first, and writes what it did to the audit log as "cli:<OS account>".
"""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bot.features.access.rules import ROLE_LEVELS, china_time, invite_link, level_of, parse_duration

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE = 0, 1, 2
CHANNEL = "cli"
T = TypeVar("T")


def actor() -> str:
    """The audit actor of this command: the operating-system account that runs it."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    return "cli:" + (re.sub(r"[^\w.@-]", "_", name)[:100] or "unknown")


def _run(db_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """Upgrade the schema, then run `work(session)` on a fresh event loop."""
    from storage import migrate

    migrate.upgrade(db_url)
    return asyncio.run(_with_session(db_url, work))


async def _with_session(db_url: str, work: Callable[[Any], Awaitable[T]]) -> T:
    """One session for the work, the engine disposed afterwards."""
    from storage.db import Database

    database = Database.from_url(db_url)
    try:
        async with database.session() as session:
            return await work(session)
    finally:
        await database.dispose()


async def _audit(session: Any, action: str, kind: str, target: Any = None, detail: str | None = None) -> None:
    """One audit entry for this command."""
    from storage.repositories import audit

    await audit.record(
        session=session,
        actor=actor(),
        action=action,
        target_kind=kind,
        target_id=target,
        channel=CHANNEL,
        detail=detail,
    )


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    """Print a one-line error on stderr and give the exit code."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _scope_error(role: str, level: str, code: str) -> str | None:
    """Why (level, code) cannot be a scope of `role`, or None when it can."""
    if role not in ROLE_LEVELS or role == "household":
        return f"unknown role {role!r}: admin, hr or worker"
    if level_of(code) != level:
        return f"{code} is not a {level} code"
    if level not in ROLE_LEVELS[role]:
        return f"the {role} role takes a {' or '.join(ROLE_LEVELS[role])} code, not a {level} code"
    return None


# ---------------------------------------------------------------- members


def person_key(who: int | str) -> str | None:
    """A person's key: a Telegram user id (int) or a channel key such as "wecom:zhangsan"; None if neither."""
    from bot.core.identity import TELEGRAM, is_group, is_key, make_key

    if isinstance(who, int):
        return make_key(TELEGRAM, who)
    return who if is_key(who) and not is_group(who) else None


def admin_add(db_url: str, who: int | str, level: str = "province", code: str = "410000") -> int:
    """Make a person (Telegram user id, or key) an admin of a province or a city (the first admin)."""
    error = _scope_error("admin", level, code)
    key = person_key(who)
    if error or key is None:
        return _fail(error or f"--key {who}: a person's key such as wecom:<UserID> or tg:<user id>")

    async def work(session: Any) -> None:
        from storage.repositories.access import grant, load_member
        from storage.repositories.users import get_user

        await grant(session=session, channel_key=key, role="admin", scopes=[(level, code)])
        user = await get_user(session=session, channel_key=key)
        await _audit(session, "user.grant", "user", user.id if user else None, f"role=admin,{level}={code}")
        print(_member_line(user, await load_member(session=session, channel_key=key)))

    _run(db_url, work)
    return EXIT_OK


def users(db_url: str) -> int:
    """Print TELEGRAM_ID, KEY, ROLE and SCOPES (TSV) of everyone who is not a household."""

    async def work(session: Any) -> None:
        from storage.repositories.access import list_members

        print("telegram_id\tkey\trole\tscopes")
        for user, member in await list_members(session=session):
            print(_member_line(user, member))
        await _audit(session, "users.view", "user")

    _run(db_url, work)
    return EXIT_OK


def _member_line(user: Any, member: Any) -> str:
    """One TSV line of `outreach users`."""
    scopes = ",".join(f"{level}:{code}" for level, code in member.scopes)
    telegram_id = "" if user is None or user.telegram_id is None else str(user.telegram_id)
    return f"{telegram_id}\t{member.key}\t{member.role}\t{scopes}"


def revoke(db_url: str, who: int | str) -> int:
    """Take a user's role and scopes away at once and end their open dialog (Telegram id or key)."""
    key = person_key(who)
    if key is None:
        return _fail(f"--key {who}: a person's key such as wecom:<UserID> or tg:<user id>")

    async def work(session: Any) -> int | None:
        from sqlalchemy import delete

        from storage.models import Conversation
        from storage.repositories.access import revoke as revoke_member

        user_id = await revoke_member(session=session, channel_key=key)
        if user_id is None:
            return None
        await session.exec(delete(Conversation).where(Conversation.key == key))
        await _audit(session, "user.revoke", "user", user_id, "role=household,dialog_ended")
        return user_id

    if _run(db_url, work) is None:
        return _fail(f"no user {key}", EXIT_NOT_FOUND)
    print(f"{key}\thousehold\t(scopes removed, dialog ended)")
    return EXIT_OK


# ---------------------------------------------------------------- invitations


def invite(
    db_url: str,
    role: str,
    level: str,
    code: str,
    expires: str = "7d",
    bot_username: str | None = None,
    qr_path: Path | None = None,
) -> int:
    """Create a one-time invitation; print its code and link; write its QR code as a PNG if asked."""
    error = _scope_error(role, level, code)
    valid_for = parse_duration(expires)
    if error or valid_for is None:
        return _fail(error or f"--expires {expires!r}: use 30m, 12h, 7d or 2w (at most 90 days)")
    if qr_path is not None and not bot_username:
        return _fail("a QR code needs the bot's username: --bot-username NAME or BOT_USERNAME")
    now = datetime.now(UTC)

    async def work(session: Any) -> tuple[str, Any]:
        from storage.repositories import invitations

        made = await invitations.create(
            session=session,
            role=role,
            level=level,
            area_code=code,
            expires_at=now + valid_for,
            created_by=actor(),
            now=now,
        )
        await _audit(session, "invite.create", "invitation", made[1].id, f"role={role},area={code}")
        return made

    secret, invitation = _run(db_url, work)
    return _print_invitation(invitation, secret, bot_username, qr_path)


def _print_invitation(invitation: Any, secret: str, bot_username: str | None, qr_path: Path | None) -> int:
    """Show a new invitation: code, link (or the command to type) and the QR file."""
    try:
        link = invite_link(bot_username, secret) if bot_username else f"/start i_{secret}"
    except ValueError as exc:
        return _fail(str(exc))
    print(f"invitation {invitation.id}: {invitation.role} for {invitation.level} {invitation.area_code}")
    print(f"valid until {china_time(invitation.expires_at)} (UTC+8), works once")
    print(f"code\t{secret}\nlink\t{link}")
    if qr_path is not None:
        from bot.features.poster import qr_image

        qr_image(link).save(qr_path, format="PNG")
        print(f"qr\t{qr_path}")
    return EXIT_OK


def invite_revoke(db_url: str, code: str) -> int:
    """Revoke an unused invitation by its code."""

    async def work(session: Any) -> Any:
        from storage.repositories import invitations

        found = await invitations.revoke(session=session, code=code, by=actor())
        if found is not None:
            await _audit(session, "invite.revoke", "invitation", found.id)
        return found

    found = _run(db_url, work)
    if found is None:
        return _fail("no invitation with that code", EXIT_NOT_FOUND)
    state = "revoked" if found.revoked_at is not None else "already used: revoke the user instead"
    print(f"invitation {found.id}\t{state}")
    return EXIT_OK


# ---------------------------------------------------------------- audit log


def audit_log(db_url: str, since: str | None = None, user: str | None = None) -> int:
    """Print the audit log as TSV, oldest first; --since DATE (UTC), --user TELEGRAM-ID or channel key."""
    try:
        start = _since(since)
    except ValueError:
        return _fail(f"--since {since!r}: use YYYY-MM-DD or an ISO date and time")
    who = None if user is None else (f"tg:{user}" if user.lstrip("-").isdigit() else user)

    async def work(session: Any) -> list[Any]:
        from storage.repositories import audit

        found = await audit.entries(session=session, since=start, actor=who)
        await _audit(session, "audit.view", "audit_log")
        return found

    print("at\tactor\tchannel\taction\ttarget_kind\ttarget_id\tdetail")
    for entry in _run(db_url, work):
        fields = (entry.at.isoformat(), entry.actor, entry.channel, entry.action, entry.target_kind)
        print("\t".join((*fields, entry.target_id or "", entry.detail or "")))
    return EXIT_OK


def _since(text: str | None) -> datetime | None:
    """A --since value as a UTC moment (a date means its midnight, UTC)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


# ---------------------------------------------------------------- erasure, retention, keys


def erase(
    db_url: str, secrets: Sequence[str], person: str | None = None, household: str | None = None
) -> int:
    """Erase a person (resident ID number) or a household (household number) everywhere."""
    if (person is None) == (household is None):
        return _fail("give exactly one of --person ID-NUMBER or --household NUMBER")
    from storage.crypto import Cipher

    cipher = Cipher.from_secret(list(secrets))

    async def work(session: Any) -> Any:
        from storage.repositories import erasure

        if person is not None:
            return await erasure.erase_person(
                session=session, cipher=cipher, id_number=person, actor=actor(), channel=CHANNEL
            )
        return await erasure.erase_household(
            session=session, cipher=cipher, household_number=str(household), actor=actor(), channel=CHANNEL
        )

    erased = _run(db_url, work)
    for table, count in erased.counts.items():
        print(f"{table}\t{count}")
    print(f"scrubbed\t{erased.scrubbed}")
    return EXIT_OK if erased.found else _fail("no such person or household in the records", EXIT_NOT_FOUND)


def purge(db_url: str, draft_days: int, closed_days: int) -> int:
    """Remove drafts idle for `draft_days` and closed records older than `closed_days`."""

    async def work(session: Any) -> dict[str, int]:
        from storage.repositories.retention import purge as run_purge

        return await run_purge(
            session=session,
            now=datetime.now(UTC),
            draft_days=draft_days,
            closed_days=closed_days,
            actor=actor(),
            channel=CHANNEL,
        )

    try:
        result = _run(db_url, work)
    except ValueError as exc:
        return _fail(str(exc))
    for name, count in result.items():
        print(f"{name}\t{count}")
    return EXIT_OK


def keys_rotate(db_url: str, secrets: Sequence[str]) -> int:
    """Re-encrypt every personal number under the first DATA_KEY secret."""
    from storage.crypto import Cipher, DecryptionError

    cipher = Cipher.from_secret(list(secrets))

    async def work(session: Any) -> int:
        from storage.repositories.keys import rotate_keys

        rows = await rotate_keys(session=session, cipher=cipher)
        await _audit(session, "keys.rotate", "data_key", None, f"rows={rows}")
        return rows

    try:
        rows = _run(db_url, work)
    except DecryptionError as exc:
        return _fail(str(exc))
    print(f"re-encrypted {rows} rows under the first DATA_KEY secret; the others can now be removed")
    return EXIT_OK
