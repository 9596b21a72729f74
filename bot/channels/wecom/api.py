"""An async client of the WeCom HTTP API (the app's and 微信客服's), on aiohttp.

One client per secret: it caches that secret's access token, fetches it once for all callers
waiting at the same time, fetches it again once when WeCom says it is invalid or expired
(40014, 42001), and backs off on the frequency limit (45009) and on server errors. Logs name
the path and the error code, never a payload (it holds names and messages).

A call whose request may have reached WeCom without its answer reaching us (a timeout, a dropped
connection, a 5xx) has an unknown outcome (`WeComError.unknown`). Sends that must not be repeated
(`at_most_once=True`: group chats, whose appchat/send has no documented duplicate check) are then
not tried again; a connection that could not be opened, or an errcode, is known not to have sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40014, 42001})  # invalid / expired access_token
FREQUENCY_LIMIT = 45009
TOKEN_MARGIN_S = 300  # fetch a new token this long before WeCom's expiry
BACKOFF_S = (1.0, 2.0, 4.0)  # waits before the 2nd, 3rd and 4th attempt
REQUEST_TIMEOUT_S = 30.0  # longer than a slow send: a retry after a timeout could send twice


class WeComError(RuntimeError):
    """WeCom answered with an error code (or could not be reached after the retries)."""

    def __init__(self, path: str, errcode: int, errmsg: str = "", *, unknown: bool = False) -> None:
        super().__init__(f"WeCom {path}: errcode {errcode} {errmsg[:80]}")
        self.path, self.errcode = path, errcode
        self.unknown = unknown  # the request may have been carried out (see the module docstring)


class WeComAPI:
    """Calls of one secret (the app's, or 微信客服's) against `base_url`."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        base_url: str,
        corp_id: str,
        secret: str,
        *,
        backoff: tuple[float, ...] = BACKOFF_S,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self._corp_id, self._secret = corp_id, secret
        self.backoff, self._sleep = backoff, sleep
        self.timeout_s = REQUEST_TIMEOUT_S
        self._token: str | None = None
        self._expires_at = 0.0
        self._token_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"WeComAPI({self.base_url!r}, <secret>)"

    async def token(self) -> str:
        """A valid access token; callers arriving during a fetch wait for that one fetch."""
        if self._token is not None and time.monotonic() < self._expires_at:
            return self._token
        async with self._token_lock:
            if self._token is not None and time.monotonic() < self._expires_at:
                return self._token
            body = await self._request(
                "GET", "gettoken", {"corpid": self._corp_id, "corpsecret": self._secret}
            )
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + max(60, int(body.get("expires_in", 7200)) - TOKEN_MARGIN_S)
            return self._token

    def _forget(self, token: str) -> None:
        """Drop `token` if it is still the cached one (another caller may have replaced it)."""
        if self._token == token:
            self._token = None

    async def call(
        self, path: str, payload: dict[str, Any] | None = None, *, at_most_once: bool = False, **params: Any
    ) -> dict[str, Any]:
        """POST `payload` (GET without one) to `path` with the access token; the JSON answer.

        `at_most_once`: an attempt with an unknown outcome is not repeated (WeComError.unknown).
        """
        method = "POST" if payload is not None else "GET"
        return await self._with_token(
            path,
            lambda token: self._request(method, path, {**params, "access_token": token}, json=payload),
            at_most_once=at_most_once,
        )

    async def upload(self, kind: str, filename: str, data: bytes, content_type: str) -> str:
        """Upload a temporary file (kind: file or image, kept 3 days by WeCom); its media_id."""

        def form() -> aiohttp.FormData:  # a form is used up by one request: a new one per attempt
            built = aiohttp.FormData()
            built.add_field("media", data, filename=filename, content_type=content_type)
            return built

        answer = await self._with_token(
            "media/upload",
            lambda token: self._request(
                "POST", "media/upload", {"access_token": token, "type": kind}, data=form()
            ),
        )
        return str(answer["media_id"])

    async def _with_token(
        self, path: str, attempt: Callable[[str], Awaitable[dict[str, Any]]], *, at_most_once: bool = False
    ) -> dict[str, Any]:
        """Run `attempt(token)`: once more with a new token on 40014/42001, again after waits on 45009/5xx."""
        refetched = False
        tries = 0
        while True:
            token = await self.token()
            try:
                return await attempt(token)
            except WeComError as error:
                if error.errcode in TOKEN_ERRORS and not refetched:
                    refetched = True
                    self._forget(token)
                    continue
                if not _retryable(error) or tries >= len(self.backoff) or (error.unknown and at_most_once):
                    raise
                log.warning("WeCom %s: errcode %s, retrying in %ss", path, error.errcode, self.backoff[tries])
                await self._sleep(self.backoff[tries])
                tries += 1

    async def _request(self, method: str, path: str, params: dict[str, Any], **body: Any) -> dict[str, Any]:
        """One HTTP request; WeComError for an errcode, a 5xx (errcode -5xx) or a network failure (-1)."""
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        try:
            async with self.http.request(
                method, f"{self.base_url}/{path}", params=params, timeout=timeout, **body
            ) as response:
                return await _json(response, path)
        except aiohttp.ClientConnectorError as exc:  # no connection: nothing was sent
            log.warning("WeCom %s: %s", path, type(exc).__name__)
            raise WeComError(path, -1, type(exc).__name__) from None
        except (aiohttp.ClientError, TimeoutError) as exc:  # sent, perhaps carried out: no answer
            log.warning("WeCom %s: %s", path, type(exc).__name__)
            raise WeComError(path, -1, type(exc).__name__, unknown=True) from None


async def _json(response: aiohttp.ClientResponse, path: str) -> dict[str, Any]:
    """The JSON of an answer; WeComError for HTTP errors and non-zero errcodes."""
    if response.status >= 500:  # WeCom may or may not have carried it out
        raise WeComError(path, -response.status, "server error", unknown=True)
    if response.status != 200:
        raise WeComError(path, -response.status, "HTTP error")
    body = await response.json(content_type=None)
    errcode = int(body.get("errcode", 0) or 0)
    if errcode:
        log.warning("WeCom %s: errcode %s", path, errcode)
        raise WeComError(path, errcode, str(body.get("errmsg", "")))
    return body


def _retryable(error: WeComError) -> bool:
    """Worth another attempt after a wait: the frequency limit, a server error, the network."""
    return error.errcode == FREQUENCY_LIMIT or error.errcode == -1 or error.errcode <= -500
