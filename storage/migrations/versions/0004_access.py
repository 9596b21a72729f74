"""Access: roles' scopes, invitations, the audit log and rate limits.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

The audit log is append-only in the code (no update or delete function exists). A PostgreSQL
deployment may also enforce it for the application's role:
    REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM <app role>;
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the four access tables."""
    _create_scope()
    _create_invitation()
    _create_audit_log()
    _create_rate_limit()


def _create_scope() -> None:
    """The areas each user's role covers."""
    op.create_table(
        "access_scope",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name="fk_access_scope_user_id_user"),
        sa.PrimaryKeyConstraint("id", name="pk_access_scope"),
        sa.UniqueConstraint("user_id", "level", "code", name="uq_access_scope_user_id"),
    )
    op.create_index("ix_access_scope_user_id", "access_scope", ["user_id"], unique=False)


def _create_invitation() -> None:
    """One-time codes, kept as SHA-256 hashes."""
    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(length=128), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invitation"),
    )
    op.create_index("ix_invitation_code_hash", "invitation", ["code_hash"], unique=True)


def _create_audit_log() -> None:
    """The append-only audit log."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=255), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_actor", "audit_log", ["actor"], unique=False)
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)


def _create_rate_limit() -> None:
    """Fixed-window counters per key and action."""
    op.create_table(
        "rate_limit",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "action", name="pk_rate_limit"),
    )


def downgrade() -> None:
    """Drop the access tables."""
    op.drop_table("rate_limit")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_index("ix_audit_log_actor", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_invitation_code_hash", table_name="invitation")
    op.drop_table("invitation")
    op.drop_index("ix_access_scope_user_id", table_name="access_scope")
    op.drop_table("access_scope")
