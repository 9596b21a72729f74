"""Golden transcripts as data: a trigger, the inputs, the expected reply keys (after goflow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dialogs.engine import advance
from dialogs.model import Book, Event, Input, Reply, State

GOLDEN_DIR = Path(__file__).parent / "golden"


def golden_files(pattern: str = "*.yaml") -> list[Path]:
    """The transcript files matching a pattern."""
    return sorted(GOLDEN_DIR.glob(pattern))


def to_input(turn: dict[str, Any], shown: list[Reply]) -> Input:
    """The engine input for one turn: `send` (command or text), `text`, `press`, or `other`."""
    if "press" in turn:
        wanted = str(turn["press"])
        for reply in reversed(shown):
            if any(option.id == wanted for option in reply.options):
                return Input.choice(wanted, reply.token)
        raise AssertionError(f"no button '{wanted}' on screen; shown: {[r.key for r in shown]}")
    if "other" in turn:
        return Input("other")
    text = str(turn.get("send", turn.get("text", "")))
    if "send" in turn and text.startswith("/"):
        head, _, arg = text.partition(" ")
        return Input.command(head[1:], arg)
    return Input.text(text)


def play(book: Book, transcript: dict[str, Any]) -> list[tuple[Any, Any]]:
    """Run a transcript; (expected, actual) reply keys of every turn, and answers or events where given."""
    state = State(lang=transcript.get("lang", "zh_Hans"))
    shown: list[Reply] = []
    results = []
    for turn in transcript["turns"]:
        state, replies = advance(book, state, to_input(turn, shown))
        shown = [r for r in replies if isinstance(r, Reply)]
        results.append((list(turn["expect"]), [r.key for r in shown]))
        if "answers" in turn:  # answers that must be held at this point (nothing lost by a tap)
            held = {key: state.answers.get(key) for key in turn["answers"]}
            results.append((dict(turn["answers"]), held))
        if "absent" in turn:  # buttons that must not be offered
            offered = {option.id for reply in shown for option in reply.options}
            results.append(([], sorted(offered & set(turn["absent"]))))
        if "events" in turn:  # events the turn must emit, in order
            results.append((list(turn["events"]), [r.name for r in replies if isinstance(r, Event)]))
    return results


def load(path: Path) -> dict[str, Any]:
    """One transcript file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))
