"""Store: boards, their update log and snapshots in a SQL database (SQLAlchemy async).

One code path for SQLite (aiosqlite, the embedded default) and PostgreSQL (asyncpg). The log
is append-only; ``compact`` folds snapshot + log into a new snapshot in one short transaction,
so a crash at any moment leaves either the old or the new state, never a loss.

SQLite specifics stay in ``_configure_sqlite``: WAL journal, ``synchronous=FULL`` (affordable
because the writer group-commits), a busy timeout, and real ``BEGIN``/``BEGIN IMMEDIATE``
statements so transactions mean what they say.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import bindparam, delete, event, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from ..checked_states import mark_stored_checkpoint
from ..document import BoardDocument
from . import history
from .history import Retention, VersionInfo
from .migrate import SchemaError, prepare_schema
from .schema import boards, file_orphans, file_refs, files, snapshots, updates, versions

log = logging.getLogger(__name__)

_WRITE = {"syncboard_write": True}
_DELETE_CHUNK = 500
_READ_CHUNK = 500  # board ids per IN (...) list: far below every dialect's parameter limit
_COUNT_APPENDED = update(boards).where(boards.c.id == bindparam("b_id")).values(
    updated_at=bindparam("b_now"), update_count=boards.c.update_count + bindparam("b_count"),
    log_updates=boards.c.log_updates + bindparam("b_count"),
    log_bytes=boards.c.log_bytes + bindparam("b_size"))


@dataclass(frozen=True)
class BoardInfo:
    """What the store knows about one board."""

    board_id: str
    created_at: float
    updated_at: float
    stored_bytes: int
    update_count: int


@dataclass(frozen=True)
class LogSize:
    """The uncompacted part of a board's log after an append."""

    updates: int
    bytes: int


@dataclass(frozen=True)
class CompactionResult:
    """What one compaction did; ``merged_updates == 0`` means there was nothing to do."""

    board_id: str
    merged_updates: int
    snapshot_bytes: int
    last_seq: int


@dataclass
class VersionRequest:
    """A version for the writer to record (``UpdateWriter.record_version``): ``document`` is
    encoded inside the recording transaction; ``recorded`` is set to the version made (None:
    an ``auto`` version another process made within ``min_interval_s``)."""

    board_id: str
    document: BoardDocument
    kind: str
    label: str = ""
    authors: tuple[str, ...] = ()
    min_interval_s: float = 0.0
    requested_at: float = field(default_factory=time.time)
    """The version's ``created_at``: the moment its state was asked for (a commit may come
    later, by a varying delay; the interval between versions is kept between requests)."""
    recorded: VersionInfo | None = None


class StoreError(RuntimeError):
    """The database URL is unusable or the database could not be opened."""


