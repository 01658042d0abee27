"""Database tables: boards, the append-only update log, compacted snapshots, image files.

Plain SQLAlchemy Core, nothing dialect-specific: the same tables work on SQLite (aiosqlite)
and PostgreSQL (asyncpg). Alembic revisions in ``migrations/versions/`` make and change them
(``migrate.py``): change a table here only together with a new revision.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

from ..board_names import MAX_BOARD_NAME_CHARS

metadata = MetaData()

boards = Table(
    "boards",
    metadata,
    Column("id", String(MAX_BOARD_NAME_CHARS), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("update_count", BigInteger, nullable=False, default=0),
    Column("log_updates", Integer, nullable=False, default=0),
    Column("log_bytes", BigInteger, nullable=False, default=0),
    Column("token_generation", Integer, nullable=False, default=0),
)
"""One row per board. ``update_count`` counts every update ever stored; ``log_updates`` and
``log_bytes`` measure the log not yet compacted (they drive compaction). Rotating a board's
links increments ``token_generation``, which revokes every token signed for an older one."""

updates = Table(
    "board_updates",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("board_id", String(MAX_BOARD_NAME_CHARS), ForeignKey("boards.id", ondelete="CASCADE"),
           nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Index("ix_board_updates_board_seq", "board_id", "seq"),
    sqlite_autoincrement=True,
)
"""The append-only log: Yjs v1 updates in arrival order (``seq`` only grows)."""

snapshots = Table(
    "board_snapshots",
    metadata,
    Column("board_id", String(MAX_BOARD_NAME_CHARS), ForeignKey("boards.id", ondelete="CASCADE"),
           primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("last_seq", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
)
"""The compacted state of a board: everything in the log up to ``last_seq``."""

files = Table(
    "files",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("mime", String(100), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)
"""Image bytes, keyed by their SHA-256; never stored in the CRDT."""

file_refs = Table(
    "board_file_refs",
    metadata,
    Column("board_id", String(MAX_BOARD_NAME_CHARS), ForeignKey("boards.id", ondelete="CASCADE"),
           primary_key=True),
    Column("file_ids", Text, nullable=False),
    Column("scanned_at", Float, nullable=False),
)
"""The image files one board's stored content names (space-separated SHA-256 ids), as found
by the file sweeper when it last read the board at ``scanned_at``."""

file_orphans = Table(
    "file_orphans",
    metadata,
    Column("file_id", String(64), primary_key=True),
    Column("since", Float, nullable=False),
)
"""Files no board named at the last sweeps, and since when; deleted after the grace period."""

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("board_id", String(MAX_BOARD_NAME_CHARS), ForeignKey("boards.id", ondelete="CASCADE"),
           nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", String(64), nullable=False),
    Column("event_types", Text, nullable=False),
    Column("filter", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("paused_at", Float, nullable=True),
    Column("paused_reason", Text, nullable=True),
    Index("ix_webhooks_board", "board_id"),
)
"""A board's webhooks (issue 17): URL, signing secret, event types and filter (JSON texts);
``paused_at`` is set when deliveries kept failing."""

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("hook_id", String(32), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Column("event_type", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("response_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_webhook_deliveries_hook", "hook_id", "id"),
    sqlite_autoincrement=True,
)
"""The delivery log of each hook (the last ``hook_store.LOG_KEPT`` kept): one row per event,
updated after every attempt (``status``: retrying, delivered, given_up)."""
