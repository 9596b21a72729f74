"""The engine's replies as WeCom messages: texts split by bytes, template cards, 客服 menus.

App (work teams, HR): choices become `button_interaction` template cards of at most 6 buttons;
a longer list is split over several cards that share the question's token (the first press
wins, the engine makes the others stale), Back and Menu on the last one.
微信客服 (households): choices become `msgmenu` messages of at most 10 items.
Payloads here have no receiver: the sender adds touser/agentid or touser/open_kfid.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
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
LABEL_SEPARATOR = "|"
NUMBERED_KEYS = {"core.use_buttons": "wecom.use_numbers"}  # where choices are numbered lines, not buttons


# ---------------------------------------------------------------- button keys


def press_key(token: int | None, choice_id: str) -> str:
    """The key a button carries back: the same `p:<token>:<choice>` as on Telegram."""
    return f"p:{token or 0}:{choice_id}"


def card_key(button_id: str, label: str) -> str:
    """A card button's key: the button's id, "|", its label (shown on the card once it is pressed)."""
    return clip(f"{button_id}{LABEL_SEPARATOR}{label}", CARD_KEY_BYTES)


def split_card_key(key: str) -> tuple[str, str]:
    """The button id and label of a card key (ids never hold "|")."""
    button_id, _, label = key.partition(LABEL_SEPARATOR)
    return button_id, label


def input_from_key(key: str) -> Input:
    """The press a button id stands for; anything else is an invalid button."""
    parts = key.split(":")
    if len(parts) != 3 or parts[0] != "p" or not parts[1].isdigit() or not parts[2]:
        return Input("invalid_button")
    return Input.choice(parts[2], int(parts[1]))


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
    options = [b for b in buttons if not _is_nav(b[0])]
    nav = [b for b in buttons if _is_nav(b[0])]
    groups = [options[i : i + size] for i in range(0, len(options), size)] or [[]]
    if len(groups[-1]) + len(nav) <= size:
        groups[-1].extend(nav)
    else:
        groups.append(nav)
    return [group for group in groups if group]


def card(title: str, subtitle: str, buttons: list[tuple[str, str]], task: str) -> dict[str, Any]:
    """One button_interaction card; `buttons` are (button id, label), Back and Menu grey."""
    template: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "task_id": task,
        "button_list": [
            {"text": label, "style": GREY if _is_nav(button_id) else 1, "key": card_key(button_id, label)}
            for button_id, label in buttons
        ],
    }
    if subtitle:
        template["sub_title_text"] = subtitle
    return {"msgtype": "template_card", "template_card": template}


def _is_nav(button_id: str) -> bool:
    """Back and Menu (shown grey, and last)."""
    return button_id.rsplit(":", 1)[-1] in NAV_IDS and button_id.startswith("p:")


def app_messages(translator: Translator, replies: list[Reply], *, cards: bool = True) -> list[dict[str, Any]]:
    """The app's payloads for a turn's replies, in order: choices as cards, or (`cards=False`, for
    WeChat's 微工作台, which shows no cards) as numbered lines answered by typing the number."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        if not cards:
            said = replace(reply, key=NUMBERED_KEYS.get(reply.key, reply.key))
            messages.extend(texts(numbered_text(translator, translator.render(said))))
            continue
        rendered = translator.render(reply)
        buttons = [(press_key(rendered.token, choice), label) for choice, label in rendered.buttons]
        messages.extend(app_cards(translator, rendered.text, buttons, rendered.token))
    return messages


def numbered_text(translator: Translator, rendered: Rendered) -> str:
    """A reply with its buttons as lines "1、…" to answer by number; where the answer is typed (an
    age, a name), a number is the answer, so the buttons are offered by their words instead."""
    if not rendered.buttons:
        return rendered.text
    labels = [label for _, label in rendered.buttons]
    if rendered.typed:
        return f"{rendered.text}\n\n{translator.text('wecom.typed_hint', {'labels': ' / '.join(labels)})}"
    lines = [translator.text("wecom.numbered_option", {"number": n, "label": label})
             for n, label in enumerate(labels, start=1)]  # fmt: skip
    return "\n".join([rendered.text, "", *lines, "", translator.text("wecom.numbered_hint")])


def app_cards(
    translator: Translator, text: str, buttons: list[tuple[str, str]], token: int | None = None
) -> list[dict[str, Any]]:
    """A text and its buttons (id, label): the text in the card when short, cards of at most 6 buttons."""
    if not buttons:
        return texts(text)
    messages: list[dict[str, Any]] = []
    title, subtitle = translator.text("wecom.choose"), ""
    if len(text) <= CARD_TITLE_CHARS and "\n" not in text:
        title = text
    elif len(text) <= CARD_SUBTITLE_CHARS:
        subtitle = text
    else:
        messages.extend(texts(text))
    for part, group in enumerate(_chunks(buttons, CARD_BUTTONS)):
        if part:
            title, subtitle = translator.text("wecom.more_choices"), ""
        messages.append(card(title, subtitle, group, task_id(token, part)))
    return messages


def card_update(translator: Translator, label: str, notice: str | None) -> str:
    """The text a pressed card's buttons are replaced by: the choice, or why nothing happened."""
    shown = notice if notice is not None else translator.text("core.chosen", {"label": label or "…"})
    return clip(shown.replace("\n", " "), 3 * BUTTON_TEXT_CHARS * 3)


# ---------------------------------------------------------------- 微信客服: menus


def menu(head: str, buttons: list[tuple[str, str]], tail: str = "") -> dict[str, Any]:
    """One msgmenu of at most 10 click items; `buttons` are (button id, label)."""
    body: dict[str, Any] = {
        "head_content": clip(head, MENU_HEAD_BYTES),
        "list": [
            {
                "type": "click",
                "click": {"id": button_id, "content": clip(label, MENU_ITEM_BYTES)},
            }
            for button_id, label in buttons
        ],
    }
    if tail:
        body["tail_content"] = clip(tail, MENU_HEAD_BYTES)
    return {"msgtype": "msgmenu", "msgmenu": body}


def kf_messages(translator: Translator, replies: list[Reply]) -> list[dict[str, Any]]:
    """微信客服 payloads for a turn's replies, in order."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        rendered = translator.render(reply)
        buttons = [(press_key(rendered.token, choice), label) for choice, label in rendered.buttons]
        messages.extend(kf_menus(translator, rendered.text, buttons))
    return messages


def kf_menus(translator: Translator, text: str, buttons: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """A text and its buttons (id, label): the text as the menu's head when it fits, menus of ≤ 10 items."""
    if not buttons:
        return texts(text)
    messages: list[dict[str, Any]] = []
    head = text
    if len(head.encode()) > MENU_HEAD_BYTES:
        messages.extend(texts(head))
        head = translator.text("wecom.choose")
    for part, group in enumerate(_chunks(buttons, MENU_ITEMS)):
        messages.append(menu(head if not part else translator.text("wecom.more_choices"), group))
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
    items = [(press_key(last_buttons.token, c), label) for c, label in last_buttons.buttons][:MENU_ITEMS]
    return menu(head, items)
