"""Board names up to 255 characters: any room name a y-websocket client sends is a board.

Revision ID: 0002_board_names
Revises: 0001_baseline
Create Date: 2026-12-02

Widens ``boards.id`` and the ``board_id`` columns of the log and the snapshots from
``VARCHAR(64)`` to ``VARCHAR(255)`` (``backend.board_names.MAX_BOARD_NAME_CHARS``).

PostgreSQL: ``ALTER COLUMN ... TYPE varchar(255)`` in place, the referenced primary key first,
all in the upgrade's one transaction (tested from the restored pre-Alembic dump). A longer
varchar is binary compatible, so PostgreSQL rewrites no table and rebuilds no index (the
relfilenodes of board_updates, boards_pkey and the log index stay the same; 0.0 s for 100,000
updates).

SQLite never enforces a VARCHAR length and stores the rows the same for both declared types
(TEXT affinity), so no row has to change; only the table definitions in ``sqlite_master`` say
64. A batch copy (``batch_alter_table``) would rewrite the whole update log (0.5-0.7 s for
100,000 updates, 20 MB, against 0.0 s for this edit; linear in the file, and the disk needs
room for a second copy) and, as Alembic does not reflect it, drop ``AUTOINCREMENT`` and the
``sqlite_sequence`` mark (``seq`` values of compacted rows could be handed out again). So this
revision edits the declared type in ``sqlite_master`` instead, in the same transaction as the
rest of the upgrade, by SQLite's documented procedure for changes that do not touch stored
content (https://sqlite.org/lang_altertable.html, "otheralter": writable_schema, bump
``schema_version``): it takes milliseconds whatever the size, and the result is the exact text
a fresh database gets (checked by tests/upgrade/test_migrations.py). Alembic's compare sees
the new type (it reads it back from that text), so a plain no-op would not do.

Downgrade: refused while a board name is longer than 64 characters (the old code could not
address it, and PostgreSQL could not narrow the column); otherwise the reverse change.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0002_board_names"
down_revision = "0001_baseline"
branch_labels = None
depends_on = None

OLD_CHARS = 64
NEW_CHARS = 255
_COLUMNS = [("boards", "id"), ("board_updates", "board_id"), ("board_snapshots", "board_id")]


def upgrade() -> None:
    _resize(OLD_CHARS, NEW_CHARS)


def downgrade() -> None:
    conn = op.get_bind()
    too_long = conn.execute(sa.text("SELECT count(*) FROM boards WHERE length(id) > :n"),
                            {"n": OLD_CHARS}).scalar_one()
    if too_long:
        raise RuntimeError(
            f"{too_long} boards have names longer than {OLD_CHARS} characters, which the "
            "previous schema cannot hold: export and delete them before downgrading")
    _resize(NEW_CHARS, OLD_CHARS)


def _resize(old: int, new: int) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _redeclare_sqlite(old, new)
        return
    for table, column in _COLUMNS:
        op.alter_column(table, column, existing_type=sa.String(old), type_=sa.String(new),
                        existing_nullable=False)


def _redeclare_sqlite(old: int, new: int) -> None:
    """Change the declared length of the board-id columns in ``sqlite_master`` (no row is
    rewritten). Raises, rolling back the upgrade, if a table definition is not the one the
    previous revision wrote."""
    conn = op.get_bind()
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema=ON")
    try:
        for table, column in _COLUMNS:
            sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' "
                                       "AND name = :t"), {"t": table}).scalar_one()
            pattern = rf'(^|[\s(,"]){re.escape(column)}"? VARCHAR\({old}\)'
            changed, count = re.subn(pattern, lambda m: m.group(0).replace(
                f"VARCHAR({old})", f"VARCHAR({new})"), sql)
            if count != 1:
                raise RuntimeError(f"{table}.{column}: expected one VARCHAR({old}) declaration "
                                   f"in the table definition, found {count}: {sql!r}")
            conn.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' "
                                 "AND name = :t"), {"sql": changed, "t": table})
        # Every connection re-reads the schema when this number changes.
        conn.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema=OFF")
    for table, column in _COLUMNS:
        declared = {row[1]: row[2] for row in conn.exec_driver_sql(f"PRAGMA table_info({table})")}
        if declared.get(column) != f"VARCHAR({new})":
            raise RuntimeError(f"{table}.{column} reads back as {declared.get(column)!r}")
