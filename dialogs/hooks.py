"""Named pure functions that flows call by name: parameters to compute, steps to skip.

Flows are data, so they refer to code by name; a flow naming an unknown hook is rejected
when the content is loaded, not when a user reaches the step.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from dialogs.model import Book, State

Compute = Callable[[Book, State], dict[str, Any]]
Predicate = Callable[[Book, State], bool]

_COMPUTE: dict[str, Compute] = {}
_PREDICATES: dict[str, Predicate] = {}
# Modules of flows that bring hooks of their own; imported on first use, not at import time.
HOOK_MODULES: tuple[str, ...] = ()


@cache
def _load_modules() -> None:
    """Import the modules that register hooks, once."""
    for name in HOOK_MODULES:
        importlib.import_module(name)


def computes(name: str) -> Callable[[Compute], Compute]:
    """Register a function that adds parameters to a step's text."""

    def register(func: Compute) -> Compute:
        _COMPUTE[name] = func
        return func

    return register


def skips(name: str) -> Callable[[Predicate], Predicate]:
    """Register a predicate that tells when a step can be skipped."""

    def register(func: Predicate) -> Predicate:
        _PREDICATES[name] = func
        return func

    return register


def compute(name: str) -> Compute:
    """The compute hook of that name."""
    _load_modules()
    return _COMPUTE[name]


def predicate(name: str) -> Predicate:
    """The skip predicate of that name."""
    _load_modules()
    return _PREDICATES[name]


def known() -> tuple[frozenset[str], frozenset[str]]:
    """Names of the compute hooks and of the predicates."""
    _load_modules()
    return frozenset(_COMPUTE), frozenset(_PREDICATES)


@skips("answered")
def already_answered(book: Book, state: State) -> bool:
    """Skip a question whose answer is already known (e.g. from a deep link)."""
    flow = book.flows[state.flow or book.menu]
    step = flow.steps.get(state.step or "")
    return bool(step and step.save_as and step.save_as in state.answers)