class Store:
    """Persistent boards. Create with ``await open_store(url)``; ``await close()`` at the end."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.merge_in_worker: Callable[[list[bytes]], Awaitable[bytes]] | None = None
        """Runs ``merge_updates_into_snapshot`` elsewhere (the pre-check worker process) for
        compactions of at least ``merge_in_worker_bytes``: the merge pre-checks and applies
        every row, seconds of the event loop for a board of many small structs."""
        self.merge_in_worker_bytes = 0

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    async def close(self) -> None:
        """Dispose the engine (aiosqlite's threads otherwise keep the process alive)."""
        await self.engine.dispose()

    async def create_board(self, board_id: str) -> None:
        """Make sure a row for ``board_id`` exists (idempotent, safe with several writers).

        The check is a plain read: only a missing board takes the write lock."""
        async with self.engine.connect() as conn:
            if await _board_exists(conn, board_id):
                return
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                await _insert_boards(conn, [_board_row(board_id, time.time())])

    async def board_info(self, board_id: str) -> BoardInfo | None:
        """Metadata of one board, or None if it does not exist."""
        infos = await self._board_infos(boards.c.id == board_id)
        return infos[0] if infos else None

    async def list_boards(self) -> list[BoardInfo]:
        """Metadata of every board, most recently updated first."""
        return await self._board_infos(None)

    async def load_updates(self, board_id: str) -> list[bytes]:
        """Everything stored for a board: the snapshot (if any) then the log in ``seq`` order."""
        async with self.engine.connect() as conn:
            # The log is read before the snapshot: a compaction committing in between moves
            # log rows into the snapshot we then read, so nothing can fall between the two.
            log = (await conn.execute(
                select(updates.c.data).where(updates.c.board_id == board_id)
                .order_by(updates.c.seq))).scalars().all()
            snapshot = (await conn.execute(
                select(snapshots.c.data).where(snapshots.c.board_id == board_id)
            )).scalar_one_or_none()
        return ([snapshot] if snapshot is not None else []) + list(log)

    async def load_many(self, board_ids: Sequence[str]) -> dict[str, list[bytes]]:
        """``load_updates`` of several boards with one read of the logs and one of the
        snapshots (a board without rows gets ``[]``): a cold start opening hundreds of boards
        at once pays the statement and round-trip costs once, not per board."""
        stored: dict[str, list[bytes]] = {board_id: [] for board_id in board_ids}
        unique = list(stored)
        async with self.engine.connect() as conn:
            for start in range(0, len(unique), _READ_CHUNK):
                chunk = unique[start:start + _READ_CHUNK]
                # Log before snapshot, as in load_updates: a compaction in between only moves
                # rows we already read into the snapshot we read next.
                log = (await conn.execute(
                    select(updates.c.board_id, updates.c.data)
                    .where(updates.c.board_id.in_(chunk))
                    .order_by(updates.c.board_id, updates.c.seq))).all()
                snapshot_rows = (await conn.execute(
                    select(snapshots.c.board_id, snapshots.c.data)
                    .where(snapshots.c.board_id.in_(chunk)))).all()
                for board_id, data in snapshot_rows:
                    stored[board_id].append(data)
                for board_id, data in log:
                    stored[board_id].append(data)
        return stored

    async def append_updates(self, batch: dict[str, Sequence[bytes]],
                             new_boards: Iterable[str] = (),
                             versions: Sequence[VersionRequest] = ()) -> dict[str, LogSize]:
        """Append updates for several boards in one transaction; return the log size of each
        board that got updates. Boards without a row get one, ``new_boards`` too, and so do
        boards of ``versions``, which are recorded in the same transaction (each request's
        ``recorded`` is set; it is only valid once this returns).

        The statements do not grow with the number of boards (one executemany for the
        counters, one read of the sizes, one insert of missing rows if any, one executemany
        for the updates): a round trip to the database thread costs more than a row. Raises
        ``SQLAlchemyError`` if the write fails (nothing of the batch is then stored).
        """
        now = time.time()
        appended = {board_id: (len(data), sum(len(d) for d in data))
                    for board_id, data in batch.items() if data}
        wanted = appended.keys() | set(new_boards) | {v.board_id for v in versions}
        if not wanted:
            return {}
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                if appended:
                    await conn.execute(_COUNT_APPENDED, [
                        {"b_id": board_id, "b_now": now, "b_count": count, "b_size": size}
                        for board_id, (count, size) in appended.items()])
                rows = (await conn.execute(
                    select(boards.c.id, boards.c.log_updates, boards.c.log_bytes)
                    .where(boards.c.id.in_(list(wanted))))).all()
                found = {row.id: LogSize(row.log_updates, row.log_bytes) for row in rows}
                missing = wanted - found.keys()
                if missing:
                    await _insert_boards(conn, [_board_row(board_id, now, *appended.get(
                        board_id, (0, 0))) for board_id in sorted(missing)])
                if appended:
                    await conn.execute(insert(updates), [
                        {"board_id": board_id, "data": data, "created_at": now}
                        for board_id, board_updates in batch.items()
                        for data in board_updates])
                for request in versions:
                    await history.lock_board(conn, request.board_id)
                    request.recorded = await history.record_version(
                        conn, request.board_id, request.document, request.kind, request.label,
                        request.authors, request.requested_at, request.min_interval_s)
        return {board_id: found.get(board_id) or LogSize(*appended[board_id])
                for board_id in appended}

    async def compact(self, board_id: str) -> CompactionResult:
        """Fold the snapshot and the log into a new snapshot, atomically.

        Rows appended while the merge runs stay in the log. If another compaction of the same
        board committed meanwhile, this one changes nothing and reports 0 merged updates.
        """
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(updates.c.seq, updates.c.data).where(updates.c.board_id == board_id)
                .order_by(updates.c.seq))).all()
            old = (await conn.execute(
                select(snapshots.c.data, snapshots.c.last_seq)
                .where(snapshots.c.board_id == board_id))).one_or_none()
            await conn.rollback()
        if not rows:
            return CompactionResult(board_id, 0, len(old.data) if old else 0,
                                    old.last_seq if old else 0)
        stored = ([old.data] if old else []) + [row.data for row in rows]
        if self.merge_in_worker is not None and \
                sum(map(len, stored)) >= self.merge_in_worker_bytes:
            merged = await self.merge_in_worker(stored)
        else:
            merged = merge_updates_into_snapshot(stored)
        seqs = [row.seq for row in rows]
        last_seq = max(seqs + ([old.last_seq] if old else []))
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                await conn.execute(select(boards.c.id).where(boards.c.id == board_id)
                                   .with_for_update())
                current = (await conn.execute(
                    select(snapshots.c.last_seq).where(snapshots.c.board_id == board_id)
                )).scalar_one_or_none()
                if current != (old.last_seq if old else None):
                    await conn.rollback()
                    return CompactionResult(board_id, 0, 0, current or 0)
                await _write_snapshot(conn, board_id, merged, last_seq, replace=old is not None)
                for start in range(0, len(seqs), _DELETE_CHUNK):
                    await conn.execute(delete(updates).where(
                        updates.c.seq.in_(seqs[start:start + _DELETE_CHUNK])))
                await _recount_log(conn, board_id)
        return CompactionResult(board_id, len(rows), len(merged), last_seq)

    async def token_generation(self, board_id: str) -> int | None:
        """The board's current token generation, or None if the board does not exist."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(boards.c.token_generation)
                                       .where(boards.c.id == board_id))).scalar_one_or_none()

    async def rotate_tokens(self, board_id: str) -> int | None:
        """Increment the board's token generation (revoking older tokens); return the new one,
        or None if the board does not exist."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                return (await conn.execute(
                    update(boards).where(boards.c.id == board_id)
                    .values(token_generation=boards.c.token_generation + 1)
                    .returning(boards.c.token_generation))).scalar_one_or_none()

    async def delete_board(self, board_id: str) -> bool:
        """Remove a board and everything stored for it; False if it did not exist."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                await conn.execute(delete(updates).where(updates.c.board_id == board_id))
                await conn.execute(delete(snapshots).where(snapshots.c.board_id == board_id))
                await conn.execute(delete(file_refs).where(file_refs.c.board_id == board_id))
                await history.delete_versions(conn, board_id)
                result = await conn.execute(delete(boards).where(boards.c.id == board_id))
        return result.rowcount > 0

    async def list_versions(self, board_id: str, limit: int,
                            before_id: int | None = None) -> list[VersionInfo]:
        """Up to ``limit`` versions of ``board_id``, newest first, older than ``before_id``."""
        async with self.engine.connect() as conn:
            return await history.list_versions(conn, board_id, limit, before_id)

    async def get_version(self, board_id: str, version_id: int) -> VersionInfo | None:
        """One version of ``board_id``, or None."""
        async with self.engine.connect() as conn:
            return await history.get_version(conn, board_id, version_id)

    async def version_at(self, board_id: str, at: float) -> VersionInfo | None:
        """The newest version of ``board_id`` made at or before ``at`` (Unix seconds)."""
        async with self.engine.connect() as conn:
            return await history.version_at(conn, board_id, at)

    async def load_version(self, board_id: str, version_id: int) -> list[bytes]:
        """The rows that rebuild a version (``version_rows.rebuild_state``); [] if there is none.
        Read in one transaction, so a thinning committing meanwhile cannot split it."""
        async with self.engine.connect() as conn:
            return await history.load_chain(conn, board_id, version_id)

    async def version_state_vector(self, board_id: str, version_id: int) -> bytes | None:
        """The state vector of a version, or None if there is no such version."""
        async with self.engine.connect() as conn:
            return await history.state_vector_of(conn, board_id, version_id)

    async def record_version(self, board_id: str, document: BoardDocument, kind: str,
                             label: str = "", authors: Sequence[str] = (),
                             now: float | None = None) -> VersionInfo:
        """Record a version in a transaction of its own (the scripts' ``--db`` mode; the
        server records through ``UpdateWriter.record_version``). The board must exist."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                if not await history.lock_board(conn, board_id):
                    raise KeyError(board_id)
                info = await history.record_version(conn, board_id, document, kind, label,
                                                    authors, time.time() if now is None else now)
                assert info is not None  # only an auto version with an interval is skipped
                if info.checkpoint:  # checked here, marked in the same transaction
                    data = (await conn.execute(select(versions.c.data).where(
                        versions.c.id == info.id))).scalar_one()
                    mark = await asyncio.to_thread(mark_stored_checkpoint, data)
                    await history.mark_checked(conn, board_id, info.id, mark)
        return info

    async def load_marked_version(self, board_id: str,
                                  version_id: int) -> history.MarkedChain | None:
        """``load_version``'s rows with their checkpoint's id and ``checked`` mark, or None
        if the board has no such version."""
        async with self.engine.connect() as conn:
            return await history.load_marked_chain(conn, board_id, version_id)

    async def mark_checked(self, board_id: str, version_id: int, mark: bytes) -> None:
        """Keep ``mark`` (``checked_states``) with checkpoint ``version_id``, in a
        transaction of its own."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                await history.mark_checked(conn, board_id, version_id, mark)

    async def mark_checkpoints(self, board_id: str,
                               mark: Callable[[bytes], Awaitable[bytes]],
                               limit: int = 4) -> int:
        """Check up to ``limit`` of the board's newest unmarked checkpoints with ``mark``
        (a stored row in, its mark out: ``checked_states.mark_stored_checkpoint``, run
        elsewhere) and keep each mark with its row; return how many were marked. A row the
        check refuses (``mark`` raises ``ValueError``) stays unmarked, logged at WARNING;
        other errors of ``mark`` pass."""
        async with self.engine.connect() as conn:
            found = await history.unmarked_checkpoints(conn, board_id, limit)
            await conn.rollback()
        marked = 0
        for version_id, data in found:
            try:
                checked = await mark(data)
            except ValueError as exc:
                log.warning("board %s: version %d's checkpoint fails the pre-check (%s); "
                            "its exports are refused", board_id, version_id, exc)
                continue
            await self.mark_checked(board_id, version_id, checked)
            marked += 1
        return marked

    async def thin_history(self, board_id: str, now: float, policy: Retention) -> int:
        """Apply the retention policy to one board's history in one transaction; return how
        many versions were dropped."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                if not await history.lock_board(conn, board_id):
                    return 0
                return await history.thin_versions(conn, board_id, now, policy)

    async def history_bytes(self, board_id: str | None = None) -> int:
        """Bytes the history holds (one board, or all)."""
        async with self.engine.connect() as conn:
            return await history.history_bytes(conn, board_id)

    async def save_file(self, file_id: str, mime: str, data: bytes) -> None:
        """Store image bytes under their SHA-256 ``file_id`` (idempotent)."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            try:
                async with conn.begin():
                    exists = (await conn.execute(
                        select(files.c.id).where(files.c.id == file_id))).first()
                    if exists is None:
                        await conn.execute(insert(files).values(
                            id=file_id, mime=mime, data=data, created_at=time.time()))
                    # Uploaded again: its grace period starts over at the next sweep.
                    await conn.execute(delete(file_orphans)
                                       .where(file_orphans.c.file_id == file_id))
            except IntegrityError:
                pass  # the same bytes were stored concurrently

    async def load_file(self, file_id: str) -> tuple[str, bytes] | None:
        """``(mime, bytes)`` of a stored file, or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(
                select(files.c.mime, files.c.data).where(files.c.id == file_id))).one_or_none()
        return (row.mime, row.data) if row else None

    async def boards_changed_since_file_scan(self) -> list[str]:
        """Boards updated since the file sweeper last read them (or never read)."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(
                select(boards.c.id).outerjoin(file_refs, file_refs.c.board_id == boards.c.id)
                .where((file_refs.c.board_id.is_(None))
                       | (boards.c.updated_at >= file_refs.c.scanned_at)))).scalars())

    async def save_file_refs(self, board_id: str, file_ids: set[str], scanned_at: float) -> None:
        """Record which files ``board_id``'s stored content named when read at
        ``scanned_at``."""
        row = {"file_ids": " ".join(sorted(file_ids)), "scanned_at": scanned_at}
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                if not await _board_exists(conn, board_id):
                    return  # deleted meanwhile
                changed = await conn.execute(update(file_refs)
                                             .where(file_refs.c.board_id == board_id)
                                             .values(**row))
                if changed.rowcount == 0:
                    await conn.execute(insert(file_refs).values(board_id=board_id, **row))

    async def collect_files(self, now: float, grace_s: float) -> list[str]:
        """Mark files no board names as orphans (since ``now``), unmark named ones, and delete
        those orphaned for ``grace_s`` or longer, in one transaction. Returns the deleted ids."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                named = {file_id for (ids,) in await conn.execute(select(file_refs.c.file_ids))
                         for file_id in ids.split()}
                unnamed = set((await conn.execute(select(files.c.id))).scalars()) - named
                orphans = dict((await conn.execute(
                    select(file_orphans.c.file_id, file_orphans.c.since))).all())
                adopted = [file_id for file_id in orphans if file_id not in unnamed]
                new = [{"file_id": file_id, "since": now} for file_id in unnamed - orphans.keys()]
                expired = [file_id for file_id, since in orphans.items()
                           if file_id in unnamed and since <= now - grace_s]
                for chunk in _chunks(adopted + expired):
                    await conn.execute(delete(file_orphans)
                                       .where(file_orphans.c.file_id.in_(chunk)))
                for chunk in _chunks(expired):
                    await conn.execute(delete(files).where(files.c.id.in_(chunk)))
                if new:
                    await conn.execute(insert(file_orphans), new)
        return expired

    async def _board_infos(self, where) -> list[BoardInfo]:
        log_bytes = (select(updates.c.board_id, func.sum(func.length(updates.c.data)).label("n"))
                     .group_by(updates.c.board_id).subquery())
        query = (select(boards.c.id, boards.c.created_at, boards.c.updated_at,
                        boards.c.update_count, log_bytes.c.n,
                        func.length(snapshots.c.data).label("snap"))
                 .outerjoin(log_bytes, log_bytes.c.board_id == boards.c.id)
                 .outerjoin(snapshots, snapshots.c.board_id == boards.c.id)
                 .order_by(boards.c.updated_at.desc()))
        if where is not None:
            query = query.where(where)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [BoardInfo(r.id, r.created_at, r.updated_at, int(r.n or 0) + int(r.snap or 0),
                          r.update_count) for r in rows]


