"""Access in the bot: invitations (/invite, /start i_<code>), /forget, and refusing politely.

    /invite ──► flow invite ──► invite_requested ──► can_invite? ──► code + link   (or refused, audited)
    /start i_<code> ──► deep_link ──► rate limit? ──► redeem ──► welcome in the role (or refused, audited)
    /forget ──► flow forget ──► confirm ──► forget_requested ──► erase what this key submitted about itself

Other features guard their commands and buttons with `guard` (permission, rate limit, audit of
every refusal, the polite reply). Nothing here imports aiogram.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

from bot.core.effects import Effects, Handler
from bot.features.access.rules import Member, can, can_invite, china_time, invite_link, parse_invite
from dialogs.model import Ref, Reply
from storage.crypto import Cipher
from storage.repositories import audit, erasure, intake_hold, invitations, ratelimit
from storage.repositories.access import load_member
from storage.repositories.areas import get_area

INVITE_PREFIX = "i_"
REDEEM_FAILED = "invite.redeem_failed"  # the rate-limited action: failed invitation attempts


def register(effects: Effects, *, cipher: Cipher, bot_username: str | None = None) -> None:
    """Handle deep links with invitation codes, /invite and /forget; other deep links go on as before."""
    previous = effects.handlers.get("deep_link")
    effects.on("deep_link", partial(_on_deep_link, previous=previous))
    effects.on("invite_requested", partial(_on_invite_requested, bot_username=bot_username))
    effects.on("forget_requested", partial(_on_forget_requested, cipher=cipher))


# ---------------------------------------------------------------- guarding and refusing


async def refuse(
    *, session: Any, key: str, action: str, area_code: str | None = None, reason: str = "denied"
) -> list[Reply]:
    """Audit a refused action and give the polite reply (a notice: a pop-up for buttons)."""
    await audit.record(
        session=session,
        actor=key,
        action="access.refused",
        target_kind="action",
        target_id=action,
        channel=audit.channel_of(key),
        detail=f"reason={reason}" + (f",area={area_code}" if area_code else ""),
    )
    if reason == "rate_limited":
        return [Reply("access.rate_limited", notice=True)]
    return [Reply("access.denied", notice=True)]


async def guard(
    *, session: Any, key: str, action: str, area_code: str | None = None, now: datetime | None = None
) -> tuple[Member, list[Reply]]:
    """The member, and the refusal to show when they may not do `action` (empty: go ahead).

    Actions with a rate limit (storage.repositories.ratelimit.LIMITS, e.g. "hr.export") count
    a hit here, so call it once per attempt.
    """
    member = await load_member(session=session, channel_key=key)
    if not can(member, action, area_code):
        return member, await refuse(session=session, key=key, action=action, area_code=area_code)
    limited = action in ratelimit.LIMITS
    if limited and not await ratelimit.attempt(session=session, key=key, action=action, now=now):
        return member, await refuse(session=session, key=key, action=action, reason="rate_limited")
    return member, []


# ---------------------------------------------------------------- invitations


async def _on_invite_requested(
    *, key: str, session: Any, answers: dict, bot_username: str | None, **_: Any
) -> list[Reply]:
    """Create an invitation from "ROLE AREA [DURATION]", if this member may invite for it."""
    member = await load_member(session=session, channel_key=key)
    if not can(member, "admin.invite"):
        return await refuse(session=session, key=key, action="admin.invite")
    request = parse_invite(str(answers.get("arg") or ""))
    if request is None:
        return [Reply("access.invite.usage")]
    if not can_invite(member, request.role, request.area_code):
        return await refuse(session=session, key=key, action="admin.invite", area_code=request.area_code)
    now = datetime.now(UTC)
    code, invitation = await invitations.create(
        session=session,
        role=request.role,
        level=request.level,
        area_code=request.area_code,
        expires_at=now + request.valid_for,
        created_by=key,
        now=now,
    )
    await _audit_invitation(session, key, invitation)
    return [_created(request.role, await _place(session, request.area_code), invitation, code, bot_username)]


async def _audit_invitation(session: Any, key: str, invitation: Any) -> None:
    """Audit a new invitation: its id, role and area (never the code)."""
    await audit.record(
        session=session,
        actor=key,
        action="invite.create",
        target_kind="invitation",
        target_id=invitation.id,
        channel=audit.channel_of(key),
        detail=f"role={invitation.role},area={invitation.area_code}",
    )


def _created(role: str, place: str, invitation: Any, code: str, bot_username: str | None) -> Reply:
    """The reply with the new code: the link when the bot's username is known, else the command."""
    link = invite_link(bot_username, code) if bot_username else f"/start {INVITE_PREFIX}{code}"
    params = (
        ("role", Ref(f"access.role.{role}")),
        ("area", place),
        ("expires", china_time(invitation.expires_at)),
        ("link", link),
    )
    return Reply("access.invite.created", params)


