"""Delivery: HR destinations and per-destination deliveries of intent records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

Depends only on tables of 0003 (outbox); nothing of 0004 (access) is referenced.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create hr_destination, delivery_digest and delivery."""
    _create_destination()
    _create_digest()
    _create_delivery()


def _create_destination() -> None:
    """Chats of county HR offices; one row per county and chat."""
    op.create_table(
        "hr_destination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("added_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("broken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_hr_destination"),
        sa.UniqueConstraint("county_code", "chat_id", name="uq_hr_destination_county_code"),
    )
    op.create_index("ix_hr_destination_county_code", "hr_destination", ["county_code"], unique=False)


def _create_digest() -> None:
    """Digest messages and how far each one got."""
    op.create_table(
        "delivery_digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("document_message_id", sa.BigInteger(), nullable=True),
        sa.Column("chart_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["destination_id"], ["hr_destination.id"], name="fk_delivery_digest_destination_id_hr_destination"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_digest"),
    )
    op.create_index("ix_delivery_digest_destination_id", "delivery_digest", ["destination_id"], unique=False)


def _create_delivery() -> None:
    """One outbox entry for one destination, at most once per idempotency key."""
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("destination_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name="fk_delivery_outbox_id_outbox"),
        sa.ForeignKeyConstraint(
            ["destination_id"], ["hr_destination.id"], name="fk_delivery_destination_id_hr_destination"
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"], ["delivery_digest.id"], name="fk_delivery_digest_id_delivery_digest"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_delivery"),
    )
    for column in ("outbox_id", "record_id", "destination_id", "digest_id"):
        op.create_index(f"ix_delivery_{column}", "delivery", [column], unique=False)
    op.create_index("ix_delivery_idempotency_key", "delivery", ["idempotency_key"], unique=True)


def downgrade() -> None:
    """Drop the delivery tables, dependents first."""
    op.drop_index("ix_delivery_idempotency_key", table_name="delivery")
    for column in ("digest_id", "destination_id", "record_id", "outbox_id"):
        op.drop_index(f"ix_delivery_{column}", table_name="delivery")
    op.drop_table("delivery")
    op.drop_index("ix_delivery_digest_destination_id", table_name="delivery_digest")
    op.drop_table("delivery_digest")
    op.drop_index("ix_hr_destination_county_code", table_name="hr_destination")
    op.drop_table("hr_destination")
