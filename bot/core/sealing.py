"""Dialog answers at rest are encrypted: a half-done intake holds ID and phone numbers.

The conversation row is written on every update, so only `answers` is sealed (one Fernet
token), and only when it holds something; each kept draft (`drafts`: flow id -> its answers
and place) is sealed the same way under its readable flow id. The rest of the state (flow,
step, language) stays readable for the draft reminders and retention jobs.
"""

from __future__ import annotations

import json
from typing import Any

from dialogs.model import State
from storage.crypto import Cipher

INVITATION_PREFIX = "i_"  # bot.features.access.effects.INVITE_PREFIX (core does not import features)


def _sealed(value: Any, cipher: Cipher) -> Any:
    """A non-empty JSON value as one encrypted token (an empty or already sealed one as it is)."""
    if not value or isinstance(value, str):
        return value
    return cipher.encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _opened(value: Any, cipher: Cipher) -> Any:
    """A value sealed by `_sealed`, decrypted (a clear one from an older version as it is)."""
    return json.loads(cipher.decrypt(value)) if isinstance(value, str) else value


def seal(state: State, cipher: Cipher) -> str:
    """The state as JSON with its answers and each kept draft replaced by an encrypted token.

    An invitation code from a deep link (`/start i_<code>`) is never stored: it was redeemed in
    the turn that brought it, and in the readable part of the state it would be a usable secret.
    """
    data = _without_invitation(state.data)
    if not state.answers and not state.drafts and data is state.data:
        return state.to_json()
    drafts = {flow: _sealed(draft, cipher) for flow, draft in state.drafts.items()}
    answers = _sealed(state.answers, cipher)
    return State(**{**state.__dict__, "answers": answers, "drafts": drafts, "data": data}).to_json()


def _without_invitation(data: dict[str, Any]) -> dict[str, Any]:
    """The state's data without an invitation deep link's payload (the same dict when there is none)."""
    if not str(data.get("start_payload") or "").startswith(INVITATION_PREFIX):
        return data
    return {name: value for name, value in data.items() if name != "start_payload"}


def unseal(raw: str | None, cipher: Cipher, default_lang: str) -> State:
    """The state stored by `seal` (or by an older version, in clear), answers decrypted."""
    if not raw:
        return State(lang=default_lang)
    state = State.from_json(raw)
    state.answers = _opened(state.answers, cipher)
    state.drafts = {flow: _opened(draft, cipher) for flow, draft in state.drafts.items()}
    return state
