"""Version history: the ``board_versions`` table.

Revision ID: 0004_history
Revises: 0003_file_sweeper
Create Date: 2026-12-02

One row per version of a board: a whole-board checkpoint or a Yjs update encoded against the
previous version's state vector (``backend/store/history.py``). A new table only: nothing
existing changes, and the downgrade drops it (and with it every board's history).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_history"
down_revision = "0003_file_sweeper"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("board_id", sa.String(255), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("elements", sa.Integer(), nullable=False),
        sa.Column("authors", sa.Text(), nullable=False),
        sa.Column("checkpoint", sa.Integer(), nullable=False),
        sa.Column("chain", sa.Integer(), nullable=False),
        sa.Column("chain_bytes", sa.BigInteger(), nullable=False),
        sa.Column("base_bytes", sa.BigInteger(), nullable=False),
        sa.Column("state_vector", sa.LargeBinary(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_board_versions_board_id", "board_versions", ["board_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_board_versions_board_id", "board_versions")
    op.drop_table("board_versions")
