"""The WeCom channels put together: API clients, callback endpoints, the outbox, the 客服 reader.

build_channel(services, settings) ─► WeComChannel ─► add_routes(app)  (callback URLs)
                                                 ├─► start()  senders registered, outbox running, app menu set
                                                 └─► stop()
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bot.channels.wecom import digests
from bot.channels.wecom.api import WeComAPI, WeComError
from bot.channels.wecom.callbacks import CallbackEndpoint
from bot.channels.wecom.crypto import CallbackCrypto
from bot.channels.wecom.dialog import Dialogs, Receivers
from bot.channels.wecom.groups import GroupSends
from bot.channels.wecom.hr import handle_hr, may_be_hr
from bot.channels.wecom.inbound import Incoming, from_app
from bot.channels.wecom.kf import KfReader
from bot.channels.wecom.outbox import Outbox
from bot.channels.wecom.session import KfSessions
from bot.core.identity import WECHAT_KF, WECOM
from bot.core.scheduler import HOUR, every
from bot.core.services import Services
from bot.core.settings import Settings
from content.i18n import Translator
from dialogs.model import DEFAULT_LANGUAGE, Reply
from storage.models_wecom import APP, APP_FILE, CARD_UPDATE, KF, KF_WELCOME
from storage.repositories import wecom as repo

log = logging.getLogger(__name__)
MENU_TOP = ("menu", "check")
MENU_MORE = ("intake", "language", "help", "cancel")
# WeCom retries a callback within seconds, and a 客服 page is read again within minutes.
SEEN_KEPT_S = 3 * 24 * 3600
SENT_KEPT_S = 24 * 3600


@dataclass
class WeComChannel:
    """Everything the WeCom channels run on, built once at start-up."""

    settings: Settings
    services: Services
    http: aiohttp.ClientSession
    dialogs: Dialogs
    outbox: Outbox
    app_api: WeComAPI | None
    kf_reader: KfReader | None
    group_sends: GroupSends | None = None  # with the app: digests' content to group chats, once
    endpoints: dict[str, CallbackEndpoint] = field(default_factory=dict)
    note_takers: set[str] = field(default_factory=set)  # members who used an HR command or button
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _sender: asyncio.Task[None] | None = None
    _cleaner: asyncio.Task[None] | None = None
    _menu: asyncio.Task[bool] | None = None

    def add_routes(self, app: web.Application) -> None:
        """The callback URLs of the configured channels."""
        if "app" in self.endpoints:
            self.endpoints["app"].add_routes(app, self.settings.wecom_app_path)
        if "kf" in self.endpoints:
            self.endpoints["kf"].add_routes(app, self.settings.wecom_kf_path)

    async def start(self) -> None:
        """Register the senders for wecom:/wxkf: keys, start the outbox, set the app menu."""
        if self.app_api is not None:
            self.services.outbound.register(WECOM, self.dialogs.send_on_own)
            agent_id, groups = self.settings.wecom_agent_id, self.group_sends
            assert agent_id is not None and groups is not None
            digests.register(self.services.digests, self.app_api, agent_id, groups)
        if self.kf_reader is not None:
            self.services.outbound.register(WECHAT_KF, self.dialogs.send_on_own, refs=True)
        self._sender = asyncio.create_task(self.outbox.run(self._stop), name="wecom outbox")
        self._cleaner = asyncio.create_task(
            every(HOUR, self.purge, self._stop, "wecom purge"), name="wecom purge"
        )
        if self.app_api is not None:  # in the background: start-up does not wait for WeCom
            self._menu = asyncio.create_task(set_app_menu(self.app_api, self.settings.wecom_agent_id))

    async def stop(self) -> None:
        """Stop the outbox (sends under way finish), the 客服 reader, and the HTTP session."""
        self._stop.set()
        await asyncio.gather(
            *(t for t in (self._sender, self._cleaner) if t is not None), return_exceptions=True
        )
        if self.kf_reader is not None:
            await self.kf_reader.stop()
        await self.http.close()

    async def purge(self) -> None:
        """Forget inputs seen days ago and messages sent a day ago (they hold replies)."""
        now = self.dialogs.clock()
        async with self.services.database.session() as session:
            await repo.purge_seen(session=session, before=now - SEEN_KEPT_S)
            await repo.purge_finished(session=session, before=now - SENT_KEPT_S)
        if self.group_sends is not None:
            await self.group_sends.purge()

    async def on_app_message(self, fields: dict[str, str]) -> None:
        """An app callback: apply it (committed before WeCom gets its answer)."""
        incoming = from_app(fields)
        if incoming is None:
            return
        try:
            if not await self._hr(incoming):
                await self.dialogs.apply(incoming)
        except Exception:  # the user is told; WeCom gets its 200 (a retry would fail the same way)
            log.exception("WeCom app: a callback could not be applied")
            await self.dialogs.send_on_own(incoming.key, [Reply("core.error")], DEFAULT_LANGUAGE)

    async def _hr(self, incoming: Incoming) -> bool:
        """HR commands, buttons and notes (applied once); False for the dialogs' inputs."""
        if not may_be_hr(incoming, self.note_takers):
            return False
        if incoming.user_input.kind != "text":
            self.note_takers.add(incoming.key)
        async with self.services.database.session() as session:
            if await repo.was_seen(session=session, digest=incoming.digest):
                return True
            if not await handle_hr(self.dialogs, incoming, session):
                return False
            await repo.mark_seen(session=session, digest=incoming.digest, now=self.dialogs.clock())
            await session.commit()
        return True


