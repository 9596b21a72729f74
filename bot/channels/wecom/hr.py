"""County HR in the WeCom app: /summary, /pending (follow-up buttons as template cards), /export.

The HR logic is channel-neutral (bot.features.hr.router); this is WeCom's `HrChat`. An HR member
talks to the app one to one, so the chat is the member's own key ("wecom:<UserID>"). WeCom cannot
change a sent message's text, so `can_edit` is False: the follow-up sends the new status as a new
message, and a pressed card is greyed out showing what was pressed (or the refusal). Everything
goes through the outbox, so the callback is still answered within WeCom's 5 seconds.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from bot.channels.wecom import render
from bot.channels.wecom.dialog import Dialogs
from bot.channels.wecom.inbound import Incoming
from bot.core.identity import WECOM, make_key, parse_key
from bot.features.hr.buttons import is_ours
from bot.features.hr.chat import HrFile, Keyboard, Sender
from bot.features.hr.router import COMMAND_NAMES, handle_command, handle_press, handle_text
from content.i18n import Translator
from dialogs.model import DEFAULT_LANGUAGE
from storage.models_wecom import APP, APP_FILE
from storage.repositories.users import get_user

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class WeComHrChat:
    """An HrChat for one member's app chat, and the pressed card when there is one."""

    dialogs: Dialogs
    user_id: str
    lang: str = DEFAULT_LANGUAGE
    response_code: str = ""
    pressed_label: str = ""
    can_edit: bool = False
    notice: str | None = field(default=None, init=False)

    @property
    def key(self) -> str:
        """The chat's key (the member's own)."""
        return make_key(WECOM, self.user_id)

    async def send(self, text: str, buttons: Keyboard = ()) -> str | None:
        """Queue the text and its buttons as texts and cards; WeCom gives no id to edit later."""
        flat = [(button.id, button.label) for row in buttons for button in row]
        payloads = render.app_cards(Translator(self.lang), text, flat)
        await self.dialogs.queue(self.key, APP, [self.dialogs.to_member(self.user_id, p) for p in payloads])
        return None

    async def edit(self, message_id: str, text: str, buttons: Keyboard = ()) -> bool:
        """WeCom cannot replace a message's text."""
        return False

    async def answer(self, text: str | None) -> None:
        """Keep the notice: it replaces the pressed card's buttons (WeCom has no toast)."""
        self.notice = text

    async def remove_buttons(self, message_id: str) -> None:
        """Nothing to do: the pressed card is greyed out by `finish`."""

    async def send_file(self, file: HrFile) -> None:
        """Queue the document (uploaded as temporary media when its turn comes), its caption first."""
        if file.caption:
            await self.send(file.caption)
        payload = self.dialogs.to_member(self.user_id, {"msgtype": "file", "file": {
            "name": file.name, "data": base64.b64encode(file.data).decode(), "content_type": XLSX_TYPE,
        }})  # fmt: skip
        await self.dialogs.queue(self.key, APP_FILE, [payload])

    async def finish(self) -> None:
        """Grey out the pressed card, showing the notice or the pressed button's label."""
        if not self.response_code:
            return
        text = render.card_update(Translator(self.lang), self.pressed_label, self.notice)
        await self.dialogs.queue_card_update(self.user_id, self.response_code, text)


def may_be_hr(incoming: Incoming, note_takers: set[str]) -> bool:
    """Whether an input can be for the HR side, decided without the database: an HR command or
    button, or a text of someone who used one in this process (only they can owe a note: the note
    is asked for after a press of theirs here). Everything else goes straight to the dialogs."""
    user_input = incoming.user_input
    if user_input.kind == "command":
        return user_input.value in COMMAND_NAMES
    if incoming.button_id:
        return is_ours(incoming.button_id)
    return user_input.kind == "text" and incoming.key in note_takers


async def handle_hr(dialogs: Dialogs, incoming: Incoming, session: Any) -> bool:
    """An HR command, an HR button or a note asked for; True when handled (the dialogs skip it)."""
    parsed = parse_key(incoming.key)
    if parsed is None or parsed.channel != WECOM:
        return False
    user_input = incoming.user_input
    command = user_input.kind == "command" and user_input.value in COMMAND_NAMES
    press = bool(incoming.button_id) and is_ours(incoming.button_id)
    if not (command or press or user_input.kind == "text"):
        return False
    user = await get_user(session=session, channel_key=incoming.key)
    lang = user.language if user is not None else DEFAULT_LANGUAGE
    chat = WeComHrChat(dialogs, parsed.id, lang, incoming.response_code, incoming.label)
    sender = Sender(incoming.key, True, lang)
    outbound = dialogs.services.outbound
    if press:
        handled = await handle_press(
            chat, sender, incoming.button_id, None, session=session, outbound=outbound
        )
    elif command:
        handled = await handle_command(chat, sender, user_input.value, user_input.arg, session=session,
                                       outbound=outbound)  # fmt: skip
    else:
        handled = await handle_text(chat, sender, user_input.value, session=session, outbound=outbound)
    await chat.finish()
    return handled
