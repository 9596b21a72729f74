"""Channels: HR chats and destinations by channel key, message ids as text, household notices held.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Telegram chat ids become channel keys ("tg:<chat id>") in hr_destination, hr_reminder and
intent_status_change; message ids become text (WeCom's msgid is a string). hr_note_wait holds
five-minute waits only: it is recreated empty rather than converted. household_notice is new.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.String(length=128)
MESSAGE_ID = sa.String(length=64)
DIGEST_IDS = ("message_id", "document_message_id", "chart_message_id")


def upgrade() -> None:
    """Keys for chat ids, text for message ids, and the household_notice table."""
    _chat_id_to_key("hr_destination", nullable=False, unique=("county_code", "uq_hr_destination_county_code"))
    _chat_id_to_key("hr_reminder", nullable=False, unique=("reminder", "uq_hr_reminder_reminder"))
    _chat_id_to_key("intent_status_change", nullable=True, unique=None)
    _message_ids_to_text()
    _recreate_note_wait(KEY, MESSAGE_ID, "chat_key")
    _create_notice()


def _chat_id_to_key(table: str, *, nullable: bool, unique: tuple[str, str] | None) -> None:
    """Add chat_key, fill it with "tg:<chat_id>", drop chat_id (and move the unique constraint)."""
    op.add_column(table, sa.Column("chat_key", KEY, nullable=True))
    op.execute(
        sa.text(f"UPDATE {table} SET chat_key = 'tg:' || CAST(chat_id AS VARCHAR) WHERE chat_id IS NOT NULL")
    )
    with op.batch_alter_table(table, copy_from=_offline_copy(table)) as batch:
        if unique is not None:
            batch.drop_constraint(unique[1], type_="unique")
        batch.drop_column("chat_id")
        batch.alter_column("chat_key", existing_type=KEY, nullable=nullable)
        if unique is not None:
            batch.create_unique_constraint(unique[1], [unique[0], "chat_key"])


def _message_ids_to_text() -> None:
    """Digest and delivery message ids as text."""
    with op.batch_alter_table("delivery_digest", copy_from=_offline_copy("delivery_digest")) as batch:
        for column in DIGEST_IDS:
            batch.alter_column(
                column, existing_type=sa.BigInteger(), type_=MESSAGE_ID, existing_nullable=True,
                postgresql_using=f"{column}::varchar",
            )  # fmt: skip
        batch.add_column(sa.Column("send_attempted_at", sa.Double(), nullable=True))
    with op.batch_alter_table("delivery", copy_from=_offline_copy("delivery")) as batch:
        batch.alter_column(
            "telegram_message_id", new_column_name="message_id", existing_type=sa.BigInteger(),
            type_=MESSAGE_ID, existing_nullable=True, postgresql_using="telegram_message_id::varchar",
        )  # fmt: skip


def _offline_copy(table: str) -> sa.Table | None:
    """The table as it stands before its batch step, for `alembic upgrade --sql` on SQLite (which
    cannot reflect); None online, where batch mode reads the live table."""
    if not context.is_offline_mode():
        return None
    meta = sa.MetaData()
    for stub in ("outbox", "intent_record", "hr_destination", "delivery_digest"):
        if stub != table:
            sa.Table(stub, meta, sa.Column("id", sa.Integer(), primary_key=True))
    return _BEFORE[table](meta)


def _destination(meta: sa.MetaData) -> sa.Table:
    """hr_destination with both chat_id and chat_key."""
    return sa.Table(
        "hr_destination", meta,
        sa.Column("id", sa.Integer(), nullable=False), sa.Column("county_code", sa.String(6), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False), sa.Column("added_by", KEY, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("broken_at", sa.DateTime(timezone=True)), sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(255)), sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("claimed_by", sa.String(64)), sa.Column("claimed_until", sa.Double()),
        sa.Column("chat_key", KEY),
        sa.PrimaryKeyConstraint("id", name="pk_hr_destination"),
        sa.UniqueConstraint("county_code", "chat_id", name="uq_hr_destination_county_code"),
        sa.Index("ix_hr_destination_county_code", "county_code"),
    )  # fmt: skip


def _reminder(meta: sa.MetaData) -> sa.Table:
    """hr_reminder with both chat_id and chat_key."""
    return sa.Table(
        "hr_reminder", meta,
        sa.Column("id", sa.Integer(), nullable=False), sa.Column("reminder", sa.String(64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False), sa.Column("chat_key", KEY),
        sa.PrimaryKeyConstraint("id", name="pk_hr_reminder"),
        sa.UniqueConstraint("reminder", "chat_id", name="uq_hr_reminder_reminder"),
    )  # fmt: skip


def _status_change(meta: sa.MetaData) -> sa.Table:
    """intent_status_change with both chat_id and chat_key."""
    return sa.Table(
        "intent_status_change", meta,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("intent_record.id",
                  name="fk_intent_status_change_record_id_intent_record"), nullable=False),
        sa.Column("old_status", sa.String(16), nullable=False), sa.Column("new_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text()), sa.Column("changed_by", KEY, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chat_id", sa.BigInteger()), sa.Column("household_notified_at", sa.DateTime(timezone=True)),
        sa.Column("chat_key", KEY),
        sa.PrimaryKeyConstraint("id", name="pk_intent_status_change"),
        sa.Index("ix_intent_status_change_record_id", "record_id"),
    )  # fmt: skip


def _digest(meta: sa.MetaData) -> sa.Table:
    """delivery_digest as 0005 made it."""
    return sa.Table(
        "delivery_digest", meta,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), sa.ForeignKey("hr_destination.id",
                  name="fk_delivery_digest_destination_id_hr_destination"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False), sa.Column("status", sa.String(16), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False), sa.Column("text", sa.Text(), nullable=False),
        *(sa.Column(column, sa.BigInteger()) for column in DIGEST_IDS),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True)), sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_digest"),
        sa.Index("ix_delivery_digest_destination_id", "destination_id"),
    )  # fmt: skip


def _delivery(meta: sa.MetaData) -> sa.Table:
    """delivery as 0005 made it."""
    return sa.Table(
        "delivery", meta,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), sa.ForeignKey("outbox.id", name="fk_delivery_outbox_id_outbox"),
                  nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), sa.ForeignKey("hr_destination.id",
                  name="fk_delivery_destination_id_hr_destination"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("digest_id", sa.Integer(), sa.ForeignKey("delivery_digest.id",
                  name="fk_delivery_digest_id_delivery_digest")),
        sa.Column("telegram_message_id", sa.BigInteger()), sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_delivery"),
        *(sa.Index(f"ix_delivery_{c}", c) for c in ("outbox_id", "record_id", "destination_id", "digest_id")),
        sa.Index("ix_delivery_idempotency_key", "idempotency_key", unique=True),
    )  # fmt: skip


_BEFORE = {
    "hr_destination": _destination, "hr_reminder": _reminder, "intent_status_change": _status_change,
    "delivery_digest": _digest, "delivery": _delivery,
}  # fmt: skip


def _recreate_note_wait(chat: sa.types.TypeEngine, message: sa.types.TypeEngine, chat_column: str) -> None:
    """hr_note_wait with the given chat and message id columns (its rows live five minutes)."""
    op.drop_index("ix_hr_note_wait_change_id", table_name="hr_note_wait")
    op.drop_table("hr_note_wait")
    op.create_table(
        "hr_note_wait",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(chat_column, chat, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("message_id", message, nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["intent_status_change.id"], name="fk_hr_note_wait_change_id_intent_status_change"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_hr_note_wait"),
        sa.UniqueConstraint(chat_column, "actor", name=f"uq_hr_note_wait_{chat_column}"),
    )
    op.create_index("ix_hr_note_wait_change_id", "hr_note_wait", ["change_id"], unique=False)


def _create_notice() -> None:
    """Household notices held for the next contact."""
    op.create_table(
        "household_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("channel_key", KEY, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["change_id"], ["intent_status_change.id"], name="fk_household_notice_change_id_intent_status_change"
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["intent_record.id"], name="fk_household_notice_record_id_intent_record"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_household_notice"),
    )
    op.create_index("ix_household_notice_change_id", "household_notice", ["change_id"], unique=True)
    op.create_index("ix_household_notice_record_id", "household_notice", ["record_id"], unique=False)
    op.create_index("ix_household_notice_channel_key", "household_notice", ["channel_key"], unique=False)


def downgrade() -> None:
    """Back to Telegram chat ids: rows of other channels cannot be kept there and are dropped."""
    for index in ("channel_key", "record_id", "change_id"):
        op.drop_index(f"ix_household_notice_{index}", table_name="household_notice")
    op.drop_table("household_notice")
    _recreate_note_wait(sa.BigInteger(), sa.BigInteger(), "chat_id")
    _text_to_message_ids()
    _key_to_chat_id("intent_status_change", nullable=True, unique=None)
    _key_to_chat_id("hr_reminder", nullable=False, unique=("reminder", "uq_hr_reminder_reminder"))
    _key_to_chat_id("hr_destination", nullable=False, unique=("county_code", "uq_hr_destination_county_code"))


def _text_to_message_ids() -> None:
    """Message ids back to integers (ids that are not numbers are lost)."""
    with op.batch_alter_table("delivery") as batch:
        batch.alter_column(
            "message_id", new_column_name="telegram_message_id", existing_type=MESSAGE_ID,
            type_=sa.BigInteger(), existing_nullable=True, postgresql_using=_as_bigint("message_id"),
        )  # fmt: skip
    with op.batch_alter_table("delivery_digest") as batch:
        batch.drop_column("send_attempted_at")
        for column in DIGEST_IDS:
            batch.alter_column(
                column, existing_type=MESSAGE_ID, type_=sa.BigInteger(), existing_nullable=True,
                postgresql_using=_as_bigint(column),
            )  # fmt: skip


def _as_bigint(column: str) -> str:
    """A PostgreSQL cast of a text id to bigint, NULL for ids that are not numbers."""
    return f"CASE WHEN {column} ~ '^-?[0-9]+$' THEN {column}::bigint END"


def _key_to_chat_id(table: str, *, nullable: bool, unique: tuple[str, str] | None) -> None:
    """chat_id back from "tg:<chat id>" keys; rows of other channels are deleted (or emptied)."""
    with op.batch_alter_table(table) as batch:
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
    not_telegram = "chat_key NOT LIKE 'tg:%'"
    if table == "hr_destination":
        _drop_destination_rows(not_telegram)
    elif not nullable:
        op.execute(sa.text(f"DELETE FROM {table} WHERE {not_telegram}"))
    op.execute(
        sa.text(f"UPDATE {table} SET chat_id = CAST(SUBSTR(chat_key, 4) AS BIGINT) WHERE chat_key LIKE 'tg:%'")
    )
    with op.batch_alter_table(table) as batch:
        if unique is not None:
            batch.drop_constraint(unique[1], type_="unique")
        batch.drop_column("chat_key")
        batch.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=nullable)
        if unique is not None:
            batch.create_unique_constraint(unique[1], [unique[0], "chat_id"])


def _drop_destination_rows(where: str) -> None:
    """Destinations of other channels, with their deliveries and digests."""
    ids = f"SELECT id FROM hr_destination WHERE {where}"
    op.execute(sa.text(f"DELETE FROM delivery WHERE destination_id IN ({ids})"))
    op.execute(sa.text(f"DELETE FROM delivery_digest WHERE destination_id IN ({ids})"))
    op.execute(sa.text(f"DELETE FROM hr_destination WHERE {where}"))