async def _place(session: Any, code: str) -> str:
    """An area's name and code, or the code alone when the area list does not have it."""
    area = await get_area(session=session, code=code)
    return f"{area.name} ({code})" if area is not None else code


async def _on_deep_link(
    *, key: str, session: Any, payload: str, previous: Handler | None, **data: Any
) -> list[Reply] | None:
    """Redeem "i_<code>" payloads; hand any other payload to the handler registered before."""
    if payload.startswith(INVITE_PREFIX):
        return await redeem_reply(session=session, key=key, code=payload[len(INVITE_PREFIX) :])
    if previous is None:
        return None
    return await previous(key=key, session=session, payload=payload, **data)


async def redeem_reply(*, session: Any, key: str, code: str, now: datetime | None = None) -> list[Reply]:
    """Redeem a code for this key: the welcome in the new role, or a polite, audited refusal."""
    if await ratelimit.limited(session=session, key=key, action=REDEEM_FAILED, now=now):
        await _audit_redeem(session, key, None, "refused=rate_limited")
        return [Reply("access.rate_limited", notice=True)]
    result = await invitations.redeem(session=session, code=code, channel_key=key, now=now)
    if result.outcome != invitations.OK or result.invitation is None:
        await ratelimit.hit(session=session, key=key, action=REDEEM_FAILED, now=now)
        await _audit_redeem(session, key, result.invitation_id, f"refused={result.outcome}")
        return [_refusal(result.outcome)]
    invitation = result.invitation
    await _audit_redeem(session, key, invitation.id, f"role={invitation.role},area={invitation.area_code}")
    params = (
        ("role", Ref(f"access.role.{invitation.role}")),
        ("area", await _place(session, invitation.area_code)),
    )
    return [Reply("access.welcome", params)]


async def _audit_redeem(session: Any, key: str, invitation_id: int | None, detail: str) -> None:
    """Audit one attempt to use an invitation."""
    await audit.record(
        session=session,
        actor=key,
        action="invite.redeem",
        target_kind="invitation",
        target_id=invitation_id,
        channel=audit.channel_of(key),
        detail=detail,
    )


def _refusal(outcome: str) -> Reply:
    """The polite reply for a code that cannot be used."""
    if outcome == invitations.EXPIRED:
        return Reply("access.invite.expired", notice=True)
    if outcome == invitations.USED:
        return Reply("access.invite.used", notice=True)
    if outcome == invitations.REVOKED:
        return Reply("access.invite.revoked", notice=True)
    if outcome == invitations.OTHER_ROLE:
        return Reply("access.invite.other_role", notice=True)
    return Reply("access.invite.unknown", notice=True)


# ---------------------------------------------------------------- /forget


async def _on_forget_requested(*, key: str, session: Any, cipher: Cipher, **_: Any) -> list[Reply]:
    """Erase what this key submitted about its own household; for staff, only their drafts go."""
    member = await load_member(session=session, channel_key=key)
    if not can(member, "household.forget"):
        return await refuse(session=session, key=key, action="household.forget")
    if member.role != "household":
        await audit.record(
            session=session,
            actor=key,
            action="household.forget",
            target_kind="channel",
            target_id=None,
            channel=audit.channel_of(key),
            detail="drafts_only",
        )
        return [Reply("forget.staff")]
    matched = await intake_hold.matched_records_of(session=session, channel_key=key)
    erased = await erasure.erase_submitted_by(
        session=session, cipher=cipher, channel_key=key, actor=key, channel=audit.channel_of(key)
    )
    if not erased.found:
        return [Reply("forget.nothing")]
    # Records a work team entered stay; the county HR office erases those (`outreach erase`).
    return [Reply("forget.done"), *([Reply("forget.work_team")] if matched else [])]
