"""Tables of the trust feature (model families as in storage/models.py).

household_link  a held entry (a household-role submission that matched a family someone else
                entered) beside the stored household it matched; HR decides, the decision is audited
sent_message    the bot's own messages that showed a person's data (the intake's cards and review), so
                that /forget can delete them in the chat while Telegram still allows it (48 hours)
key_check       one row: a keyed hash of a fixed label under the DATA_KEY that sealed the data, so
                that a wrong key is refused at start instead of sealing new data under a second key
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Double
from sqlmodel import Field, SQLModel

from storage.models import CODE_LENGTH, HASH_LENGTH, KEY_LENGTH, UTCDateTime, utc_now

OPEN = "open"


class HouseholdLinkBase(SQLModel):
    """Fields a link shares with its API shapes."""

    held_household_id: int = Field(foreign_key="household.id", index=True)
    stored_household_id: int = Field(foreign_key="household.id", index=True)
    matched_by: str = Field(max_length=CODE_LENGTH)  # household_number, id_number, concurrent
    status: str = Field(default=OPEN, max_length=CODE_LENGTH)  # open, or the decision taken
    decided_by: str | None = Field(default=None, max_length=KEY_LENGTH)


class HouseholdLink(HouseholdLinkBase, table=True):
    """A held entry and the stored household it matched, until HR decides."""

    __tablename__ = "household_link"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HouseholdLinkPublic(HouseholdLinkBase):
    """A link as shown outside the storage layer."""

    id: int
    created_at: datetime
    decided_at: datetime | None


class KeyCheck(SQLModel, table=True):
    """The check value of the key that seals the stored data (one row, id 1)."""

    __tablename__ = "key_check"

    id: int = Field(default=1, primary_key=True)
    value: str = Field(max_length=HASH_LENGTH)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class SentMessage(SQLModel, table=True):
    """One message the bot sent that showed a person's data; kept 48 hours at most."""

    __tablename__ = "sent_message"

    id: int | None = Field(default=None, primary_key=True)
    channel_key: str = Field(max_length=KEY_LENGTH, index=True)
    message_id: int = Field(sa_type=BigInteger)
    sent_at: float = Field(sa_type=Double)  # epoch seconds, compared with time.time()
