"""Channels: channel-neutral destinations and identities, the WeCom send outbox and kf cursor.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: reserved so that features can be built side by side."""


def downgrade() -> None:
    """Nothing yet."""
