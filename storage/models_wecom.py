"""Tables of the WeCom channel (model families as in storage/models.py).

`wecom_seen`: callbacks and 客服 messages already applied (a hash of their id), so that one
delivered again is applied once. `wecom_outbox`: messages to send after the callback was
acknowledged (payload encrypted: replies can hold names and numbers). `wecom_kf_cursor`: where
the 客服 message stream was read up to. `wecom_peer`: per user, the 客服 send window.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, Text
from sqlmodel import Field, SQLModel

from storage.models import KEY_LENGTH, UTCDateTime, utc_now

HASH_LENGTH = 64
STATUS_LENGTH = 16
KIND_LENGTH = 16
ERROR_LENGTH = 255
OPEN_KFID_LENGTH = 64

# wecom_outbox.status
PENDING, SENT, HELD, FAILED = "pending", "sent", "held", "failed"
# wecom_outbox.kind: which API sends it
APP, APP_FILE, KF, KF_WELCOME, CARD_UPDATE = "app", "app_file", "kf", "kf_welcome", "card_update"


class WecomSeen(SQLModel, table=True):
    """An input that was applied: the sha256 of its WeCom id (MsgId, sender + time, 客服 msgid)."""

    __tablename__ = "wecom_seen"

    id: int | None = Field(default=None, primary_key=True)
    digest: str = Field(max_length=HASH_LENGTH, unique=True, index=True)
    seen_at: float = Field(sa_type=Double, index=True)  # epoch seconds; old rows are purged


class WecomOutboxBase(SQLModel):
    """Fields an outbox entry shares with its API shapes."""

    key: str = Field(max_length=KEY_LENGTH, index=True)  # wecom:<UserID> or wxkf:<external_userid>
    kind: str = Field(max_length=KIND_LENGTH)
    payload: str = Field(sa_type=Text)  # JSON, encrypted with the data key


class WecomOutbox(WecomOutboxBase, table=True):
    """One message (or card update) to send, in id order per user."""

    __tablename__ = "wecom_outbox"

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(default=PENDING, max_length=STATUS_LENGTH, index=True)
    attempts: int = 0
    next_attempt_at: float = Field(default=0.0, sa_type=Double)  # epoch seconds
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=ERROR_LENGTH)


class WecomKfCursor(SQLModel, table=True):
    """How far the 客服 message stream of one account has been applied."""

    __tablename__ = "wecom_kf_cursor"

    open_kfid: str = Field(primary_key=True, max_length=OPEN_KFID_LENGTH)
    cursor: str = Field(sa_type=Text)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class WecomPeer(SQLModel, table=True):
    """What the channel remembers of one user between callbacks."""

    __tablename__ = "wecom_peer"

    key: str = Field(primary_key=True, max_length=KEY_LENGTH)
    last_inbound_at: float | None = Field(default=None, sa_type=Double)  # the user's last message
    sent_since: int = 0  # 客服 messages sent since then (WeCom allows 5)
