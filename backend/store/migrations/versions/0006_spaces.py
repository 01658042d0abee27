"""Team spaces: spaces, which boards they hold (with a trash), thumbnails, full-text search.

Revision ID: 0006_spaces
Revises: 0005_webhooks
Create Date: 2026-12-02

New tables only (``spaces``, ``space_boards``, ``board_thumbnails``, see ``schema.py``) plus
the full-text index of board content, which is dialect-specific (``search.py``): an FTS5
virtual table on SQLite, a table with a generated ``tsvector`` column and a GIN index on
PostgreSQL (``0007_search_no_pending_list`` turns the index's fastupdate off; the statements
here are this revision's own, so it makes what it always made). Nothing existing changes; the
downgrade drops them (the boards stay).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_spaces"
down_revision = "0005_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spaces",
        sa.Column("id", sa.String(22), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("token_generation", sa.Integer(), nullable=False),
    )
    op.create_table(
        "space_boards",
        sa.Column("board_id", sa.String(255), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("space_id", sa.String(22), sa.ForeignKey("spaces.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.Column("deleted_at", sa.Float(), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("last_editor", sa.String(40), nullable=False),
        sa.Column("indexed_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_space_boards_space", "space_boards", ["space_id", "deleted_at"])
    op.create_table(
        "board_thumbnails",
        sa.Column("board_id", sa.String(255), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("source_updated_at", sa.Float(), nullable=False),
        sa.Column("rendered_at", sa.Float(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE board_text_fts USING fts5(board_id UNINDEXED, body, "
                   "tokenize = 'unicode61 remove_diacritics 2')")
    else:
        op.execute("CREATE TABLE board_text (board_id VARCHAR(255) PRIMARY KEY "
                   "REFERENCES boards (id) ON DELETE CASCADE, body TEXT NOT NULL, "
                   "tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)")
        op.execute("CREATE INDEX ix_board_text_tsv ON board_text USING GIN (tsv)")


def downgrade() -> None:
    op.execute("DROP TABLE board_text_fts" if op.get_bind().dialect.name == "sqlite"
               else "DROP TABLE board_text")
    op.drop_table("board_thumbnails")
    op.drop_index("ix_space_boards_space", "space_boards")
    op.drop_table("space_boards")
    op.drop_table("spaces")
