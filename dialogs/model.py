"""The engine's vocabulary: flows as data, inputs, replies and the dialog state."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# Step ids and choice ids travel inside Telegram callback data (64 bytes with the token),
# so they are kept short and plain.
MAX_ID_LENGTH = 40
LANGUAGES = ("zh_Hans", "en")
DEFAULT_LANGUAGE = "zh_Hans"


# ---------------------------------------------------------------- parameters of a reply


@dataclass(frozen=True)
class Money:
    """An amount in yuan, formatted by the channel for the reader's language."""

    cny: int


@dataclass(frozen=True)
class Number:
    """A count or quantity, formatted with the reader's digit grouping."""

    value: int


@dataclass(frozen=True)
class Ref:
    """Another message key, translated into the reader's language before it is inserted."""

    key: str
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Verbatim:
    """Text shown as it is in every language (a clause of the notice, a name someone typed)."""

    text: str


@dataclass(frozen=True)
class Items:
    """A list of other parameters, each shown on its own line."""

    items: tuple[Any, ...]


# ---------------------------------------------------------------- flows


@dataclass(frozen=True)
class Choice:
    """A button: `id` comes back from the channel, `label` is a message key."""

    id: str
    label: str
    goto: str | None = None  # step id in the same flow, "flow_id" + ":" + step id, or "@end"
    value: Any = None  # stored under the step's `save_as` when chosen
    action: str | None = None  # "language", "help", or an event name; the step stays open
    emit: str | None = None  # an event sent (with the answers) when the button is pressed
    apply: str | None = None  # name of a transform in dialogs.hooks run when chosen
    edit: bool = False  # an "edit this answer" button: come back to this step afterwards
    params: tuple[tuple[str, Any], ...] = ()  # parameters of the label (dynamic choices)


@dataclass(frozen=True)
class Step:
    """One screen of a flow: a text, and either choices or a typed answer."""

    id: str
    text: str
    choices: tuple[Choice, ...] = ()
    input: Literal["choice", "text", "choice_or_text"] = "choice"
    save_as: str | None = None
    validate: str | None = None  # name of a validator in dialogs.validators
    next: str | None = None  # where a typed answer (or a choice without goto) leads
    cite: tuple[str, ...] = ()  # clause ids, e.g. "四（一）"
    params: dict[str, Any] = field(default_factory=dict)
    help: str | None = None  # message key for /help at this step
    compute: str | None = None  # name of a hook in dialogs.hooks that adds params
    skip_if: str | None = None  # name of a predicate in dialogs.hooks
    emit: str | None = None  # event name emitted when the step is entered
    choices_from: str | None = None  # name of a hook in dialogs.hooks that lists the choices
    apply: str | None = None  # name of a transform in dialogs.hooks run once the step is answered
    keep_going: bool = False  # while editing from a review, go on to `next` instead of returning
    final: bool = False  # the flow is complete here: /start does not offer to resume it


@dataclass(frozen=True)
class Flow:
    """A named graph of steps, entered at `start`."""

    id: str
    start: str
    steps: dict[str, Step]
    resumable: bool = False  # offer "continue / start over" when the user comes back
    # A compute hook for a deep link into the flow that finds a draft of it: {"notice": Ref} is said
    # before "continue / start over" (and the link is used up), {} says nothing.
    link_notice: str | None = None


@dataclass(frozen=True)
class Clause:
    """A clause of the notice, with its citation and original text."""

    id: str
    citation: str
    text: str


@dataclass(frozen=True)
class Book:
    """Everything the engine reads: the flows, the clauses, and the commands that open flows."""

    flows: dict[str, Flow]
    clauses: dict[str, Clause]
    menu: str = "menu"  # flow shown by /menu, /start and after a flow ends
    commands: dict[str, str] = field(default_factory=dict)  # command name -> flow id
    deep_links: dict[str, str] = field(default_factory=dict)  # /start payload prefix -> flow id
    document: str = ""  # citation prefix, e.g. "豫人社〔2017〕57号"
    context: dict[str, Any] = field(default_factory=dict)  # data hooks read (benefit rules, figures)


# ---------------------------------------------------------------- input and output


@dataclass(frozen=True)
class Input:
    """What a user sent, reduced to what the engine understands."""

    kind: Literal["text", "choice", "command", "other", "invalid_button"]
    value: str = ""
    token: int | None = None  # the step token a button was made for
    arg: str = ""  # the argument of a command, e.g. the /start payload
    today: str | None = None  # ISO date the input was sent, set by the channel (the engine has no clock)

    @classmethod
    def text(cls, value: str) -> Input:
        return cls("text", value)

    @classmethod
    def choice(cls, value: str, token: int | None = None) -> Input:
        return cls("choice", value, token)

    @classmethod
    def command(cls, name: str, arg: str = "") -> Input:
        return cls("command", name.lower(), arg=arg)


@dataclass(frozen=True)
class Option:
    """A button in a reply: the id to send back and the message key of its label."""

    id: str
    label: str
    params: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Reply:
    """A message to show: a key with parameters, optional buttons and citations."""

    key: str
    params: tuple[tuple[str, Any], ...] = ()
    options: tuple[Option, ...] = ()
    token: int | None = None  # buttons must carry it back; None when there are no buttons
    cite: tuple[str, ...] = ()  # full citations, e.g. "豫人社〔2017〕57号 四（一）"
    notice: bool = False  # a short remark a channel may show as a pop-up
    typed: bool = False  # the answer is typed (a name, an age): a console reads numbers as text, not buttons

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class Event:
    """Something the channel must do besides showing text (store a language, submit a record)."""

    name: str
    data: tuple[tuple[str, Any], ...] = ()


# ---------------------------------------------------------------- state


@dataclass
class State:
    """A user's place in the dialogs; serialises to compact JSON."""

    lang: str = DEFAULT_LANGUAGE
    flow: str | None = None
    step: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    seq: int = 0
    page: int = 0
    mode: str | None = None  # "language", "resume" or "cancel" while that question is open
    return_to: str | None = None  # the review step to come back to after an edit
    data: dict[str, Any] = field(default_factory=dict)  # longer-lived facts (village from a deep link)
    # Unfinished resumable flows the user stepped out of (menu, another command): flow id -> the
    # `Draft` fields as a dict. Stepping back in offers "continue / start over"; nothing is lost by a tap.
    drafts: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | None) -> State:
        if not raw:
            return cls()
        loaded = json.loads(raw)
        known = {key: loaded[key] for key in cls.__dataclass_fields__ if key in loaded}
        return cls(**known)
