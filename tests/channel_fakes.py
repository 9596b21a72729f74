"""In-memory channels for the channel-neutral tests: a digest channel without edit, and an HR chat.

`NoEditChannel` behaves as WeCom's message/send with enable_duplicate_check does: it cannot edit a
sent text, and a repeat of the same text to the same receiver within `dedupe_seconds` is accepted
but not delivered again. It keeps what each chat shows, so tests check what people would see.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.features.delivery.channel import BeforeTry, Rejected, Unreachable
from bot.features.hr.chat import HrFile, Keyboard


@dataclass
class Shown:
    """One message a chat shows."""

    id: str
    kind: str  # text, file, image
    text: str


@dataclass
class NoEditChannel:
    """A DigestChannel that cannot edit and drops repeats within its dedupe window."""

    dedupe_seconds: float = 4 * 3600.0
    limit_bytes: int = 2048
    clock: Callable[[], float] = time.time
    can_edit: bool = False
    chats: dict[str, list[Shown]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)  # addresses that exist; others are refused
    fail_next: list[str] = field(default_factory=list)  # "unreachable" or "lost" (sent, answer lost)
    calls: list[str] = field(default_factory=list)
    _sent: dict[tuple[str, str], tuple[float, str]] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fits(self, text: str) -> bool:
        """WeCom's 2048 bytes of UTF-8."""
        return len(text.encode()) <= self.limit_bytes

    async def send_text(
        self, address: str, text: str, *, dedupe_key: str | None = None, before_try: BeforeTry = None
    ) -> str:
        """Show a text once per dedupe window; a repeat gets the first one's id back."""
        await self._enter(address, "send_text", before_try)
        if not self.fits(text):
            raise Rejected("text too long")
        now = self.clock()
        earlier = self._sent.get((address, text))
        if dedupe_key is not None and earlier is not None and now - earlier[0] < self.dedupe_seconds:
            return self._answer(earlier[1])
        shown = self._show(address, "text", text)
        self._sent[(address, text)] = (now, shown.id)
        return self._answer(shown.id)

    async def edit_text(
        self, address: str, message_id: str, text: str, *, before_try: BeforeTry = None
    ) -> None:
        """Never called by a correct worker."""
        raise AssertionError("edit_text on a channel without edit")

    async def send_file(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """Show a document."""
        await self._enter(address, "send_file", before_try)
        return self._answer(self._show(address, "file", caption).id)

    async def send_image(
        self, address: str, name: str, data: bytes, caption: str, *, before_try: BeforeTry = None
    ) -> str:
        """Show a picture."""
        await self._enter(address, "send_image", before_try)
        return self._answer(self._show(address, "image", caption).id)

    async def delete(self, address: str, message_id: str, *, before_try: BeforeTry = None) -> None:
        """WeCom cannot delete either (it can recall within a day; not needed here)."""
        raise Rejected("cannot delete")

    def texts(self, address: str) -> list[str]:
        """The texts a chat shows, in order."""
        return [m.text for m in self.chats.get(address, []) if m.kind == "text"]

    def kinds(self, address: str) -> list[str]:
        """What a chat shows, by kind, in order."""
        return [m.kind for m in self.chats.get(address, [])]

    async def _enter(self, address: str, call: str, before_try: BeforeTry) -> None:
        """The lease check, the refusal of unknown chats, and an injected network failure."""
        self.calls.append(call)
        if before_try is not None:
            await before_try()
        if address not in self.known:
            raise Rejected("81013: no valid receiver")
        if self.fail_next and self.fail_next[0] == "unreachable":
            self.fail_next.pop(0)
            raise Unreachable("503 from the platform")

    def _show(self, address: str, kind: str, text: str) -> Shown:
        """Add a message to a chat."""
        shown = Shown(str(next(self._ids)), kind, text)
        self.chats.setdefault(address, []).append(shown)
        return shown

    def _answer(self, message_id: str) -> str:
        """The id, unless the answer is to be lost on the way back (the message is shown anyway)."""
        if self.fail_next and self.fail_next[0] == "lost":
            self.fail_next.pop(0)
            raise Unreachable("timed out reading the answer")
        return message_id


@dataclass
class FakeHrChat:
    """An HrChat without edit and without toasts (as WeCom's app chat): everything is a message."""

    key: str
    can_edit: bool = False
    sent: list[tuple[str, str, Keyboard]] = field(default_factory=list)  # (id, text, buttons)
    notices: list[str | None] = field(default_factory=list)
    files: list[HrFile] = field(default_factory=list)

    async def send(self, text: str, buttons: Keyboard = ()) -> str | None:
        """Keep the message; its id."""
        message_id = str(len(self.sent) + 1)
        self.sent.append((message_id, text, buttons))
        return message_id

    async def edit(self, message_id: str, text: str, buttons: Keyboard = ()) -> bool:
        """Cannot."""
        return False

    async def answer(self, text: str | None) -> None:
        """Keep the notice."""
        self.notices.append(text)

    async def remove_buttons(self, message_id: str) -> None:
        """Cannot: nothing to do."""

    async def send_file(self, file: HrFile) -> None:
        """Keep the file."""
        self.files.append(file)
