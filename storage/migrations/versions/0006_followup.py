"""Follow-up: the history of intent records' statuses, note prompts, HR reminders, precomputed masks.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

member_mask and household_mask hold masked numbers (4102*************X) so that masked exports
need not decrypt. Rows stored before this revision get theirs when `outreach export` or the
bot's HR jobs first run (storage.repositories.masks.fill_missing): a migration has no DATA_KEY.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the five follow-up tables."""
    _create_status_change()
    _create_note_wait()
    _create_reminder()
    _create_masks()


def _create_status_change() -> None:
    """Every status HR gave a record, with who, when and the note."""
    op.create_table(
        "intent_status_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("old_status", sa.String(length=16), nullable=False),
        sa.Column("new_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changed_by", sa.String(length=128), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("household_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"], ["intent_record.id"], name="fk_intent_status_change_record_id_intent_record"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_intent_status_change"),
    )
    op.create_index(
        "ix_intent_status_change_record_id", "intent_status_change", ["record_id"], unique=False
    )


def _create_note_wait() -> None:
    """Status changes waiting for their note, one per chat and person."""
    op.create_table(
        "hr_note_wait",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["change_id"], ["intent_status_change.id"], name="fk_hr_note_wait_change_id_intent_status_change"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_hr_note_wait"),
        sa.UniqueConstraint("chat_id", "actor", name="uq_hr_note_wait_chat_id"),
    )
    op.create_index("ix_hr_note_wait_change_id", "hr_note_wait", ["change_id"], unique=False)


def _create_reminder() -> None:
    """Reminders sent to HR chats."""
    op.create_table(
        "hr_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reminder", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_hr_reminder"),
        sa.UniqueConstraint("reminder", "chat_id", name="uq_hr_reminder_reminder"),
    )


def _create_masks() -> None:
    """Masked numbers of members and households."""
    op.create_table(
        "member_mask",
        sa.Column("member_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id_number", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["member.id"], name="fk_member_mask_member_id_member"),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_mask"),
    )
    op.create_table(
        "household_mask",
        sa.Column("household_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("household_number", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["household_id"], ["household.id"], name="fk_household_mask_household_id_household"
        ),
        sa.PrimaryKeyConstraint("household_id", name="pk_household_mask"),
    )


def downgrade() -> None:
    """Drop the follow-up tables, dependents first."""
    op.drop_table("household_mask")
    op.drop_table("member_mask")
    op.drop_table("hr_reminder")
    op.drop_index("ix_hr_note_wait_change_id", table_name="hr_note_wait")
    op.drop_table("hr_note_wait")
    op.drop_index("ix_intent_status_change_record_id", table_name="intent_status_change")
    op.drop_table("intent_status_change")
