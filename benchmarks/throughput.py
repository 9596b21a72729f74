"""Updates per second through the whole bot, against a bare aiogram bot doing the same dialog.

Both bots are fed Telegram `Update` objects with `dispatcher.feed_update`; their calls to Telegram
go to `FakeTelegramSession`, an aiogram session that builds each request as aiogram does and
parses a canned JSON answer with `check_response`, so nothing leaves the process.

    .venv/bin/python benchmarks/throughput.py [--backend sqlite|postgresql] [--users 10000]
        [--script "/start,>explain,>tuition,>back,>menu"] [--runs 3] [--concurrency 100]

The script is the dialog every user goes through: a plain item is a text the user sends, `>id`
presses the button `id` on the bot's last message with buttons. All users are mid-dialog at once:
the load goes round by round (every user's first update, then every user's second...), with
`--concurrency` updates in flight. The floor is a bare aiogram bot (MemoryStorage FSM, states and
F filters) whose three states answer the same script with the same texts and the same calls.
Latency is measured apart, with 100 users sending at once. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import Update

TOKEN = "5000000001:AAFakeTokenUsedOnlyInBenchmarks"
BOT_USER = {"id": 5000000001, "is_bot": True, "first_name": "Outreach Bench Bot", "username": "bench_bot"}
EXPLAINER_SCRIPT = "/start,>explain,>tuition,>back,>menu"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
FIRST_USER_ID = 100_000_000
LATENCY_USERS = 100
WARMUP_USERS = 300


# ---------------------------------------------------------------- Telegram, replaced in process


class FakeTelegramSession(BaseSession):
    """An aiogram session answering every call from memory, with aiogram's request and reply code."""

    def __init__(self) -> None:
        """Start with no chats; `keyboards` keeps each chat's last message with buttons."""
        super().__init__()
        self.keyboards: dict[int, dict[str, Any]] = {}
        self.message_ids: dict[int, int] = {}
        self.calls: dict[str, int] = {}
        self.notices = 0  # pop-ups the bot showed: a stale or refused press
        self.failures = 0  # "something went wrong" messages: an update that failed
        self.failure_text = ""
        self._answers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "sendMessage": self._message, "editMessageText": self._edited,
            "editMessageReplyMarkup": self._edited, "answerCallbackQuery": self._answered,
            "setMyCommands": lambda _: True, "deleteWebhook": lambda _: True, "setWebhook": lambda _: True,
            "getMe": lambda _: BOT_USER,
        }  # fmt: skip

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        """Build the request like AiohttpSession.build_form_data, answer it, parse the answer."""
        self.api.api_url(token=bot.token, method=method.__api_method__)
        files: dict[str, Any] = {}
        fields = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if prepared:
                fields[key] = prepared
        result = self.answer(method.__api_method__, fields)
        content = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
        return self.check_response(bot=bot, method=method, status_code=200, content=content).result

    def answer(self, name: str, fields: dict[str, Any]) -> Any:
        """The result Telegram would give for a call with these (form-encoded) fields."""
        self.calls[name] = self.calls.get(name, 0) + 1
        return self._answers[name](fields)

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:
        """Not used by the dialogs."""
        raise NotImplementedError
        yield b""

    async def close(self) -> None:
        """Nothing to close."""

    def next_message_id(self, chat_id: int) -> int:
        """Message ids count up per chat, shared by the user and the bot as in Telegram."""
        self.message_ids[chat_id] = self.message_ids.get(chat_id, 0) + 1
        return self.message_ids[chat_id]

    def forget(self, chat_id: int) -> None:
        """Drop what is kept for a chat whose dialog is over."""
        self.keyboards.pop(chat_id, None)
        self.message_ids.pop(chat_id, None)

    def _message(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A sent message, as Telegram returns it; one with buttons is kept for the next press."""
        chat_id = int(fields["chat_id"])
        message = {
            "message_id": self.next_message_id(chat_id), "from": BOT_USER, "date": int(time.time()),
            "chat": private_chat(chat_id), "text": fields["text"],
        }  # fmt: skip
        self.failures += fields["text"] == self.failure_text
        if "reply_markup" in fields:
            message["reply_markup"] = json.loads(fields["reply_markup"])
            self.keyboards[chat_id] = message
        return message

    def _edited(self, fields: dict[str, Any]) -> dict[str, Any]:
        """An edited message."""
        chat_id = int(fields["chat_id"])
        return {
            "message_id": int(fields["message_id"]), "from": BOT_USER, "date": int(time.time()),
            "edit_date": int(time.time()), "chat": private_chat(chat_id), "text": fields.get("text", "…"),
        }  # fmt: skip

    def _answered(self, fields: dict[str, Any]) -> bool:
        """A callback answer; one with text is a notice (stale or refused button)."""
        self.notices += bool(fields.get("text"))
        return True


def private_chat(user_id: int) -> dict[str, Any]:
    """The private chat of a user."""
    return {"id": user_id, "type": "private", "first_name": "王芳"}


def sender(user_id: int) -> dict[str, Any]:
    """The user as Telegram describes them in an update."""
    return {"id": user_id, "is_bot": False, "first_name": "王芳", "language_code": "zh-hans"}


# ---------------------------------------------------------------- the users' side


def parse_script(script: str) -> list[str]:
    """The steps of a dialog script: texts, and `>id` for a button press."""
    steps = [step.strip() for step in script.split(",") if step.strip()]
    if not steps:
        raise SystemExit("--script needs at least one step")
    return steps


@dataclass
class Users:
    """Makes the users' updates: texts, and presses of buttons the bot sent them."""

    session: FakeTelegramSession
    update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(700_000_001))

    def update(self, user_id: int, step: str) -> dict[str, Any]:
        """The update for one step of the script."""
        if step.startswith(">"):
            return self._press(user_id, step[1:])
        return self._text(user_id, step)

    def _text(self, user_id: int, text: str) -> dict[str, Any]:
        """A text message (a /command carries its entity, as Telegram adds it)."""
        message = {
            "message_id": self.session.next_message_id(user_id), "date": int(time.time()),
            "chat": private_chat(user_id), "from": sender(user_id), "text": text,
        }  # fmt: skip
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": next(self.update_ids), "message": message}

    def _press(self, user_id: int, choice: str) -> dict[str, Any]:
        """A press of button `choice` on the last message with buttons the user got."""
        message = self.session.keyboards.get(user_id)
        if message is None:
            raise RuntimeError(f"user {user_id} has no message with buttons to press {choice!r}")
        rows = message["reply_markup"]["inline_keyboard"]
        data = [b["callback_data"] for row in rows for b in row if b.get("callback_data")]
        chosen = next((d for d in data if d.rsplit(":", 1)[-1] == choice), None)
        if chosen is None:
            raise RuntimeError(f"no button {choice!r} on {message['text'][:40]!r}: {data}")
        update_id = next(self.update_ids)
        query = {"id": str(update_id), "from": sender(user_id), "message": message,
                 "chat_instance": str(-user_id), "data": chosen}  # fmt: skip
        return {"update_id": update_id, "callback_query": query}


