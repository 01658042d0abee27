"""Team spaces: when a board's last editor edited it (``space_boards.last_edited_at``).

Revision ID: 0008_space_last_edited
Revises: 0007_search_no_pending_list
Create Date: 2026-12-03

The last editor was stored by whichever process indexed the board, with the name that
process knew: a process holding no socket on the board wrote none and, having indexed it,
left the process whose peer made the edit nothing to write. Now the process that accepted
the edit records its author with the edit's time, and an older edit never overwrites a newer
one. Existing rows get 0 (any recorded edit is newer).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_space_last_edited"
down_revision = "0007_search_no_pending_list"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("space_boards", sa.Column("last_edited_at", sa.Float(), nullable=False,
                                            server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("space_boards") as batch:
        batch.drop_column("last_edited_at")
