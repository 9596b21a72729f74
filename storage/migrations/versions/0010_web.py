"""Web: the web chat's pages, console sign-in links and sessions, an index for the wishes list.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the three web tables and the (county, id) index of intent records."""
    op.create_table(
        "web_chat_page",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_web_chat_page"),
    )
    op.create_table(
        "web_sign_in",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_web_sign_in"),
    )
    op.create_index("ix_web_sign_in_token_hash", "web_sign_in", ["token_hash"], unique=True)
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_key", sa.String(length=128), nullable=False),
        sa.Column("last_seen_at", sa.Double(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_web_session"),
    )
    op.create_index("ix_web_session_token_hash", "web_session", ["token_hash"], unique=True)
    op.create_index("ix_intent_record_county_code_id", "intent_record", ["county_code", "id"], unique=False)


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_intent_record_county_code_id", table_name="intent_record")
    op.drop_index("ix_web_session_token_hash", table_name="web_session")
    op.drop_table("web_session")
    op.drop_index("ix_web_sign_in_token_hash", table_name="web_sign_in")
    op.drop_table("web_sign_in")
    op.drop_table("web_chat_page")
