"""A local fake of the Telegram Bot API HTTP server, for tests.

Tests must never reach the real Telegram. ``FakeBotAPI`` is a small aiohttp server on
127.0.0.1 (random free port) that speaks the published Bot API wire format, so an unmodified
aiogram ``Bot`` can be pointed at it::

    async with FakeBotAPI() as fake:
        bot = fake.make_bot()        # or: Bot(token, session=AiohttpSession(
                                     #   api=TelegramAPIServer.from_base(fake.base_url)))
        fake.user_sends(42, "/start")
        ...                          # run the dispatcher, then inspect what the bot did:
        await fake.wait_for_messages(42, 1)
        assert fake.messages_to(42)[0].text == "..."

What it fakes, faithfully enough for the bot to behave the same against the real servers:

* Transport: ``GET|POST /bot{token}/{method}``, method names case-insensitive; parameters from
  the query string, JSON bodies, urlencoded forms and multipart forms (complex fields such as
  ``reply_markup`` arrive JSON-encoded inside forms; files as parts, referenced by
  ``attach://<part>`` the way aiogram sends them). Replies are ``{"ok": true, "result": ...}``
  or ``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}`` with the
  error texts Telegram uses. Unknown token -> 401, unknown or unimplemented method -> 404
  (recorded in ``unknown_methods`` so a missing fake method is easy to spot).
* Updates: ``getUpdates`` long polling with ``offset`` confirmation (confirmed updates are gone
  for good, a negative offset forgets all but the last ones), ``limit``, ``timeout`` and a
  sticky ``allowed_updates`` that filters updates created afterwards (as Telegram documents).
  A second concurrent ``getUpdates`` terminates the first with 409, and ``getUpdates`` while a
  webhook is set answers 409. ``setWebhook``/``deleteWebhook``/``getWebhookInfo`` only store
  state: nothing is ever POSTed to the webhook URL.
* Messages: ``sendMessage``, ``editMessageText``, ``editMessageReplyMarkup``, ``deleteMessage``,
  ``sendDocument``, ``sendPhoto``, ``sendChatAction``, ``answerCallbackQuery``, ``getFile`` and
  the ``/file/bot{token}/{path}`` download route. Message ids count up per chat (shared by the
  user and the bot, as in Telegram). ``parse_mode=HTML`` is parsed like Telegram does: the stored
  text loses its tags and gains ``entities`` (UTF-16 offsets), unsupported tags such as ``<br>``
  are rejected with "can't parse entities". Text is cleaned like the server does (``\\r``
  removed, control characters become spaces, leading/trailing blanks trimmed). Length limits
  (4096 text, 1024 caption), ``callback_data`` of 1-64 bytes, inline buttons without an action,
  "message is not modified", unknown chats ("chat not found") and blocked users (403) are
  enforced.
* Commands: ``setMyCommands``/``getMyCommands``/``deleteMyCommands`` per scope and language,
  with Telegram's validation (lower-case command names, 1-256 character descriptions, and a
  two-letter ``language_code``: "zh-hans" is rejected as the real server does).
* Reliability: ``fail_next`` queues canned failures (HTTP status, ``retry_after``, a delay that
  outlives the client's timeout, or a dropped connection); ``RateLimits`` enforces Telegram's
  flood limits with 429 + ``retry_after``; ``http_429`` counts every 429 sent.

What it does not fake: MarkdownV2/Markdown parsing (text is stored as sent), automatic entity
detection in bot messages (URLs, mentions, phone numbers), inline mode, payments, media groups,
forums, business connections, webhook delivery, channels' sign-offs, message age limits
(48 h edit window, 24 h update retention), and the exact wording of every error. File contents
are kept in memory; only PNG, JPEG, GIF and WebP dimensions are understood for photos.

Determinism: use ``wait_for_messages``/``wait_for`` (event driven, no sleeping) to wait for the
bot's side effects. ``wait_idle`` waits until every update was confirmed, no API call is in
flight and the bot is long polling again; that means "all handlers finished" only when the
dispatcher runs with ``handle_as_tasks=False`` (aiogram then confirms an update only after its
handler returned).
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import mimetypes
import os
import re
import struct
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from aiohttp.web_request import FileField

DEFAULT_TOKEN = "5000000001:AAFakeTokenUsedOnlyInTests"
DEFAULT_USER_FIRST_NAME = "王芳"
DEFAULT_USER_LANGUAGE = "zh-hans"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

# Update types Telegram sends when allowed_updates is empty or was never set.
ALL_UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages", "message_reaction",
    "message_reaction_count", "inline_query", "chosen_inline_result", "callback_query",
    "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
    "my_chat_member", "chat_member", "chat_join_request", "chat_boost", "removed_chat_boost",
)  # fmt: skip
OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
DEFAULT_UPDATE_TYPES = frozenset(ALL_UPDATE_TYPES) - OPT_IN_UPDATE_TYPES

# Form fields arrive as strings; Telegram converts them by the method's schema. These tables
# are that schema, reduced to the fields the fake's methods use.
_INT_FIELDS = frozenset({
    "chat_id", "from_chat_id", "message_id", "message_thread_id", "offset", "limit", "timeout",
    "max_connections", "cache_time", "user_id", "reply_to_message_id", "until_date",
})  # fmt: skip
_BOOL_FIELDS = frozenset({
    "show_alert", "disable_notification", "protect_content", "drop_pending_updates",
    "allow_sending_without_reply", "disable_web_page_preview", "has_spoiler",
    "disable_content_type_detection", "show_caption_above_media", "allow_paid_broadcast",
})  # fmt: skip
_JSON_FIELDS = frozenset({
    "reply_markup", "commands", "scope", "allowed_updates", "entities", "caption_entities",
    "link_preview_options", "reply_parameters", "media", "results", "menu_button", "permissions",
})  # fmt: skip
_FILE_FIELDS = frozenset({"document", "photo", "thumbnail", "certificate"})

_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})  # fmt: skip
_INLINE_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip
_COMMAND_SCOPES = frozenset({
    "default", "all_private_chats", "all_group_chats", "all_chat_administrators", "chat",
    "chat_administrators", "chat_member",
})  # fmt: skip
# Rate limits apply to what lands in a chat, not to reads or edits.
_RATE_LIMITED_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto"})
_MESSAGE_SENDING_METHODS = _RATE_LIMITED_METHODS

_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_CALLBACK_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer of the Bot API; raised inside method handlers, turned into JSON."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def _bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


def _error_body(status: int, description: str, parameters: dict[str, Any] | None = None) -> dict:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})


# ---------------------------------------------------------------------------------------------
# Text: UTF-16 offsets, Telegram's HTML subset, and the server's text cleaning
# ---------------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of every entity offset in the Bot API."""
    return len(text.encode("utf-16-le")) // 2


