"""PostgreSQL search: the GIN index of board text without a pending list (fastupdate off).

Revision ID: 0007_search_no_pending_list
Revises: 0006_spaces
Create Date: 2026-12-03

Revision 0006 made ``ix_board_text_tsv`` with GIN's default ``fastupdate = on``: every row
the space indexer wrote stayed in the index's pending list until a VACUUM or 4 MB of them.
Measured on 1,000 indexed boards (``scripts/bench_space_search.py``): 500 pending pages and
no entry in the index proper, so the planner priced the index at 2,016 and scanned every
``board_text`` row, detoasting each tsvector (2.4 KB on average), even for a search matching
one board (14 ms instead of 0.05 ms); an index scan would have read the whole list too.

With ``fastupdate = off`` each write goes into the index at once (the indexer runs off the
sync path, the cost is its own); ``gin_clean_pending_list`` moves what is pending now. SQLite
(FTS5) is unchanged.
"""

from __future__ import annotations

from alembic import op

revision = "0007_search_no_pending_list"
down_revision = "0006_spaces"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_board_text_tsv SET (fastupdate = off)")
    op.execute("SELECT gin_clean_pending_list('ix_board_text_tsv')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER INDEX ix_board_text_tsv RESET (fastupdate)")
