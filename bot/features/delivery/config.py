"""The delivery worker's settings: DIGEST_INTERVAL_MINUTES, DIGEST_MIN_RECORDS, DELIVERY_MAX_FAILURES.

They are read like every other setting (environment, or .env in the working directory). When the
application's Settings grows fields of the same names, those win, so the fields can move there.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.core.settings import SettingsError


class DeliverySettings(BaseSettings):
    """The three delivery settings an operator may change."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    digest_interval_minutes: float = Field(default=60, gt=0, description="a digest at least this often")
    digest_min_records: int = Field(default=20, ge=1, description="a digest as soon as this many wait")
    delivery_max_failures: int = Field(default=5, ge=1, description="failures in a row that break a chat")


@dataclass(frozen=True)
class DeliveryConfig:
    """Everything the worker needs to know besides the database and the bot."""

    digest_interval_minutes: float = 60
    digest_min_records: int = 20
    delivery_max_failures: int = 5
    max_records_per_digest: int = 50  # fewer when their lines do not fit in one message
    poll_seconds: float = 10.0  # how often a running worker looks for due work
    lease_seconds: float = 300.0  # longer than any one step, 429 waits included
    claim_batch: int = 50  # destinations claimed per round
    concurrency: int = 8  # destinations worked on at once (the rate limiter paces them)
    backoff_seconds: float = 30.0  # a failed destination's first pause; doubles per failure
    max_backoff_seconds: float = 3600.0

    def with_changes(self, **changes: Any) -> DeliveryConfig:
        """A copy with some fields changed (tests and the benchmark tune timings)."""
        return replace(self, **changes)


def load_delivery_config(settings: object | None = None) -> DeliveryConfig:
    """The config from the environment, overridden by fields of the same name on `settings`."""
    try:
        values = DeliverySettings().model_dump()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"setting {name}: {first['msg']}") from None
    names = {field.name for field in fields(DeliveryConfig)}
    values |= {name: getattr(settings, name) for name in names if getattr(settings, name, None) is not None}
    return DeliveryConfig(**{name: value for name, value in values.items() if name in names})
