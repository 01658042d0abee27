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

# Team spaces (issue 22, revision 0006_spaces). The full-text index of board content is
# dialect-specific and lives outside this metadata: see ``search.py``.
SPACE_ID_CHARS = 22

spaces = Table(
    "spaces",
    metadata,
    Column("id", String(SPACE_ID_CHARS), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("token_generation", Integer, nullable=False, default=0),
)
"""A named collection of boards with its own edit and view links; rotating them increments
``token_generation`` (as for boards)."""

space_boards = Table(
    "space_boards",
    metadata,
    Column("board_id", String(MAX_BOARD_NAME_CHARS), ForeignKey("boards.id", ondelete="CASCADE"),
           primary_key=True),
    Column("space_id", String(SPACE_ID_CHARS), ForeignKey("spaces.id", ondelete="CASCADE"),
           nullable=False),
    Column("added_at", Float, nullable=False),
    Column("deleted_at", Float, nullable=True),
    Column("title", String(200), nullable=False, default=""),
    Column("last_editor", String(40), nullable=False, default=""),
    Column("indexed_at", Float, nullable=False, default=0.0),
    Column("last_edited_at", Float, nullable=False, default=0.0),
    Index("ix_space_boards_space", "space_id", "deleted_at"),
)
"""Which space a board belongs to (a board is in at most one). ``deleted_at`` is set while
the board is in the space's trash; ``title`` is what the indexer read from the board when its
content was last indexed at ``indexed_at`` (boards.updated_at); ``last_editor`` edited it
last, at ``last_edited_at`` (wall clock; written by the process that accepted the edit,
revision 0008)."""

thumbnails = Table(
    "board_thumbnails",
    metadata,
    Column("board_id", String(MAX_BOARD_NAME_CHARS), ForeignKey("boards.id", ondelete="CASCADE"),
           primary_key=True),
    Column("png", LargeBinary, nullable=False),
    Column("source_updated_at", Float, nullable=False),
    Column("rendered_at", Float, nullable=False),
)
"""A small PNG of a board rendered from the exporter, of the content stored at
``source_updated_at`` (boards.updated_at)."""

versions = Table(
    "board_versions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("board_id", String(MAX_BOARD_NAME_CHARS), ForeignKey("boards.id", ondelete="CASCADE"),
           nullable=False),
    Column("created_at", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("label", Text, nullable=False),
    Column("elements", Integer, nullable=False),
    Column("authors", Text, nullable=False),
    Column("checkpoint", Integer, nullable=False),
    Column("chain", Integer, nullable=False),
    Column("chain_bytes", BigInteger, nullable=False),
    Column("base_bytes", BigInteger, nullable=False),
    Column("state_vector", LargeBinary, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("checked", LargeBinary, nullable=True),
    Index("ix_board_versions_board_id", "board_id", "id"),
    sqlite_autoincrement=True,
)
"""A board's history (``history.py``). A ``checkpoint`` row's ``data`` is the whole board at
that moment; any other row's is a Yjs update encoded against the previous row's
``state_vector``, so a version is its latest checkpoint plus the rows after it, merged in
``id`` order (``data`` is deflated). ``chain`` counts the deltas since that checkpoint and
``chain_bytes`` their bytes, ``base_bytes`` is the checkpoint's size (they decide when the next
one is due); ``authors`` is a JSON list of the names seen editing since the previous version.
``checked`` (checkpoints only; NULL: not known) is what the update pre-check found in the
row's inflated ``data``, bound to those bytes by a digest (``checked_states.checked_mark``):
a row whose bytes no longer match is checked again."""

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
