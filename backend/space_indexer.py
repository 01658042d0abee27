"""SpaceIndexer: keeps the space boards' titles, search text, last editors and thumbnails
current, and empties the trash, in the background (never on the sync path).

Every ``--space-index-interval-s`` it asks the database for space boards whose
``boards.updated_at`` (set by the writer's group commit) is newer than what it last read, and
for each reads the board from the store (which holds everything up to that time), extracts
its title and searchable text in a thread (``space_content``) and stores them. Who edited
last is recorded by the process whose peer made the edit, for its own rooms
(``Room.last_editor_name`` at ``Room.last_edit_at``): the latest edit wins whichever process
records first, and a process that indexes a board edited elsewhere does not erase it. Boards
that have not changed for ``--thumbnail-quiet-s`` and whose thumbnail is older than their
content get a new one: the SVG exporter in a thread, rasterised in the server's
``RasterPool`` process (as PNG exports are). A board whose read is slow is read again only
after ten times that read's duration (so indexing a huge board being edited costs at most a
tenth of a core). Once a minute, boards in a trash for longer than ``--space-trash-days``
are deleted for good.

Several processes may index one database: every step is idempotent, and a board that changes
while it is read is simply read again at the next round (its ``indexed_at`` stays older).
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.exc import SQLAlchemyError

from .board_model import BoardContent, read_board
from .config import Settings
from .document import BoardDocument
from .export import export_file, load_images
from .export.raster_pool import RasterBusy, RasterError, RasterPool
from .registry import BoardRegistry
from .space_content import searchable_text, thumbnail_options
from .store.spaces import SpaceStore

log = logging.getLogger(__name__)

BOARDS_PER_ROUND = 50
THUMBNAILS_PER_ROUND = 4
PURGE_INTERVAL_S = 60.0
READ_COST_FACTOR = 10


class SpaceIndexer:
    """The background indexing of one server process."""

    def __init__(self, spaces: SpaceStore, registry: BoardRegistry, raster: RasterPool,
                 settings: Settings) -> None:
        self.spaces = spaces
        self.registry = registry
        self.raster = raster
        self.settings = settings
        self.indexed_total = 0
        self.thumbnails_total = 0
        self._task: asyncio.Task | None = None
        self._purged_at = 0.0
        self._next_index: dict[str, float] = {}  # board -> monotonic time of its next read
        self._editors_recorded: dict[str, float] = {}  # board -> Room.last_edit_at stored

    def start(self) -> None:
        self._task = asyncio.create_task(self._run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def run_once(self, now: float | None = None) -> None:
        """One round: index changed boards, render due thumbnails, purge an old trash."""
        now = time.time() if now is None else now
        await self.record_editors()
        # Boards waiting out a slow read's pause are skipped: ask for that many more.
        changed = await self.spaces.boards_to_index(BOARDS_PER_ROUND + len(self._next_index))
        for board_id, updated_at in changed:
            await self._index(board_id, updated_at)
        due = await self.spaces.boards_needing_thumbnails(
            now - self.settings.thumbnail_quiet_s, THUMBNAILS_PER_ROUND)
        for board_id, updated_at in due:
            await self._render_thumbnail(board_id, updated_at)
        if now - self._purged_at >= PURGE_INTERVAL_S:
            self._purged_at = now
            await self.purge_trash(now)
            soon = time.monotonic()
            self._next_index = {b: t for b, t in self._next_index.items() if t > soon}

    async def record_editors(self) -> None:
        """Store who edited each room of this process last, for rooms edited here since the
        last time (a name not known yet, before its presence arrived, is tried again)."""
        rooms = self.registry.rooms
        self._editors_recorded = {board_id: at for board_id, at in
                                  self._editors_recorded.items() if board_id in rooms}
        edits = []
        for board_id, room in rooms.items():
            if room.last_edit_at > self._editors_recorded.get(board_id, 0.0):
                name = room.last_editor_name
                if name:
                    edits.append((board_id, name, room.last_edit_at))
        if edits:
            await self.spaces.record_editors(edits)
            self._editors_recorded.update((board_id, at) for board_id, _, at in edits)

    async def purge_trash(self, now: float) -> list[str]:
        """Delete for good the boards in a trash for longer than ``--space-trash-days``."""
        expired = await self.spaces.trashed_before(now - self.settings.space_trash_days * 86400)
        for board_id in expired:
            await self.spaces.forget_board(board_id)
            await self.registry.delete(board_id)
            log.info("deleted board %s: %g days in its space's trash", board_id,
                     self.settings.space_trash_days)
        return expired

    async def _read(self, board_id: str) -> BoardContent:
        """The board as stored, rebuilt in a thread. Always from the store, even when the
        board is loaded here: the store holds everything up to the ``updated_at`` just read,
        whereas this process's copy may lack what another process wrote (measured: a rename
        made through a second process was overwritten by the first one's stale copy)."""
        stored = await self.registry.store.load_updates(board_id)
        return await asyncio.to_thread(_read_stored, board_id, stored)

    async def _index(self, board_id: str, updated_at: float) -> None:
        now = time.monotonic()
        if self._next_index.get(board_id, 0.0) > now:
            return  # read recently and costly: its turn comes later
        try:
            content = await self._read(board_id)
        except ValueError as exc:  # a board that cannot be read is logged and left stale
            log.warning("board %s: not indexed: %s", board_id, exc)
            return
        # A board being edited is read again at most once per READ_COST_FACTOR times what
        # its last read took: a board that takes 1 s to read costs at most a tenth of a core.
        cost_s = time.monotonic() - now
        if cost_s * READ_COST_FACTOR > self.settings.space_index_interval_s:
            self._next_index[board_id] = now + cost_s * READ_COST_FACTOR
        else:
            self._next_index.pop(board_id, None)
        title, body = searchable_text(content)
        await self.spaces.save_index(board_id, title, body, updated_at)
        self.indexed_total += 1

    async def _render_thumbnail(self, board_id: str, updated_at: float) -> None:
        try:
            content = await self._read(board_id)
            images = await load_images(self.registry.store, content,
                                       self.settings.max_image_pixels)
            png = await export_file(content, "png", self.raster,
                                    thumbnail_options(content, self.settings.thumbnail_width_px),
                                    images.found)
        except RasterBusy:
            return  # exports are using the workers: next round
        except (RasterError, ValueError) as exc:
            log.warning("board %s: no thumbnail: %s", board_id, exc)
            png = b""  # not retried until the board changes
        await self.spaces.save_thumbnail(board_id, png, updated_at)
        self.thumbnails_total += 1

    async def _run_forever(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.settings.space_index_interval_s)
            try:
                await self.run_once()
            except SQLAlchemyError as exc:  # the database is down or full: the writer says
                if not failing:             # so at ERROR; here once per outage is enough
                    log.warning("space indexing paused, the database failed: %s; retrying "
                                "every %.1f s", exc, self.settings.space_index_interval_s)
                failing = True
                continue
            except Exception:  # a failed round changes nothing; the next one retries
                log.exception("space indexing failed; retrying in %.1f s",
                              self.settings.space_index_interval_s)
                continue
            if failing:
                log.info("space indexing resumed")
                failing = False


def _read_stored(board_id: str, stored: list[bytes]) -> BoardContent:
    # The same pre-check as a board load: a refused or undecodable row is skipped and logged.
    return read_board(BoardDocument.from_updates(stored, board_id).doc)
