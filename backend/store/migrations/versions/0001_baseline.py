"""Baseline: the schema every database had before Alembic (main at 5443297).

Revision ID: 0001_baseline
Revises:
Create Date: 2026-12-01

A database made before Alembic holds exactly these tables without an ``alembic_version``;
``backend.store.migrate`` recognises it and stamps it with this revision instead of running it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "boards",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("update_count", sa.BigInteger, nullable=False),
        sa.Column("log_updates", sa.Integer, nullable=False),
        sa.Column("log_bytes", sa.BigInteger, nullable=False),
        sa.Column("token_generation", sa.Integer, nullable=False),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("mime", sa.String(100), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "board_updates",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("board_id", sa.String(64), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_board_updates_board_seq", "board_updates", ["board_id", "seq"])
    op.create_table(
        "board_snapshots",
        sa.Column("board_id", sa.String(64), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in ("board_snapshots", "board_updates", "files", "boards"):
        op.drop_table(table)
