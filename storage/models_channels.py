"""Tables of the channels feature (model families as in storage/models.py).

household_notice  news for a household (HR gave its record a follow-up status) that its channel
                  could not take yet, e.g. a WeChat 微信客服 chat whose 48-hour window is closed.
                  It is sent at the household's next contact and then deleted; while it exists,
                  HR sees "not told yet" for the record. Its foreign key makes erasure
                  (storage.repositories.cascade) delete it with the status change.

The other channel-neutral columns of migration 0009 live in their own features' models:
hr_destination.chat_key, hr_reminder.chat_key, hr_note_wait.chat_key, intent_status_change.chat_key
and the text message ids of delivery_digest and delivery.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double
from sqlmodel import Field, SQLModel

from storage.models import KEY_LENGTH, UTCDateTime, utc_now

NOTICE_STATE_LENGTH = 16
# household_notice.state
WAITING, SENDING, FAILED = "waiting", "sending", "failed"


class HouseholdNotice(SQLModel, table=True):
    """A status change a household has not been told of yet, for its channel key."""

    __tablename__ = "household_notice"

    id: int | None = Field(default=None, primary_key=True)
    change_id: int = Field(foreign_key="intent_status_change.id", unique=True, index=True)
    record_id: int = Field(foreign_key="intent_record.id", index=True)
    channel_key: str = Field(max_length=KEY_LENGTH, index=True)  # the household's conversation
    state: str = Field(default=WAITING, max_length=NOTICE_STATE_LENGTH)
    attempts: int = 0
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    # Epoch seconds of the claim of a send in progress: a claim older than the lease is free again.
    claimed_at: float | None = Field(default=None, sa_type=Double)
