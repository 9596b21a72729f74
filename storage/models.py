"""Tables and their API shapes, as model families: XBase, X (the table), XCreate, XPublic."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, DateTime, Dialect, Double, Text, TypeDecorator
from sqlalchemy import false as sa_false
from sqlmodel import Field, SQLModel

KEY_LENGTH = 128  # "tg:<chat id>", "console:local": far below this
LANGUAGE_LENGTH = 16
ROLE_LENGTH = 16
DEFAULT_LANGUAGE = "zh_Hans"
DEFAULT_ROLE = "household"

# Named constraints let later SQLite batch migrations drop or alter them by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back timezone-aware in UTC (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Attach UTC to SQLite's naive values; convert PostgreSQL's to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# ---------------------------------------------------------------- user


class UserBase(SQLModel):
    """Fields a user row shares with its API shapes."""

    channel_key: str = Field(max_length=KEY_LENGTH, unique=True, index=True)
    # Console users have no Telegram id; NULLs do not collide in a unique index.
    telegram_id: int | None = Field(default=None, sa_type=BigInteger, unique=True, index=True)
    language: str = Field(default=DEFAULT_LANGUAGE, max_length=LANGUAGE_LENGTH)
    role: str = Field(default=DEFAULT_ROLE, max_length=ROLE_LENGTH)


class User(UserBase, table=True):
    """A person reached through one channel (a Telegram chat, the local console)."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utc_now}
    )


class UserCreate(UserBase):
    """What a caller gives to create a user."""


class UserPublic(UserBase):
    """A user as shown outside the storage layer."""

    id: int
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- conversation


class ConversationBase(SQLModel):
    """Fields a conversation row shares with its API shapes."""

    state: str = Field(sa_type=Text)  # JSON of the dialog state
    last_update_id: int | None = Field(default=None, sa_type=BigInteger)


class Conversation(ConversationBase, table=True):
    """The dialog state of one channel key; written by storage.conversations without the ORM."""

    key: str = Field(primary_key=True, max_length=KEY_LENGTH)
    # Epoch seconds as a float: written on every update, so the cheapest portable type.
    updated_at: float = Field(sa_type=Double)


class ConversationCreate(ConversationBase):
    """What a caller gives to create a conversation."""

    key: str = Field(max_length=KEY_LENGTH)


class ConversationPublic(ConversationBase):
    """A conversation as shown outside the storage layer."""

    key: str
    updated_at: float


# ---------------------------------------------------------------- area


class AreaBase(SQLModel):
    """A place in the five-level hierarchy: province, city, county, township, village."""

    # GB/T 2260 codes: 6 digits for provinces, cities and counties, 9 for townships and
    # 12 for villages (the statistical area codes), each starting with its parent's digits.
    code: str = Field(primary_key=True, max_length=12)
    name: str = Field(max_length=64)
    parent_code: str | None = Field(default=None, max_length=12, index=True)
    level: int = Field(ge=1, le=5)  # 1 province .. 5 village
    # The name villagers use (`XX村`, `XX社区`), derived at import; NULL on rows imported before 0008.
    short_name: str | None = Field(default=None, max_length=64)
    # Gone from a later official list: kept for the records that point at it, no longer offered.
    retired: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})


class Area(AreaBase, table=True):
    """One area; the whole list is loaded into memory at start-up for the village picker."""


class AreaCreate(AreaBase):
    """An area as imported from a CSV file."""


class AreaPublic(AreaBase):
    """An area as shown to people and scripts."""


# ---------------------------------------------------------------- intake: households and their wishes
#
# Personal numbers (resident ID, phone, household number) are stored only encrypted (`*_enc`,
# see storage.crypto); `*_hash` columns hold keyed hashes used to find the same person or
# household again. Enumerations are short strings checked by storage.submission, not database
# enums, so adding a value needs no migration.

