"""SpaceStore: spaces, the boards they hold, their trash, search rows and thumbnails.

Plain SQLAlchemy Core over the engine of the ``Store`` (the same database, SQLite or
PostgreSQL), tables in ``schema.py``, the full-text index in ``search.py``. A board belongs to
at most one space (``space_boards`` is keyed by board). Every write is one short transaction.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from . import search
from .schema import boards, space_boards, spaces, thumbnails

_WRITE = {"syncboard_write": True}
SORTS = ("edited", "title", "created")
MAX_LISTED = 5000
"""Most boards one listing answers (a space holding more lists its first ones)."""


@dataclass(frozen=True)
class Space:
    """One space's row."""

    space_id: str
    name: str
    created_at: float
    generation: int


class SpaceBoard(NamedTuple):
    """One board of a space, as the space page lists it (a tuple in the order of the listing's
    columns: 678 rows took 8.1 ms of CPU to convert by attribute, 0.5 ms by position)."""

    board_id: str
    title: str
    created_at: float
    updated_at: float
    last_editor: str
    deleted_at: float | None
    thumbnail_at: float | None
    generation: int


@dataclass(frozen=True)
class Membership:
    """Where a board is: its space, and since when it is in that space's trash (or None)."""

    space_id: str
    deleted_at: float | None


