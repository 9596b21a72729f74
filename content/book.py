"""Load the flows and the clauses of the notice into the engine's `Book`, checking them."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from content.errors import ContentError
from dialogs import hooks, validators
from dialogs.engine import END, FLOW_PREFIX, LANGUAGE_PREFIX, NAVIGATION_IDS
from dialogs.model import MAX_ID_LENGTH, Book, Choice, Clause, Flow, Money, Number, Step

CONTENT_DIR = Path(__file__).parent
ID_PATTERN = re.compile(r"^[a-z0-9_]+$")
KEY_PATTERN = re.compile(r"^[a-z0-9_]+(\.[a-zA-Z0-9_]+)+$")
STEP_FIELDS = {
    "text",
    "choices",
    "input",
    "save_as",
    "validate",
    "next",
    "cite",
    "params",
    "help",
    "compute",
    "skip_if",
    "emit",
    "choices_from",
    "apply",
    "keep_going",
    "final",
}
CHOICE_FIELDS = {"id", "label", "goto", "value", "action", "apply", "edit", "emit"}
# Actions the engine knows; any other name is sent to the channel as an event.
ACTIONS = {"language", "help", "not_ready"}
# The notice's own date: amounts in the explainer are the amounts the notice states.
NOTICE_DATE = dt.date(2017, 7, 21)


@cache
def load_book(content_dir: Path = CONTENT_DIR) -> Book:
    """Read every flow and the clauses; raise ContentError naming what is wrong."""
    clauses, document = _load_clauses(content_dir / "policy" / "clauses.yaml")
    flows: dict[str, Flow] = {}
    commands: dict[str, str] = {}
    deep_links: dict[str, str] = {}
    for path in sorted((content_dir / "flows").glob("*.yaml")):
        flow, data = _load_flow(path, content_dir)
        flows[flow.id] = flow
        if data.get("command"):
            commands[str(data["command"])] = flow.id
        if data.get("deep_link"):
            deep_links[str(data["deep_link"])] = flow.id
    from content.benefits import load_rules
    from content.i18n import label_text

    # Hooks are pure and read what they need from the book's context, never from files;
    # "label" turns a button into its words, so that typing a button's label presses it.
    context = {"rules": load_rules(), "label": label_text}
    book = Book(
        flows=flows,
        clauses=clauses,
        commands=commands,
        deep_links=deep_links,
        document=document,
        context=context,
    )
    _check_links(book, content_dir)
    return book


def _read_yaml(path: Path) -> Any:
    """Parse one YAML file, turning syntax errors into a ContentError."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(path, "file", "-", str(exc).replace("\n", " ")) from exc


def _load_clauses(path: Path) -> tuple[dict[str, Clause], str]:
    """The notice's clauses (with text) and the outside sources (citation only)."""
    data = _read_yaml(path)
    document = data.get("document", "")
    clauses = {
        str(c["id"]): Clause(str(c["id"]), f"{document} {c['id']}", str(c.get("text", "")).strip())
        for c in data.get("clauses", [])
    }
    for source in data.get("sources", []):
        clauses[str(source["id"])] = Clause(str(source["id"]), str(source["citation"]), "")
    return clauses, document


def _load_flow(path: Path, content_dir: Path) -> tuple[Flow, dict[str, Any]]:
    """One flow file into a Flow, with the file's data (for `command` and `deep_link`)."""
    data = _read_yaml(path)
    if not isinstance(data, dict) or "id" not in data or "steps" not in data:
        raise ContentError(path, "flow", "id/steps", "a flow needs an id and steps")
    steps = {
        str(step_id): _load_step(path, str(step_id), raw or {}, content_dir)
        for step_id, raw in data["steps"].items()
    }
    start = str(data.get("start") or next(iter(steps)))
    if start not in steps:
        raise ContentError(path, f"flow '{data['id']}'", "start", f"no step '{start}'")
    flow = Flow(
        id=str(data["id"]), start=start, steps=steps, resumable=bool(data.get("resumable")),
        link_notice=data.get("link_notice"),
    )  # fmt: skip
    return flow, data


def _load_step(path: Path, step_id: str, raw: dict[str, Any], content_dir: Path) -> Step:
    """One step, with its fields checked."""
    where = f"step '{step_id}'"
    _check_id(path, where, "id", step_id)
    unknown = set(raw) - STEP_FIELDS
    if unknown:
        raise ContentError(path, where, sorted(unknown)[0], "unknown field")
    if "text" not in raw or not KEY_PATTERN.match(str(raw["text"])):
        raise ContentError(path, where, "text", "a message key such as 'explain.what.body' is needed")
    choices = tuple(_load_choice(path, where, i, c) for i, c in enumerate(raw.get("choices") or []))
    return Step(
        id=step_id,
        text=str(raw["text"]),
        choices=choices,
        input=raw.get("input", "choice"),
        save_as=raw.get("save_as"),
        validate=raw.get("validate"),
        next=raw.get("next"),
        cite=tuple(str(c) for c in raw.get("cite") or ()),
        params={k: _param(path, where, k, v) for k, v in (raw.get("params") or {}).items()},
        help=raw.get("help"),
        compute=raw.get("compute"),
        skip_if=raw.get("skip_if"),
        emit=raw.get("emit"),
        choices_from=raw.get("choices_from"),
        apply=raw.get("apply"),
        keep_going=bool(raw.get("keep_going", False)),
        final=bool(raw.get("final", False)),
    )


