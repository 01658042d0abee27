"""Schema revisions: check a database at start-up, upgrade it with Alembic, or refuse.

``prepare_schema(engine, mode)`` runs before the server uses a database, in one transaction
that holds the schema lock (``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock
on PostgreSQL), so processes starting together check and upgrade one at a time:

- an empty database gets every revision (today's tables);
- a database made before Alembic (the tables, no ``alembic_version``) is stamped as
  ``0001_baseline``, which is what it holds;
- at the head revision: nothing to do;
- older: upgraded when the mode allows (``auto``; ``default`` means auto for SQLite, after an
  online-backup copy to ``<file>.bak-<revision>``), else refused with ``SchemaError`` naming
  ``python -m backend migrate``;
- at a revision this code does not know (written by a newer syncboard): refused, untouched.

Every revision runs inside that same transaction, SQLite included (its DDL is transactional):
a process killed half-way leaves the database at its old revision with its old tables.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
BASELINE = "0001_baseline"
MODES = ("default", "auto", "refuse")
MIGRATE_COMMAND = "python -m backend migrate"
SCHEMA_LOCK = 0x5B0A4D  # PostgreSQL advisory lock key held while checking or changing the schema
LOCK_WAIT_S = 600  # SQLite: how long a starting process waits for another one's upgrade
# The tables a database made before migrations holds (revision 0001's); later revisions add
# tables of their own (0003: board_file_refs, file_orphans), which such a database lacks.
_TABLES = frozenset({"boards", "board_updates", "board_snapshots", "files"})


class SchemaError(RuntimeError):
    """The database's schema revision cannot be used by this code (the message says why and
    what to run)."""


@dataclass(frozen=True)
class SchemaStatus:
    """Where a database stands. ``current`` is None for an empty database; ``pre_alembic``
    marks one made before Alembic (tables, no revision recorded)."""

    current: str | None
    head: str
    pre_alembic: bool = False
    known: bool = True

    @property
    def revision(self) -> str | None:
        """The revision the database holds (a pre-Alembic one holds the baseline)."""
        return BASELINE if self.pre_alembic else self.current

    @property
    def up_to_date(self) -> bool:
        return self.revision == self.head


@dataclass(frozen=True)
class UpgradeResult:
    """What ``prepare_schema``/``upgrade`` did: the revisions before and after, the backup."""

    before: str | None
    after: str
    backup: Path | None = None


def head_revision(version_locations: Sequence[str] = ()) -> str:
    """The newest revision this code knows."""
    heads = _script(version_locations).get_heads()
    if len(heads) != 1:
        raise SchemaError(f"the migrations have {len(heads)} heads ({', '.join(heads)}): "
                          "merge them into one")
    return heads[0]


def resolve_mode(mode: str, dialect: str) -> str:
    """``auto`` or ``refuse``: ``default`` is auto for SQLite, refuse for PostgreSQL (where
    several processes share the database and an operator decides)."""
    if mode not in MODES:
        raise ValueError(f"migrate mode {mode!r}: expected one of {', '.join(MODES)}")
    if mode == "default":
        return "auto" if dialect == "sqlite" else "refuse"
    return mode


async def schema_status(engine: AsyncEngine, version_locations: Sequence[str] = ()
                        ) -> SchemaStatus:
    """Read where the database stands, changing nothing."""
    async with engine.connect() as conn:
        status = await conn.run_sync(_read_status, _script(version_locations))
        await conn.rollback()
    return status


async def prepare_schema(engine: AsyncEngine, mode: str = "default", *, backup: bool = True,
                         version_locations: Sequence[str] = ()) -> UpgradeResult:
    """Make sure the database is at the head revision, upgrading it if ``mode`` allows.

    Raises ``SchemaError`` when it is older and ``mode`` refuses, newer than this code, or
    not a syncboard database. ``backup``: copy a SQLite file before upgrading it.
    """
    mode = resolve_mode(mode, engine.dialect.name)
    script = _script(version_locations)
    async with _schema_lock(engine) as conn:
        status = await conn.run_sync(_read_status, script)
        if status.pre_alembic:
            await conn.run_sync(_alembic, "stamp", BASELINE, version_locations)
            log.info("database made before migrations existed: recorded as revision %s",
                     BASELINE)
            status = SchemaStatus(BASELINE, status.head)
        _refuse_unknown(status)
        if status.up_to_date:
            return UpgradeResult(status.current, status.head)
        if status.current is not None and mode == "refuse":
            await conn.commit()  # keep a baseline stamp; nothing else was changed
            raise SchemaError(
                f"the database is at schema revision {status.current} and this syncboard needs "
                f"{status.head}: stop the servers, back it up, and run `{MIGRATE_COMMAND}` "
                "with the same --db (or start with --migrate auto); see docs/operations.md")
        return await _upgrade_locked(conn, status, backup and status.current is not None,
                                     version_locations)


async def upgrade(engine: AsyncEngine, *, backup: bool = True,
                  version_locations: Sequence[str] = ()) -> UpgradeResult:
    """``python -m backend migrate``: bring the database to the head revision whatever the
    mode (refusing only a database newer than this code)."""
    return await prepare_schema(engine, "auto", backup=backup,
                                version_locations=version_locations)


def backup_sqlite_file(source: Path, target: Path) -> None:
    """Copy a SQLite database with SQLite's online backup API: a consistent copy of every
    transaction committed when it starts, while other connections keep writing."""
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=LOCK_WAIT_S)
    try:
        dst = sqlite3.connect(tmp)
        try:
            # In one step: one read transaction sees one committed state (WAL lets writers
            # go on meanwhile). Step-wise copying restarts whenever another connection
            # writes, and would never finish under steady traffic.
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(tmp, target)  # a copy is either whole under its name or absent


def backup_path(database: Path, revision: str) -> Path:
    """``syncboard.db.bak-<revision>``; a timestamp is added if that name is taken, so an
    older backup is never overwritten."""
    path = database.with_name(f"{database.name}.bak-{revision}")
    return path if not path.exists() else path.with_name(f"{path.name}-{int(time.time())}")


class _schema_lock:
    """A connection in a transaction that holds the schema lock; commits on a clean exit.

    On SQLite the connection waits up to ``LOCK_WAIT_S`` for the write lock and has foreign
    keys off (a table rebuild by a revision must not cascade-delete); it is discarded after,
    so the pool never hands out a connection with these settings.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> AsyncConnection:
        conn = await self._engine.connect()
        self._conn = conn
        try:
            sqlite = self._engine.dialect.name == "sqlite"
            if sqlite:
                await conn.run_sync(_dbapi_execute, "PRAGMA foreign_keys=OFF",
                                    f"PRAGMA busy_timeout={LOCK_WAIT_S * 1000}")
            # syncboard_write: BEGIN IMMEDIATE on SQLite (store.py's begin listener)
            conn = await conn.execution_options(syncboard_write=True)
            self._conn = conn
            await conn.begin()
            if not sqlite:
                await conn.execute(text(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))
        except BaseException:
            await self._discard()
            raise
        return conn

    async def _discard(self) -> None:
        assert self._conn is not None
        if self._engine.dialect.name == "sqlite":
            await self._conn.invalidate()
        await self._conn.close()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        conn = self._conn
        assert conn is not None
        try:
            if conn.in_transaction():
                if exc_type is None:
                    if self._engine.dialect.name == "sqlite":
                        await conn.run_sync(_check_foreign_keys)
                    await conn.commit()
                else:
                    await conn.rollback()
        finally:
            await self._discard()


