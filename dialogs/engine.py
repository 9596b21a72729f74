"""The dialog engine: `advance(book, state, input)` returns the new state and what to show.

Pure: no I/O, no clock, no framework. Every channel (Telegram, the console) feeds it
inputs and renders the replies it returns; the state it returns is saved by the caller.

    input ──► command? ──► /start /menu /help /cancel /language, or a flow's command
        │
        ├──► open question (language / resume / cancel)? ──► answer it
        │
        └──► current step ──► button: navigation (back, menu, clause, pages) or a choice
                         └──► text: validate, store, move on — or explain and ask again
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, NamedTuple

from dialogs import hooks, validators
from dialogs.drafts import restore, stash, unfinished
from dialogs.labels import typed_choice, typed_number
from dialogs.model import LANGUAGES, Book, Choice, Event, Flow, Input, Option, Ref, Reply, State, Step

PAGE_SIZE = 10  # one screen of buttons on a small phone; longer lists (villages) are paged
MAX_TEXT_LENGTH = 1000

BACK, MENU, CLAUSE, MORE, PREV = "back", "menu", "clause", "more", "prev"
CONTINUE, RESTART, DISCARD = "continue", "restart", "discard"
LANGUAGE_PREFIX = "lang_"
NAVIGATION_IDS = frozenset({BACK, MENU, CLAUSE, MORE, PREV, CONTINUE, RESTART, DISCARD})
END = "@end"
FLOW_PREFIX = ">"

Output = Reply | Event


class Turn(NamedTuple):
    """The result of one input: the state to save and the replies and events, in order."""

    state: State
    replies: list[Output]


def advance(book: Book, state: State, user_input: Input) -> Turn:
    """Apply one input to a copy of the state and return it with the replies."""
    state = copy.deepcopy(state)
    if user_input.today:
        state.data["today"] = user_input.today  # validators and hooks read dates from here
    out: list[Output] = []
    if user_input.kind == "command":
        _command(book, state, user_input, out)
    elif state.mode == "language":
        _language_answer(book, state, _pressed(book, state, user_input), out)
    elif state.mode == "resume":
        _resume_answer(book, state, _pressed(book, state, user_input), out)
    elif state.mode == "cancel":
        _cancel_answer(book, state, _pressed(book, state, user_input), out)
    elif state.flow is None or state.flow not in book.flows:
        _welcome(book, state, out)
    else:
        _answer(book, state, user_input, out)
    return Turn(state, out)


def prompt(book: Book, state: State) -> Turn:
    """Repeat the current question (used when a user comes back)."""
    state = copy.deepcopy(state)
    out: list[Output] = []
    if state.flow is None or state.flow not in book.flows:
        _welcome(book, state, out)
    else:
        _ask(book, state, out)
    return Turn(state, out)


# ---------------------------------------------------------------- commands


def _command(book: Book, state: State, user_input: Input, out: list[Output]) -> None:
    """Handle a slash command; it works at every step."""
    name = user_input.value
    state.mode = None
    if name == "start":
        _start(book, state, user_input.arg, out)
    elif name == "menu":
        _enter_flow(book, state, book.menu, out)
    elif name == "help":
        out.append(Reply(_current_help(book, state)))
        _ask_or_menu(book, state, out)
    elif name == "cancel":
        _cancel(book, state, out)
    elif name == "language":
        _ask_language(state, out)
    elif name in book.commands:
        # A command's argument ("/invite worker 410225101201 7d") is the flow's first answer.
        given = {"arg": user_input.arg} if user_input.arg else {}
        _open_flow(book, state, book.commands[name], out, answers=given)
    else:
        out.append(Reply("core.unknown_command", notice=True))
        _ask_or_menu(book, state, out)


def _start(book: Book, state: State, payload: str, out: list[Output]) -> None:
    """Greet; keep a deep-link payload; offer to resume an unfinished resumable flow."""
    if payload:
        state.data["start_payload"] = payload[:64]
        out.append(Event("deep_link", (("payload", payload[:64]),)))
    target = _deep_link_flow(book, payload)
    if unfinished(book, state):
        _link_notice(book, state, target, out)
        _offer_resume(state, out)
        return
    # A plain /start, or a link into a flow with a kept draft, offers the draft back.
    waiting = target if target in state.drafts else None if payload else next(iter(state.drafts), None)
    if waiting is not None and waiting in book.flows:
        stash(book, state)
        restore(state, waiting)
        _link_notice(book, state, target, out)
        _offer_resume(state, out)
        return
    out.append(Reply("core.welcome"))
    _enter_flow(book, state, target or book.menu, out)


def _deep_link_flow(book: Book, payload: str) -> str | None:
    """The flow a deep-link payload opens (e.g. "v_<village>" from a poster opens the intake)."""
    for prefix, flow_id in book.deep_links.items():
        if payload.startswith(prefix) and flow_id in book.flows:
            return flow_id
    return None


def _link_notice(book: Book, state: State, target: str | None, out: list[Output]) -> None:
    """A deep link into the flow whose draft is offered back: what the flow says about the link.

    Its first screen says it when the flow is entered afresh; a draft past that screen would
    otherwise take the link in silence (e.g. a poster's village that is no longer in the list).
    Once said, the link is used up: starting over does not say it again.
    """
    flow = book.flows.get(state.flow or "")
    if flow is None or flow.id != target or flow.link_notice is None:
        return
    notice = hooks.compute(flow.link_notice)(book, state).get("notice")
    if isinstance(notice, Ref):
        out.append(Reply(notice.key, notice.params))
        state.data.pop("start_payload", None)


def _cancel(book: Book, state: State, out: list[Output]) -> None:
    """Leave the current flow and go back to the menu; an unfinished draft is only dropped when confirmed."""
    if unfinished(book, state):
        _ask_cancel(state, out)
        return
    left = state.flow not in (None, book.menu)
    if left:
        out.append(Event("flow_cancelled", (("flow", state.flow),)))
    out.append(Reply("core.cancelled") if left else Reply("core.nothing_to_cancel"))
    _enter_flow(book, state, book.menu, out, keep=False)


def _ask_cancel(state: State, out: list[Output]) -> None:
    """Ask whether the answers given so far really go."""
    state.mode = "cancel"
    state.seq += 1
    options = (Option(DISCARD, "core.discard"), Option(CONTINUE, "core.keep_going"))
    out.append(Reply("core.cancel_ask", options=options, token=state.seq))


def _cancel_answer(book: Book, state: State, user_input: Input, out: list[Output]) -> None:
    """Drop the unfinished answers, or go on where the user was."""
    if not _answers(state, user_input, (DISCARD, CONTINUE)):
        out.append(Reply("core.use_buttons", notice=True))
        _ask_cancel(state, out)
        return
    state.mode = None
    if user_input.value == CONTINUE:
        _ask(book, state, out)
        return
    out.append(Event("flow_cancelled", (("flow", state.flow),)))
    out.append(Reply("core.cancelled"))
    _enter_flow(book, state, book.menu, out, keep=False)


def _welcome(book: Book, state: State, out: list[Output]) -> None:
    """First contact, or a state from a flow that no longer exists."""
    out.append(Reply("core.welcome"))
    _enter_flow(book, state, book.menu, out)


# ---------------------------------------------------------------- open questions


def _ask_language(state: State, out: list[Output]) -> None:
    """Ask which language to use."""
    state.mode = "language"
    state.seq += 1
    options = tuple(Option(LANGUAGE_PREFIX + lang, f"lang.{lang}") for lang in LANGUAGES)
    out.append(Reply("core.choose_language", options=options, token=state.seq))


def _language_answer(book: Book, state: State, user_input: Input, out: list[Output]) -> None:
    """Set the chosen language, then repeat where the user was."""
    lang = user_input.value.removeprefix(LANGUAGE_PREFIX)
    if user_input.kind != "choice" or not _fresh(state, user_input) or lang not in LANGUAGES:
        out.append(Reply("core.use_buttons", notice=True))
        _ask_language(state, out)
        return
    state.mode = None
    state.lang = lang
    out.append(Event("language_changed", (("lang", lang),)))
    out.append(Reply("core.language_set"))
    _ask_or_menu(book, state, out)


def _offer_resume(state: State, out: list[Output]) -> None:
    """Ask "continue / start over" about the flow now in the state."""
    state.mode = "resume"
    state.seq += 1
    out.append(resume_question(state))


def resume_question(state: State) -> Reply:
    """The "continue / start over" question for an unfinished flow."""
    options = (Option(CONTINUE, "core.continue"), Option(RESTART, "core.restart"))
    return Reply("core.resume", options=options, token=state.seq)


def _resume_answer(book: Book, state: State, user_input: Input, out: list[Output]) -> None:
    """Continue the unfinished flow or start it over."""
    if not _answers(state, user_input, (CONTINUE, RESTART)):
        out.append(Reply("core.use_buttons", notice=True))
        _offer_resume(state, out)
        return
    state.mode = None
    if user_input.value == CONTINUE:
        _ask(book, state, out)
    else:
        out.append(Event("flow_restarted", (("flow", state.flow),)))
        _enter_flow(book, state, state.flow or book.menu, out, keep=False)


# ---------------------------------------------------------------- drafts (dialogs/drafts.py)


def offer_draft(book: Book, state: State, flow_id: str) -> Reply | None:
    """Bring a stepped-out draft of `flow_id` back and ask "continue / start over" (for reminders)."""
    if state.flow != flow_id or not unfinished(book, state):
        if flow_id not in state.drafts or flow_id not in book.flows:
            return None
        stash(book, state)
        restore(state, flow_id)
    out: list[Output] = []
    _offer_resume(state, out)
    return out[0] if isinstance(out[0], Reply) else None


def _open_flow(
    book: Book, state: State, flow_id: str, out: list[Output], *, answers: dict[str, Any] | None = None
) -> None:
    """Enter a flow the user asked for: a kept draft of it is offered back first."""
    if flow_id == state.flow and unfinished(book, state):
        _offer_resume(state, out)
    elif flow_id in state.drafts and flow_id in book.flows:  # a command's argument never drops a draft
        stash(book, state)
        restore(state, flow_id)
        _offer_resume(state, out)
    else:
        _enter_flow(book, state, flow_id, out, answers=answers)


# ---------------------------------------------------------------- answers to a step


def _answer(book: Book, state: State, user_input: Input, out: list[Output]) -> None:
    """Route an input to the current step."""
    step = _current_step(book, state)
    if user_input.kind == "invalid_button":
        out.append(Reply("core.invalid_button", notice=True))
        _ask(book, state, out)
    elif user_input.kind == "other":
        out.append(Reply("core.text_only", notice=True))
        _ask(book, state, out)
    elif user_input.kind == "choice":
        _press(book, state, step, user_input, out)
    else:
        options = _options(book, state, book.flows[state.flow or book.menu], step)
        pressed = typed_choice(book, state, user_input.value, options)
        if pressed is not None:
            _press(book, state, step, pressed, out)
        else:
            _typed(book, state, step, user_input.value, out)


def _press(book: Book, state: State, step: Step, user_input: Input, out: list[Output]) -> None:
    """Apply a button press, unless it belongs to an earlier question."""
    if not _fresh(state, user_input):
        out.append(Reply("core.stale_button", notice=True))
        _ask(book, state, out)
        return
    choice_id = user_input.value
    if choice_id in NAVIGATION_IDS:
        _navigate(book, state, step, choice_id, out)
        return
    choice = next((c for c in step_choices(book, state, step) if c.id == choice_id), None)
    if choice is None:
        out.append(Reply("core.stale_button", notice=True))
        _ask(book, state, out)
    elif choice.action:
        _action(book, state, choice.action, out)
    else:
        if step.save_as:
            state.answers[step.save_as] = choice.value if choice.value is not None else choice.id
        if choice.emit:
            out.append(Event(choice.emit, (("flow", state.flow), ("answers", copy.deepcopy(state.answers)))))
        if choice.edit:
            state.return_to = step.id
        if step.final:
            state.history = []  # a finished flow has no way back; a transform may set where Back leads
        _answered(book, state, step, choice.apply)
        _go(book, state, choice.goto or step.next, out, from_step=step)


def step_choices(book: Book, state: State, step: Step) -> tuple[Choice, ...]:
    """The step's buttons: listed in the flow, or computed from the data and the answers."""
    if step.choices_from:
        return tuple(hooks.lister(step.choices_from)(book, state))
    return step.choices


def _typed(book: Book, state: State, step: Step, text: str, out: list[Output]) -> None:
    """Validate a typed answer and move on, or explain what is expected."""
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        out.append(Reply("core.too_long", (("limit", MAX_TEXT_LENGTH),), notice=True))
        _ask(book, state, out)
        return
    if step.input == "choice":
        out.append(Reply("core.use_buttons", notice=True))
        _ask(book, state, out)
        return
    context = {**book.context, "today": state.data.get("today"), "data": state.data, "save_as": step.save_as}
    result = validators.run(step.validate, text, state.answers, context)
    state.data.update(result.remember)
    if not result.ok:
        out.append(Reply(result.error, tuple(result.params.items()), notice=True))
        _ask(book, state, out)
        return
    if result.note:
        out.append(Reply(result.note, tuple(result.params.items()), notice=True))
    if step.save_as:
        state.answers[step.save_as] = result.value
    _answered(book, state, step, None)
    _go(book, state, result.goto or step.next, out, from_step=step)


def _answered(book: Book, state: State, step: Step, choice_apply: str | None) -> None:
    """Run the transforms of the chosen button and of the step (e.g. add a member to a list)."""
    for name in (choice_apply, step.apply):
        if name:
            hooks.transform(name)(book, state)


def _navigate(book: Book, state: State, step: Step, nav: str, out: list[Output]) -> None:
    """Back, menu, original clause, next or previous page."""
    if nav == BACK and not step.final:
        _back(book, state, out)
    elif nav == MENU:
        _enter_flow(book, state, book.menu, out)
    elif nav in (BACK, CONTINUE, RESTART, DISCARD):  # not offered here (a finished flow has no way back)
        out.append(Reply("core.stale_button", notice=True))
        _ask(book, state, out)
    elif nav == CLAUSE:
        out.extend(_clause_replies(book, state, step))
        _ask(book, state, out)
    else:
        state.page = max(0, state.page + (1 if nav == MORE else -1))
        _ask(book, state, out)


def _action(book: Book, state: State, action: str, out: list[Output]) -> None:
    """A button that does something other than answer the question."""
    if action == "language":
        _ask_language(state, out)
    elif action == "help":
        out.append(Reply(_current_help(book, state)))
        _ask(book, state, out)
    elif action == "not_ready":
        out.append(Reply("core.not_ready", notice=True))
        _ask(book, state, out)
    else:
        out.append(Event(action, (("flow", state.flow),)))
        _ask(book, state, out)


def _back(book: Book, state: State, out: list[Output]) -> None:
    """Return to the previous step, or to the menu from a flow's first step."""
    if state.history:
        state.step = state.history.pop()
        state.page, state.return_to = 0, None  # leaving an edit by Back cancels the way back to the review
        _ask(book, state, out)
    else:
        _enter_flow(book, state, book.menu, out)


# ---------------------------------------------------------------- moving between steps


def _go(
    book: Book, state: State, target: str | None, out: list[Output], *, from_step: Step | None = None
) -> None:
    """Follow a transition: a step of this flow, another flow (">id"), or the end.

    After an edit started from a review screen, the answer leads back to that review
    (unless the answered step is one of several that belong together: `keep_going`).
    """
    editing = state.return_to is not None and from_step is not None and from_step.id != state.return_to
    if editing and from_step is not None and not from_step.keep_going:
        target, state.return_to = state.return_to, None
    if target is None or target == END:
        flow_id = state.flow
        out.append(Event("flow_finished", (("flow", flow_id), ("answers", dict(state.answers)))))
        _enter_flow(book, state, book.menu, out, keep=False)
    elif target.startswith(FLOW_PREFIX):
        _open_flow(book, state, target[len(FLOW_PREFIX) :], out)
    else:
        if from_step is None or not from_step.final:
            state.history.append(state.step or "")
        state.step = target
        state.page = 0
        _ask(book, state, out, entering=True)


def _enter_flow(
    book: Book,
    state: State,
    flow_id: str,
    out: list[Output],
    *,
    answers: dict[str, Any] | None = None,
    keep: bool = True,
) -> None:
    """Start a flow from its first step, with fresh answers (or the ones given).

    The flow being left is kept as a draft when it is unfinished (`keep`: not when it was just
    completed, discarded or started over); a draft of the flow entered is replaced.
    """
    if keep:
        stash(book, state)
    state.drafts.pop(flow_id, None)
    flow = book.flows[flow_id]
    state.flow, state.step = flow.id, flow.start
    state.history, state.page, state.mode, state.return_to = [], 0, None, None
    state.answers = dict(answers or {})
    _ask(book, state, out, entering=True)


def _ask(book: Book, state: State, out: list[Output], *, entering: bool = False) -> None:
    """Show the current step, skipping steps whose answer cannot matter.

    A step's event is emitted only when the step is entered, never when its question is
    merely shown again (after /help, a stale button, a typing error, "continue").
    """
    flow = book.flows[state.flow or book.menu]
    step = _skip_irrelevant(book, state, flow)
    if step is None:
        _go(book, state, END, out)
        return
    if step.emit and entering:
        data = (("flow", flow.id), ("answers", copy.deepcopy(state.answers)), ("lang", state.lang))
        out.append(Event(step.emit, data))
    out.append(_question(book, state, flow, step))


def _skip_irrelevant(book: Book, state: State, flow: Flow) -> Step | None:
    """Move past steps whose skip predicate holds; None when the flow runs out of steps."""
    seen: set[str] = set()
    # A saved step may have been removed from the content since: start the flow over.
    step = flow.steps.get(state.step or "") or flow.steps[flow.start]
    state.step = step.id
    while step.skip_if and hooks.predicate(step.skip_if)(book, state) and step.id not in seen:
        seen.add(step.id)
        if step.next is None or step.next == END:
            return None
        step = flow.steps[step.next]
        state.step = step.id
    return step


def _question(book: Book, state: State, flow: Flow, step: Step) -> Reply:
    """Build the reply for a step: its text, parameters, buttons and citations."""
    state.seq += 1
    params: dict[str, Any] = dict(step.params)
    if step.compute:
        params.update(hooks.compute(step.compute)(book, state))
    return Reply(
        step.text,
        tuple(params.items()),
        options=_options(book, state, flow, step),
        token=state.seq,
        cite=_citations(book, step),
        typed=_typed_answer(step),
    )


def _options(book: Book, state: State, flow: Flow, step: Step) -> tuple[Option, ...]:
    """The step's choices for the current page, then paging and navigation buttons."""
    choices = [Option(c.id, c.label, c.params) for c in step_choices(book, state, step)]
    pages = max(1, -(-len(choices) // PAGE_SIZE))
    state.page = min(state.page, pages - 1)
    shown = choices[state.page * PAGE_SIZE : (state.page + 1) * PAGE_SIZE]
    if state.page > 0:
        shown.append(Option(PREV, "core.prev_page"))
    if state.page < pages - 1:
        shown.append(Option(MORE, "core.next_page"))
    if any(book.clauses.get(c) and book.clauses[c].text for c in step.cite):
        shown.append(Option(CLAUSE, "core.show_clause"))
    if flow.id != book.menu and not step.final:
        shown.append(Option(BACK, "core.back"))
    if flow.id != book.menu:
        shown.append(Option(MENU, "core.menu"))
    return tuple(shown)


def _citations(book: Book, step: Step) -> tuple[str, ...]:
    """Full citations of the clauses a step rests on."""
    return tuple(book.clauses[c].citation if c in book.clauses else c for c in step.cite)


def _clause_replies(book: Book, state: State, step: Step) -> list[Output]:
    """The original text of each clause the step cites."""
    replies: list[Output] = []
    for clause_id in step.cite:
        clause = book.clauses.get(clause_id)
        if clause is not None and clause.text:
            params = (("citation", clause.citation), ("text", clause.text))
            replies.append(Reply("core.clause_original", params))
    return replies


# ---------------------------------------------------------------- small helpers


def _mode_options(state: State) -> tuple[Option, ...]:
    """The buttons of the open question (language, resume, cancel); none outside one."""
    return {
        "language": tuple(Option(LANGUAGE_PREFIX + lang, f"lang.{lang}") for lang in LANGUAGES),
        "resume": resume_question(state).options,
        "cancel": (Option(DISCARD, "core.discard"), Option(CONTINUE, "core.keep_going")),
    }.get(state.mode or "", ())


def _pressed(book: Book, state: State, user_input: Input) -> Input:
    """An input to an open question (language, resume, cancel): typed labels press their button."""
    if user_input.kind != "text":
        return user_input
    return typed_choice(book, state, user_input.value, _mode_options(state)) or user_input


def numbered(book: Book, state: State, user_input: Input) -> Input:
    """A typed number as a press of that button of the question now open (1 is the first), for
    channels that show buttons numbered or cannot show them at all (WeCom's 微工作台); where the
    question takes a typed answer (an age, a phone number), the number stays the answer."""
    number = typed_number(user_input.value) if user_input.kind == "text" else None
    if number is None:
        return user_input
    state = copy.deepcopy(state)  # reading the options clamps the page
    options, typed = _open_question(book, state)
    if typed or not 1 <= number <= len(options):
        return user_input
    return replace(Input.choice(options[number - 1].id, state.seq), today=user_input.today)


def _open_question(book: Book, state: State) -> tuple[tuple[Option, ...], bool]:
    """The buttons of the question the user sees now, and whether its answer is typed."""
    if state.mode:
        return _mode_options(state), False
    flow = book.flows.get(state.flow or "")
    if flow is None:
        return (), False
    step = _current_step(book, state)
    return _options(book, state, flow, step), _typed_answer(step)


def _typed_answer(step: Step) -> bool:
    """Whether a step's answer is typed (a name, an age) rather than chosen."""
    return step.input == "text" or (step.input != "choice" and validators.numeric(step.validate))


def _answers(state: State, user_input: Input, allowed: tuple[str, ...]) -> bool:
    """True when a button press answers the open question with one of its buttons."""
    return user_input.kind == "choice" and _fresh(state, user_input) and user_input.value in allowed


def _fresh(state: State, user_input: Input) -> bool:
    """True when a button was made for the question now open (no token: typed in a console)."""
    return user_input.token is None or user_input.token == state.seq


def _current_step(book: Book, state: State) -> Step:
    """The step the user is on."""
    flow = book.flows[state.flow or book.menu]
    return flow.steps.get(state.step or flow.start) or flow.steps[flow.start]


def _current_help(book: Book, state: State) -> str:
    """The help key for the current step, or the general help."""
    flow = book.flows.get(state.flow or "")
    step = flow.steps.get(state.step or "") if flow else None
    return step.help if step is not None and step.help else "core.help"


def _ask_or_menu(book: Book, state: State, out: list[Output]) -> None:
    """Repeat the open question, or show the menu when there is none."""
    if state.flow is None or state.flow not in book.flows:
        _enter_flow(book, state, book.menu, out)
    else:
        _ask(book, state, out)