# ---------------------------------------------------------------- the bots


@dataclass
class Stack:
    """A bot and its dispatcher, fed like the webhook feeds them."""

    name: str
    bot: Bot
    dispatcher: Dispatcher
    session: FakeTelegramSession
    users: Users

    async def step(self, user_id: int, step: str) -> float:
        """Send one step of a user's dialog; return how long the update took, in seconds."""
        started = time.perf_counter()
        update = Update.model_validate(self.users.update(user_id, step), context={"bot": self.bot})
        await self.dispatcher.feed_update(self.bot, update)
        return time.perf_counter() - started


def new_stack(name: str, dispatcher: Dispatcher) -> Stack:
    """A stack whose bot talks to a fresh fake session."""
    from content.i18n import Translator

    session = FakeTelegramSession()
    session.failure_text = Translator("zh_Hans").text("core.error")
    return Stack(name, Bot(TOKEN, session=session), dispatcher, session, Users(session))


def hold_response_types(dispatcher: Dispatcher) -> None:
    """Keep aiogram's Response[T] classes alive, as the Telegram app does, so the floor gets the same help."""
    from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
    from aiogram.methods.base import Response

    hot = (SendMessage, EditMessageText, AnswerCallbackQuery)
    dispatcher["response_types"] = [Response[method.__returning__] for method in hot]