_HTML_SIMPLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "code": "code", "pre": "pre", "blockquote": "blockquote",
}  # fmt: skip
_HTML_TAGS = frozenset(_HTML_SIMPLE_TAGS) | {"a", "span", "tg-emoji"}
_HTML_CHAR_REF = re.compile(r"&(?:#([0-9]{1,7})|#x([0-9a-fA-F]{1,6})|([a-zA-Z]+));?")
_HTML_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TG_USER_LINK = re.compile(r"tg://user\?id=(\d+)$")


class _HtmlParseError(Exception):
    pass


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    begin: int  # index in the markup, for error messages
    utf16_offset: int
    out_index: int  # index into the output characters, to recover a link's text
    language: str | None = None


def _byte_offset(markup: str, index: int) -> int:
    return len(markup[:index].encode("utf-8"))


def _decode_char_ref(markup: str, i: int) -> tuple[str, int] | None:
    """Decode ``&...;`` at ``i`` the way Telegram does: numeric refs plus four named ones."""
    match = _HTML_CHAR_REF.match(markup, i)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        char = _HTML_NAMED_REFS.get(name)
        return (char, match.end()) if char else None
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code >= 0x10FFFF:
        return None
    return chr(code), match.end()


def _parse_attr_value(markup: str, j: int, tag_begin: int) -> tuple[str, int]:
    if markup[j] in "'\"":
        quote, j = markup[j], j + 1
        value: list[str] = []
        while j < len(markup) and markup[j] != quote:
            decoded = _decode_char_ref(markup, j) if markup[j] == "&" else None
            if decoded:
                value.append(decoded[0])
                j = decoded[1]
            else:
                value.append(markup[j])
                j += 1
        if j >= len(markup):
            raise _HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(markup, tag_begin)}")
        return "".join(value), j + 1
    # An unquoted value is an SGML name token: letters, digits, periods, hyphens; case-insensitive.
    start = j
    while j < len(markup) and (markup[j].isalnum() or markup[j] in ".-"):
        j += 1
    if j < len(markup) and not markup[j].isspace() and markup[j] != ">":
        raise _HtmlParseError(f"Unexpected end of name token at byte offset {_byte_offset(markup, start)}")
    return markup[start:j].lower(), j


def _parse_attributes(markup: str, j: int, tag_begin: int) -> tuple[dict[str, str], int]:
    """Parse attributes up to the closing ``>``; returns them and the index of ``>``."""
    attrs: dict[str, str] = {}
    unclosed = f"Unclosed start tag at byte offset {_byte_offset(markup, tag_begin)}"
    while True:
        while j < len(markup) and markup[j].isspace():
            j += 1
        if j >= len(markup):
            raise _HtmlParseError(unclosed)
        if markup[j] == ">":
            return attrs, j
        start = j
        while j < len(markup) and not markup[j].isspace() and markup[j] not in "=>":
            j += 1
        name = markup[start:j].lower()
        while j < len(markup) and markup[j].isspace():
            j += 1
        if j >= len(markup):
            raise _HtmlParseError(unclosed)
        if markup[j] != "=":
            attrs[name] = ""  # a bare attribute such as <blockquote expandable>
            continue
        j += 1
        while j < len(markup) and markup[j].isspace():
            j += 1
        if j >= len(markup):
            raise _HtmlParseError(unclosed)
        attrs[name], j = _parse_attr_value(markup, j, tag_begin)


def _entity_for(tag: _OpenTag, text: str, users: dict[int, dict]) -> dict | None:
    """The entity a closed tag produces (``None`` when it produces none)."""
    if tag.name in _HTML_SIMPLE_TAGS:
        kind = _HTML_SIMPLE_TAGS[tag.name]
        if kind == "blockquote" and "expandable" in tag.attrs:
            kind = "expandable_blockquote"
        entity = {"type": kind}
        if kind == "pre" and tag.language:
            entity["language"] = tag.language
        return entity
    if tag.name == "span":
        return {"type": "spoiler"}
    if tag.name == "tg-emoji":
        emoji_id = tag.attrs.get("emoji-id")
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id} if emoji_id else None
    url = tag.attrs.get("href") or text
    user_link = _TG_USER_LINK.match(url)
    if user_link:
        user_id = int(user_link.group(1))
        user = users.get(user_id, {"id": user_id, "is_bot": False, "first_name": str(user_id)})
        return {"type": "text_mention", "user": copy.deepcopy(user)}
    return {"type": "text_link", "url": url} if re.match(r"(https?|tg|ftp)://", url) else None


def _open_tag(markup: str, i: int, utf16_offset: int, out_index: int) -> tuple[_OpenTag, int]:
    j = i + 1
    while j < len(markup) and not markup[j].isspace() and markup[j] != ">":
        j += 1
    if j >= len(markup):
        raise _HtmlParseError(f"Unclosed start tag at byte offset {_byte_offset(markup, i)}")
    name = markup[i + 1 : j].lower()
    if name not in _HTML_TAGS:
        raise _HtmlParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(markup, i)}')
    attrs, j = _parse_attributes(markup, j, i)
    if name == "span" and attrs.get("class") != "tg-spoiler":
        at = _byte_offset(markup, i)
        raise _HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    return _OpenTag(name, attrs, i, utf16_offset, out_index), j + 1


def _close_tag(markup: str, i: int, stack: list[_OpenTag]) -> tuple[_OpenTag, int]:
    j = i + 2
    while j < len(markup) and not markup[j].isspace() and markup[j] != ">":
        j += 1
    name = markup[i + 2 : j].lower()
    while j < len(markup) and markup[j].isspace():
        j += 1
    at = _byte_offset(markup, i)
    if not stack:
        raise _HtmlParseError(f"Unexpected end tag at byte offset {at}")
    if j >= len(markup) or markup[j] != ">":
        raise _HtmlParseError(f"Unclosed end tag at byte offset {at}")
    tag = stack.pop()
    if name and name != tag.name:
        expected = f'expected "</{tag.name}>", found "</{name}>"'
        raise _HtmlParseError(f"Unmatched end tag at byte offset {at}, {expected}")
    return tag, j + 1