CODE_LENGTH = 32  # enumeration values such as "registered_poor", "junior_high_graduate"
NAME_LENGTH = 64
ENC_LENGTH = 255  # a Fernet token of an 18-character ID is 120 characters
HASH_LENGTH = 64  # hex HMAC-SHA256
TRADE_LENGTH = 128  # "other:" plus what the person typed
VERSION_LENGTH = 32
IDEMPOTENCY_KEY_LENGTH = 128


class HouseholdBase(SQLModel):
    """Fields a household row shares with its API shapes."""

    village_code: str = Field(max_length=12)
    head_name: str = Field(max_length=NAME_LENGTH)
    status: str = Field(max_length=CODE_LENGTH)  # registered_poor, lifted_out, monitored, none, unknown
    answered_by: str = Field(max_length=CODE_LENGTH)  # worker or household (the latest submission)
    submitted_by: str = Field(max_length=KEY_LENGTH)  # channel key of the latest submission
    # Channel key of the first submission: whose own entry this is (/forget erases it).
    created_by: str | None = Field(default=None, max_length=KEY_LENGTH, index=True)


class Household(HouseholdBase, table=True):
    """A family, found again by its household number (keyed hash) or its members' ID numbers."""

    id: int | None = Field(default=None, primary_key=True)
    household_number_enc: str | None = Field(default=None, max_length=ENC_LENGTH)
    # NULLs do not collide in a unique index, so households without a number are allowed.
    household_number_hash: str | None = Field(default=None, max_length=HASH_LENGTH, unique=True, index=True)
    # A held entry (see storage.repositories.intake_hold) keeps its number's hash here, not unique.
    held_hash: str | None = Field(default=None, max_length=HASH_LENGTH, index=True)
    phone_enc: str | None = Field(default=None, max_length=ENC_LENGTH)
    needs_review: bool = False
    conflicts: str = Field(default="[]", sa_type=Text)  # JSON list: field, old, new, who, when
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utc_now}
    )


class HouseholdCreate(HouseholdBase):
    """What a caller gives to create a household (plain numbers; the repository encrypts them)."""

    household_number: str | None = None
    phone: str | None = None


class HouseholdPublic(HouseholdBase):
    """A household as shown outside the storage layer: numbers masked."""

    id: int
    household_number_masked: str | None
    phone_masked: str | None
    needs_review: bool
    created_at: datetime
    updated_at: datetime


class MemberBase(SQLModel):
    """Fields a member row shares with its API shapes."""

    name: str = Field(max_length=NAME_LENGTH)
    relation: str = Field(max_length=CODE_LENGTH)  # to the head: head, spouse, child, ...
    sex: str | None = Field(default=None, max_length=CODE_LENGTH)
    age: int | None = Field(default=None, ge=0, le=120)
    education: str = Field(max_length=CODE_LENGTH)
    two_after: str | None = Field(default=None, max_length=CODE_LENGTH)  # 两后生: current or previous
    labour_capacity: str | None = Field(default=None, max_length=CODE_LENGTH)
    situation: str = Field(max_length=CODE_LENGTH)


class Member(MemberBase, table=True):
    """A person of a household; one row per resident ID number, whoever entered it."""

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    id_number_enc: str | None = Field(default=None, max_length=ENC_LENGTH)
    id_number_hash: str | None = Field(default=None, max_length=HASH_LENGTH, unique=True, index=True)
    # A held duplicate (see storage.repositories.intake_hold) keeps its ID's hash here, not unique.
    held_hash: str | None = Field(default=None, max_length=HASH_LENGTH, index=True)
    # The birth date, sealed like the numbers: with the masked ID it would give the whole number back.
    birth_date_enc: str | None = Field(default=None, max_length=ENC_LENGTH)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utc_now}
    )


class MemberCreate(MemberBase):
    """What a caller gives to create a member (plain ID number; the repository encrypts it)."""

    household_id: int
    id_number: str | None = None
    birth_date: date | None = None