def floor_dispatcher() -> Dispatcher:
    """A bare aiogram bot: the explainer's three screens on the MemoryStorage FSM, the usual way."""
    from aiogram import F, Router
    from aiogram.filters import CommandStart
    from aiogram.fsm.state import State, StatesGroup
    from aiogram.fsm.storage.memory import MemoryStorage
    from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

    from content.i18n import Translator

    text = Translator("zh_Hans").text

    class Explain(StatesGroup):
        menu = State()
        topics = State()
        tuition = State()

    def keyboard(*rows: tuple[tuple[str, str], ...]) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(inline_keyboard=[
            [InlineKeyboardButton(text=text(label), callback_data=f"f:{data}") for data, label in row]
            for row in rows
        ])  # fmt: skip

    menu = keyboard(*(((choice, f"menu.{choice}"),) for choice in ("explain", "check", "language", "help")))
    nav = (("back", "core.back"), ("menu", "core.menu"))
    topic_ids = ("what", "who", "tuition", "yulu", "training", "apprentice", "priority", "signup", "today")
    topics = keyboard(*(((topic, f"explain.{topic}.button"),) for topic in (*topic_ids, "faq")), nav)
    tuition = keyboard((("yulu", "explain.yulu.button"),), (("all3", "explain.all3.button"),),
                       (("clause", "core.show_clause"),), nav)  # fmt: skip
    tuition_text = text("explain.tuition.body", {"tuition_max": "1,700元", "grant": "2,000元"})
    router = Router()

    async def show(query: CallbackQuery, choice: str, reply: str, markup: InlineKeyboardMarkup) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"{query.message.text}\n\n✓ {choice}")
        await query.message.answer(reply, reply_markup=markup)

    @router.message(CommandStart())
    async def start(message: Message, state: Any) -> None:
        await state.set_state(Explain.menu)
        await message.answer(text("core.welcome"))
        await message.answer(text("menu.main"), reply_markup=menu)

    @router.callback_query(Explain.menu, F.data == "f:explain")
    async def explain(query: CallbackQuery, state: Any) -> None:
        await state.set_state(Explain.topics)
        await show(query, text("menu.explain"), text("explain.topics"), topics)

    @router.callback_query(Explain.topics, F.data == "f:tuition")
    async def on_tuition(query: CallbackQuery, state: Any) -> None:
        await state.set_state(Explain.tuition)
        await show(query, text("explain.tuition.button"), tuition_text, tuition)

    @router.callback_query(Explain.tuition, F.data == "f:back")
    async def back(query: CallbackQuery, state: Any) -> None:
        await state.set_state(Explain.topics)
        await show(query, text("core.back"), text("explain.topics"), topics)

    @router.callback_query(Explain.topics, F.data == "f:menu")
    async def to_menu(query: CallbackQuery, state: Any) -> None:
        await state.set_state(Explain.menu)
        await show(query, text("core.menu"), text("menu.main"), menu)

    dispatcher = Dispatcher(storage=MemoryStorage())
    dispatcher.include_router(router)
    hold_response_types(dispatcher)
    return dispatcher


@asynccontextmanager
async def database(backend: str, postgres_url: str) -> AsyncIterator[str]:
    """A fresh database URL: a SQLite file in a temporary directory, or a PostgreSQL schema."""
    from storage.urls import default_sqlite_url

    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield default_sqlite_url(Path(directory))
        return
    import asyncpg

    from storage.urls import asyncpg_dsn

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(asyncpg_dsn(postgres_url), timeout=5)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        parts = urlsplit(postgres_url)
        yield urlunsplit((parts.scheme, parts.netloc, parts.path, f"search_path={schema}", ""))
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@asynccontextmanager
async def full_stack(url: str) -> AsyncIterator[Stack]:
    """The whole bot: the Telegram app's build_dispatcher on its services, state saved at every update."""
    from bot.channels.telegram.app import build_dispatcher
    from bot.core.services import open_services
    from bot.core.settings import load_settings

    data_dir = Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite") else Path(".")
    settings = load_settings(bot_token=TOKEN, database_url=url, data_dir=data_dir)
    services = await open_services(settings)
    try:
        yield new_stack("full", build_dispatcher(services))
    finally:
        await services.close()


# ---------------------------------------------------------------- measuring


async def run_rounds(stack: Stack, user_ids: range, script: list[str], concurrency: int) -> float:
    """Every user goes through the script, one round per step; returns updates per second."""
    started = time.perf_counter()
    for step in script:
        jobs = iter(user_ids)

        async def worker(step: str = step, jobs: Iterator[int] = jobs) -> None:
            for user_id in jobs:  # a shared iterator: each user is taken by one worker
                await stack.step(user_id, step)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(user_ids) * len(script) / (time.perf_counter() - started)


async def latencies(stack: Stack, user_ids: range, script: list[str]) -> list[float]:
    """Each user sends the script step after step, all users at once; per-update latencies."""
    found: list[float] = []

    async def dialog(user_id: int) -> None:
        for step in script:
            found.append(await stack.step(user_id, step))

    await asyncio.gather(*(dialog(user_id) for user_id in user_ids))
    return found


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass
class Figures:
    """One measured run of one stack."""

    ups: float
    cpu_ms: float  # CPU time of this process per update: steadier than ups on a shared machine
    p50_ms: float
    p99_ms: float