def parse_html(markup: str, users: dict[int, dict] | None = None) -> tuple[str, list[dict]]:
    """Telegram's ``parse_mode=HTML``: the plain text and its entities, or ``ValueError``."""
    out: list[str] = []
    entities: list[dict] = []
    stack: list[_OpenTag] = []
    offset = 0
    i = 0
    try:
        while i < len(markup):
            char = markup[i]
            decoded = _decode_char_ref(markup, i) if char == "&" else None
            if decoded or char != "<":
                piece, i = decoded if decoded else (char, i + 1)
                out.append(piece)
                offset += utf16_len(piece)
            elif markup.startswith("</", i):
                tag, i = _close_tag(markup, i, stack)
                _finish_tag(tag, stack, offset, out, users or {}, entities)
            else:
                tag, i = _open_tag(markup, i, offset, len(out))
                stack.append(tag)
        if stack:
            raise _HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    except _HtmlParseError as error:
        raise ValueError(str(error)) from None
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _finish_tag(
    tag: _OpenTag,
    stack: list[_OpenTag],
    offset: int,
    out: list[str],
    users: dict[int, dict],
    entities: list[dict],
) -> None:
    language = tag.attrs.get("class", "")
    # <pre><code class="language-x"> is one "pre" entity with a language, not two entities.
    if tag.name == "code" and stack and stack[-1].name == "pre" and language.startswith("language-"):
        stack[-1].language = language.removeprefix("language-")
        return
    length = offset - tag.utf16_offset
    entity = _entity_for(tag, "".join(out[tag.out_index :]), users) if length > 0 else None
    if entity is not None:
        entities.append({**entity, "offset": tag.utf16_offset, "length": length})


_REMOVED_CHARS = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e")


