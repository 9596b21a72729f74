"""Initial schema: the user and conversation tables.

Revision ID: 0001
Revises:
Create Date: 2025-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the user and conversation tables."""
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_key", sa.String(length=128), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_user"),
    )
    op.create_index("ix_user_channel_key", "user", ["channel_key"], unique=True)
    op.create_index("ix_user_telegram_id", "user", ["telegram_id"], unique=True)

    # No index on updated_at: it changes on every save, and an indexed column would stop
    # PostgreSQL's HOT updates on the hottest table. Expiry jobs can scan.
    op.create_table(
        "conversation",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("last_update_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key", name="pk_conversation"),
    )


def downgrade() -> None:
    """Drop both tables."""
    op.drop_table("conversation")
    op.drop_index("ix_user_telegram_id", table_name="user")
    op.drop_index("ix_user_channel_key", table_name="user")
    op.drop_table("user")