def app_menu(lang: str = DEFAULT_LANGUAGE) -> dict:
    """The app's custom menu: the main commands (3 top buttons at most, 5 under each)."""
    translator = Translator(lang)

    def click(command: str) -> dict:
        return {"type": "click", "name": translator.text(f"cmd.{command}"), "key": command}

    more = {"name": translator.text("wecom.menu_more"), "sub_button": [click(c) for c in MENU_MORE]}
    return {"button": [*(click(c) for c in MENU_TOP), more]}


async def set_app_menu(api: WeComAPI, agent_id: int | None) -> bool:
    """Set the app menu; a failure is logged, not fatal (the menu is set again at the next start)."""
    try:
        await api.call("menu/create", app_menu(), agentid=agent_id)
    except WeComError as error:
        log.warning("WeCom app: the menu was not set (errcode %s)", error.errcode)
        return False
    return True


def build_channel(services: Services, settings: Settings) -> WeComChannel | None:
    """The WeCom channels the settings configure, or None when neither is."""
    app_on, kf_on = settings.wecom_app_enabled(), settings.wecom_kf_enabled()
    if not (app_on or kf_on):
        return None
    assert settings.wecom_corp_id and settings.wecom_callback_token and settings.wecom_callback_aes_key
    http = aiohttp.ClientSession()
    corp, url = settings.wecom_corp_id, settings.wecom_api_url
    app_api = kf_api = None
    if app_on:
        assert settings.wecom_app_secret is not None
        app_api = WeComAPI(http, url, corp, settings.wecom_app_secret.get_secret_value())
    if kf_on:
        assert settings.wecom_kf_secret is not None
        kf_api = WeComAPI(http, url, corp, settings.wecom_kf_secret.get_secret_value())
    apis = {APP: app_api, APP_FILE: app_api, CARD_UPDATE: app_api, KF: kf_api, KF_WELCOME: kf_api}
    outbox = Outbox(
        services.database, services.cipher, apis, writes=services.conversations.side_writes,
        hand_back=services.outbound.returned,
    )  # fmt: skip
    receivers = Receivers(
        settings.wecom_agent_id, settings.wecom_kf_open_kfid, app_cards=settings.wecom_app_choices == "cards"
    )
    dialogs = Dialogs(services, outbox, receivers)
    kf_reader = None
    if kf_api is not None:
        open_kfid = settings.wecom_kf_open_kfid or ""
        sessions = KfSessions(kf_api, services.database, services.outbound, open_kfid)
        outbox.learn_state = sessions.learn
        kf_reader = KfReader(kf_api, dialogs, services.database, open_kfid, sessions)
    group_sends = GroupSends(app_api, services.database, dialogs.clock) if app_api else None
    channel = WeComChannel(settings, services, http, dialogs, outbox, app_api, kf_reader, group_sends)
    crypto = CallbackCrypto(
        settings.wecom_callback_token.get_secret_value(),
        settings.wecom_callback_aes_key.get_secret_value(),
        corp,
    )
    if app_on:
        channel.endpoints["app"] = CallbackEndpoint("app", crypto, channel.on_app_message)
    if kf_reader is not None:
        channel.endpoints["kf"] = CallbackEndpoint("kf", crypto, kf_reader.notify)
    return channel
