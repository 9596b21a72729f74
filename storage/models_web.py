"""Tables of the web feature (model families as in storage/models.py).

web_chat_page     the last messages of an anonymous web chat ("web:<random>" key), encrypted with
                  DATA_KEY as the dialog state is: they may hold what a household typed
web_sign_in       one-time sign-in links for the HR console; only a SHA-256 of the secret is kept
web_session       console sessions after sign-in; only a SHA-256 of the cookie's secret is kept

An extra index on intent_record (county, id) lets the console's wishes list page by keyset within a
county without sorting it: it is declared here, beside the web feature that needs it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Double, Index, Text
from sqlmodel import Field, SQLModel

from storage.models import KEY_LENGTH, IntentRecord, UTCDateTime, utc_now

HASH_LENGTH = 64  # hex SHA-256

Index("ix_intent_record_county_code_id", IntentRecord.county_code, IntentRecord.id)


# ---------------------------------------------------------------- web chat page


class WebChatPageBase(SQLModel):
    """Fields a web chat page shares with its API shapes."""

    sealed: str = Field(sa_type=Text)  # encrypted JSON: the messages shown, newest last
    updated_at: float = Field(sa_type=Double)


class WebChatPage(WebChatPageBase, table=True):
    """What a web chat shows: kept between visits."""

    __tablename__ = "web_chat_page"

    key: str = Field(primary_key=True, max_length=KEY_LENGTH)


class WebChatPageCreate(WebChatPageBase):
    """What a caller gives to store a page."""

    key: str = Field(max_length=KEY_LENGTH)


class WebChatPagePublic(WebChatPageBase):
    """A page as shown outside the storage layer."""

    key: str


# ---------------------------------------------------------------- sign-in links


class SignInLinkBase(SQLModel):
    """Fields a sign-in link shares with its API shapes."""

    user_key: str = Field(max_length=KEY_LENGTH)  # the officer's channel key
    expires_at: datetime = Field(sa_type=UTCDateTime)


class SignInLink(SignInLinkBase, table=True):
    """A one-time link to the console; the secret itself is never stored."""

    __tablename__ = "web_sign_in"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=HASH_LENGTH, unique=True, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SignInLinkCreate(SignInLinkBase):
    """What a caller gives to make a link (the repository makes the secret)."""


class SignInLinkPublic(SignInLinkBase):
    """A link as shown outside the storage layer (no hash)."""

    id: int
    created_at: datetime
    used_at: datetime | None


# ---------------------------------------------------------------- console sessions


class WebSessionBase(SQLModel):
    """Fields a console session shares with its API shapes."""

    user_key: str = Field(max_length=KEY_LENGTH)
    last_seen_at: float = Field(sa_type=Double)  # epoch seconds, for the idle timeout


class WebSession(WebSessionBase, table=True):
    """A signed-in officer's session; ended by sign-out or idleness."""

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=HASH_LENGTH, unique=True, index=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSessionCreate(WebSessionBase):
    """What a caller gives to open a session."""


class WebSessionPublic(WebSessionBase):
    """A session as shown outside the storage layer (no hash)."""

    id: int
    created_at: datetime
    ended_at: datetime | None
