"""One turn of a conversation, the same for every channel: load, advance, act, save.

slot (locked row) ──► State ──► engine.advance ──► events (effects) ──► save ──► replies
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bot.core.effects import Effects
from bot.core.sealing import seal, unseal
from dialogs.engine import advance, numbered
from dialogs.model import Book, Event, Input, Reply, State
from storage.crypto import Cipher


class Slot(Protocol):
    """A conversation row held for one update (see storage.conversations)."""

    state: str | None
    last_update_id: int | None

    def save(self, state_json: str, update_id: int | None = None) -> None: ...

    def side_writes(self) -> AbstractAsyncContextManager[None]: ...


async def take_turn(
    *,
    book: Book,
    slot: Slot,
    user_input: Input,
    key: str,
    default_lang: str,
    effects: Effects,
    session: Any,
    cipher: Cipher,
    update_id: int | None = None,
    numbers_press: bool = False,
) -> tuple[State, list[Reply]]:
    """Advance the dialog; effects run before the state is saved, so a failure loses no step.

    `numbers_press`: a typed number presses that button of the open question (channels whose buttons
    are numbered, or may not show at all).
    """
    first_contact = slot.state is None
    state = unseal(slot.state, cipher, default_lang)
    if numbers_press:
        user_input = numbered(book, state, user_input)
    turn = advance(book, state, user_input)
    # Effects write through the ORM: side_writes() lets them take turns with the slot's own save.
    if first_contact:
        async with slot.side_writes():
            await effects.first_contact(key=key, lang=turn.state.lang, session=session)
    elif effects.contact_hooks:  # held messages (e.g. HR news for a closed WeChat window) go out now
        await effects.contact(key=key, session=session, side_writes=slot.side_writes)
    replies: list[Reply] = []
    for output in turn.replies:
        if isinstance(output, Event):
            async with slot.side_writes():
                replies.extend(await effects.handle(output, key=key, session=session))
        else:
            replies.append(output)
    slot.save(seal(turn.state, cipher), update_id)
    return turn.state, replies
