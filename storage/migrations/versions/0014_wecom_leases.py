"""WeCom: leases, so that several processes serving one county send each message once and in order.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The lease table."""
    op.create_table(
        "wecom_lease",
        sa.Column("name", sa.String(length=72), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("until", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_wecom_lease"),
    )


def downgrade() -> None:
    """Drop it."""
    op.drop_table("wecom_lease")