async def measure(stack: Stack, args: argparse.Namespace, run: int, script_text: str) -> Figures:
    """Warm up, then throughput with all users' dialogs open, then latency with 100 users."""
    script = parse_script(script_text)
    base = FIRST_USER_ID + run * 10 * (args.users + LATENCY_USERS + WARMUP_USERS)
    await run_rounds(stack, range(base, base + WARMUP_USERS), script, args.concurrency)
    gc.collect()
    gc.freeze()  # as bot.channels.telegram.app does once started: the long-lived heap is not walked again
    try:
        base += WARMUP_USERS
        cpu = time.process_time()
        ups = await run_rounds(stack, range(base, base + args.users), script, args.concurrency)
        cpu_ms = (time.process_time() - cpu) * 1000 / (args.users * len(script))
        base += args.users
        found = await latencies(stack, range(base, base + LATENCY_USERS), script)
    finally:
        gc.unfreeze()
    check(stack, args.users + LATENCY_USERS + WARMUP_USERS, script)
    return Figures(ups, cpu_ms, percentile(found, 0.5) * 1000, percentile(found, 0.99) * 1000)


def check(stack: Stack, users: int, script: list[str]) -> None:
    """Every press found its button and was accepted, no update failed: the dialog really ran."""
    presses = sum(step.startswith(">") for step in script)
    answered = stack.session.calls.get("answerCallbackQuery", 0)
    session = stack.session
    if answered != users * presses or session.notices or session.failures:
        raise SystemExit(f"{stack.name}: {answered} presses answered of {users * presses}, "
                         f"{session.notices} refused, {session.failures} updates failed: "
                         "the dialog did not run as scripted")  # fmt: skip


async def one_run(args: argparse.Namespace, run: int) -> tuple[Figures, Figures]:
    """The floor and the full stack, each on fresh state."""
    # The floor knows only its own short dialog; per update it does the same work whatever the script.
    floor = await measure(new_stack("floor", floor_dispatcher()), args, run, EXPLAINER_SCRIPT)
    report("floor", run, floor)
    async with database(args.backend, args.postgres_url) as url, full_stack(url) as stack:
        full = await measure(stack, args, run, args.script)
    report("full ", run, full)
    return floor, full


def report(name: str, run: int, figures: Figures) -> None:
    """One human-readable line."""
    print(f"run {run} {name}: {figures.ups:8,.0f} updates/s   {figures.cpu_ms:.3f} ms CPU/update   "
          f"p50 {figures.p50_ms:6.1f} ms   p99 {figures.p99_ms:6.1f} ms (100 users at once)   "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip


async def main(args: argparse.Namespace) -> dict[str, Any]:
    """Alternate floor and full runs; report medians."""
    print(f"backend {args.backend}, {args.users:,} users, script {args.script!r}, {args.concurrency} "
          f"updates in flight, {args.runs} runs, {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    runs = [await one_run(args, run) for run in range(1, args.runs + 1)]
    floor, full = summary([f for f, _ in runs]), summary([f for _, f in runs])
    result = {
        "floor_ups": round(floor.ups), "full_ups": round(full.ups), "ratio": round(full.ups / floor.ups, 2),
        "p50_ms": round(full.p50_ms, 1), "p99_ms": round(full.p99_ms, 1),
        "floor_cpu_ms": round(floor.cpu_ms, 3), "full_cpu_ms": round(full.cpu_ms, 3),
        "cpu_ratio": round(floor.cpu_ms / full.cpu_ms, 2),
        "floor_p50_ms": round(floor.p50_ms, 1), "floor_p99_ms": round(floor.p99_ms, 1),
        "backend": args.backend, "users": args.users, "runs": args.runs,
    }  # fmt: skip
    print(f"median: floor {floor.ups:,.0f} updates/s, full {full.ups:,.0f} updates/s, "
          f"ratio {result['ratio']:.2f} (by CPU time {result['cpu_ratio']:.2f}); "
          f"full p50 {full.p50_ms:.1f} ms, p99 {full.p99_ms:.1f} ms")  # fmt: skip
    return result


def summary(figures: list[Figures]) -> Figures:
    """The median of each figure over the runs."""
    names = Figures.__annotations__
    return Figures(*(statistics.median(getattr(figure, name) for figure in figures) for name in names))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--users", type=int, default=10_000, help="users with a dialog open at once")
    parser.add_argument("--script", default=EXPLAINER_SCRIPT, help="the dialog: texts, and >id for a press")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians are reported)")
    parser.add_argument("--concurrency", type=int, default=100, help="updates in flight")
    parser.add_argument("--postgres-url", default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    return parser.parse_args(argv)


def run_main(coroutine: Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]) -> None:
    """Parse the options, run, print the JSON line."""
    print(json.dumps(asyncio.run(coroutine(parse_args()))))


if __name__ == "__main__":
    run_main(main)
