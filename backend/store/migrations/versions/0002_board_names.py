"""Board names up to 255 characters: any room name a y-websocket client sends is a board.

Revision ID: 0002_board_names
Revises: 0001_baseline
Create Date: 2026-12-02

Widens ``boards.id`` and the ``board_id`` columns of the log and the snapshots from 64 to 255
characters (``backend.board_names.MAX_BOARD_NAME_CHARS``). PostgreSQL changes the declared
length in place (no table rewrite for a longer VARCHAR); SQLite does not enforce VARCHAR lengths,
so there only the declared type in the table definition changes, through a batch copy.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_board_names"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

_COLUMNS = [("boards", "id"), ("board_updates", "board_id"), ("board_snapshots", "board_id")]


def upgrade() -> None:
    _resize(sa.String(64), sa.String(255))


def downgrade() -> None:
    _resize(sa.String(255), sa.String(64))


def _resize(old: sa.String, new: sa.String) -> None:
    for table, column in _COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=old, type_=new)