async def _upgrade_locked(conn: AsyncConnection, status: SchemaStatus, backup: bool,
                          version_locations: Sequence[str]) -> UpgradeResult:
    copy = None
    database = conn.engine.url.database
    if backup and conn.dialect.name == "sqlite" and database not in (None, "", ":memory:"):
        assert status.current is not None
        source = Path(database).expanduser().resolve()
        copy = backup_path(source, status.current)
        # Another connection reads the file while this one holds the write lock: nobody can
        # change it meanwhile, and the WAL gives the backup every committed transaction.
        await asyncio.to_thread(backup_sqlite_file, source, copy)
        log.info("backed up the database to %s before upgrading it", copy)
    started = time.monotonic()
    await conn.run_sync(_alembic, "upgrade", "head", version_locations)
    if status.current is None:
        log.info("created the database schema (revision %s)", status.head)
    else:
        log.warning("upgraded the database schema from %s to %s in %.1f s", status.current,
                    status.head, time.monotonic() - started)
    return UpgradeResult(status.current, status.head, copy)


def _refuse_unknown(status: SchemaStatus) -> None:
    if not status.known:
        raise SchemaError(
            f"the database is at schema revision {status.current}, which this syncboard "
            f"(newest revision {status.head}) does not know: it was upgraded by a newer "
            "syncboard. Run that version, or restore the backup taken before the upgrade; "
            "the database was not changed")


def _script(version_locations: Sequence[str]) -> ScriptDirectory:
    return ScriptDirectory.from_config(_config(version_locations))


def _config(version_locations: Sequence[str]) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(
        [str(MIGRATIONS_DIR / "versions"), *map(str, version_locations)]))
    return config


def _read_status(conn: Connection, script: ScriptDirectory) -> SchemaStatus:
    heads = script.get_heads()
    if len(heads) != 1:
        raise SchemaError(f"the migrations have {len(heads)} heads: merge them into one")
    head = heads[0]
    current = MigrationContext.configure(conn).get_current_heads()
    if len(current) > 1:
        raise SchemaError(f"the database records several revisions ({', '.join(current)})")
    if current:
        known = any(rev.revision == current[0] for rev in script.walk_revisions())
        return SchemaStatus(current[0], head, known=known)
    present = _TABLES & set(inspect(conn).get_table_names())
    if not present:
        return SchemaStatus(None, head)
    if present != _TABLES:
        raise SchemaError(
            f"the database holds the syncboard tables {', '.join(sorted(present))} but not "
            f"{', '.join(sorted(_TABLES - present))} and no schema revision: it is not a "
            "syncboard database, or a damaged one; nothing was changed")
    return SchemaStatus(None, head, pre_alembic=True)


def _alembic(conn: Connection, action: str, target: str,
             version_locations: Sequence[str]) -> None:
    config = _config(version_locations)
    config.attributes["connection"] = conn
    getattr(command, action)(config, target)


def _dbapi_execute(conn: Connection, *statements: str) -> None:
    """Run statements on the DBAPI connection itself (no SQLAlchemy transaction begins)."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        for statement in statements:
            cursor.execute(statement)
    finally:
        cursor.close()


def _check_foreign_keys(conn: Connection) -> None:
    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaError(f"the upgrade would leave {len(broken)} rows whose board is missing "
                          f"(first: {tuple(broken[0])}); it was rolled back")
