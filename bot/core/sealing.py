"""Dialog answers at rest are encrypted: a half-done intake holds ID and phone numbers.

The conversation row is written on every update, so only `answers` is sealed (one Fernet
token), and only when it holds something; the rest of the state (flow, step, language)
stays readable for the draft reminders and retention jobs, which never need the answers.
"""

from __future__ import annotations

import json
from typing import Any

from dialogs.model import State
from storage.crypto import Cipher


def seal(state: State, cipher: Cipher) -> str:
    """The state as JSON with its answers replaced by one encrypted token."""
    if not state.answers or isinstance(state.answers, str):
        return state.to_json()
    plain = json.dumps(state.answers, ensure_ascii=False, separators=(",", ":"))
    sealed = State(**{**state.__dict__, "answers": cipher.encrypt(plain)})  # type: ignore[arg-type]
    return sealed.to_json()


def unseal(raw: str | None, cipher: Cipher, default_lang: str) -> State:
    """The state stored by `seal` (or by an older version, in clear), answers decrypted."""
    if not raw:
        return State(lang=default_lang)
    state = State.from_json(raw)
    answers: Any = state.answers
    if isinstance(answers, str):
        state.answers = json.loads(cipher.decrypt(answers))
    return state
