"""Tests of the fake Telegram Bot API (tests/fakebot.py), driven by a real aiogram Bot."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from tests import fakebot
from tests.fakebot import FakeBotAPI, RateLimits, UploadedFile, clean_text, parse_html, tiny_png

fake_bot_api = fakebot.fake_bot_api  # the module's fixture, registered here under its own name

USER = 42


@pytest.fixture
def fake(fake_bot_api: FakeBotAPI) -> FakeBotAPI:
    return fake_bot_api


@pytest.fixture
async def bot(fake: FakeBotAPI):
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    bot = Bot(fake.token, session=session)
    yield bot
    await bot.session.close()


def dumped(obj: object) -> object:
    """Compare aiogram objects by content: returned ones carry the Bot that fetched them."""
    return obj.model_dump(exclude_none=True) if obj is not None else None  # type: ignore[attr-defined]


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in row] for row in rows]
    )


async def raw_call(fake: FakeBotAPI, method: str, *, token: str | None = None, **kwargs) -> tuple[int, dict]:
    """A request without aiogram, to see the wire format; kwargs go to aiohttp."""
    url = f"{fake.base_url}/bot{token or fake.token}/{method}"
    http_method = kwargs.pop("http", "POST")
    async with aiohttp.ClientSession() as session, session.request(http_method, url, **kwargs) as r:
        return r.status, await r.json()


# -- getMe and transport -------------------------------------------------------------------------


async def test_get_me_describes_the_bot(fake: FakeBotAPI, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == bot.id == fake.bot_id
    assert me.is_bot is True
    assert me.username == "outreach_test_bot"
    assert me.can_join_groups is True
    assert fake.sent[-1]["method"] == "getMe"


async def test_unknown_token_is_401_and_unknown_method_404(fake: FakeBotAPI) -> None:
    assert await raw_call(fake, "getMe", token="999:wrong") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    not_found = {"ok": False, "error_code": 404, "description": "Not Found"}
    assert await raw_call(fake, "sendPidgeon") == (404, not_found)
    assert fake.unknown_methods == ["sendPidgeon"]


async def test_aiogram_sees_401_as_unauthorized(fake: FakeBotAPI) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    intruder = Bot("999:wrong-token", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await session.close()


async def test_parameters_from_json_form_and_query_string_with_any_method_case(fake: FakeBotAPI) -> None:
    fake.add_chat(USER)
    markup = {"inline_keyboard": [[{"text": "是", "callback_data": "yes"}]]}

    payload = {"chat_id": USER, "text": "json", "reply_markup": markup}
    status, body = await raw_call(fake, "sendMessage", json=payload)
    assert status == 200 and body["result"]["reply_markup"] == markup
    status, _ = await raw_call(
        fake, "SENDMESSAGE", data={"chat_id": str(USER), "text": "form", "reply_markup": json.dumps(markup)}
    )
    assert status == 200
    query = {"chat_id": str(USER), "text": "query"}
    status, _ = await raw_call(fake, "sendmessage", http="GET", params=query)
    assert status == 200

    records = fake.calls("sendMessage")
    assert [r["params"]["text"] for r in records] == ["json", "form", "query"]
    assert all(r["params"]["chat_id"] == USER for r in records)  # "42" from forms becomes an int
    assert records[1]["params"]["reply_markup"] == markup  # the JSON string is parsed back


# -- sending and editing messages ----------------------------------------------------------------


async def test_send_message_round_trips_inline_keyboard(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER, first_name="王芳")
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text="是", callback_data="yes"),
                InlineKeyboardButton(text="否", callback_data="no"),
            ],
            [InlineKeyboardButton(text="政策原文", url="https://example.org/policy")],
        ]
    )

    first = await bot.send_message(USER, "您想参加技能培训吗？", reply_markup=markup)
    second = await bot.send_message(USER, "第二条")

    assert dumped(first.reply_markup) == dumped(markup)
    assert first.text == "您想参加技能培训吗？"
    assert first.from_user is not None and first.from_user.is_bot and first.from_user.id == bot.id
    assert (first.chat.id, first.chat.type, first.chat.first_name) == (USER, "private", "王芳")
    assert second.message_id == first.message_id + 1
    assert isinstance(fake.sent[0]["message"]["date"], int)
    assert fake.sent[0]["params"]["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "no"
    sent = fake.messages_to(USER)
    assert [m.text for m in sent] == ["您想参加技能培训吗？", "第二条"]
    assert sent[0].buttons == [["是", "否"], ["政策原文"]]
    assert sent[0].callback_data == ["yes", "no"]
    assert sent[1].reply_markup is None


async def test_reply_keyboard_is_recorded_but_not_echoed(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    markup = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]])

    message = await bot.send_message(USER, "请分享手机号", reply_markup=markup)

    assert message.reply_markup is None  # Telegram echoes inline keyboards only
    assert fake.last_message(USER).buttons == [["分享手机号"]]


async def test_send_message_rejects_what_telegram_rejects(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(7, "hello")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "长" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, " \n ")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        # 22 Chinese characters are 66 bytes of UTF-8: over the 64-byte callback_data limit.
        await bot.send_message(USER, "选择", reply_markup=keyboard([("选", "村" * 22)]))
    assert fake.messages_to(USER) == []


async def test_html_parse_mode_yields_plain_text_and_entities(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)

    html = "👍 <b>补贴</b> &lt;每人&gt; <a href='https://x.org'>详情</a>\n"
    message = await bot.send_message(USER, html, parse_mode="HTML")

    assert message.text == "👍 补贴 <每人> 详情"
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [
        ("bold", 3, 2),  # the emoji is two UTF-16 units
        ("text_link", 11, 2),
    ]
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await bot.send_message(USER, "第一行<br>第二行", parse_mode="HTML")


async def test_edit_message_text(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    markup = keyboard([("是", "yes")])
    original = await bot.send_message(USER, "您想参加培训吗？", reply_markup=markup)

    edited = await bot.edit_message_text("已记录您的选择", chat_id=USER, message_id=original.message_id)

    assert isinstance(edited, Message)
    assert edited.message_id == original.message_id
    assert edited.text == "已记录您的选择"
    assert edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    assert fake.last_message(USER).text == "已记录您的选择"
    assert fake.last_message(USER).reply_markup is None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("已记录您的选择", chat_id=USER, message_id=original.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=original.message_id + 100)


async def test_edit_reply_markup_and_delete(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    message = await bot.send_message(USER, "选择", reply_markup=keyboard([("是", "yes")]))

    edited = await bot.edit_message_reply_markup(
        chat_id=USER, message_id=message.message_id, reply_markup=keyboard([("否", "no")])
    )
    assert isinstance(edited, Message) and dumped(edited.reply_markup) == dumped(keyboard([("否", "no")]))
    assert fake.last_message(USER).callback_data == ["no"]

    assert await bot.delete_message(USER, message.message_id) is True
    assert fake.last_message(USER).deleted
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("late", chat_id=USER, message_id=message.message_id)


# -- updates ---------------------------------------------------------------------------------------


async def test_long_poll_returns_message_queued_while_waiting(fake: FakeBotAPI, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await fake.wait_for(lambda: fake.polls_waiting == 1, what="the poll to start waiting")
    loop = asyncio.get_running_loop()
    queued_at = loop.time()

    update = fake.user_sends(USER, "/start", first_name="李雷")
    updates = await asyncio.wait_for(poll, 5)

    assert loop.time() - queued_at < 2  # woke up on the update, not on the 20 s timeout
    assert [u.update_id for u in updates] == [update["update_id"]]
    message = updates[0].message
    assert message is not None and message.from_user is not None
    assert message.text == "/start"
    assert message.chat.id == message.from_user.id == USER
    assert message.chat.type == "private"
    assert message.from_user.is_bot is False
    assert (message.from_user.first_name, message.from_user.language_code) == ("李雷", "zh-hans")
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [("bot_command", 0, 6)]


async def test_offset_confirms_updates_for_good(fake: FakeBotAPI, bot: Bot) -> None:
    ids = [fake.user_sends(USER, text)["update_id"] for text in ("一", "二", "三")]
    assert ids == sorted(ids) and len(set(ids)) == 3

    # Waiting updates are returned at once even with a long timeout.
    first = await asyncio.wait_for(bot.get_updates(timeout=30), 5)
    assert [u.update_id for u in first] == ids
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]

    # offset confirms everything below it; asking for the older ones again does not bring them back.
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=ids[0])] == ids[1:]
    assert await bot.get_updates(offset=ids[-1] + 1) == []
    assert fake.pending_updates == []


async def test_negative_offset_keeps_only_the_last_updates(fake: FakeBotAPI, bot: Bot) -> None:
    ids = [fake.user_sends(USER, str(n))["update_id"] for n in range(4)]

    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[-1:]
    assert [u["update_id"] for u in fake.pending_updates] == ids[-1:]


async def test_allowed_updates_filters_later_updates(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    message = await bot.send_message(USER, "选择", reply_markup=keyboard([("是", "yes")]))
    assert await bot.get_updates(allowed_updates=["message"]) == []

    fake.user_presses(USER, message.message_id, "yes")  # not wanted: never stored
    fake.user_sends(USER, "你好")

    updates = await bot.get_updates()
    assert [u.event_type for u in updates] == ["message"]


async def test_second_poll_terminates_the_first_with_409(fake: FakeBotAPI, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=20))
    await fake.wait_for(lambda: fake.polls_waiting == 1)

    second = asyncio.create_task(bot.get_updates(timeout=20))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await asyncio.wait_for(first, 5)
    fake.user_sends(USER, "hi")
    assert len(await asyncio.wait_for(second, 5)) == 1


async def test_webhook_state_and_conflict_with_polling(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user_sends(USER, "pending")
    assert await bot.set_webhook("https://bot.example.org/hook", secret_token="s3cret_token") is True

    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://bot.example.org/hook", 1)
    assert fake.webhook["secret_token"] == "s3cret_token"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    with pytest.raises(TelegramBadRequest, match="HTTPS URL must be provided"):
        await bot.set_webhook("http://insecure.example.org/hook")

    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert await bot.get_updates() == []


async def test_callback_query_and_answer(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    buttons = keyboard([("是", "yes"), ("否", "no")])
    message = await bot.send_message(USER, "您想参加培训吗？", reply_markup=buttons)

    pressed = fake.user_presses(USER, fake.last_message(USER), "no")
    [update] = await bot.get_updates()

    query = update.callback_query
    assert query is not None and query.id == pressed["callback_query"]["id"]
    assert query.data == "no" and query.from_user.id == USER and query.chat_instance
    assert isinstance(query.message, Message)
    assert query.message.message_id == message.message_id
    assert dumped(query.message.reply_markup) == dumped(buttons)
    assert await bot.answer_callback_query(query.id, text="已记录", show_alert=True) is True
    assert fake.callback_answers == [
        {"callback_query_id": query.id, "text": "已记录", "show_alert": True, "url": None, "cache_time": 0}
    ]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(ValueError, match="no button 'maybe'"):
        fake.user_presses(USER, message.message_id, "maybe")


async def test_user_sends_sticker_and_photo(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user_sends_sticker(USER)
    fake.user_sends_photo(USER, data=tiny_png(1600, 1200), caption="我的证书")

    sticker_update, photo_update = await bot.get_updates()

    assert sticker_update.message is not None and sticker_update.message.sticker is not None
    assert sticker_update.message.sticker.emoji == "👍"
    photo = photo_update.message
    assert photo is not None and photo.photo is not None and photo.caption == "我的证书"
    sizes = [(p.width, p.height) for p in photo.photo]
    assert sizes == [(90, 68), (320, 240), (800, 600), (1280, 960), (1600, 1200)]
    # The bot can fetch the biggest size like it would from Telegram.
    file = await bot.get_file(photo.photo[-1].file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == tiny_png(1600, 1200)


async def test_blocked_user(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    update = fake.user_blocks_bot(USER)

    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "还在吗？")
    fake.user_sends(USER, "/start")  # writing again unblocks, reported first as my_chat_member
    assert [u.event_type for u in await bot.get_updates()] == ["my_chat_member", "my_chat_member", "message"]
    assert (await bot.send_message(USER, "欢迎回来")).text == "欢迎回来"


# -- failures and rate limits ------------------------------------------------------------------------


async def test_injected_429_surfaces_as_retry_after(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    fake.fail_next("SendMessage", retry_after=3)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "第一次")

    assert caught.value.retry_after == 3
    assert "retry after 3" in caught.value.message
    assert fake.http_429 == 1
    assert fake.messages_to(USER) == []  # a 429 means the message was not sent
    assert (await bot.send_message(USER, "第二次")).text == "第二次"


async def test_injected_server_error_drop_and_raw_body(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    fake.fail_next("sendMessage", status=500)
    fake.fail_next("sendMessage", drop=True)

    with pytest.raises(TelegramServerError):
        await bot.send_message(USER, "a")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "b")
    fake.fail_next("getMe", status=502, body="<html><body>502 Bad Gateway</body></html>")
    url = f"{fake.base_url}/bot{fake.token}/getMe"
    async with aiohttp.ClientSession() as session, session.post(url) as r:
        status, text = r.status, await r.text()
    assert (status, text) == (502, "<html><body>502 Bad Gateway</body></html>")
    assert [r["status"] for r in fake.requests] == [500, 0, 502]
    assert fake.messages_to(USER) == []


async def test_delay_outlives_client_timeout_but_message_is_sent(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    fake.fail_next("sendMessage", delay=1.5)

    with pytest.raises(TelegramNetworkError, match="timeout"):
        await bot.send_message(USER, "慢", request_timeout=1)

    # The server did its job after the client gave up: the classic duplicate-send trap.
    [message] = await fake.wait_for_messages(USER, 1, timeout=5)
    assert message.text == "慢"


async def test_rate_limiter_answers_429_per_chat() -> None:
    now = [1000.0]
    limits = RateLimits(overall=(30, 1.0), per_group=(20, 60.0), per_private_chat=(1, 1.0))
    async with FakeBotAPI(rate_limits=limits, clock=lambda: now[0]) as fake:
        bot = fake.make_bot()
        fake.add_chat(USER)
        group = -1001234567890
        fake.add_chat(group, title="村委会")

        await bot.send_message(USER, "一")
        with pytest.raises(TelegramRetryAfter) as private_limit:
            await bot.send_message(USER, "二")
        assert private_limit.value.retry_after == 1
        now[0] += 1.0
        await bot.send_message(USER, "三")

        for n in range(20):
            await bot.send_message(group, f"通知 {n}")
            now[0] += 0.1
        with pytest.raises(TelegramRetryAfter) as group_limit:
            await bot.send_message(group, "第二十一条")
        assert 55 <= group_limit.value.retry_after <= 60

        assert fake.http_429 == 2
        assert [m.text for m in fake.messages_to(USER)] == ["一", "三"]
        assert len(fake.messages_to(group)) == 20


# -- commands and files ---------------------------------------------------------------------------------


async def test_set_my_commands_per_language_and_scope(fake: FakeBotAPI, bot: Bot) -> None:
    zh = [BotCommand(command="start", description="开始"), BotCommand(command="help", description="帮助")]
    await bot.set_my_commands(zh, language_code="zh")
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    wish = [BotCommand(command="wish", description="登记意向")]
    await bot.set_my_commands(wish, scope=BotCommandScopeAllPrivateChats())

    assert [dumped(c) for c in await bot.get_my_commands(language_code="zh")] == [dumped(c) for c in zh]
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert await bot.get_my_commands(language_code="en") == []
    assert fake.commands == {
        "zh": [{"command": "start", "description": "开始"}, {"command": "help", "description": "帮助"}],
        "": [{"command": "start", "description": "Start"}],
    }
    private_commands = fake.commands_for({"type": "all_private_chats"})
    assert private_commands == [{"command": "wish", "description": "登记意向"}]

    # Telegram wants a two-letter code: the IETF tag users report ("zh-hans") is refused.
    with pytest.raises(TelegramBadRequest, match="invalid language code specified"):
        await bot.set_my_commands(zh, language_code="zh-hans")
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])

    assert await bot.delete_my_commands(language_code="zh") is True
    assert "zh" not in fake.commands


async def test_send_document_with_buffered_input_file(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)
    data = "姓名,意向\n王芳,电工\n".encode()

    document = BufferedInputFile(data, filename="wishes.csv")
    message = await bot.send_document(USER, document, caption="本周意向汇总")

    assert message.document is not None
    assert (message.document.file_name, message.document.file_size) == ("wishes.csv", len(data))
    assert message.document.mime_type == "text/csv"
    assert message.caption == "本周意向汇总"
    [upload] = fake.uploads
    assert upload["file"] == UploadedFile("wishes.csv", data, "application/octet-stream")
    assert (upload["method"], upload["chat_id"], upload["caption"]) == ("sendDocument", USER, "本周意向汇总")
    assert fake.last_message(USER).text == "本周意向汇总"
    # aiogram uploads as "document=attach://<random part name>"; the part itself is no parameter.
    assert set(fake.calls("sendDocument")[0]["params"]) == {"chat_id", "document", "caption"}
    file = await bot.get_file(message.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == data


async def test_send_photo_needs_an_image(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(USER)

    message = await bot.send_photo(USER, BufferedInputFile(tiny_png(300, 200), filename="a.png"))
    assert message.photo is not None and (message.photo[-1].width, message.photo[-1].height) == (300, 200)
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, BufferedInputFile(b"not an image", filename="a.png"))
    assert await bot.send_chat_action(USER, "upload_photo") is True
    assert [m.method for m in fake.messages_to(USER)] == ["sendPhoto"]


# -- a whole dispatcher against the fake ----------------------------------------------------------------


async def test_dispatcher_conversation_and_wait_idle(fake: FakeBotAPI, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("您想参加技能培训吗？", reply_markup=keyboard([("是", "yes"), ("否", "no")]))

    @dp.callback_query(F.data == "yes")
    async def chose_yes(query: CallbackQuery) -> None:
        await query.answer("好的")
        assert isinstance(query.message, Message)
        await query.message.edit_text("已为您登记")

    # handle_as_tasks=False: aiogram confirms an update only after its handler ran, so
    # wait_idle() really means "all handlers finished".
    polling = asyncio.create_task(
        dp.start_polling(
            bot, polling_timeout=5, handle_as_tasks=False, handle_signals=False, close_bot_session=False
        )
    )
    try:
        fake.user_sends(USER, "/start")
        [question] = await fake.wait_for_messages(USER, 1)
        assert question.callback_data == ["yes", "no"]

        fake.user_presses(USER, question, "yes")
        await fake.wait_idle()

        assert fake.callback_answers[0]["text"] == "好的"
        [answer] = fake.messages_to(USER)
        assert (answer.text, answer.reply_markup) == ("已为您登记", None)
        assert fake.pending_updates == []
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


# -- text helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "text", "entities"),
    [
        ("<b>a<i>b</i></b>", "ab", [("bold", 0, 2), ("italic", 1, 1)]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ('<span class="tg-spoiler">秘密</span>', "秘密", [("spoiler", 0, 2)]),
        ("&#20320;&amp;&nbsp;", "你&&nbsp;", []),
    ],
)
def test_parse_html(markup: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    parsed_text, parsed_entities = parse_html(markup)
    assert parsed_text == text
    assert [(e["type"], e["offset"], e["length"]) for e in parsed_entities] == entities


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("<b>a</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>a", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a</b>", "Unexpected end tag at byte offset 1"),
        ("<span>a</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_parse_html_errors(markup: str, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(")):
        parse_html(markup)


def test_clean_text_trims_and_moves_entities() -> None:
    # "\r" goes, the tab becomes a space, blanks around the text go; the entity moves along.
    text, entities = clean_text("\n  a\r\n\tb  \n", [{"type": "bold", "offset": 6, "length": 2}])

    assert text == "a\n b"
    assert entities == [{"type": "bold", "offset": 2, "length": 2}]