class SpaceStore:
    """Space tables of one database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def create_space(self, space_id: str, name: str) -> None:
        async with self._write() as conn:
            await conn.execute(insert(spaces).values(id=space_id, name=name,
                                                     created_at=time.time(),
                                                     token_generation=0))

    async def space(self, space_id: str) -> Space | None:
        """The space's row, or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(spaces).where(spaces.c.id == space_id))).first()
        return Space(row.id, row.name, row.created_at, row.token_generation) if row else None

    async def token_generation(self, space_id: str) -> int | None:
        """The space's token generation, or None if there is no such space."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(spaces.c.token_generation)
                                       .where(spaces.c.id == space_id))).scalar_one_or_none()

    async def rename_space(self, space_id: str, name: str) -> None:
        async with self._write() as conn:
            await conn.execute(update(spaces).where(spaces.c.id == space_id).values(name=name))

    async def rotate_space(self, space_id: str) -> int | None:
        """Increment the space's token generation; the new one, or None (no such space)."""
        async with self._write() as conn:
            return (await conn.execute(
                update(spaces).where(spaces.c.id == space_id)
                .values(token_generation=spaces.c.token_generation + 1)
                .returning(spaces.c.token_generation))).scalar_one_or_none()

    async def membership(self, board_id: str) -> Membership | None:
        """The space ``board_id`` is in (and whether in its trash), or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(space_boards.c.space_id, space_boards.c.deleted_at)
                                      .where(space_boards.c.board_id == board_id))).first()
        return Membership(row.space_id, row.deleted_at) if row else None

    async def add_board(self, space_id: str, board_id: str, title: str = "") -> bool:
        """Put ``board_id`` (which must exist) into ``space_id``; False if it already is in a
        space (this one or another)."""
        async with self._write() as conn:
            if (await conn.execute(select(space_boards.c.board_id)
                                   .where(space_boards.c.board_id == board_id))).first():
                return False
            await conn.execute(insert(space_boards).values(
                board_id=board_id, space_id=space_id, added_at=time.time(), deleted_at=None,
                title=title[:200], last_editor="", indexed_at=0.0))
        return True

    async def list_boards(self, space_id: str, query: str = "", sort: str = "edited",
                          trash: bool = False) -> list[SpaceBoard]:
        """The boards of ``space_id`` (those in its trash when ``trash``), sorted by ``sort``
        (``SORTS``: last edited first, title A-Z, newest first), only those whose indexed
        text holds every word of ``query`` when it has any."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(self.listing(space_id, query, sort, trash))).all()
        return [SpaceBoard._make(row) for row in rows]

    def listing(self, space_id: str, query: str, sort: str, trash: bool) -> Select:
        """The statement ``list_boards`` runs (its arguments are bound parameters), its
        columns in ``SpaceBoard``'s order."""
        deleted = space_boards.c.deleted_at
        where = [space_boards.c.space_id == space_id,
                 deleted.is_not(None) if trash else deleted.is_(None)]
        terms = search.query_terms(query)
        if terms:
            where.append(space_boards.c.board_id.in_(
                search.matching_boards(self.engine.dialect.name, terms)))
        order = {"edited": [boards.c.updated_at.desc()],
                 "title": [func.lower(space_boards.c.title), boards.c.created_at.desc()],
                 "created": [boards.c.created_at.desc()]}[sort]
        return (
            select(space_boards.c.board_id, space_boards.c.title, boards.c.created_at,
                   boards.c.updated_at, space_boards.c.last_editor, space_boards.c.deleted_at,
                   thumbnails.c.rendered_at, boards.c.token_generation)
            .join(boards, boards.c.id == space_boards.c.board_id)
            .outerjoin(thumbnails, and_(thumbnails.c.board_id == space_boards.c.board_id,
                                        func.length(thumbnails.c.png) > 0))
            .where(*where).order_by(*order, space_boards.c.board_id).limit(MAX_LISTED))

    async def set_title(self, board_id: str, title: str) -> None:
        async with self._write() as conn:
            await conn.execute(update(space_boards).where(space_boards.c.board_id == board_id)
                               .values(title=title[:200]))

    async def move_board(self, board_id: str, space_id: str) -> None:
        async with self._write() as conn:
            await conn.execute(update(space_boards).where(space_boards.c.board_id == board_id)
                               .values(space_id=space_id))

    async def set_deleted(self, board_id: str, deleted_at: float | None) -> None:
        """Put the board in its space's trash (``deleted_at``) or take it out (None)."""
        async with self._write() as conn:
            await conn.execute(update(space_boards).where(space_boards.c.board_id == board_id)
                               .values(deleted_at=deleted_at))

    async def trashed_before(self, cutoff: float) -> list[str]:
        """Boards in a trash since before ``cutoff``."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(space_boards.c.board_id).where(
                space_boards.c.deleted_at < cutoff))).scalars())

    async def boards_to_index(self, limit: int) -> list[tuple[str, float]]:
        """``(board_id, updated_at)`` of space boards changed since they were last indexed."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(space_boards.c.board_id, boards.c.updated_at)
                .join(boards, boards.c.id == space_boards.c.board_id)
                .where(boards.c.updated_at > space_boards.c.indexed_at)
                .order_by(boards.c.updated_at).limit(limit))).all()
        return [(r.board_id, r.updated_at) for r in rows]

    async def save_index(self, board_id: str, title: str, body: str,
                         indexed_at: float) -> None:
        """Record what the indexer read from ``board_id`` as it was at ``indexed_at``
        (``boards.updated_at`` then): its title and searchable text. Nothing is written if the
        board changed since (it is read again)."""
        values = {"title": title[:200], "indexed_at": indexed_at}
        unchanged = select(boards.c.updated_at).where(boards.c.id == board_id) \
            .scalar_subquery() == indexed_at
        async with self._write() as conn:
            changed = await conn.execute(update(space_boards)
                                         .where(space_boards.c.board_id == board_id, unchanged)
                                         .values(**values))
            if changed.rowcount:
                await search.write_text(conn, board_id, body)

    async def record_editors(self, edits: list[tuple[str, str, float]]) -> None:
        """For each ``(board_id, name, edited_at)``: ``name`` edited the board last, at
        ``edited_at`` (wall clock), unless the board's stored edit is more recent (another
        process, whose peer edited later, recorded first). Boards in no space are skipped
        without a write transaction (rooms of loose boards are edited all the time)."""
        column = space_boards.c
        async with self.engine.connect() as conn:
            in_spaces = set((await conn.execute(select(column.board_id).where(
                column.board_id.in_([board_id for board_id, _, _ in edits])))).scalars())
        edits = [edit for edit in edits if edit[0] in in_spaces]
        if not edits:
            return
        async with self._write() as conn:
            for board_id, name, edited_at in edits:
                await conn.execute(update(space_boards)
                                   .where(column.board_id == board_id,
                                          column.last_edited_at < edited_at)
                                   .values(last_editor=name[:40], last_edited_at=edited_at))

    async def boards_needing_thumbnails(self, quiet_before: float, limit: int
                                        ) -> list[tuple[str, float]]:
        """``(board_id, updated_at)`` of space boards outside the trash whose thumbnail is
        missing or older than their content, and that have not changed since
        ``quiet_before``."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(
                select(space_boards.c.board_id, boards.c.updated_at)
                .join(boards, boards.c.id == space_boards.c.board_id)
                .outerjoin(thumbnails, thumbnails.c.board_id == space_boards.c.board_id)
                .where(space_boards.c.deleted_at.is_(None),
                       boards.c.updated_at <= quiet_before,
                       or_(thumbnails.c.board_id.is_(None),
                           thumbnails.c.source_updated_at < boards.c.updated_at))
                .order_by(boards.c.updated_at.desc()).limit(limit))).all()
        return [(r.board_id, r.updated_at) for r in rows]

    async def save_thumbnail(self, board_id: str, png: bytes, source_updated_at: float) -> None:
        """Store ``png`` (empty: rendering failed, not retried until the board changes)."""
        row = {"png": png, "source_updated_at": source_updated_at, "rendered_at": time.time()}
        async with self._write() as conn:
            if not (await conn.execute(select(boards.c.id).where(boards.c.id == board_id))
                    ).first():
                return  # deleted meanwhile
            changed = await conn.execute(update(thumbnails)
                                         .where(thumbnails.c.board_id == board_id).values(**row))
            if changed.rowcount == 0:
                await conn.execute(insert(thumbnails).values(board_id=board_id, **row))

    async def thumbnail(self, board_id: str) -> tuple[bytes, float] | None:
        """``(png, rendered_at)`` of the board's thumbnail, or None."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(thumbnails.c.png, thumbnails.c.rendered_at)
                                      .where(thumbnails.c.board_id == board_id))).first()
        return (row.png, row.rendered_at) if row and row.png else None

    async def forget_board(self, board_id: str) -> None:
        """Drop the board's search row (its other rows go with the board, by cascade)."""
        async with self._write() as conn:
            await search.delete_text(conn, board_id)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a write transaction (``BEGIN IMMEDIATE`` on SQLite)."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**_WRITE)
            async with conn.begin():
                yield conn
