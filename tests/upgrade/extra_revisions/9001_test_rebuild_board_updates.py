"""Test-only revision: rebuild board_updates with one more column (a table copy on SQLite).

Not shipped: the upgrade tests add this folder to Alembic's version locations to have a
revision after the baseline that does real work (copy every row, drop, rename), so a kill -9
can land in the middle of it, and so "older than the code" can be exercised today.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "9001_test_rebuild"
down_revision = "0009_version_checked"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # recreate="always": SQLite copies the table even where ALTER TABLE could add the column;
    # sqlite_autoincrement is not reflected, so it is given again (seq must never be reused).
    with op.batch_alter_table("board_updates", recreate="always",
                              table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("origin", sa.String(64), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("board_updates", table_kwargs={"sqlite_autoincrement": True}) \
            as batch:
        batch.drop_column("origin")
