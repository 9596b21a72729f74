"""The HTTP side of a WeCom callback URL: URL verification (GET) and messages (POST).

Every request is checked (signature in constant time, then AES, then the receive id) before
anything in it is believed. A POST is answered with an empty 200 once its input is applied
and committed; its replies are sent afterwards (outbox.py), so WeCom's 5 seconds hold
whatever the send API does. A forged or malformed request gets 403 and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.channels.wecom.crypto import CallbackCrypto, CallbackRejected
from bot.channels.wecom.envelope import MAX_BODY_BYTES, message_fields, outer_encrypt

log = logging.getLogger(__name__)

OnMessage = Callable[[dict[str, str]], Awaitable[None]]


class CallbackEndpoint:
    """One callback URL (the app's or 客服's): verification and decrypted messages to `on_message`."""

    def __init__(self, name: str, crypto: CallbackCrypto, on_message: OnMessage) -> None:
        self.name, self.crypto, self.on_message = name, crypto, on_message

    def add_routes(self, app: web.Application, path: str) -> None:
        """GET and POST on `path`."""
        app.router.add_get(path, self.verify)
        app.router.add_post(path, self.receive)

    async def verify(self, request: web.Request) -> web.Response:
        """The admin console's check when the URL is saved: answer the decrypted echostr."""
        query = request.query
        try:
            echo = self.crypto.open(
                query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""),
                query.get("echostr", ""),
            )  # fmt: skip
        except CallbackRejected as exc:
            log.warning("WeCom %s: URL verification refused (%s)", self.name, exc)
            return web.Response(status=403)
        return web.Response(text=echo, content_type="text/plain")

    async def receive(self, request: web.Request) -> web.Response:
        """A message or event: check, decrypt, apply, then answer with an empty 200."""
        if (request.content_length or 0) > MAX_BODY_BYTES:
            return web.Response(status=413)
        try:
            body = await request.content.read(MAX_BODY_BYTES + 1)
            query = request.query
            encrypt = outer_encrypt(body)
            plain = self.crypto.open(
                query.get("msg_signature", ""), query.get("timestamp", ""), query.get("nonce", ""), encrypt
            )
            fields = message_fields(plain)
        except CallbackRejected as exc:
            log.warning("WeCom %s: callback refused (%s)", self.name, exc)
            return web.Response(status=403)
        await self.on_message(fields)
        return web.Response(text="")
