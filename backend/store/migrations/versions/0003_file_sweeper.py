"""Tables of the image file sweeper: which files each board names, and unnamed files.

Revision ID: 0003_file_sweeper
Revises: 0002_board_names
Create Date: 2026-12-02

``board_file_refs`` holds, per board, the file ids its stored content named at the last sweep;
``file_orphans`` the files no board named, and since when (deleted after ``--file-grace-s``).
New tables only: nothing existing changes, and the downgrade drops them (files are kept).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_file_sweeper"
down_revision = "0002_board_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_file_refs",
        sa.Column("board_id", sa.String(255), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("file_ids", sa.Text(), nullable=False),
        sa.Column("scanned_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "file_orphans",
        sa.Column("file_id", sa.String(64), primary_key=True),
        sa.Column("since", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("file_orphans")
    op.drop_table("board_file_refs")
