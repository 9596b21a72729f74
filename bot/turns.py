"""One turn of a conversation, the same for every channel: load, advance, act, save.

slot (locked row) ──► State ──► engine.advance ──► events (effects) ──► save ──► replies
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from bot.effects import Effects
from dialogs.engine import advance
from dialogs.model import Book, Event, Input, Reply, State


class Slot(Protocol):
    """A conversation row held for one update (see storage.conversations)."""

    state: str | None
    last_update_id: int | None

    def save(self, state_json: str, update_id: int | None = None) -> None: ...

    def side_writes(self) -> AbstractAsyncContextManager[None]: ...


def load_state(slot: Slot, default_lang: str) -> State:
    """The stored state, or a fresh one in the language the channel guessed."""
    return State.from_json(slot.state) if slot.state else State(lang=default_lang)


async def take_turn(
    *,
    book: Book,
    slot: Slot,
    user_input: Input,
    key: str,
    default_lang: str,
    effects: Effects,
    session: Any,
    update_id: int | None = None,
) -> tuple[State, list[Reply]]:
    """Advance the dialog; effects run before the state is saved, so a failure loses no step."""
    first_contact = slot.state is None
    state = load_state(slot, default_lang)
    turn = advance(book, state, user_input)
    # Effects write through the ORM: side_writes() lets them take turns with the slot's own save.
    if first_contact:
        async with slot.side_writes():
            await effects.first_contact(key=key, lang=turn.state.lang, session=session)
    replies: list[Reply] = []
    for output in turn.replies:
        if isinstance(output, Event):
            async with slot.side_writes():
                replies.extend(await effects.handle(output, key=key, session=session))
        else:
            replies.append(output)
    slot.save(turn.state.to_json(), update_id)
    return turn.state, replies
