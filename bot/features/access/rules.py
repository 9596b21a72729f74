"""Who may do what, where: roles, area scopes and the permission matrix. Pure: no I/O, no aiogram.

Areas nest by code prefix (GB/T 2260 and the statistical codes): a province's own digits are the
first 2 of 410000, a city's the first 4 of 410200, a county's 6, a township's 9, a village's 12.
A scope covers an area when the area is at the scope's level or below and starts with the
scope's own digits. Comparing whole codes would be wrong: 410000 is not a prefix of 410225.

Roles: admin (a province or a city), hr (counties), worker (townships or villages), and
household for everyone else. `can(member, action, area)` reads the matrix below; an area of
None means "over the member's whole scope", and callers then filter with `covers` or
`area_prefixes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from storage.models_access import Member

__all__ = [
    "ACTIONS",
    "LEVELS",
    "MATRIX",
    "ROLES",
    "InviteRequest",
    "Member",
    "area_prefixes",
    "can",
    "can_invite",
    "china_time",
    "covers",
    "invite_link",
    "level_of",
    "parse_duration",
    "parse_invite",
]

ADMIN, HR, WORKER, HOUSEHOLD = "admin", "hr", "worker", "household"
ROLES = (ADMIN, HR, WORKER, HOUSEHOLD)
LEVELS = ("province", "city", "county", "township", "village")
OWN_DIGITS = {"province": 2, "city": 4, "county": 6, "township": 9, "village": 12}
# The levels a role's scopes may have.
ROLE_LEVELS = {
    ADMIN: ("province", "city"),
    HR: ("county",),
    WORKER: ("township", "village"),
    HOUSEHOLD: (),
}

NEVER, ALWAYS, IN_SCOPE = "never", "always", "in_scope"
# action -> role -> rule; a role not listed is NEVER. Households submit only for themselves,
# which needs no permission, so "worker.intake" (entering data for others) is never theirs.
MATRIX: dict[str, dict[str, str]] = {
    "hr.summary": {ADMIN: IN_SCOPE, HR: IN_SCOPE},
    "hr.pending": {ADMIN: IN_SCOPE, HR: IN_SCOPE},
    "hr.export": {ADMIN: IN_SCOPE, HR: IN_SCOPE},
    "hr.export_unmasked": {ADMIN: IN_SCOPE},
    "hr.set_status": {ADMIN: IN_SCOPE, HR: IN_SCOPE},
    "hr.destinations": {ADMIN: IN_SCOPE},
    "admin.invite": {ADMIN: IN_SCOPE, HR: IN_SCOPE},  # hr: worker invitations only, see can_invite
    "admin.users": {ADMIN: IN_SCOPE},
    "worker.intake": {ADMIN: IN_SCOPE, HR: IN_SCOPE, WORKER: IN_SCOPE},
    "household.forget": {ADMIN: ALWAYS, HR: ALWAYS, WORKER: ALWAYS, HOUSEHOLD: ALWAYS},
}
ACTIONS = tuple(MATRIX)

CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
DURATION = re.compile(r"^(\d{1,4})([mhdw])$")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_DURATION = timedelta(days=90)
CHINA = timezone(timedelta(hours=8))  # no daylight saving: a fixed offset needs no tz database
USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{4,31})$")
DEFAULT_DURATION = timedelta(days=7)


def level_of(code: str | None) -> str | None:
    """The level of an area code by its shape (410000 province, 410200 city, 410225 county, ...)."""
    if not isinstance(code, str) or not CODE.match(code):
        return None
    if len(code) == 12:
        return "village"
    if len(code) == 9:
        return "township"
    if code[2:] == "0000":
        return "province"
    return "city" if code[4:] == "00" else "county"


def _scope_covers(level: str, code: str, area_code: str) -> bool:
    """One scope covers an area at its level or below that starts with its own digits."""
    area_level = level_of(area_code)
    if area_level is None or level not in OWN_DIGITS:
        return False
    digits = OWN_DIGITS[level]
    deep_enough = LEVELS.index(area_level) >= LEVELS.index(level)
    return deep_enough and area_code[:digits] == code[:digits]


def covers(member: Member, area_code: str) -> bool:
    """True when one of the member's scopes contains the area."""
    return any(_scope_covers(level, code, area_code) for level, code in member.scopes)


def area_prefixes(member: Member) -> tuple[str, ...]:
    """The code prefixes of the member's scopes, for filtering queries (`LIKE prefix || '%'`)."""
    return tuple(sorted({code[: OWN_DIGITS[level]] for level, code in member.scopes if level in OWN_DIGITS}))


def can(member: Member, action: str, area_code: str | None = None) -> bool:
    """Whether the member may do `action` on the area (None: over their whole scope)."""
    if action not in MATRIX:
        raise ValueError(f"unknown action {action!r}")
    rule = MATRIX[action].get(member.role, NEVER)
    if rule == ALWAYS:
        return True
    if rule == NEVER:
        return False
    return bool(member.scopes) if area_code is None else covers(member, area_code)


def can_invite(member: Member, role: str, area_code: str) -> bool:
    """Admins invite any role within their scope; HR leads invite workers within their counties."""
    if role not in ROLE_LEVELS or level_of(area_code) not in ROLE_LEVELS[role]:
        return False
    if not can(member, "admin.invite", area_code):
        return False
    return member.role == ADMIN or role == WORKER


# ---------------------------------------------------------------- parsing what people type


def parse_duration(text: str | None) -> timedelta | None:
    """ "30m", "12h", "7d" or "2w" (at most 90 days); None for anything else; empty: 7 days."""
    if text is None or not text.strip():
        return DEFAULT_DURATION
    match = DURATION.match(text.strip().lower())
    if match is None:
        return None
    value = timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})
    return value if timedelta(0) < value <= MAX_DURATION else None


@dataclass(frozen=True)
class InviteRequest:
    """An invitation asked for in the bot: `worker 410225101201 7d`."""

    role: str
    level: str
    area_code: str
    valid_for: timedelta


def parse_invite(text: str | None) -> InviteRequest | None:
    """ "ROLE AREA-CODE [DURATION]" as an InviteRequest; None when it does not parse."""
    parts = (text or "").split()
    if len(parts) not in (2, 3):
        return None
    role, code = parts[0].lower(), parts[1]
    level = level_of(code)
    valid_for = parse_duration(parts[2] if len(parts) == 3 else None)
    if role not in ROLE_LEVELS or level not in ROLE_LEVELS[role] or valid_for is None:
        return None
    return InviteRequest(role, level, code, valid_for)


def invite_link(bot_username: str, code: str) -> str:
    """The t.me link that opens the bot with an invitation code (`/start i_<code>`)."""
    match = USERNAME.match(bot_username or "")
    if match is None:
        raise ValueError(f"{bot_username!r} is not a Telegram bot username")
    return f"https://t.me/{match.group(1)}?start=i_{code}"


def china_time(moment: datetime) -> str:
    """A moment as people in China read it (UTC+8), to the minute."""
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
