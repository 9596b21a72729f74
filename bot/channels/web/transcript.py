"""What a web chat shows: its last messages, kept encrypted between visits, and the outbound sender.

A page is a list of entries, newest last: the bot's messages (text, buttons, the step token the
buttons carry, whether it is a short notice) and what the person sent. It is stored sealed with
DATA_KEY (storage.repositories.web), like the dialog state, because it can hold what was typed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.core.outbound import Sender
from content.i18n import Translator
from dialogs.model import Reply
from storage.crypto import Cipher, DecryptionError
from storage.repositories import web as repo

KEEP = 40  # entries kept: a screenful or two of history


@dataclass
class Entry:
    """One message on the page."""

    who: str  # "bot" or "me"
    text: str
    buttons: list[list[str]] = field(default_factory=list)  # [id, label] pairs
    token: int | None = None
    notice: bool = False


@dataclass
class Page:
    """The entries of a web chat."""

    entries: list[Entry] = field(default_factory=list)
    lang: str | None = None  # the conversation's language when the page was last written

    def add(self, entries: Iterable[Entry]) -> None:
        """Append entries, keeping the last KEEP."""
        self.entries = [*self.entries, *entries][-KEEP:]

    @property
    def buttons(self) -> tuple[list[list[str]], int | None]:
        """The buttons that can be pressed now (those of the newest bot message that has any)."""
        for entry in reversed(self.entries):
            if entry.who == "bot" and entry.buttons:
                return entry.buttons, entry.token
        return [], None

    def label_of(self, choice: str) -> str | None:
        """The label of a button on the newest message with buttons."""
        buttons, _ = self.buttons
        return next((label for ident, label in buttons if ident == choice), None)


def bot_entries(translator: Translator, replies: Iterable[Reply]) -> list[Entry]:
    """Replies as page entries in the reader's language."""
    entries = []
    for reply in replies:
        rendered = translator.render(reply)
        buttons = [[ident, label] for ident, label in rendered.buttons]
        entries.append(Entry("bot", rendered.text, buttons, rendered.token, rendered.notice))
    return entries


def seal_page(page: Page, cipher: Cipher) -> str:
    """A page as stored."""
    data = {"lang": page.lang, "entries": [asdict(e) for e in page.entries]}
    return cipher.encrypt(json.dumps(data, ensure_ascii=False))


def unseal_page(sealed: str | None, cipher: Cipher) -> Page:
    """A stored page; an empty one when there is none or it cannot be read (key rotated away)."""
    if not sealed:
        return Page()
    try:
        raw: dict[str, Any] = json.loads(cipher.decrypt(sealed))
        return Page([Entry(**item) for item in raw["entries"]], raw.get("lang"))
    except (DecryptionError, ValueError, KeyError, TypeError):
        return Page()


async def load(session: Any, cipher: Cipher, key: str) -> Page:
    """The stored page of a key."""
    return unseal_page(await repo.load_page(session=session, key=key), cipher)


async def store(session: Any, cipher: Cipher, key: str, page: Page) -> None:
    """Store a page. Commits."""
    await repo.save_page(session=session, key=key, sealed=seal_page(page, cipher), now=time.time())


def outbound_sender(services: Any) -> Sender:
    """A sender for "web:" keys: messages the bot sends on its own wait on the page for the next visit."""

    async def send(key: str, replies: list[Reply], lang: str) -> bool:
        async with services.conversations.locks.hold(key), services.database.session() as session:
            page = await load(session, services.cipher, key)
            page.add(bot_entries(Translator(lang), replies))
            page.lang = lang
            await store(session, services.cipher, key, page)
        return True

    return send