class MemberPublic(MemberBase):
    """A member as shown outside the storage layer: ID number masked."""

    id: int
    household_id: int
    id_number_masked: str | None
    created_at: datetime
    updated_at: datetime


class ConsentBase(SQLModel):
    """Fields a consent row shares with its API shapes."""

    kind: str = Field(max_length=CODE_LENGTH)  # household, or guardian (for one member under 14)
    given: bool
    text_version: str = Field(max_length=VERSION_LENGTH)
    text: str = Field(sa_type=Text)  # exactly what was shown, in the user's language
    language: str = Field(max_length=LANGUAGE_LENGTH)


class Consent(ConsentBase, table=True):
    """One consent as given with one submission; rows are only ever added (the audit trail)."""

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    given_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ConsentCreate(ConsentBase):
    """What a caller gives to record a consent."""

    household_id: int
    member_id: int | None = None


class ConsentPublic(ConsentBase):
    """A consent as shown outside the storage layer."""

    id: int
    household_id: int
    member_id: int | None
    given_at: datetime


class IntentRecordBase(SQLModel):
    """Fields an intent record shares with its API shapes."""

    county_code: str = Field(max_length=6, index=True)  # the county HR office that follows up
    village_code: str = Field(max_length=12)
    kind: str = Field(max_length=CODE_LENGTH)  # technical_school, vocational_training, ...
    training_type: str | None = Field(default=None, max_length=CODE_LENGTH)
    trade: str | None = Field(default=None, max_length=TRADE_LENGTH)
    has_business_project: bool | None = None
    outside_county_ok: bool | None = None
    contact_time: str | None = Field(default=None, max_length=CODE_LENGTH)
    status: str = Field(default="new", max_length=16)  # new, contacted, enrolled, referred, ...
    status_note: str | None = Field(default=None, sa_type=Text)


class IntentRecord(IntentRecordBase, table=True):
    """One member's wish, for HR to follow up; re-submitting the same kind updates the open record."""

    __tablename__ = "intent_record"

    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    eligibility: str | None = Field(default=None, sa_type=Text)  # JSON of the evaluator's result
    version: int = 1  # bumped on every change HR must hear about; part of the outbox key
    # "<member id>:<kind>" while the record is open, NULL once closed: a portable way to allow
    # only one open record per member and kind (NULLs do not collide in a unique index).
    open_key: str | None = Field(default=None, max_length=64, unique=True, index=True)
    status_changed_by: str | None = Field(default=None, max_length=KEY_LENGTH)
    status_changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(
        default_factory=utc_now, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utc_now}
    )


class IntentRecordCreate(IntentRecordBase):
    """What a caller gives to create an intent record."""

    household_id: int
    member_id: int
    eligibility: str | None = None


class IntentRecordPublic(IntentRecordBase):
    """An intent record as shown outside the storage layer."""

    id: int
    household_id: int
    member_id: int
    eligibility: str | None
    version: int
    status_changed_by: str | None
    status_changed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class OutboxBase(SQLModel):
    """Fields an outbox entry shares with its API shapes."""

    kind: str = Field(max_length=CODE_LENGTH)  # intent_record
    record_id: int
    county_code: str = Field(max_length=6, index=True)
    idempotency_key: str = Field(max_length=IDEMPOTENCY_KEY_LENGTH, unique=True, index=True)
    payload: str = Field(sa_type=Text)  # JSON; numbers masked, never in full
    status: str = Field(default="pending", max_length=16)  # pending, sent, dead
    attempts: int = 0
    # Epoch seconds: compared with time.time() by the sender, the cheapest portable type.
    next_attempt_at: float = Field(sa_type=Double)


class Outbox(OutboxBase, table=True):
    """A message to a county HR office, written in the same transaction as the record it reports."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxCreate(OutboxBase):
    """What a caller gives to queue a message."""


class OutboxPublic(OutboxBase):
    """An outbox entry as shown outside the storage layer."""

    id: int
    created_at: datetime
    sent_at: datetime | None
