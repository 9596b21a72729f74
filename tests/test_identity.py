"""Channel keys and the outbound registry: the core reads keys only through bot.core.identity."""

from __future__ import annotations

import pytest

from bot.core.identity import channel_of, make_key, parse_key, telegram_id
from bot.core.outbound import Outbound
from dialogs.model import Reply


@pytest.mark.parametrize(
    ("key", "channel", "ident"),
    [("tg:123", "tg", "123"), ("tg:-100123", "tg", "-100123"), ("wecom:zhangsan", "wecom", "zhangsan"),
     ("wxkf:wmAbC-12", "wxkf", "wmAbC-12"), ("web:Zx9", "web", "Zx9"), ("console:local", "console", "local")],
)  # fmt: skip
def test_keys_round_trip(key, channel, ident):
    parsed = parse_key(key)
    assert parsed is not None and (parsed.channel, parsed.id) == (channel, ident)
    assert make_key(channel, ident) == key == str(parsed)
    assert channel_of(key) == channel


@pytest.mark.parametrize("key", ["", "tg", "tg:", "smtp:x", ":1", "nochannel"])
def test_malformed_keys_are_refused(key):
    assert parse_key(key) is None and channel_of(key) is None


def test_telegram_id_only_for_telegram_keys():
    assert telegram_id("tg:42") == 42 and telegram_id("tg:-100") == -100
    assert telegram_id("wecom:42") is None and telegram_id("tg:abc") is None


def test_make_key_refuses_unknown_channels():
    with pytest.raises(ValueError):
        make_key("smtp", "x")


async def test_outbound_sends_through_the_keys_channel_only():
    outbound, got = Outbound(), []

    async def wecom(key, replies, lang):
        got.append((key, [r.key for r in replies], lang))
        return True

    outbound.register("wecom", wecom)
    assert outbound.reaches("wecom:li") and not outbound.reaches("tg:1")
    assert await outbound.send("wecom:li", [Reply("core.help")], "en") is True
    assert await outbound.send("tg:1", [Reply("core.help")], "en") is False  # no Telegram in this process
    assert got == [("wecom:li", ["core.help"], "en")]


@pytest.mark.parametrize(
    ("channel", "chat", "key"),
    [("tg", -1001234, "tg:-1001234"), ("wecom", "wrkAbc123", "wecom:group:wrkAbc123"),
     ("wxkf", "x1", "wxkf:group:x1")],
)  # fmt: skip
def test_group_keys_of_several_channels(channel, chat, key):
    from bot.core.identity import group_key, is_group

    assert group_key(channel, chat) == key and is_group(key) and channel_of(key) == channel


@pytest.mark.parametrize("key", ["tg:101", "wecom:zhangsan", "wecom:li.si@x", "wxkf:wmAbC", "web:Z", "junk"])
def test_person_keys_are_not_groups(key):
    from bot.core.identity import is_group

    assert not is_group(key)
