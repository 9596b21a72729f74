"""Tables of the followup feature (model families as in storage/models.py).

intent_status_change  every status HR gave an intent record: who, when, the note, and whether the
                      household was told (`household_notified_at`, claimed before sending: once)
hr_note_wait          a status just set in a chat whose next text from the same person is its note
hr_reminder           reminders sent to HR chats (one row per reminder and chat: never twice)
member_mask           the masked resident ID of a member, precomputed when it is stored
household_mask        the masked phone and household number of a household, likewise

The mask tables exist so that masked exports and lists never decrypt: decrypting a million Fernet
tokens costs about ten seconds, reading a million short strings a fraction of one. They hold only
what may be shown anyway (4102*************X), and they are separate tables rather than columns of
`member` and `household` so that this feature leaves the intake tables' definitions alone. Their
foreign keys make erasure (storage.repositories.cascade) delete them with their rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.models import KEY_LENGTH, UTCDateTime, utc_now

STATUS_LENGTH = 16
REMINDER_LENGTH = 64
MESSAGE_ID_LENGTH = 64  # a channel's message id as text
MASK_LENGTH = 40  # a masked household number is as long as the number (at most 32)


# ---------------------------------------------------------------- intent_status_change


class StatusChangeBase(SQLModel):
    """Fields a status change shares with its API shapes."""

    record_id: int = Field(foreign_key="intent_record.id", index=True)
    old_status: str = Field(max_length=STATUS_LENGTH)
    new_status: str = Field(max_length=STATUS_LENGTH)
    note: str | None = Field(default=None, sa_type=Text)
    changed_by: str = Field(max_length=KEY_LENGTH)  # channel key of the HR person
    changed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class StatusChange(StatusChangeBase, table=True):
    """One change of an intent record's status; rows are only added (and get their note)."""

    __tablename__ = "intent_status_change"

    id: int | None = Field(default=None, primary_key=True)
    chat_key: str | None = Field(default=None, max_length=KEY_LENGTH)  # the chat the button was pressed in
    household_notified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class StatusChangePublic(StatusChangeBase):
    """A status change as shown outside the storage layer."""

    id: int
    household_notified_at: datetime | None


# ---------------------------------------------------------------- hr_note_wait


class NoteWait(SQLModel, table=True):
    """The chat and person whose next text message is the note of a status change."""

    __tablename__ = "hr_note_wait"
    __table_args__ = (UniqueConstraint("chat_key", "actor", name="uq_hr_note_wait_chat_key"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_key: str = Field(max_length=KEY_LENGTH)
    actor: str = Field(max_length=KEY_LENGTH)
    change_id: int = Field(foreign_key="intent_status_change.id", index=True)
    message_id: str | None = Field(default=None, max_length=MESSAGE_ID_LENGTH)  # the prompt's message
    # Epoch seconds, compared with time.time(): the cheapest portable type.
    expires_at: float = Field(sa_type=Double)


# ---------------------------------------------------------------- hr_reminder


class ReminderSent(SQLModel, table=True):
    """A reminder claimed for (and then sent to) one chat."""

    __tablename__ = "hr_reminder"
    __table_args__ = (UniqueConstraint("reminder", "chat_key", name="uq_hr_reminder_reminder"),)

    id: int | None = Field(default=None, primary_key=True)
    reminder: str = Field(max_length=REMINDER_LENGTH)  # e.g. "progress-2026-11-01"
    chat_key: str = Field(max_length=KEY_LENGTH)
    sent_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


# ---------------------------------------------------------------- masks


class MemberMask(SQLModel, table=True):
    """The masked resident ID of a member."""

    __tablename__ = "member_mask"

    member_id: int = Field(
        foreign_key="member.id", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    id_number: str | None = Field(default=None, max_length=MASK_LENGTH)


class HouseholdMask(SQLModel, table=True):
    """The masked phone and household number of a household."""

    __tablename__ = "household_mask"

    household_id: int = Field(
        foreign_key="household.id", primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    phone: str | None = Field(default=None, max_length=MASK_LENGTH)
    household_number: str | None = Field(default=None, max_length=MASK_LENGTH)
