"""Areas: short names villagers use, and codes retired by a later official list.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add area.short_name (NULL until the next import) and area.retired (false)."""
    # Plain ADD COLUMN (no batch copy): both backends add a column with a constant default in place.
    op.add_column("area", sa.Column("short_name", sa.String(length=64), nullable=True))
    op.add_column("area", sa.Column("retired", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("area") as batch:
        batch.drop_column("retired")
        batch.drop_column("short_name")
