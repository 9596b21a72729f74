"""Access rules: every role x every action, in scope and out of scope, as a table; area nesting by prefix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.features.access.rules import (
    ACTIONS,
    InviteRequest,
    Member,
    area_prefixes,
    can,
    can_invite,
    covers,
    invite_link,
    level_of,
    parse_duration,
    parse_invite,
)

VILLAGE = "410225101201"  # 兰考县 (county 410225), 开封市 (city 410200), 河南省 (province 410000)
OUTSIDE = "420102001001"  # 武汉市江岸区, 湖北省: outside every scope below

MEMBERS = {
    "admin": Member("tg:1", "admin", (("province", "410000"),)),
    "hr": Member("tg:2", "hr", (("county", "410225"),)),
    "worker": Member("tg:3", "worker", (("village", VILLAGE),)),
    "household": Member("tg:4"),
}

# action: expected for (admin, hr, worker, household), first in scope (VILLAGE), then out of scope (OUTSIDE)
MATRIX_TABLE = {
    "hr.summary": ((True, True, False, False), (False, False, False, False)),
    "hr.pending": ((True, True, False, False), (False, False, False, False)),
    "hr.export": ((True, True, False, False), (False, False, False, False)),
    "hr.export_unmasked": ((True, False, False, False), (False, False, False, False)),
    "hr.set_status": ((True, True, False, False), (False, False, False, False)),
    "hr.destinations": ((True, False, False, False), (False, False, False, False)),
    "admin.invite": ((True, True, False, False), (False, False, False, False)),
    "admin.users": ((True, False, False, False), (False, False, False, False)),
    "worker.intake": ((True, True, True, False), (False, False, False, False)),
    "household.forget": ((True, True, True, True), (True, True, True, True)),
}
ROLE_ORDER = ("admin", "hr", "worker", "household")
CASES = [
    pytest.param(role, action, area, expected[index], id=f"{role}-{action}-{where}")
    for action, (inside, outside) in MATRIX_TABLE.items()
    for where, area, expected in (("in", VILLAGE, inside), ("out", OUTSIDE, outside))
    for index, role in enumerate(ROLE_ORDER)
]


def test_the_table_covers_every_action():
    assert set(MATRIX_TABLE) == set(ACTIONS)


@pytest.mark.parametrize(("role", "action", "area", "expected"), CASES)
def test_matrix(role, action, area, expected):
    assert can(MEMBERS[role], action, area) is expected


@pytest.mark.parametrize(
    ("role", "action", "expected"),
    [
        ("admin", "admin.users", True),
        ("hr", "hr.summary", True),
        ("worker", "hr.summary", False),
        ("household", "worker.intake", False),
        ("household", "household.forget", True),
    ],
)
def test_no_area_means_the_members_whole_scope(role, action, expected):
    assert can(MEMBERS[role], action) is expected


def test_a_role_without_scopes_covers_nothing():
    orphan = Member("tg:9", "hr", ())
    assert not can(orphan, "hr.summary") and not can(orphan, "hr.summary", VILLAGE)


def test_unknown_actions_are_a_programming_error():
    with pytest.raises(ValueError, match="unknown action"):
        can(MEMBERS["admin"], "hr.everything", VILLAGE)


@pytest.mark.parametrize(
    ("scope", "area", "expected"),
    [
        (("province", "410000"), "410225101201", True),
        (("province", "410000"), "411000", True),  # 许昌市 is in Henan
        (("province", "410000"), "420100", False),
        (("city", "410200"), "410225", True),
        (("city", "410200"), "410100", False),  # 郑州 is not 开封: "4101" vs "4102"
        (("city", "410100"), "410000", False),  # a city does not cover its province
        (("city", "410100"), "410102001001", True),
        (("county", "410225"), "410225101", True),
        (("county", "410225"), "410225", True),
        (("county", "410225"), "410226101201", False),
        (("county", "410225"), "410200", False),  # a county does not cover its city
        (("township", "410225101"), "410225101201", True),
        (("township", "410225101"), "410225102201", False),
        (("village", "410225101201"), "410225101201", True),
        (("village", "410225101201"), "410225101202", False),
        (("village", "410225101201"), "410225", False),
        (("county", "410225"), "41022", False),  # malformed codes cover nothing
        (("county", "410225"), "abcdef", False),
        (("county", "410225"), "", False),
    ],
)
def test_covers_by_level_specific_prefix(scope, area, expected):
    assert covers(Member("k", "hr", (scope,)), area) is expected


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("410000", "province"),
        ("410200", "city"),
        ("410225", "county"),
        ("410225101", "township"),
        ("410225101201", "village"),
        ("4102251", None),
        (None, None),
    ],
)
def test_level_of(code, level):
    assert level_of(code) == level


def test_area_prefixes_for_filtering_queries():
    member = Member("k", "worker", (("village", VILLAGE), ("township", "410225102"), ("province", "410000")))
    assert area_prefixes(member) == ("41", VILLAGE, "410225102")


@pytest.mark.parametrize(
    ("role", "invited", "area", "expected"),
    [
        ("admin", "admin", "410200", True),
        ("admin", "hr", "410225", True),
        ("admin", "worker", VILLAGE, True),
        ("admin", "worker", OUTSIDE, False),
        ("admin", "hr", VILLAGE, False),  # hr scopes are counties
        ("admin", "worker", "410225", False),  # worker scopes are villages or townships
        ("hr", "worker", VILLAGE, True),
        ("hr", "worker", "410225101", True),
        ("hr", "worker", "410226101201", False),  # another county
        ("hr", "hr", "410225", False),
        ("hr", "admin", "410200", False),
        ("worker", "worker", VILLAGE, False),
        ("household", "worker", VILLAGE, False),
    ],
)
def test_who_may_invite_whom_where(role, invited, area, expected):
    assert can_invite(MEMBERS[role], invited, area) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", timedelta(days=7)),
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("2w", timedelta(weeks=2)),
        ("91d", None),
        ("0d", None),
        ("soon", None),
    ],
)
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


def test_parse_invite():
    assert parse_invite("worker 410225101201 7d") == InviteRequest(
        "worker", "village", "410225101201", timedelta(days=7)
    )
    assert parse_invite("HR 410225") == InviteRequest("hr", "county", "410225", timedelta(days=7))
    assert parse_invite("worker 410225") is None  # a county is no worker scope
    assert parse_invite("boss 410225101201") is None
    assert parse_invite("worker 410225101201 forever") is None
    assert parse_invite(None) is None


def test_invite_link():
    assert invite_link("@outreach_test_bot", "abc") == "https://t.me/outreach_test_bot?start=i_abc"
    with pytest.raises(ValueError):
        invite_link("no such bot!", "abc")
