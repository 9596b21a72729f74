"""The engine's replies as WeCom messages: texts split by bytes, template cards, 客服 menus.

App (work teams, HR): choices become `button_interaction` template cards of at most 6 buttons;
a longer list is split over several cards that share the question's token (the first press
wins, the engine makes the others stale), Back and Menu on the last one.
微信客服 (households): choices become `msgmenu` messages of at most 10 items.
Payloads here have no receiver: the sender adds touser/agentid or touser/open_kfid.
"""

from __future__ import annotations

import secrets
from typing import Any

from content.i18n import Rendered, Translator
from dialogs.engine import BACK, MENU
from dialogs.model import Input, Reply

TEXT_LIMIT_BYTES = 2048  # app and 客服 texts; WeCom cuts longer ones
CARD_BUTTONS = 6
CARD_TITLE_CHARS = 36
CARD_SUBTITLE_CHARS = 160
CARD_KEY_BYTES = 1024
BUTTON_TEXT_CHARS = 10  # WeCom's advice; longer labels are shown cut
MENU_ITEMS = 10
MENU_HEAD_BYTES = 1024
MENU_ITEM_BYTES = 128
MENU_ID_BYTES = 64
NAV_IDS = (BACK, MENU)
GREY = 4  # button style of Back and Menu


# ---------------------------------------------------------------- button keys


def press_key(token: int | None, choice_id: str) -> str:
    """The key a button carries back: the same `p:<token>:<choice>` as on Telegram."""
    return f"p:{token or 0}:{choice_id}"


def card_key(token: int | None, choice_id: str, label: str) -> str:
    """A card button's key: the press, then its label (shown on the card once it is pressed)."""
    key = f"{press_key(token, choice_id)}:{label}"
    while len(key.encode()) > CARD_KEY_BYTES:
        key = key[:-1]
    return key


def input_from_key(key: str) -> tuple[Input, str]:
    """The press a key stands for and the button's label; anything else is an invalid button."""
    parts = key.split(":", 3)
    if len(parts) < 3 or parts[0] != "p" or not parts[1].isdigit() or not parts[2]:
        return Input("invalid_button"), ""
    return Input.choice(parts[2], int(parts[1])), parts[3] if len(parts) > 3 else ""


# ---------------------------------------------------------------- text


def split_bytes(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Split at line breaks so that each part is at most `limit` bytes of UTF-8."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(line.encode()) > limit:
            cut = _fit(line, limit)
            parts.append(line[:cut])
            line = line[cut:]
        current = line
    if current or not parts:
        parts.append(current)
    return [part for part in parts if part.strip()] or [""]


def _fit(text: str, limit: int) -> int:
    """The number of leading characters of `text` that fit in `limit` bytes."""
    return len(text.encode()[:limit].decode("utf-8", "ignore"))


def clip(text: str, limit_bytes: int) -> str:
    """`text` cut to `limit_bytes` bytes of UTF-8, with an ellipsis when cut."""
    if len(text.encode()) <= limit_bytes:
        return text
    return text[: _fit(text, limit_bytes - 3)] + "…"


def text_message(content: str) -> dict[str, Any]:
    """A text payload."""
    return {"msgtype": "text", "text": {"content": content}}


def texts(content: str) -> list[dict[str, Any]]:
    """Text payloads of at most 2048 bytes each."""
    return [text_message(part) for part in split_bytes(content)]


# ---------------------------------------------------------------- the app: template cards


def task_id(token: int | None, part: int) -> str:
    """A card's task id: unique forever per app, made only of [0-9A-Za-z_-@]."""
    return f"t{token or 0}_{part}_{secrets.token_hex(6)}"


def _chunks(buttons: list[tuple[str, str]], size: int) -> list[list[tuple[str, str]]]:
    """Buttons in groups of at most `size`, the navigation pair kept together on the last one."""
    options = [b for b in buttons if b[0] not in NAV_IDS]
    nav = [b for b in buttons if b[0] in NAV_IDS]
    groups = [options[i : i + size] for i in range(0, len(options), size)] or [[]]
    if len(groups[-1]) + len(nav) <= size:
        groups[-1].extend(nav)
    else:
        groups.append(nav)
    return [group for group in groups if group]


def card(title: str, subtitle: str, token: int | None, buttons: list[tuple[str, str]], part: int) -> dict:
    """One button_interaction card."""
    template: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "task_id": task_id(token, part),
        "button_list": [
            {"text": label, "style": GREY if choice in NAV_IDS else 1, "key": card_key(token, choice, label)}
            for choice, label in buttons
        ],
    }
    if subtitle:
        template["sub_title_text"] = subtitle
    return {"msgtype": "template_card", "template_card": template}