def clean_text(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    """Clean text like the server before storing it, moving entity offsets along.

    Mirrors TDLib's ``fix_formatted_text``: ``\\r`` and a few bidi/separator characters are
    removed, other control characters become spaces, entities made of blanks only are
    dropped, trailing blanks and leading blanks (before the first entity) are trimmed.
    """
    new_chars: list[str] = []
    position_map: list[int] = []  # old UTF-16 offset -> new UTF-16 offset
    new_offset = 0
    for char in text:
        width = utf16_len(char)
        position_map.extend([new_offset] * width)
        if char in _REMOVED_CHARS:
            continue
        if ord(char) < 32 and char != "\n":
            char = " "
        new_chars.append(char)
        new_offset += width
    position_map.append(new_offset)
    cleaned = "".join(new_chars)
    moved = [_move_entity(e, position_map, cleaned) for e in entities]
    return _trim(cleaned, [e for e in moved if e is not None])


def _move_entity(entity: dict, position_map: list[int], text: str) -> dict | None:
    last = len(position_map) - 1
    start = position_map[min(entity["offset"], last)]
    end = position_map[min(entity["offset"] + entity["length"], last)]
    if end <= start or not _utf16_slice(text, start, end).strip(" \n"):
        return None
    return {**entity, "offset": start, "length": end - start}


def _utf16_slice(text: str, start: int, end: int) -> str:
    return text.encode("utf-16-le")[start * 2 : end * 2].decode("utf-16-le", errors="ignore")


def _trim(text: str, entities: list[dict]) -> tuple[str, list[dict]]:
    text = text.rstrip(" \n")
    end = utf16_len(text)
    clamped = []
    for entity in entities:
        length = min(entity["offset"] + entity["length"], end) - entity["offset"]
        if length > 0:
            clamped.append({**entity, "length": length})
    first_entity = min((e["offset"] for e in clamped), default=end)
    # Leading blanks are single UTF-16 units, so characters and offsets coincide here.
    skip = 0
    while skip < first_entity and text[skip] in " \n":
        skip += 1
    return text[skip:], [{**e, "offset": e["offset"] - skip} for e in clamped]


_BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")


def bot_command_entities(text: str) -> list[dict]:
    """The ``bot_command`` entities Telegram detects in a user's text."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _BOT_COMMAND.finditer(text)
    ]


# ---------------------------------------------------------------------------------------------
# Images: enough of PNG/JPEG/GIF/WebP to know a photo's size, like Telegram must
# ---------------------------------------------------------------------------------------------


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid black greyscale PNG, for tests that upload photos."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x00" * width for _ in range(height))
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        # SOF0-SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2 : i + 4])[0]
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    kind = data[12:16]
    if kind == b"VP8X":
        return 1 + int.from_bytes(data[24:27], "little"), 1 + int.from_bytes(data[27:30], "little")
    if kind == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG/JPEG/GIF/WebP image, ``None`` when it is not one."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        return _webp_size(data)
    return None


def _photo_dimensions(width: int, height: int) -> list[tuple[int, int]]:
    """The sizes Telegram stores for a photo: thumbnails at 90/320/800/1280/2560 px sides."""
    sizes = []
    for side in (90, 320, 800, 1280, 2560):
        scale = min(1.0, side / max(width, height))
        sizes.append((max(1, round(width * scale)), max(1, round(height * scale))))
        if scale == 1.0:
            break
    return sizes


# ---------------------------------------------------------------------------------------------
# Records and configuration
# ---------------------------------------------------------------------------------------------


@dataclass
class UploadedFile:
    """A file the bot uploaded in a multipart request."""

    filename: str
    data: bytes
    content_type: str


@dataclass
class SentMessage:
    """A message the bot sent, as it looks now (edits applied); a snapshot, safe to keep."""

    chat_id: int
    message_id: int
    method: str
    text: str | None  # the text, or the caption of a document/photo
    reply_markup: dict | None  # any markup the bot sent, reply keyboards included
    message: dict  # the Message object as Telegram returns it
    deleted: bool = False

    @property
    def buttons(self) -> list[list[str]]:
        """Button texts, row by row, of an inline or reply keyboard."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]

    @property
    def callback_data(self) -> list[str]:
        """All ``callback_data`` values of the inline keyboard, in reading order."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]


@dataclass
class RateLimits:
    """Telegram's flood limits as (messages, seconds) windows; ``None`` disables one.

    The per-private-chat limit is soft on the real servers (short bursts pass), so tests that
    send several messages per answer may want e.g. ``per_private_chat=(3, 1.0)``.
    """

    overall: tuple[int, float] | None = (30, 1.0)
    per_group: tuple[int, float] | None = (20, 60.0)
    per_private_chat: tuple[int, float] | None = (1, 1.0)


@dataclass
class _Injection:
    status: int | None
    description: str | None
    retry_after: int | None
    delay: float
    drop: bool
    body: str | None


class _SlidingWindow:
    def __init__(self, limit: int, seconds: float):
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def retry_after(self, now: float) -> int | None:
        """Seconds to wait before one more event fits, ``None`` if it fits now."""
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) < self.limit:
            return None
        return max(1, math.ceil(self.stamps[0] + self.seconds - now))

    def record(self, now: float) -> None:
        self.stamps.append(now)


@dataclass
class _Outgoing:
    """Bookkeeping for a message the bot sent; ``message`` is the live stored dict."""

    chat_id: int
    method: str
    message: dict
    reply_markup: dict | None
    deleted: bool = False


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str


# ---------------------------------------------------------------------------------------------
# The fake server
# ---------------------------------------------------------------------------------------------


class FakeBotAPI:
    """The fake Bot API server; see the module docstring. Use as an async context manager."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "outreach_test_bot",
        bot_first_name: str = "Outreach Test Bot",
        rate_limits: RateLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        first_update_id: int = 600_000_001,
    ):
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        # The short User form Telegram puts in "from"; getMe adds the capability flags.
        self.bot_user = {
            "id": self.bot_id, "is_bot": True, "first_name": bot_first_name, "username": bot_username,
        }  # fmt: skip
        self.rate_limits = rate_limits
        self.clock = clock

        # Inspectable records.
        self.sent: list[dict] = []  # successful calls except getUpdates: method, params, result
        self.requests: list[dict] = []  # every call: method, params, status (0: dropped)
        self.updates: list[dict] = []  # every update the user side produced
        self.callback_answers: list[dict] = []
        self.unknown_methods: list[str] = []
        self.http_429 = 0

        self._users: dict[int, dict] = {}
        self._chats: dict[int, dict] = {}
        self._blocked: set[int] = set()
        self._messages: dict[tuple[int, int], dict] = {}
        self._last_message_id: dict[int, int] = {}
        self._outgoing: list[_Outgoing] = []
        self._files: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._commands: dict[tuple[str, str], list[dict]] = {}
        self._webhook: dict[str, Any] = {"url": ""}

        self._pending: list[dict] = []
        self._next_update_id = first_update_id
        self._allowed_updates = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self.polls_waiting = 0  # getUpdates requests currently long polling
        self._in_flight = 0  # API calls being handled, getUpdates excluded

        self._injections: dict[str, deque[_Injection]] = {}
        self._windows: dict[str, _SlidingWindow] = {}
        self._change = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._bots: list[Bot] = []
        self._handlers = self._method_table()

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> FakeBotAPI:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # A short shutdown timeout: pending long polls are released by close() anyway.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        self._closing = True
        self._changed()
        for bot in self._bots:
            await bot.session.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, the form ``TelegramAPIServer.from_base`` expects."""
        if self._port is None:
            raise RuntimeError("FakeBotAPI is not started; use 'async with FakeBotAPI() as fake'")
        return f"http://127.0.0.1:{self._port}"

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """An aiogram ``Bot`` talking to this fake; its session is closed with the fake."""
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        bot = Bot(self.token, session=session, **bot_kwargs)
        self._bots.append(bot)
        return bot

    # -- inspection -------------------------------------------------------------------------

    def messages_to(self, chat_id: int) -> list[SentMessage]:
        """Messages the bot sent to a chat, in order, each as it looks now."""
        return [self._snapshot(o) for o in self._outgoing if o.chat_id == chat_id]

    def last_message(self, chat_id: int) -> SentMessage:
        messages = self.messages_to(chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1]

    def calls(self, method: str) -> list[dict]:
        """Successful calls of one method (any spelling), from ``sent``."""
        return [r for r in self.sent if r["method"].lower() == method.lower()]

    @property
    def uploads(self) -> list[dict]:
        """Files the bot uploaded: method, chat_id, caption and the ``UploadedFile``."""
        return [
            {"method": r["method"], "chat_id": r["params"].get("chat_id"),
             "caption": r["params"].get("caption"), "file": value}
            for r in self.sent
            for value in r["params"].values()
            if isinstance(value, UploadedFile)
        ]  # fmt: skip

    @property
    def commands(self) -> dict[str, list[dict]]:
        """Commands of the default scope by language code ("" is the fallback for all)."""
        default = json.dumps({"type": "default"}, sort_keys=True)
        return {
            lang: list(cmds) for (scope, lang), cmds in self._commands.items() if scope == default and cmds
        }

    def commands_for(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        return list(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def webhook(self) -> dict[str, Any]:
        return dict(self._webhook)

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot."""
        return list(self._pending)

    # -- the user side ------------------------------------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
        language_code: str = DEFAULT_USER_LANGUAGE,
    ) -> dict:
        """Make a chat known so the bot may write to it (positive id: a user's private chat)."""
        if chat_id > 0:
            user = self._ensure_user(chat_id, first_name, None, username, language_code)
            return self._private_chat(user)
        if chat_id not in self._chats:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            self._chats[chat_id] = {"id": chat_id, "title": title or f"Test group {-chat_id}", "type": kind}
        return self._chats[chat_id]

    def user_sends(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str = DEFAULT_USER_LANGUAGE,
        chat_id: int | None = None,
    ) -> dict:
        """Queue a text message from a user (private chat unless ``chat_id`` names a group)."""
        message = self._user_message(user_id, first_name, last_name, username, language_code, chat_id)
        message["text"] = text
        entities = bot_command_entities(text)
        if entities:
            message["entities"] = entities
        return self._enqueue("message", message)

    def user_sends_sticker(self, user_id: int, *, emoji: str = "👍", chat_id: int | None = None) -> dict:
        message = self._user_message(user_id, None, None, None, DEFAULT_USER_LANGUAGE, chat_id)
        file_id, unique_id = self._new_file_ids("CAACAgIAAxkBAA", "AgADsticker")
        message["sticker"] = {
            "file_id": file_id, "file_unique_id": unique_id, "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False, "emoji": emoji,
            "set_name": "TestStickers", "file_size": 23456,
        }  # fmt: skip
        return self._enqueue("message", message)

    def user_sends_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        data: bytes | None = None,
        chat_id: int | None = None,
    ) -> dict:
        """Queue a photo from a user; ``data`` (PNG/JPEG/...) becomes downloadable via getFile."""
        data = data if data is not None else tiny_png(64, 48)
        if image_size(data) is None:
            raise ValueError("user_sends_photo needs PNG, JPEG, GIF or WebP data")
        message = self._user_message(user_id, None, None, None, DEFAULT_USER_LANGUAGE, chat_id)
        message["photo"] = self._store_photo(data)
        if caption:
            message["caption"] = caption
        return self._enqueue("message", message)

    def user_presses(self, user_id: int, message: SentMessage | dict | int, callback_data: str, *,
                     check_button: bool = True) -> dict:  # fmt: skip
        """Queue a callback_query: the user pressed an inline button of a bot message.

        ``message`` is a ``SentMessage``, a Message dict or a message id in the user's private
        chat. The button must be on the message now, unless ``check_button`` is false (as a
        modified client could send anything).
        """
        chat_id, message_id = self._message_key(user_id, message)
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise ValueError(f"no message {message_id} in chat {chat_id} (deleted or never sent)")
        if check_button:
            self._require_button(stored, callback_data)
        query_id = str(4_000_000_000_000_000_000 + next(self._callback_counter))
        self._open_callbacks.add(query_id)
        user = self._users.get(user_id) or self._ensure_user(user_id, None, None, None, DEFAULT_USER_LANGUAGE)
        return self._enqueue("callback_query", {
            "id": query_id, "from": copy.deepcopy(user), "message": copy.deepcopy(stored),
            "chat_instance": str(-(7_000_000_000_000_000_000 + abs(chat_id))), "data": callback_data,
        })  # fmt: skip

    def user_blocks_bot(self, user_id: int) -> dict:
        """The user blocks the bot: sends now fail with 403, a my_chat_member update is queued."""
        self._ensure_user(user_id, None, None, None, DEFAULT_USER_LANGUAGE)
        self._blocked.add(user_id)
        return self._enqueue("my_chat_member", self._member_change(user_id, "member", "kicked"))

    # -- waiting ----------------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 5, what: str = "condition"
    ) -> Any:
        """Wait until ``predicate()`` is truthy; it is re-checked after every change."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            change = self._change
            result = predicate()
            if result:
                return result
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                recent = self._recent()
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; last calls: {recent}")
            try:
                await asyncio.wait_for(change.wait(), remaining)
            except TimeoutError:
                continue

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 5) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages to the chat; return them."""
        await self.wait_for(
            lambda: len(self.messages_to(chat_id)) >= count, timeout, f"{count} message(s) to chat {chat_id}"
        )
        return self.messages_to(chat_id)

    async def wait_idle(self, timeout: float = 5, settle: float = 0.0) -> None:
        """Wait until all updates are confirmed, nothing is in flight and the bot polls again.

        ``settle`` additionally requires that quiet state to last that long, for bots whose
        handlers run as background tasks.
        """
        while True:
            await self.wait_for(self._is_idle, timeout, "the bot to consume all updates and go idle")
            if settle <= 0:
                return
            change = self._change
            try:
                await asyncio.wait_for(change.wait(), settle)
            except TimeoutError:
                return

    def _is_idle(self) -> bool:
        return not self._pending and self.polls_waiting > 0 and self._in_flight == 0

    # -- failure injection --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        body: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" for any) fail.

        ``status``/``description``/``retry_after`` answer an error without doing the call
        (``retry_after`` alone means 429). ``body`` answers a raw non-JSON body (e.g. the HTML
        a proxy returns for 502). ``drop`` closes the connection without an answer. ``delay``
        waits first; with nothing else it then performs the call normally, so a client that
        timed out meanwhile does not learn that its message was in fact sent.
        """
        if retry_after is not None and status is None:
            status = 429
        if status is None and body is None and not drop and delay <= 0:
            raise ValueError("fail_next needs status, retry_after, body, drop or delay")
        injection = _Injection(status, description, retry_after, delay, drop, body)
        queue = self._injections.setdefault(method.lower(), deque())
        queue.extend(injection for _ in range(times))

    # -- HTTP plumbing ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json(401, _error_body(401, "Unauthorized"))
        entry = self._handlers.get(request.match_info["method"].lower())
        if entry is None:
            self.unknown_methods.append(request.match_info["method"])
            return self._json(404, _error_body(404, "Not Found"))
        name, handler = entry
        is_poll = name == "getUpdates"
        if not is_poll:
            self._in_flight += 1
        try:
            return await self._serve(request, name, handler)
        finally:
            if not is_poll:
                self._in_flight -= 1
            self._changed()

    async def _serve(self, request: web.Request, name: str, handler: Callable) -> web.StreamResponse:
        params: dict[str, Any] = {}
        try:
            params = await self._read_params(request)
            injection = self._pop_injection(name)
            if injection is not None:
                response = await self._inject(request, name, params, injection)
                if response is not None:
                    return response
            self._check_rate_limits(name, params)
            result = handler(params)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as error:
            self._record_request(name, params, error.status)
            return self._json(error.status, _error_body(error.status, error.description, error.parameters))
        self._record_success(name, params, result)
        return self._json(200, {"ok": True, "result": result})

    def _json(self, status: int, body: dict) -> web.Response:
        if status == 429:
            self.http_429 += 1
        return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json(401, _error_body(401, "Unauthorized"))
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.file_path == path), None)
        if stored is None:
            return self._json(404, _error_body(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad_request("can't parse JSON encoded request") from None
                if not isinstance(body, dict):
                    raise _bad_request("can't parse JSON encoded request")
                raw.update(body)
            elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                raw.update((await request.post()).items())
        # File parts referenced as attach://name are not parameters themselves.
        params = {
            k: self._coerce(k, v) for k, v in raw.items() if not isinstance(v, FileField) or k in _FILE_FIELDS
        }
        for name in _FILE_FIELDS & params.keys():
            params[name] = self._resolve_file(params[name], raw)
        return params

    @staticmethod
    def _coerce(name: str, value: Any) -> Any:
        """Convert a form string to the type the method's schema gives the field."""
        if isinstance(value, FileField) or value is None:
            return value
        if name in _JSON_FIELDS:
            if not isinstance(value, str):
                return value
            try:
                return json.loads(value)
            except ValueError:
                what = "reply keyboard markup" if name == "reply_markup" else name
                raise _bad_request(f"can't parse {what} JSON object") from None
        if name in _INT_FIELDS:
            return _to_int(name, value)
        if name in _BOOL_FIELDS:
            return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
        if isinstance(value, dict | list):
            return json.dumps(value)
        return value if isinstance(value, str) else str(value)

    @staticmethod
    def _resolve_file(value: Any, raw: dict[str, Any]) -> Any:
        """An uploaded part (direct or via ``attach://name``) becomes an ``UploadedFile``."""
        if isinstance(value, str) and value.startswith("attach://"):
            value = raw.get(value.removeprefix("attach://"))
            if not isinstance(value, FileField):
                raise _bad_request("wrong file identifier/HTTP URL specified")
        if isinstance(value, FileField):
            return UploadedFile(value.filename, value.file.read(), value.content_type)
        return value

    def _pop_injection(self, name: str) -> _Injection | None:
        for key in (name.lower(), "*"):
            queue = self._injections.get(key)
            if queue:
                return queue.popleft()
        return None

    async def _inject(
        self, request: web.Request, name: str, params: dict, injection: _Injection
    ) -> web.StreamResponse | None:
        if injection.delay > 0:
            await self._sleep(injection.delay)
        if injection.drop:
            self._record_request(name, params, 0)
            if request.transport is not None:
                request.transport.close()
            return web.Response()  # never reaches the client: the connection is gone
        status = injection.status
        if injection.body is not None:
            self._record_request(name, params, status or 502)
            return web.Response(status=status or 502, text=injection.body, content_type="text/html")
        if status is None:
            return None
        if status == 429:
            error = _too_many_requests(injection.retry_after or 1)
            if injection.description:
                error.description = injection.description
        else:
            error = ApiError(status, injection.description or _default_description(status))
        raise error

    def _check_rate_limits(self, name: str, params: dict) -> None:
        if self.rate_limits is None or name not in _RATE_LIMITED_METHODS:
            return
        now = self.clock()
        windows = self._windows_for(params.get("chat_id"))
        waits = [w for w in (window.retry_after(now) for window in windows) if w is not None]
        if waits:
            raise _too_many_requests(max(waits))
        for window in windows:
            window.record(now)

    def _windows_for(self, chat_id: Any) -> list[_SlidingWindow]:
        limits = self.rate_limits
        assert limits is not None
        is_private = isinstance(chat_id, int) and chat_id > 0
        per_chat = limits.per_private_chat if is_private else limits.per_group
        keyed = [("overall", limits.overall), (f"chat:{chat_id}", per_chat)]
        windows = []
        for key, limit in keyed:
            if limit is None:
                continue
            if key not in self._windows:
                self._windows[key] = _SlidingWindow(*limit)
            windows.append(self._windows[key])
        return windows

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake early when the fake shuts down."""
        deadline = asyncio.get_running_loop().time() + seconds
        while not self._closing:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            change = self._change
            try:
                await asyncio.wait_for(change.wait(), remaining)
            except TimeoutError:
                return

    def _changed(self) -> None:
        """Wake every waiter; each re-checks its own condition."""
        self._change.set()
        self._change = asyncio.Event()

    def _record_request(self, name: str, params: dict, status: int) -> None:
        self.requests.append({"method": name, "params": params, "status": status})

    def _record_success(self, name: str, params: dict, result: Any) -> None:
        self._record_request(name, params, 200)
        if name == "getUpdates":
            return
        record = {"method": name, "params": params, "result": copy.deepcopy(result)}
        if isinstance(result, dict) and "message_id" in result:
            record["message"] = record["result"]
        self.sent.append(record)

    def _recent(self) -> list[str]:
        return [f"{r['method']}->{r['status']}" for r in self.requests[-8:]]

    # -- users, chats, messages -----------------------------------------------------------------

    def _ensure_user(self, user_id: int, first_name: str | None, last_name: str | None,
                     username: str | None, language_code: str | None) -> dict:  # fmt: skip
        default = {"id": user_id, "is_bot": False, "first_name": DEFAULT_USER_FIRST_NAME}
        user = self._users.setdefault(user_id, default)
        for key, value in (("first_name", first_name), ("last_name", last_name), ("username", username),
                           ("language_code", language_code)):  # fmt: skip
            if value:
                user[key] = value
        self._private_chat(user)
        return user

    def _private_chat(self, user: dict) -> dict:
        chat = {"id": user["id"], "first_name": user["first_name"], "type": "private"}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user["id"]] = chat
        return chat

    def _user_message(self, user_id: int, first_name: str | None, last_name: str | None, username: str | None,
                      language_code: str, chat_id: int | None) -> dict:  # fmt: skip
        user = self._ensure_user(user_id, first_name, last_name, username, language_code)
        if user_id in self._blocked:
            # Writing to a blocked bot first unblocks it, which Telegram reports as its own update.
            self._blocked.discard(user_id)
            self._enqueue("my_chat_member", self._member_change(user_id, "kicked", "member"))
        chat = self._chats[user_id] if chat_id is None else self.add_chat(chat_id)
        message = {"message_id": self._next_message_id(chat["id"]), "from": copy.deepcopy(user),
                   "chat": copy.deepcopy(chat), "date": int(time.time())}  # fmt: skip
        self._messages[(chat["id"], message["message_id"])] = message
        return message

    def _member_change(self, user_id: int, old: str, new: str) -> dict:
        bot = {**self.bot_user}
        return {
            "chat": copy.deepcopy(self._chats[user_id]), "from": copy.deepcopy(self._users[user_id]),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot, **({"until_date": 0} if old == "kicked" else {})},
            "new_chat_member": {"status": new, "user": bot, **({"until_date": 0} if new == "kicked" else {})},
        }  # fmt: skip

    def _next_message_id(self, chat_id: int) -> int:
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _enqueue(self, kind: str, payload: dict) -> dict:
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self.updates.append(update)
        # Telegram never stores updates of types the bot did not ask for.
        if kind in self._allowed_updates:
            self._pending.append(update)
        self._changed()
        return update

    def _message_key(self, user_id: int, message: SentMessage | dict | int) -> tuple[int, int]:
        if isinstance(message, SentMessage):
            return message.chat_id, message.message_id
        if isinstance(message, dict):
            return message["chat"]["id"], message["message_id"]
        return user_id, message

    @staticmethod
    def _require_button(message: dict, callback_data: str) -> None:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        available = [b.get("callback_data") for row in rows for b in row if "callback_data" in b]
        if callback_data not in available:
            where = f"message {message['message_id']}"
            raise ValueError(f"{where} has no button {callback_data!r}; it has {available}")

    def _snapshot(self, outgoing: _Outgoing) -> SentMessage:
        message = copy.deepcopy(outgoing.message)
        return SentMessage(
            chat_id=outgoing.chat_id,
            message_id=message["message_id"],
            method=outgoing.method,
            text=message.get("text", message.get("caption")),
            reply_markup=copy.deepcopy(outgoing.reply_markup),
            message=message,
            deleted=outgoing.deleted,
        )

    def _target_chat(self, params: dict) -> dict:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, str):
            chat = next((c for c in self._chats.values() if f"@{c.get('username')}" == chat_id), None)
        else:
            chat = self._chats.get(chat_id)
        if chat is None:
            raise _bad_request("chat not found")
        if chat["id"] in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _stored_bot_message(self, params: dict, action: str) -> dict:
        chat = self._target_chat(params)
        message = self._messages.get((chat["id"], params.get("message_id") or 0))
        if message is None:
            raise _bad_request(f"message to {action} not found")
        if message["from"]["id"] != self.bot_id and action == "edit":
            raise _bad_request("message can't be edited")
        return message

    def _new_bot_message(self, method: str, chat: dict, params: dict, content: dict) -> dict:
        message = {"message_id": self._next_message_id(chat["id"]), "from": dict(self.bot_user),
                   "chat": copy.deepcopy(chat), "date": int(time.time())}  # fmt: skip
        reply_to = self._reply_target(chat["id"], params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(content)
        markup = _checked_markup(params.get("reply_markup"))
        # Only inline keyboards are echoed in the returned Message; reply keyboards are not.
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        self._outgoing.append(_Outgoing(chat["id"], method, message, markup))
        return copy.deepcopy(message)

    def _reply_target(self, chat_id: int, params: dict) -> dict | None:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None
        target = self._messages.get((reply.get("chat_id", chat_id), message_id))
        if target is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        # Telegram does not nest replies: the replied-to message carries no reply_to_message.
        return {k: copy.deepcopy(v) for k, v in target.items() if k != "reply_to_message"}

    def _formatted(
        self, params: dict, text_key: str, entities_key: str, limit: int
    ) -> tuple[str, list[dict]]:
        """Text (or caption) after parse_mode and the server's cleaning, checked against limit."""
        text = params.get(text_key) or ""
        entities = params.get(entities_key)
        mode = (params.get("parse_mode") or "").lower()
        if entities is None and mode == "html":
            try:
                text, entities = parse_html(text, self._users)
            except ValueError as error:
                raise _bad_request(f"can't parse entities: {error}") from None
        elif mode not in ("", "html", "markdown", "markdownv2"):
            raise _bad_request("unsupported parse_mode")
        text, entities = clean_text(text, entities or [])
        if utf16_len(text) > limit:
            raise _bad_request("message is too long" if text_key == "text" else "message caption is too long")
        return text, entities

    def _store_file(self, data: bytes, prefix: str, folder: str, extension: str) -> _StoredFile:
        file_id, unique_id = self._new_file_ids(prefix, "AgAD")
        stored = _StoredFile(file_id, unique_id, data, f"{folder}/file_{len(self._files)}{extension}")
        self._files[file_id] = stored
        return stored

    def _new_file_ids(self, prefix: str, unique_prefix: str) -> tuple[str, str]:
        number = next(self._file_counter)
        return f"{prefix}{self.bot_id}_{number:06d}", f"{unique_prefix}{number:06d}"

    def _store_photo(self, data: bytes) -> list[dict]:
        size = image_size(data)
        if size is None:
            raise _bad_request("IMAGE_PROCESS_FAILED")
        sizes = []
        for width, height in _photo_dimensions(*size):
            stored = self._store_file(data, "AgACAgIAAxkBAA", "photos", ".jpg")
            sizes.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                          "file_size": len(data), "width": width, "height": height})  # fmt: skip
        return sizes

    def _uploaded_data(self, value: Any, what: str) -> tuple[bytes, str]:
        """Bytes and file name of a file parameter: an upload, a known file_id or a URL."""
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad_request("file must be non-empty")
            return value.data, value.filename
        if not value:
            raise _bad_request(f"there is no {what} in the request")
        if isinstance(value, str) and value in self._files:
            stored = self._files[value]
            return stored.data, stored.file_path.rsplit("/", 1)[-1]
        if isinstance(value, str) and re.match(r"https?://", value):
            # Telegram would download the URL; the fake never leaves the machine.
            return b"", value.rstrip("/").rsplit("/", 1)[-1] or "file"
        raise _bad_request("wrong file identifier/HTTP URL specified")

    # -- Bot API methods -----------------------------------------------------------------------

    def _method_table(self) -> dict[str, tuple[str, Callable[[dict], Any]]]:
        methods = {
            "getMe": self._get_me, "logOut": self._true, "close": self._true,
            "getUpdates": self._get_updates, "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message, "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup, "deleteMessage": self._delete_message,
            "sendDocument": self._send_document, "sendPhoto": self._send_photo,
            "sendChatAction": self._send_chat_action, "answerCallbackQuery": self._answer_callback_query,
            "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands, "getFile": self._get_file,
        }  # fmt: skip
        return {name.lower(): (name, handler) for name, handler in methods.items()}

    @staticmethod
    def _true(params: dict) -> bool:
        return True

    def _get_me(self, params: dict) -> dict:
        return {
            **self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
            "supports_inline_queries": False, "can_connect_to_business": False, "has_main_web_app": False,
        }  # fmt: skip

    async def _get_updates(self, params: dict) -> list[dict]:
        if self._webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")  # fmt: skip
        self._poll_generation += 1
        generation = self._poll_generation
        self._changed()  # an older poll wakes up and finds itself terminated
        self._confirm(params.get("offset"))
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        limit = min(max(params.get("limit") or 100, 1), 100)
        deadline = asyncio.get_running_loop().time() + max(params.get("timeout") or 0, 0)
        self.polls_waiting += 1
        try:
            while generation == self._poll_generation and not self._pending and not self._closing:
                remaining = deadline - asyncio.get_running_loop().time()
                change = self._change
                try:
                    await asyncio.wait_for(change.wait(), remaining)
                except TimeoutError:
                    break
        finally:
            self.polls_waiting -= 1
        if generation != self._poll_generation:
            raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                "make sure that only one bot instance is running")  # fmt: skip
        return copy.deepcopy(self._pending[:limit])

    def _confirm(self, offset: int | None) -> None:
        """Forget updates as Telegram does for ``offset`` (negative: keep only the last ones)."""
        if offset is None:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _set_allowed_updates(self, allowed: list[str] | None) -> None:
        self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES

    def _set_webhook(self, params: dict) -> bool:
        url = params.get("url") or ""
        if url and not url.startswith("https://"):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad_request("secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending.clear()
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        max_connections = params.get("max_connections") or 40
        self._webhook = {"url": url, "secret_token": secret, "max_connections": max_connections}
        return True

    def _delete_webhook(self, params: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = {"url": ""}
        return True

    def _get_webhook_info(self, params: dict) -> dict:
        info: dict[str, Any] = {"url": self._webhook["url"], "has_custom_certificate": False,
                                "pending_update_count": len(self._pending)}  # fmt: skip
        if self._webhook["url"]:
            info["max_connections"] = self._webhook["max_connections"]
            info["ip_address"] = "127.0.0.1"
        if self._allowed_updates != DEFAULT_UPDATE_TYPES:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _send_message(self, params: dict) -> dict:
        chat = self._target_chat(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        if not text:
            raise _bad_request("message text is empty")
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._new_bot_message("sendMessage", chat, params, content)

    def _caption_content(self, params: dict) -> dict:
        caption, entities = self._formatted(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        content: dict[str, Any] = {}
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        return content

    def _send_document(self, params: dict) -> dict:
        chat = self._target_chat(params)
        data, filename = self._uploaded_data(params.get("document"), "document")
        content = self._caption_content(params)
        stored = self._store_file(data, "BQACAgIAAxkBAA", "documents", os.path.splitext(filename)[1])
        content["document"] = {
            "file_name": filename,
            "mime_type": mimetypes.guess_type(filename)[0] or "application/octet-stream",
            "file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": len(data),
        }  # fmt: skip
        return self._new_bot_message("sendDocument", chat, params, content)

    def _send_photo(self, params: dict) -> dict:
        chat = self._target_chat(params)
        data, _ = self._uploaded_data(params.get("photo"), "photo")
        content = self._caption_content(params)
        content["photo"] = self._store_photo(data)
        return self._new_bot_message("sendPhoto", chat, params, content)

    def _edit_message_text(self, params: dict) -> dict | bool:
        if params.get("inline_message_id"):
            return True  # inline messages are not tracked; Telegram answers True for them
        message = self._stored_bot_message(params, "edit")
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        if not text:
            raise _bad_request("message text is empty")
        markup = _checked_markup(params.get("reply_markup"))
        unchanged = (text, entities, _inline_only(markup)) == (
            message["text"], message.get("entities", []), message.get("reply_markup"))  # fmt: skip
        if unchanged:
            raise _bad_request(_NOT_MODIFIED)
        message["text"] = text
        _set_or_drop(message, "entities", entities)
        return self._apply_edit(message, markup)

    def _edit_message_reply_markup(self, params: dict) -> dict | bool:
        if params.get("inline_message_id"):
            return True
        message = self._stored_bot_message(params, "edit")
        markup = _checked_markup(params.get("reply_markup"))
        if _inline_only(markup) == message.get("reply_markup"):
            raise _bad_request(_NOT_MODIFIED)
        return self._apply_edit(message, markup)

    def _apply_edit(self, message: dict, markup: dict | None) -> dict:
        # An edit without reply_markup removes the inline keyboard, as in Telegram.
        _set_or_drop(message, "reply_markup", _inline_only(markup))
        message["edit_date"] = int(time.time())
        for outgoing in self._outgoing:
            # A reply keyboard belongs to the chat, not the message: edits leave it alone.
            reply_keyboard = outgoing.reply_markup and not outgoing.reply_markup.get("inline_keyboard")
            if outgoing.message is message and not reply_keyboard:
                outgoing.reply_markup = _inline_only(markup)
        return copy.deepcopy(message)

    def _delete_message(self, params: dict) -> bool:
        message = self._stored_bot_message(params, "delete")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        for outgoing in self._outgoing:
            if outgoing.message is message:
                outgoing.deleted = True
        return True

    def _send_chat_action(self, params: dict) -> bool:
        self._target_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _answer_callback_query(self, params: dict) -> bool:
        query_id = params.get("callback_query_id")
        if query_id not in self._open_callbacks:
            raise _bad_request(_CALLBACK_TOO_OLD)
        self._open_callbacks.discard(query_id)  # a query can be answered once
        self.callback_answers.append({
            "callback_query_id": query_id, "text": params.get("text"),
            "show_alert": params.get("show_alert", False), "url": params.get("url"),
            "cache_time": params.get("cache_time", 0),
        })  # fmt: skip
        return True

    def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(params)
        self._commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    def _get_my_commands(self, params: dict) -> list[dict]:
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: dict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    def _commands_key(self, params: dict) -> tuple[str, str]:
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad_request("invalid language code specified")
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") not in _COMMAND_SCOPES:
            raise _bad_request("unsupported bot command scope type")
        return self._scope_key(scope), language

    @staticmethod
    def _scope_key(scope: dict | None) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def _get_file(self, params: dict) -> dict:
        stored = self._files.get(params.get("file_id") or "")
        if stored is None:
            raise _bad_request("invalid file_id")
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data), "file_path": stored.file_path}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Small helpers used by the methods
# ---------------------------------------------------------------------------------------------


def _to_int(name: str, value: Any) -> int | str:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if name == "chat_id":
        return text  # "@channelusername"
    raise _bad_request(f"invalid {name} specified")


def _default_description(status: int) -> str:
    return {
        400: "Bad Request", 401: "Unauthorized", 403: "Forbidden: bot was blocked by the user",
        404: "Not Found", 409: "Conflict", 500: "Internal Server Error", 502: "Bad Gateway",
    }.get(status, "Error")  # fmt: skip


def _inline_only(markup: dict | None) -> dict | None:
    return markup if markup and markup.get("inline_keyboard") else None


def _set_or_drop(message: dict, key: str, value: Any) -> None:
    if value:
        message[key] = value
    else:
        message.pop(key, None)


def _checked_markup(markup: Any) -> dict | None:
    """Validate reply_markup the way Telegram rejects broken keyboards."""
    if markup is None:
        return None
    kinds = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")
    if not isinstance(markup, dict) or not any(k in markup for k in kinds):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            _check_inline_button(button)
    return markup


def _check_inline_button(button: dict) -> None:
    if not button.get("text"):
        raise _bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
    if not actions:
        reason = "Text buttons are unallowed in the inline keyboard"
        raise _bad_request(f"can't parse inline keyboard button: {reason}")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
        raise _bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not re.match(r"(https?|tg)://", url):
        raise _bad_request("BUTTON_URL_INVALID")


# ---------------------------------------------------------------------------------------------
# pytest fixture
# ---------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def fake_bot_api() -> AsyncIterator[FakeBotAPI]:
    """A started ``FakeBotAPI``; import it into a conftest to use it by name."""
    async with FakeBotAPI() as fake:
        yield fake
