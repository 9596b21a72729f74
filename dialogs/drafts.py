"""Drafts of resumable flows: the answers a user stepped out of are kept aside, never lost by a tap.

A flow marked `resumable` that holds answers and is not at a `final` step is "unfinished". When another
flow takes the screen (主菜单, /menu, another command), the engine keeps it in `state.drafts` under its
flow id; entering the flow again brings it back and asks "continue / start over".
"""

from __future__ import annotations

import copy

from dialogs.model import Book, State

DRAFT_FIELDS = ("step", "answers", "history", "page", "return_to")  # what a stepped-out flow keeps


def unfinished(book: Book, state: State) -> bool:
    """True when the current flow is resumable and holds answers that are not yet complete."""
    flow = book.flows.get(state.flow or "")
    step = flow.steps.get(state.step or "") if flow is not None else None
    if flow is None or not flow.resumable or (step is not None and step.final):
        return False
    return state.step != flow.start or bool(state.answers) or bool(state.history)


def stash(book: Book, state: State) -> None:
    """Keep the current flow's unfinished answers aside before another flow takes the screen."""
    if unfinished(book, state) and state.flow is not None:
        state.drafts[state.flow] = {name: copy.deepcopy(getattr(state, name)) for name in DRAFT_FIELDS}


def restore(state: State, flow_id: str) -> None:
    """Put a kept draft back as the current flow."""
    draft = state.drafts.pop(flow_id)
    state.flow, state.mode = flow_id, None
    state.step = draft.get("step")
    state.answers = dict(draft.get("answers") or {})
    state.history = list(draft.get("history") or [])
    state.page = int(draft.get("page") or 0)
    state.return_to = draft.get("return_to")
