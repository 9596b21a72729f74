"""What the HR side needs from the chat an HR command or button press came from, channel-neutral.

The HR logic (bot.features.hr.commands, followup, router) produces neutral output only: texts,
buttons as (id, label) rows, files; a channel implements `HrChat` to show them (Telegram:
bot/channels/telegram/hr.py; inline keyboards, callback data = the button id). A button's id is
the packed `bot.features.hr.buttons.Press` ("h:s:12:contacted"): ids and codes only, at most 64
bytes, so it fits Telegram's callback data, a WeCom template card's key and a kf menu item's id.

    send(text, buttons) -> message id or None     a message, optionally with buttons; a text longer
                                                  than one message of the channel is split by it
                                                  (buttons with the last part, whose id is returned)
    edit(message_id, text, buttons) -> bool       replace a message (False: cannot; the caller sends)
    answer(text)                                  the short notice of a pressed button (a toast on
                                                  Telegram; a channel without toasts may send a text
                                                  or nothing; None: acknowledge silently)
    remove_buttons(message_id)                    take the buttons off a message (best effort)
    send_file(HrFile)                             a document (the /export workbook)

`HrChat.key` is the chat's key (`bot.core.identity`): "tg:-100123" for a Telegram group,
"wecom:zhangsan" for a member's own app chat. `HrChat.can_edit` says whether `edit` can work at
all; without it the follow-up logic sends a new message instead of changing the pressed one.
A channel with fewer buttons per message than a record needs (five statuses) splits rows itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Button:
    """One button: the id it sends back and its label in the reader's language."""

    id: str
    label: str


Keyboard = tuple[tuple[Button, ...], ...]  # rows of buttons; () for none


@dataclass(frozen=True)
class HrFile:
    """A document to send: its file name, bytes and caption."""

    name: str
    data: bytes
    caption: str


@runtime_checkable
class HrChat(Protocol):
    """The chat an HR update came from, as its channel shows things (see the module docstring)."""

    key: str
    can_edit: bool

    async def send(self, text: str, buttons: Keyboard = ()) -> str | None:
        """Send a message; its id (None when the channel keeps none)."""
        ...

    async def edit(self, message_id: str, text: str, buttons: Keyboard = ()) -> bool:
        """Replace a message's text and buttons; False when the channel refuses or cannot."""
        ...

    async def answer(self, text: str | None) -> None:
        """Acknowledge the pressed button, with a short notice when `text` is given."""
        ...

    async def remove_buttons(self, message_id: str) -> None:
        """Take the buttons off a message, so it is not pressed twice (best effort)."""
        ...

    async def send_file(self, file: HrFile) -> None:
        """Send a document."""
        ...


@dataclass(frozen=True)
class Sender:
    """Who wrote or pressed, where: the person's key, whether the chat is private, their language."""

    actor: str  # the person's key, e.g. "tg:101", "wecom:zhangsan"
    private: bool
    lang: str
