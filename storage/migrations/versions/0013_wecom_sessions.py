"""WeCom: msgid and ref of sent messages, the 客服 session state, group sends claimed once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Two outbox columns, one peer column, the group-send table."""
    op.add_column("wecom_outbox", sa.Column("msgid", sa.String(length=128), nullable=True))
    op.add_column("wecom_outbox", sa.Column("ref", sa.String(length=64), nullable=True))
    op.create_index("ix_wecom_outbox_msgid", "wecom_outbox", ["msgid"], unique=False)
    op.add_column("wecom_peer", sa.Column("service_state", sa.Integer(), nullable=True))
    op.create_table(
        "wecom_group_send",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("msgid", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_wecom_group_send"),
    )
    op.create_index("ix_wecom_group_send_created_at", "wecom_group_send", ["created_at"], unique=False)


def downgrade() -> None:
    """Drop them."""
    op.drop_index("ix_wecom_group_send_created_at", table_name="wecom_group_send")
    op.drop_table("wecom_group_send")
    with op.batch_alter_table("wecom_peer") as batch:
        batch.drop_column("service_state")
    op.drop_index("ix_wecom_outbox_msgid", table_name="wecom_outbox")
    with op.batch_alter_table("wecom_outbox") as batch:
        batch.drop_column("ref")
        batch.drop_column("msgid")
