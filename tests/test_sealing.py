"""Answers in stored dialog states are encrypted; flow and step stay readable."""

from __future__ import annotations

import json

from bot.core.sealing import seal, unseal
from dialogs.model import State
from storage.crypto import Cipher

CIPHER = Cipher.from_secret("x" * 40)
ID_NUMBER = "41022520090301123X"


def test_answers_are_sealed_and_come_back():
    state = State(flow="intake", step="m_age", answers={"m_id": ID_NUMBER, "h_phone": "13812345678"})
    raw = seal(state, CIPHER)
    assert ID_NUMBER not in raw and "13812345678" not in raw
    assert json.loads(raw)["flow"] == "intake"  # the draft reminder can still find it
    assert unseal(raw, CIPHER, "en") == state


def test_empty_answers_and_old_clear_states_are_read_as_they_are():
    assert json.loads(seal(State(flow="explain"), CIPHER))["answers"] == {}
    clear = State(flow="check", answers={"plan.kind": "technical_school"}).to_json()
    assert unseal(clear, CIPHER, "en").answers == {"plan.kind": "technical_school"}
    assert unseal(None, CIPHER, "en") == State(lang="en")