def _load_choice(path: Path, where: str, index: int, raw: dict[str, Any]) -> Choice:
    """One button of a step."""
    field = f"choices[{index}]"
    unknown = set(raw) - CHOICE_FIELDS
    if unknown:
        raise ContentError(path, where, f"{field}.{sorted(unknown)[0]}", "unknown field")
    choice_id = str(raw.get("id", ""))
    _check_id(path, where, f"{field}.id", choice_id)
    if choice_id in NAVIGATION_IDS or choice_id.startswith(LANGUAGE_PREFIX):
        raise ContentError(path, where, f"{field}.id", f"'{choice_id}' is reserved for navigation")
    if raw.get("action") and raw["action"] not in ACTIONS:
        raise ContentError(path, where, f"{field}.action", f"unknown action '{raw['action']}'")
    return Choice(
        id=choice_id,
        label=str(raw.get("label", "")),
        goto=raw.get("goto"),
        value=raw.get("value"),
        action=raw.get("action"),
        apply=raw.get("apply"),
        edit=bool(raw.get("edit", False)),
        emit=raw.get("emit"),
    )


def _param(path: Path, where: str, name: str, raw: Any) -> Any:
    """A step parameter: plain values as they are, money and numbers typed for formatting."""
    if not isinstance(raw, dict):
        return raw
    if "money" in raw:
        return Money(int(raw["money"]))
    if "number" in raw:
        return Number(int(raw["number"]))
    if "benefit_amount" in raw:
        return _benefit_amount(path, where, name, raw)
    raise ContentError(path, where, f"params.{name}", "use a plain value, money, number or benefit_amount")


def _benefit_amount(path: Path, where: str, name: str, raw: dict[str, Any]) -> Money:
    """An amount read from the benefit rules, so a figure is changed in one place only."""
    from content.benefits import load_rules  # the rules are only needed when a flow cites them

    as_of = raw.get("as_of", NOTICE_DATE)
    as_of = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    period = load_rules().amount_on(str(raw["benefit_amount"]), as_of)
    if period is None or period.cny_per_year is None:
        raise ContentError(path, where, f"params.{name}", f"no amount for {raw['benefit_amount']} on {as_of}")
    return Money(int(period.cny_per_year))


def _check_id(path: Path, where: str, field: str, value: str) -> None:
    """Ids travel in button data: short, lower-case ASCII."""
    if not ID_PATTERN.match(value) or len(value) > MAX_ID_LENGTH:
        raise ContentError(path, where, field, f"'{value}' must be [a-z0-9_], at most {MAX_ID_LENGTH} long")


def _check_links(book: Book, content_dir: Path) -> None:
    """Every goto, next, clause, validator and hook named by a flow exists."""
    import content.selfcheck  # noqa: F401  (registers the self-check hooks; it needs the rules, so not at import)

    known = hooks.known()
    for flow in book.flows.values():
        path = content_dir / "flows" / f"{flow.id}.yaml"
        _check_name(path, f"flow '{flow.id}'", "link_notice", flow.link_notice, known["compute"])
        for step in flow.steps.values():
            where = f"step '{step.id}'"
            targets = [("next", step.next)] + [(f"choices.{c.id}.goto", c.goto) for c in step.choices]
            for field, target in targets:
                _check_target(book, flow, path, where, field, target)
            for clause in step.cite:
                if clause not in book.clauses:
                    raise ContentError(path, where, "cite", f"no clause or source '{clause}'")
            _check_name(path, where, "validate", step.validate, validators.names())
            for kind, names in known.items():
                _check_name(path, where, kind, getattr(step, kind), names)
            for choice in step.choices:
                _check_name(path, where, f"choices.{choice.id}.apply", choice.apply, known["apply"])


def _check_target(book: Book, flow: Flow, path: Path, where: str, field: str, target: str | None) -> None:
    """A transition names a step of this flow, another flow, or the end."""
    if target is None or target == END:
        return
    if target.startswith(FLOW_PREFIX):
        if target[len(FLOW_PREFIX) :] not in book.flows:
            raise ContentError(path, where, field, f"no flow '{target[1:]}'")
    elif target not in flow.steps:
        raise ContentError(path, where, field, f"no step '{target}'")


def _check_name(path: Path, where: str, field: str, name: str | None, known: frozenset[str]) -> None:
    """A named validator or hook exists in code."""
    if name is not None and name not in known:
        raise ContentError(path, where, field, f"unknown name '{name}'")