async def open_store(url: str, migrate: str = "default") -> Store:
    """Connect to ``url``, bring its schema to the head revision (``migrate.prepare_schema``:
    ``migrate`` is ``default``, ``auto`` or ``refuse``) and return the ``Store``.

    Raises ``StoreError`` naming the URL when it cannot be used, or saying which command to
    run when its schema revision is older (and ``migrate`` refuses) or newer than this code.
    """
    engine = make_engine(url)
    try:
        # Processes starting together (--workers, a cluster) check and upgrade one at a time.
        await prepare_schema(engine, migrate)
    except SchemaError as exc:
        await engine.dispose()
        raise StoreError(f"database {url!r}: {exc}") from exc
    except Exception as exc:
        await engine.dispose()
        raise StoreError(f"cannot open database {url!r}: {exc}") from exc
    return Store(engine)


def make_engine(url: str) -> AsyncEngine:
    """The SQLAlchemy engine for ``url``, with syncboard's SQLite settings; the schema is not
    checked (``open_store`` does). Raises ``StoreError`` for an unusable URL."""
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            Path(parsed.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **_engine_options(parsed))
    except Exception as exc:  # bad URL syntax, unknown dialect or driver not installed
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _engine_options(url: URL) -> dict[str, object]:
    """For a SQLite file: a pool whose connections, once opened, stay open, handed out last
    in, first out. SQLAlchemy's default keeps 5 and opens up to 10 more under bursts (a
    reconnect storm's board loads), closing them after: aiosqlite threads came and went, and
    each left a malloc arena behind holding freed pages (the soak counted 16 arenas). A fixed
    pool of 15 handed out in turn fills 15 page caches; last in, first out, the one or two
    connections of normal traffic stay hot and the rest are used only in bursts."""
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return {"pool_size": 15, "max_overflow": 0, "pool_use_lifo": True}
    return {}


