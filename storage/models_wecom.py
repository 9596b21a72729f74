"""Tables of the WeCom channel (model families as in storage/models.py).

`wecom_seen`: callbacks and 客服 messages already applied (a hash of their id), so that one
delivered again is applied once. `wecom_outbox`: messages to send after the callback was
acknowledged (payload encrypted: replies can hold names and numbers), with WeCom's msgid once
sent and, for a message sent on a feature's behalf, its `ref` ("notice:12", "draft"): a message
WeCom later reports undelivered goes back to that feature. `wecom_kf_cursor`: where the 客服
message stream was read up to. `wecom_peer`: per user, the 客服 send window and session state.
`wecom_group_send`: the content sends to group chats (appchat/send, which has no documented
duplicate check), so that one whose outcome is unknown is never sent again (digests.py).
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
MSGID_LENGTH = 128
REF_LENGTH = 64

# wecom_outbox.status
PENDING, SENT, HELD, FAILED = "pending", "sent", "held", "failed"
RETURNED = "returned"  # a feature's message that could not go: handed back to the feature
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
    msgid: str | None = Field(default=None, max_length=MSGID_LENGTH, index=True)  # WeCom's, once sent
    ref: str | None = Field(default=None, max_length=REF_LENGTH)  # the feature's message (None: a reply)


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
    # The 客服 session's service_state as last learnt (None: never learnt, taken as 0 "未处理"):
    # 2 待接入池 and 3 人工接待 mean a person of the county serves the customer; the bot is quiet.
    service_state: int | None = None


# wecom_peer.service_state: 微信客服's session states (kf/service_state/get)
KF_NEW, KF_ASSISTANT, KF_POOL, KF_HUMAN, KF_ENDED = 0, 1, 2, 3, 4
KF_PEOPLE = frozenset({KF_POOL, KF_HUMAN})  # a person serves (or is about to): the bot keeps quiet

# wecom_group_send.state
GROUP_SENDING, GROUP_SENT, GROUP_MAYBE = "sending", "sent", "maybe"


class WecomGroupSend(SQLModel, table=True):
    """One content send to a group chat under a dedupe key: claimed before the request goes out."""

    __tablename__ = "wecom_group_send"

    digest: str = Field(primary_key=True, max_length=HASH_LENGTH)  # sha256 of chat id + dedupe key
    state: str = Field(max_length=STATUS_LENGTH)
    msgid: str | None = Field(default=None, max_length=MSGID_LENGTH)
    created_at: float = Field(sa_type=Double, index=True)  # epoch seconds; old rows are purged


class WecomLease(SQLModel, table=True):
    """Who sends a user's messages, or reads a 客服 stream, now: one process at a time, so that two
    processes serving the same county (replicas behind one address) never send a message twice nor
    out of order. A process that dies leaves a lease that runs out."""

    __tablename__ = "wecom_lease"

    name: str = Field(primary_key=True, max_length=HASH_LENGTH + 8)  # "send:" + sha256 of the user key
    holder: str = Field(max_length=HASH_LENGTH)  # the process's random id
    until: float = Field(sa_type=Double)  # epoch seconds
