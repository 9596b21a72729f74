"""Areas: the province / city / county / township / village hierarchy.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the area table."""
    op.create_table(
        "area",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("parent_code", sa.String(length=12), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_area"),
    )
    op.create_index("ix_area_parent_code", "area", ["parent_code"], unique=False)


def downgrade() -> None:
    """Drop the area table."""
    op.drop_index("ix_area_parent_code", table_name="area")
    op.drop_table("area")
