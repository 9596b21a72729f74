"""Intake: households, members, consents, intent records and the outbox to county HR offices.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    """created_at and updated_at, as every intake table but consent and outbox has them."""
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    """Create the five intake tables and their indexes."""
    _create_household()
    _create_member()
    _create_consent()
    _create_intent_record()
    _create_outbox()


def _create_household() -> None:
    """Households; personal numbers only encrypted, found again by keyed hash."""
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("head_name", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("answered_by", sa.String(length=32), nullable=False),
        sa.Column("submitted_by", sa.String(length=128), nullable=False),
        sa.Column("household_number_enc", sa.String(length=255), nullable=True),
        sa.Column("household_number_hash", sa.String(length=64), nullable=True),
        sa.Column("phone_enc", sa.String(length=255), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("conflicts", sa.Text(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_household"),
    )
    # A plain unique index: NULLs do not collide on SQLite or PostgreSQL.
    op.create_index(
        "ix_household_household_number_hash", "household", ["household_number_hash"], unique=True
    )


def _create_member() -> None:
    """Members; one row per resident ID number."""
    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("relation", sa.String(length=32), nullable=False),
        sa.Column("sex", sa.String(length=32), nullable=True),
        sa.Column("age", sa.Integer(), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("education", sa.String(length=32), nullable=False),
        sa.Column("two_after", sa.String(length=32), nullable=True),
        sa.Column("labour_capacity", sa.String(length=32), nullable=True),
        sa.Column("situation", sa.String(length=32), nullable=False),
        sa.Column("id_number_enc", sa.String(length=255), nullable=True),
        sa.Column("id_number_hash", sa.String(length=64), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name="fk_member_household_id_household"),
        sa.PrimaryKeyConstraint("id", name="pk_member"),
    )
    op.create_index("ix_member_household_id", "member", ["household_id"], unique=False)
    op.create_index("ix_member_id_number_hash", "member", ["id_number_hash"], unique=True)


def _create_consent() -> None:
    """Consents, appended with every submission."""
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("given", sa.Boolean(), nullable=False),
        sa.Column("text_version", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"], name="fk_consent_household_id_household"),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_consent_member_id_member"),
        sa.PrimaryKeyConstraint("id", name="pk_consent"),
    )
    op.create_index("ix_consent_household_id", "consent", ["household_id"], unique=False)
    op.create_index("ix_consent_member_id", "consent", ["member_id"], unique=False)


def _create_intent_record() -> None:
    """Intent records: one open record per member and kind (open_key)."""
    op.create_table(
        "intent_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("training_type", sa.String(length=32), nullable=True),
        sa.Column("trade", sa.String(length=128), nullable=True),
        sa.Column("has_business_project", sa.Boolean(), nullable=True),
        sa.Column("outside_county_ok", sa.Boolean(), nullable=True),
        sa.Column("contact_time", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("eligibility", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("open_key", sa.String(length=64), nullable=True),
        sa.Column("status_changed_by", sa.String(length=128), nullable=True),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name="fk_intent_record_household_id_household"
        ),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_intent_record_member_id_member"),
        sa.PrimaryKeyConstraint("id", name="pk_intent_record"),
    )
    op.create_index("ix_intent_record_county_code", "intent_record", ["county_code"], unique=False)
    op.create_index("ix_intent_record_household_id", "intent_record", ["household_id"], unique=False)
    op.create_index("ix_intent_record_member_id", "intent_record", ["member_id"], unique=False)
    op.create_index("ix_intent_record_open_key", "intent_record", ["open_key"], unique=True)


def _create_outbox() -> None:
    """The outbox: messages to county HR offices, at most once per idempotency key."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=6), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_county_code", "outbox", ["county_code"], unique=False)
    op.create_index("ix_outbox_idempotency_key", "outbox", ["idempotency_key"], unique=True)


def downgrade() -> None:
    """Drop the intake tables, dependents first."""
    op.drop_index("ix_outbox_idempotency_key", table_name="outbox")
    op.drop_index("ix_outbox_county_code", table_name="outbox")
    op.drop_table("outbox")
    for name in ("open_key", "member_id", "household_id", "county_code"):
        op.drop_index(f"ix_intent_record_{name}", table_name="intent_record")
    op.drop_table("intent_record")
    op.drop_index("ix_consent_member_id", table_name="consent")
    op.drop_index("ix_consent_household_id", table_name="consent")
    op.drop_table("consent")
    op.drop_index("ix_member_id_number_hash", table_name="member")
    op.drop_index("ix_member_household_id", table_name="member")
    op.drop_table("member")
    op.drop_index("ix_household_household_number_hash", table_name="household")
    op.drop_table("household")
