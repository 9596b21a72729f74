"""Trust: sealed birth dates, the key check value, held entries and their reconciliation links.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

`member.birth_date` (in clear, it gave the masked ID number back) becomes `birth_date_enc`. A
migration has no DATA_KEY, so it cannot seal the dates already stored: it keeps what the reports
need, the age (computed today where none was stated), and drops the dates. The downgrade brings
the column back empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Seal birth dates, add held entries' hashes, creators, links and the key check."""
    _ages_from_birth_dates()
    # Plain ALTERs (SQLite 3.35+ drops an unindexed column itself): offline SQL works too.
    op.drop_column("member", "birth_date")
    op.add_column("member", sa.Column("birth_date_enc", sa.String(length=255), nullable=True))
    op.add_column("member", sa.Column("held_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_member_held_hash", "member", ["held_hash"], unique=False)
    op.add_column("household", sa.Column("created_by", sa.String(length=128), nullable=True))
    op.add_column("household", sa.Column("held_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_household_created_by", "household", ["created_by"], unique=False)
    op.create_index("ix_household_held_hash", "household", ["held_hash"], unique=False)
    op.execute("UPDATE household SET created_by = submitted_by")
    # Masks of the old shape showed too much: fill_missing makes the new ones at the next start.
    op.execute("DELETE FROM member_mask")
    op.execute("DELETE FROM household_mask")
    _create_link()
    op.create_table(
        "sent_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_key", sa.String(length=128), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sent_message"),
    )
    op.create_index("ix_sent_message_channel_key", "sent_message", ["channel_key"])
    op.create_table(
        "key_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_key_check"),
    )


def _ages_from_birth_dates() -> None:
    """Members with a birth date but no stated age get the age the date gives today."""
    if op.get_context().as_sql:
        return  # offline SQL: no rows to read (the ages then stay unknown)
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, birth_date FROM member WHERE birth_date IS NOT NULL AND age IS NULL")
    )
    today = date.today()
    for member_id, birth in rows.fetchall():
        born = birth if isinstance(birth, date) else date.fromisoformat(str(birth))
        age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        bind.execute(
            sa.text("UPDATE member SET age = :age WHERE id = :id"), {"age": max(age, 0), "id": member_id}
        )


def _create_link() -> None:
    """Held entries beside the households they matched."""
    op.create_table(
        "household_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_household_id", sa.Integer(), nullable=False),
        sa.Column("stored_household_id", sa.Integer(), nullable=False),
        sa.Column("matched_by", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["held_household_id"], ["household.id"], name="fk_household_link_held_household_id_household"
        ),
        sa.ForeignKeyConstraint(
            ["stored_household_id"], ["household.id"], name="fk_household_link_stored_household_id_household"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_household_link"),
    )
    op.create_index("ix_household_link_held_household_id", "household_link", ["held_household_id"])
    op.create_index("ix_household_link_stored_household_id", "household_link", ["stored_household_id"])


def downgrade() -> None:
    """Drop the trust tables and columns; birth dates come back empty."""
    op.drop_table("key_check")
    op.drop_index("ix_sent_message_channel_key", table_name="sent_message")
    op.drop_table("sent_message")
    op.drop_index("ix_household_link_stored_household_id", table_name="household_link")
    op.drop_index("ix_household_link_held_household_id", table_name="household_link")
    op.drop_table("household_link")
    with op.batch_alter_table("household") as batch:
        batch.drop_index("ix_household_held_hash")
        batch.drop_index("ix_household_created_by")
        batch.drop_column("held_hash")
        batch.drop_column("created_by")
    with op.batch_alter_table("member") as batch:
        batch.drop_index("ix_member_held_hash")
        batch.drop_column("held_hash")
        batch.drop_column("birth_date_enc")
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
