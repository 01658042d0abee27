"""Version checkpoints: what the update pre-check found (``board_versions.checked``).

Revision ID: 0009_version_checked
Revises: 0008_space_last_edited
Create Date: 2026-12-08

A version export walks its chain's checkpoint with ``update_check`` before pycrdt reads it:
about half a second for a 10,000-element board, which each server start paid again at its
first export of the chain (issue 14). The process that checked a checkpoint now keeps the
outcome with its row: a digest binding the row's bytes to the parent depths the check found
(``checked_states.checked_mark``). Existing rows get NULL, which means "not known to pass":
they are checked at their next read, as before, and marked then.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_version_checked"
down_revision = "0008_space_last_edited"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("board_versions", sa.Column("checked", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("board_versions") as batch:
        batch.drop_column("checked")
