"""The delivery protocol (bot.features.delivery.channel) on WeCom: county HR digests through the app.

A destination is a member ("wecom:<UserID>": message/send) or a group chat the app made
("wecom:group:<chatid>": appchat/send). WeCom cannot edit a sent text (`can_edit` False), so the
worker sends a digest's content once under a dedupe key; message/send drops a repeat of the same
content to the same member within duplicate_check_interval (4 hours at most), which is what
`dedupe_seconds` declares. appchat/send documents no such check: a group's content goes through
groups.py (claimed in the database, never repeated when its outcome is unknown), and every group
send is at most once in the API client (a timed-out attachment is not sent again by it; the
worker may, which its docstring accepts for attachments). The spreadsheet and the chart are
uploaded as temporary media first. The API client (api.py) does the token refetch and the back-off
on 45009 and 5xx.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bot.channels.wecom.api import WeComAPI, WeComError
from bot.channels.wecom.groups import GroupSends
from bot.channels.wecom.render import TEXT_LIMIT_BYTES
from bot.core.identity import GROUP_PREFIX, WECOM, parse_key
from bot.features.delivery.channel import BeforeTry, DigestChannels, Rejected, Unreachable

DEDUPE_SECONDS = 4 * 3600  # WeCom's largest duplicate_check_interval
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class WeComDigests:
    """A DigestChannel for "wecom:" destinations, through the app."""

    api: WeComAPI
    agent_id: int
    groups: GroupSends | None = None  # without it (tests of the API alone) group content is not claimed
    can_edit: bool = False
    dedupe_seconds: float = DEDUPE_SECONDS

    def fits(self, text: str) -> bool:
        """Whether one message holds the text (2048 bytes)."""
        return len(text.encode()) <= TEXT_LIMIT_BYTES

    async def send_text(
        self, address: str, text: str, *, dedupe_key: str | None = None, before_try: BeforeTry = None
    ) -> str:
        """A text; with a dedupe key it is sent once: WeCom drops the same text to a member again
        within 4 hours, and a group's is claimed first (groups.py)."""
        extra: dict[str, Any] = {}
        if dedupe_key is not None:
            extra = {"enable_duplicate_check": 1, "duplicate_check_interval": DEDUPE_SECONDS}
        message = {"msgtype": "text", "text": {"content": text}, **extra}
        return await self._send(address, message, before_try, dedupe_key)

    async def edit_text(
        self, address: str, message_id: str, text: str, *, before_try: BeforeTry = None
    ) -> None:
        """WeCom cannot edit a text (never called: `can_edit` is False)."""
        raise Rejected("WeCom cannot edit a sent text")

    async def send_file(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """The caption as a text, then the file; the file message's id."""
        return await self._media(address, "file", name, data, XLSX_TYPE, caption, before_try)

    async def send_image(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """The caption as a text, then the picture; the picture message's id."""
        return await self._media(address, "image", name, data, "image/png", caption, before_try)

    async def delete(self, address: str, message_id: str, *, before_try: BeforeTry = None) -> None:
        """Recall a message of ours (best effort: WeCom allows it for 24 hours)."""
        with contextlib.suppress(WeComError):
            await self.api.call("message/recall", {"msgid": message_id})

    async def _media(
        self, address: str, kind: str, name: str, data: bytes, content_type: str, caption: str,
        before_try: BeforeTry,
    ) -> str:  # fmt: skip
        if caption:
            await self._send(address, {"msgtype": "text", "text": {"content": caption}}, before_try)
        media_id = await _mapped(lambda: self.api.upload(kind, name, data, content_type))
        return await self._send(address, {"msgtype": kind, kind: {"media_id": media_id}}, before_try)

    async def _send(
        self, address: str, message: dict[str, Any], before_try: BeforeTry, dedupe_key: str | None = None
    ) -> str:
        """message/send to a member, appchat/send to a group chat; the message id."""
        parsed = parse_key(address)
        if parsed is None or parsed.channel != WECOM:
            raise Rejected("not a WeCom destination")
        if before_try is not None:
            await before_try()
        if parsed.id.startswith(GROUP_PREFIX):
            chat_id = parsed.id.removeprefix(GROUP_PREFIX)
            # appchat/send takes no duplicate-check fields (none documented): they stay out.
            body = {"chatid": chat_id, **{k: v for k, v in message.items() if "duplicate" not in k}}
            groups = self.groups
            if dedupe_key is not None and groups is not None:
                return str(await _mapped(lambda: groups.send(chat_id, body, dedupe_key)))
            answer = await _mapped(lambda: self.api.call("appchat/send", body, at_most_once=True))
        else:
            body = {"touser": parsed.id, "agentid": self.agent_id, **message}
            answer = await _mapped(lambda: self.api.call("message/send", body))
        return str(answer.get("msgid", ""))


async def _mapped(call: Callable[[], Awaitable[Any]]) -> Any:
    """Run an API call; WeCom's errors as the delivery protocol's."""
    try:
        return await call()
    except WeComError as error:
        if error.errcode == -1 or error.errcode <= -500 or error.errcode == 45009:
            raise Unreachable(f"WeCom errcode {error.errcode}") from None
        raise Rejected(f"WeCom errcode {error.errcode}") from None


def register(channels: DigestChannels, api: WeComAPI, agent_id: int, groups: GroupSends) -> None:
    """Serve "wecom:" HR destinations from this process."""
    channels.register(WECOM, WeComDigests(api, agent_id, groups))
