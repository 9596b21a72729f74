"""WeCom: the send outbox, the 微信客服 cursor, callbacks seen (deduplication).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing yet: reserved so that features can be built side by side."""


def downgrade() -> None:
    """Nothing yet."""
