"""Named pure functions that flows call by name: parameters to compute, steps to skip.

Flows are data, so they refer to code by name; a flow naming an unknown hook is rejected
when the content is loaded, not when a user reaches the step.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from dialogs.model import Book, Choice, State

Compute = Callable[[Book, State], dict[str, Any]]
Predicate = Callable[[Book, State], bool]
Lister = Callable[[Book, State], list[Choice]]
Transform = Callable[[Book, State], None]

_COMPUTE: dict[str, Compute] = {}
_PREDICATES: dict[str, Predicate] = {}
_LISTERS: dict[str, Lister] = {}
_TRANSFORMS: dict[str, Transform] = {}
# Modules of flows that bring hooks of their own; imported on first use, not at import time. Hooks that
# live above the engine (content.selfcheck) register themselves when content/book.py loads the flows.
HOOK_MODULES: tuple[str, ...] = (
    "dialogs.areas",
    "dialogs.intake",
    "dialogs.intake_members",
    "dialogs.intake_screens",
    "dialogs.intake_submission",
)


@cache
def _load_modules() -> None:
    """Import the modules that register hooks, once."""
    for name in HOOK_MODULES:
        importlib.import_module(name)


def _registrar(table: dict[str, Any]) -> Callable[[str], Callable[[Any], Any]]:
    """A decorator factory that files functions in `table` under a name."""

    def named(name: str) -> Callable[[Any], Any]:
        def register(func: Any) -> Any:
            table[name] = func
            return func

        return register

    return named


computes = _registrar(_COMPUTE)  # @computes("x"): adds parameters to a step's text
skips = _registrar(_PREDICATES)  # @skips("x"): tells when a step can be skipped
lists = _registrar(_LISTERS)  # @lists("x"): lists a step's choices from the data and the answers
transforms = _registrar(_TRANSFORMS)  # @transforms("x"): changes the answers once a step is answered


def lister(name: str) -> Lister:
    """The choice lister of that name."""
    _load_modules()
    return _LISTERS[name]


def transform(name: str) -> Transform:
    """The transform of that name."""
    _load_modules()
    return _TRANSFORMS[name]


def compute(name: str) -> Compute:
    """The compute hook of that name."""
    _load_modules()
    return _COMPUTE[name]


def predicate(name: str) -> Predicate:
    """The skip predicate of that name."""
    _load_modules()
    return _PREDICATES[name]


def known() -> dict[str, frozenset[str]]:
    """Names of the hooks of each kind, for checking flows when they are loaded."""
    _load_modules()
    return {
        "compute": frozenset(_COMPUTE),
        "skip_if": frozenset(_PREDICATES),
        "choices_from": frozenset(_LISTERS),
        "apply": frozenset(_TRANSFORMS),
    }


@skips("answered")
def already_answered(book: Book, state: State) -> bool:
    """Skip a question whose answer is already known (e.g. from a deep link)."""
    flow = book.flows[state.flow or book.menu]
    step = flow.steps.get(state.step or "")
    return bool(step and step.save_as and step.save_as in state.answers)


@transforms("drop_drafts")
def drop_drafts(book: Book, state: State) -> None:
    """Forget every unfinished flow kept aside (the user asked for their data to be erased)."""
    state.drafts.clear()