def merge_updates_into_snapshot(stored: Iterable[bytes]) -> bytes:
    """Apply stored updates to a fresh document and encode it whole (drops deleted content;
    keeps what is still pending and subdocuments' options, see ``BoardDocument``).

    Rows the pre-check refuses (stored before it existed) are left out and logged at WARNING
    as at board load. Raises ``ValueError`` if a row cannot be decoded (compaction then leaves
    the log as it is)."""
    return BoardDocument.from_updates(stored, skip_undecodable=False).full_update(for_clients=True)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below be the real one
        cursor = dbapi_connection.cursor()
        # cache_size: 1 MiB of pages per connection (SQLite's default is 2 MiB). The writer
        # appends at the end of the log and reads scan a board's rows once, so a bigger
        # cache buys little, and each pooled connection would hold it for the process's life.
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000",
                       "foreign_keys=ON", "cache_size=-1024"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        # Writers take the write lock up front: a deferred transaction that reads, then
        # writes, fails with "database is locked" when another writer committed in between.
        write = conn.get_execution_options().get("syncboard_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[i:i + _DELETE_CHUNK] for i in range(0, len(items), _DELETE_CHUNK)]


async def _board_exists(conn: AsyncConnection, board_id: str) -> bool:
    return (await conn.execute(select(boards.c.id).where(boards.c.id == board_id))).first() \
        is not None


def _board_row(board_id: str, now: float, log_updates: int = 0,
               log_bytes: int = 0) -> dict[str, object]:
    return {"id": board_id, "created_at": now, "updated_at": now, "update_count": log_updates,
            "log_updates": log_updates, "log_bytes": log_bytes, "token_generation": 0}


async def _insert_boards(conn: AsyncConnection, rows: list[dict[str, object]]) -> None:
    """Insert board rows; a row another writer inserted meanwhile is left as it is."""
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    await conn.execute(dialect_insert(boards).on_conflict_do_nothing(index_elements=["id"]),
                       rows)


async def _write_snapshot(conn: AsyncConnection, board_id: str, data: bytes, last_seq: int,
                          replace: bool) -> None:
    values = {"data": data, "last_seq": last_seq, "created_at": time.time()}
    if replace:
        await conn.execute(update(snapshots).where(snapshots.c.board_id == board_id)
                           .values(**values))
    else:
        await conn.execute(insert(snapshots).values(board_id=board_id, **values))


async def _recount_log(conn: AsyncConnection, board_id: str) -> None:
    count, size = (await conn.execute(
        select(func.count(), func.coalesce(func.sum(func.length(updates.c.data)), 0))
        .where(updates.c.board_id == board_id))).one()
    await conn.execute(update(boards).where(boards.c.id == board_id)
                       .values(log_updates=count, log_bytes=size))
