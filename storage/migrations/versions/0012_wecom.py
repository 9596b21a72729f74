"""WeCom: the send outbox, the 微信客服 cursor, callbacks seen (deduplication), per-user window.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the four WeCom tables."""
    op.create_table(
        "wecom_seen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wecom_seen"),
    )
    op.create_index("ix_wecom_seen_digest", "wecom_seen", ["digest"], unique=True)
    op.create_index("ix_wecom_seen_seen_at", "wecom_seen", ["seen_at"], unique=False)
    op.create_table(
        "wecom_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.Double(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_wecom_outbox"),
    )
    op.create_index("ix_wecom_outbox_key", "wecom_outbox", ["key"], unique=False)
    op.create_index("ix_wecom_outbox_status", "wecom_outbox", ["status"], unique=False)
    op.create_table(
        "wecom_kf_cursor",
        sa.Column("open_kfid", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("open_kfid", name="pk_wecom_kf_cursor"),
    )
    op.create_table(
        "wecom_peer",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("last_inbound_at", sa.Double(), nullable=True),
        sa.Column("sent_since", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_wecom_peer"),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("wecom_peer")
    op.drop_table("wecom_kf_cursor")
    op.drop_index("ix_wecom_outbox_status", table_name="wecom_outbox")
    op.drop_index("ix_wecom_outbox_key", table_name="wecom_outbox")
    op.drop_table("wecom_outbox")
    op.drop_index("ix_wecom_seen_seen_at", table_name="wecom_seen")
    op.drop_index("ix_wecom_seen_digest", table_name="wecom_seen")
    op.drop_table("wecom_seen")
