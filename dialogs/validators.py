"""Validators for typed answers: pure functions from text to a value or an error key."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Validated:
    """A typed answer checked: the value to store, or the error key and its parameters."""

    ok: bool
    value: Any = None
    error: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    goto: str | None = None  # where the answer leads, when the validator decides (e.g. a search hit)
    note: str = ""  # a message key shown before moving on with a valid answer ("taken: 周场村(堌阳镇)")
    remember: dict[str, Any] = field(default_factory=dict)  # kept in state.data, valid or not (search hits)


Validator = Callable[[str, Mapping[str, Any], Mapping[str, Any]], Validated]

_REGISTRY: dict[str, Validator] = {}
_NUMERIC: set[str] = set()  # validators of answers written in digits (age, phone, ID number)


def validator(name: str, *, numeric: bool = False) -> Callable[[Validator], Validator]:
    """Register a validator under the name flows use in `validate:`; `numeric` when answers are digits."""

    def register(func: Validator) -> Validator:
        _REGISTRY[name] = func
        if numeric:
            _NUMERIC.add(name)
        return func

    return register


def numeric(name: str | None) -> bool:
    """True when the named validator reads numbers, so that a typed number is its answer, not a button."""
    return name in _NUMERIC


def names() -> frozenset[str]:
    """The names flows may use."""
    return frozenset(_REGISTRY)


def run(name: str | None, text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """Run the named validator (plain text when none is named)."""
    return _REGISTRY[name or "text"](text, answers, context)


def ok(
    value: Any,
    goto: str | None = None,
    *,
    note: str = "",
    remember: dict[str, Any] | None = None,
    **params: Any,
) -> Validated:
    """A valid answer (optionally leading somewhere other than the step's `next`, with a note to show)."""
    return Validated(True, value, params=params, goto=goto, note=note, remember=remember or {})


def error(key: str, *, remember: dict[str, Any] | None = None, **params: Any) -> Validated:
    """An invalid answer: the message key that says what is expected, with an example."""
    return Validated(False, error=key, params=params, remember=remember or {})


def has_letters(text: str) -> bool:
    """True when the text holds at least one letter or CJK character (not only emoji or signs)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


@validator("text")
def plain_text(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """Any non-empty text with at least one letter."""
    if not text or not has_letters(text):
        return error("err.text_needed")
    return ok(text)


@validator("integer", numeric=True)
def integer(text: str, answers: Mapping[str, Any], context: Mapping[str, Any]) -> Validated:
    """A whole number, also written with full-width digits."""
    normalized = unicodedata.normalize("NFKC", text).strip()
    if not normalized.isdigit():
        return error("err.number_needed", example="3")
    return ok(int(normalized))