def app_messages(translator: Translator, replies: list[Reply]) -> list[dict[str, Any]]:
    """The app's payloads for a turn's replies, in order."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        messages.extend(app_reply(translator, translator.render(reply)))
    return messages


def app_reply(translator: Translator, rendered: Rendered) -> list[dict[str, Any]]:
    """A reply: its text (in the card when short), then cards of at most 6 buttons."""
    if not rendered.buttons:
        return texts(rendered.text)
    messages: list[dict[str, Any]] = []
    title, subtitle = translator.text("wecom.choose"), ""
    if len(rendered.text) <= CARD_TITLE_CHARS and "\n" not in rendered.text:
        title = rendered.text
    elif len(rendered.text) <= CARD_SUBTITLE_CHARS:
        subtitle = rendered.text
    else:
        messages.extend(texts(rendered.text))
    for part, group in enumerate(_chunks(list(rendered.buttons), CARD_BUTTONS)):
        if part:
            title, subtitle = translator.text("wecom.more_choices"), ""
        messages.append(card(title, subtitle, rendered.token, group, part))
    return messages


def card_update(translator: Translator, label: str, notice: str | None) -> str:
    """The text a pressed card's buttons are replaced by: the choice, or why nothing happened."""
    shown = notice if notice is not None else translator.text("core.chosen", {"label": label or "…"})
    return clip(shown.replace("\n", " "), 3 * BUTTON_TEXT_CHARS * 3)


# ---------------------------------------------------------------- 微信客服: menus


def menu(head: str, buttons: list[tuple[str, str]], token: int | None, tail: str = "") -> dict[str, Any]:
    """One msgmenu of at most 10 click items."""
    body: dict[str, Any] = {
        "head_content": clip(head, MENU_HEAD_BYTES),
        "list": [
            {
                "type": "click",
                "click": {"id": press_key(token, choice), "content": clip(label, MENU_ITEM_BYTES)},
            }
            for choice, label in buttons
        ],
    }
    if tail:
        body["tail_content"] = clip(tail, MENU_HEAD_BYTES)
    return {"msgtype": "msgmenu", "msgmenu": body}


def kf_messages(translator: Translator, replies: list[Reply]) -> list[dict[str, Any]]:
    """微信客服 payloads for a turn's replies, in order."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        messages.extend(kf_reply(translator, translator.render(reply)))
    return messages


def kf_reply(translator: Translator, rendered: Rendered) -> list[dict[str, Any]]:
    """A reply: its text (as the menu's head when it fits), then menus of at most 10 items."""
    if not rendered.buttons:
        return texts(rendered.text)
    messages: list[dict[str, Any]] = []
    head = rendered.text
    if len(head.encode()) > MENU_HEAD_BYTES:
        messages.extend(texts(head))
        head = translator.text("wecom.choose")
    for part, group in enumerate(_chunks(list(rendered.buttons), MENU_ITEMS)):
        messages.append(
            menu(head if not part else translator.text("wecom.more_choices"), group, rendered.token)
        )
    return messages


def welcome_message(translator: Translator, replies: list[Reply]) -> dict[str, Any]:
    """Everything of a first turn in one message, for the one-time welcome code of 微信客服."""
    heads: list[str] = []
    last_buttons: Rendered | None = None
    for reply in replies:
        rendered = translator.render(reply)
        heads.append(rendered.text)
        if rendered.buttons:
            last_buttons = rendered
    head = "\n\n".join(heads)
    if last_buttons is None:
        return text_message(clip(head, TEXT_LIMIT_BYTES))
    items = [b for b in last_buttons.buttons][:MENU_ITEMS]
    return menu(head, items, last_buttons.token)
