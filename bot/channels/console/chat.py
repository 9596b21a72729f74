"""The console channel: the same dialogs in a terminal, or scripted through a pipe.

Buttons are shown as numbered choices; typing a number presses that button, except where the
question expects a typed answer (an age, a phone number): there the buttons are shown by their
words alone, and typing a button's words presses it (in every step). With piped input each line
is one input, and the transcript (inputs echoed with "> ") goes to stdout. It never imports
aiogram, so it starts fast.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import replace
from datetime import date
from typing import TextIO

from bot.core.services import Services, open_services
from bot.core.settings import Settings
from bot.core.turns import take_turn
from content.i18n import Rendered, Translator
from dialogs.labels import typed_number
from dialogs.model import DEFAULT_LANGUAGE, Input, Reply

QUIT = {"/quit", "/exit"}


def console_language(explicit: str | None = None) -> str:
    """The language for a new console user: --lang, else the terminal's LANG, else Chinese."""
    wanted = (explicit or os.environ.get("LANG", "")).lower()
    return "en" if wanted.startswith("en") else DEFAULT_LANGUAGE


def parse_line(
    line: str, buttons: tuple[tuple[str, str], ...], token: int | None, *, typed: bool = False
) -> Input:
    """A typed line: a command, the number of a button (not where an answer is typed), or text."""
    text = line.strip()
    if text.startswith("/"):
        head, _, arg = text.partition(" ")
        return Input.command(head[1:], arg.strip())
    number = typed_number(text)
    if not typed and number is not None and 1 <= number <= len(buttons):
        return Input.choice(buttons[number - 1][0], token)
    return Input.text(line)


def show(rendered: Rendered, out: TextIO) -> None:
    """Print a reply and its choices: numbered, or by their words where an answer is typed."""
    out.write(rendered.text + "\n")
    for number, (_, label) in enumerate(rendered.buttons, start=1):
        out.write(f"  [{label}]\n" if rendered.typed else f"  [{number}] {label}\n")
    out.write("\n")


class ConsoleChat:
    """One console user talking to the engine through the stored conversation."""

    def __init__(self, services: Services, key: str, lang: str) -> None:
        self.services, self.key, self.lang = services, key, lang
        self.buttons: tuple[tuple[str, str], ...] = ()
        self.token: int | None = None
        self.typed = False  # the last question takes a typed answer

    async def send(self, user_input: Input, out: TextIO) -> None:
        """Run one input and print the replies."""
        user_input = replace(user_input, today=date.today().isoformat())
        services = self.services
        async with services.conversations.open(self.key) as slot, services.database.session() as session:
            state, replies = await take_turn(
                book=services.book,
                slot=slot,
                user_input=user_input,
                key=self.key,
                default_lang=self.lang,
                effects=services.effects,
                session=session,
                cipher=services.cipher,
            )
        self.lang = state.lang
        self._print(Translator(state.lang), replies, out)

    def _print(self, translator: Translator, replies: list[Reply], out: TextIO) -> None:
        """Print replies and remember the last buttons so numbers can press them."""
        for reply in replies:
            rendered = translator.render(reply)
            show(rendered, out)
            if rendered.buttons:
                self.buttons, self.token, self.typed = rendered.buttons, rendered.token, rendered.typed
        out.flush()


def read_line(stdin: TextIO) -> str:
    """One line of input; Ctrl-C interrupts the wait at once.

    asyncio.run's own Ctrl-C handler only cancels the main task, which cannot happen while the
    loop waits here, so a first Ctrl-C would seem to do nothing: Python's default handler is
    put back for the wait, and the KeyboardInterrupt leaves the chat (quietly, see the CLI).
    """
    if threading.current_thread() is not threading.main_thread():
        return stdin.readline()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return stdin.readline()
    finally:
        signal.signal(signal.SIGINT, previous)


async def run_console(
    settings: Settings,
    *,
    user: str = "local",
    lang: str | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    """Chat until end of input or /quit; the conversation is kept for next time."""
    services = await open_services(settings)
    chat = ConsoleChat(services, f"console:{user}", console_language(lang))
    interactive = stdin.isatty()
    try:
        await chat.send(Input.command("start"), stdout)
        if interactive:
            stdout.write(Translator(chat.lang).text("console.prompt") + "\n")
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = read_line(stdin)
            if not line or line.strip() in QUIT:
                break
            if not interactive:
                stdout.write(f"> {line.rstrip()}\n")
            await chat.send(parse_line(line.rstrip("\n"), chat.buttons, chat.token, typed=chat.typed), stdout)
        stdout.write(Translator(chat.lang).text("console.bye") + "\n")
    finally:
        await services.close()
