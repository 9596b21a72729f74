"""One Telegram call, paced and retried: a 429 waits its retry_after, network errors and 5xx back off.

Back-off is exponential with full jitter (a random wait up to base * 2^n, capped), so that many
workers recovering from the same outage do not retry in step. What cannot succeed by retrying the
same call (4xx: chat not found, bot removed, bad request) is raised at once as `Rejected`; retries
that run out raise `Unreachable`. Either counts as one failure of the destination. The errors are
the delivery protocol's (bot.features.delivery.channel), so the worker needs no aiogram.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramEntityTooLarge,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot.channels.telegram.ratelimit import RateLimiter
from bot.core.identity import TELEGRAM, make_key
from bot.features.delivery.channel import DeliveryError, Moved, Rejected, Unreachable

T = TypeVar("T")
NOT_MODIFIED = "message is not modified"
# Not "message can't be edited": that may also answer an edit that went through long ago.
MESSAGE_GONE = ("message to edit not found", "message_id_invalid")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one call is tried before the destination counts a failure."""

    attempts: int = 5  # for network errors and 5xx
    base_seconds: float = 1.0
    max_seconds: float = 30.0
    timeout_seconds: float = 30.0  # per request; a timed-out request may still have been delivered
    max_rate_waits: int = 10  # 429s in a row before giving up on this round

    def backoff(self, failures: int) -> float:
        """The wait after the n-th failure: uniform in [0, min(max, base * 2^(n-1))]."""
        return random.uniform(0, min(self.max_seconds, self.base_seconds * 2 ** (failures - 1)))


def rejected(error: Exception) -> Rejected:
    """Telegram's refusal as the protocol's, saying whether an edit changed nothing or lost its message."""
    text = str(error).lower()
    return Rejected(
        str(error),
        not_modified=NOT_MODIFIED in text,
        message_gone=any(reason in text for reason in MESSAGE_GONE),
    )


__all__ = ["DeliveryError", "Moved", "Rejected", "RetryPolicy", "Unreachable", "call", "rejected"]


async def call(
    make: Callable[[float], Awaitable[T]], *, chat_id: int, limiter: RateLimiter, policy: RetryPolicy
) -> T:
    """Run `make(timeout)` once it fits the limits; retry as the policy says."""
    failures = waits = 0
    while True:
        await limiter.acquire(chat_id)
        try:
            return await make(policy.timeout_seconds)
        except TelegramRetryAfter as error:
            waits += 1
            if waits > policy.max_rate_waits:
                raise Unreachable(str(error)) from error
            limiter.pause(chat_id, error.retry_after)
        except TelegramMigrateToChat as error:
            raise Moved(make_key(TELEGRAM, error.migrate_to_chat_id)) from error
        except TelegramEntityTooLarge as error:
            raise rejected(error) from error
        except (TelegramNetworkError, TelegramServerError, ClientDecodeError) as error:
            failures += 1
            if failures >= policy.attempts:
                raise Unreachable(str(error)) from error
            await asyncio.sleep(policy.backoff(failures))
        except TelegramAPIError as error:
            raise rejected(error) from error
