"""Tables of the delivery feature (model families as in storage/models.py).

`hr_destination` says which chats (channel keys: "tg:-100...", "wecom:zhangsan") receive which
county's records; `delivery` is one
outbox entry for one destination (unique idempotency key); `delivery_digest` is one digest
message and the deliveries it carries. bot/delivery/worker.py explains how they are used.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import IDEMPOTENCY_KEY_LENGTH, KEY_LENGTH, UTCDateTime, utc_now

STATUS_LENGTH = 16
WORKER_LENGTH = 64
ERROR_LENGTH = 255
MESSAGE_ID_LENGTH = 64  # a channel's message id as text: Telegram's integers, WeCom's msgid strings

# delivery.status
PENDING, DELIVERED, CANCELLED = "pending", "delivered", "cancelled"
# delivery_digest.status, in the order a digest goes through them
PLANNED, PLACED, EDITED, DONE = "planned", "placed", "edited", "done"
OPEN_DIGEST_STATUSES = (PLANNED, PLACED, EDITED)
# outbox.status once its deliveries exist (storage.models.Outbox: pending, then this)
ROUTED = "routed"


# ---------------------------------------------------------------- hr_destination


class HrDestinationBase(SQLModel):
    """Fields a destination shares with its API shapes."""

    county_code: str = Field(max_length=6, index=True)
    chat_key: str = Field(max_length=KEY_LENGTH)  # the chat's channel key (bot.core.identity)
    added_by: str = Field(max_length=KEY_LENGTH)  # channel key, or "cli:<os user>"


class HrDestination(HrDestinationBase, table=True):
    """A chat of a county HR office that receives the county's digests."""

    __tablename__ = "hr_destination"
    # One row per county and chat: adding it again revives it instead of duplicating it.
    __table_args__ = (UniqueConstraint("county_code", "chat_key", name="uq_hr_destination_county_code"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    failures: int = 0  # consecutive failed attempts; reset by a success
    broken_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=ERROR_LENGTH)
    # Epoch seconds, compared with time.time(): the backoff after a failure and the work lease.
    next_attempt_at: float = Field(default=0.0, sa_type=Double)
    claimed_by: str | None = Field(default=None, max_length=WORKER_LENGTH)
    claimed_until: float | None = Field(default=None, sa_type=Double)


class HrDestinationCreate(HrDestinationBase):
    """What a caller gives to add a destination."""


class HrDestinationPublic(HrDestinationBase):
    """A destination as shown to admins."""

    id: int
    created_at: datetime
    failures: int
    broken_at: datetime | None
    removed_at: datetime | None
    last_error: str | None


# ---------------------------------------------------------------- delivery_digest


class DeliveryDigestBase(SQLModel):
    """Fields a digest shares with its API shapes."""

    destination_id: int = Field(foreign_key="hr_destination.id", index=True)
    number: int = 1  # counts the destination's digests: what HR sees as "No. 12"
    status: str = Field(default=PLANNED, max_length=STATUS_LENGTH)
    records: int = 0


class DeliveryDigest(DeliveryDigestBase, table=True):
    """One digest message: planned, placed (placeholder sent), edited (content in), done (files sent)."""

    __tablename__ = "delivery_digest"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(sa_type=Text)  # fixed when planned, so that a repeated edit is "not modified"
    message_id: str | None = Field(default=None, max_length=MESSAGE_ID_LENGTH)
    document_message_id: str | None = Field(default=None, max_length=MESSAGE_ID_LENGTH)
    chart_message_id: str | None = Field(default=None, max_length=MESSAGE_ID_LENGTH)
    # Epoch seconds of the first send of the content, on channels without edit (worker.py): a
    # retry within the channel's dedupe window is dropped by the channel, a later one is marked.
    send_attempted_at: float | None = Field(default=None, sa_type=Double)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryDigestPublic(DeliveryDigestBase):
    """A digest as shown outside the storage layer."""

    id: int
    message_id: str | None
    created_at: datetime
    edited_at: datetime | None
    done_at: datetime | None


# ---------------------------------------------------------------- delivery


class DeliveryBase(SQLModel):
    """Fields a delivery shares with its API shapes."""

    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    record_id: int = Field(index=True)
    destination_id: int = Field(foreign_key="hr_destination.id", index=True)
    status: str = Field(default=PENDING, max_length=STATUS_LENGTH)


class Delivery(DeliveryBase, table=True):
    """One outbox entry (a version of an intent record) for one destination: sent exactly once."""

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=IDEMPOTENCY_KEY_LENGTH, unique=True, index=True)
    digest_id: int | None = Field(default=None, foreign_key="delivery_digest.id", index=True)
    message_id: str | None = Field(default=None, max_length=MESSAGE_ID_LENGTH)  # the digest's
    attempts: int = 0
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DeliveryPublic(DeliveryBase):
    """A delivery as shown outside the storage layer."""

    id: int
    idempotency_key: str
    digest_id: int | None
    message_id: str | None
    attempts: int
    created_at: datetime
    sent_at: datetime | None


def delivery_key(outbox_id: int, destination_id: int) -> str:
    """The idempotency key of one outbox entry at one destination."""
    return f"outbox:{outbox_id}:hr:{destination_id}"
