"""HTTP endpoints of a board's version history (edit token required for every one: a view
link never sees past states, which may hold deleted content).

- ``GET  /api/boards/<id>/versions`` (``?limit=`` 1-200, default 50; ``?before=<vid>``):
  ``{"versions": [{"id", "created_at", "kind", "label", "elements", "authors"}], "next"}``,
  newest first; ``next`` is the ``before`` of the next page, or null
- ``POST /api/boards/<id>/versions`` ``{"label": "..."}`` (optional ``"kind"``: ``named``,
  the default, or ``before-restore`` / ``before-import`` for a client that restores or
  imports through its own document): 201 and the version
- ``GET  /api/boards/<id>/versions/<vid>``: one version; ``GET .../versions/at/<unix
  seconds>``: the newest version made at or before then
- ``GET  /api/boards/<id>/versions/<vid>/update``: the whole board then, as one Yjs update
  (``application/octet-stream``; the browser previews and restores from it)
- ``GET  /api/boards/<id>/versions/<vid>/export.(json|svg|png|pdf|bundle|excalidraw)``: the
  board then, by the exporter of ``export.*`` with the same options; ``POST`` the same with
  ``{"ids": [...]}``, a selection of any size, as the live board's posted selection (the same
  body limits and errors: 415 unless ``application/json``, 413 past 16 MiB or 200,000 ids,
  400 for a bad body)
- ``POST /api/boards/<id>/versions/<vid>/restore`` (body empty, ``{}``, or
  ``{"elements": [ids]}``): records a ``before-restore`` version, then applies the restore to
  the live board through the CRDT path (``restore.build_restore_update``); answers
  ``{"restored", "before", "changed"}``

Errors as the other endpoints: 400 bad body or parameter, 401/403 token, 404 unknown board or
version (also for an id past the database's 64-bit range), 413 when the restore would pass
``--max-board-bytes``, 429 (``Retry-After``) past ``SAVES_PER_MIN`` saves and restores per
address (not for the admin token). Previews, version exports and restores share the history
worker (``history_worker``): 503 with ``Retry-After`` when ``--history-queue-jobs`` wait
already, 504 past ``--history-timeout-s``, 422 past ``--history-worker-memory-bytes`` (the
same job would fail again), 503 if the worker died otherwise during the job.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from tornado.ioloop import IOLoop
from tornado.web import HTTPError

from .access import Role
from .address_limits import AddressRate
from .board_model import BoardContent
from .board_names import MAX_BOARD_NAME_CHARS
from .config import Settings
from .document import EMPTY_STATE_VECTOR
from .errors import BoardTooLarge
from .export.raster_pool import RasterPool
from .export_handlers import EXPORT_FORMATS, ExportHandler, _BoardEndpoint
from .history_worker import (
    HistoryWorkerBusy,
    HistoryWorkerFailed,
    HistoryWorkerOutOfMemory,
    HistoryWorkerTimeout,
)
from .http_handlers import Busy
from .registry import BoardRegistry
from .restore import live_keys
from .store.history import MAX_LABEL_CHARS
from .version_read import read_version

log = logging.getLogger(__name__)

DEFAULT_PAGE = 50
MAX_PAGE = 200
SAVES_PER_MIN = 20
SAVES_BURST = 20
"""Versions one address may have recorded over HTTP (saves and restores): each is a row, at
times a whole-board checkpoint, so an edit token must not fill the database with them."""
MAX_VERSION_ID = 2**63 - 1
"""Largest id a version can have (SQLite's and PostgreSQL's 64-bit integer keys): a larger
one in a path is a 404 without asking the database, which cannot bind it."""
MAX_RESTORE_IDS = 10_000
"""Most element ids one partial restore may name."""
_POSTED_KINDS = ("named", "before-restore", "before-import")


def version_routes(registry: BoardRegistry, settings: Settings, raster: RasterPool) -> list:
    """Tornado URL specs of the history endpoints (exports rendered as ``export.*`` are, PNG
    in ``raster``, with the same limits)."""
    boards = {"registry": registry, "store": registry.store}
    saving = {**boards, "saves": AddressRate(SAVES_PER_MIN, SAVES_BURST)}
    exports = {**boards, "raster": raster, "max_image_pixels": settings.max_image_pixels,
               "max_export_pixels": settings.max_export_pixels,
               "body_timeout_s": settings.body_timeout_s}
    board = r"/api/boards/([^/]+)/versions"
    return [
        (board, VersionsHandler, saving),
        (board + r"/at/([0-9.]+)", VersionAtHandler, boards),
        (board + r"/([0-9]+)", VersionHandler, boards),
        (board + r"/([0-9]+)/update", VersionUpdateHandler, boards),
        (board + rf"/([0-9]+)/export\.({EXPORT_FORMATS})", VersionExportHandler, exports),
        (board + r"/([0-9]+)/restore", VersionRestoreHandler, saving),
    ]


class _SavingEndpoint(_BoardEndpoint):
    """An endpoint that records versions, charged to the caller's address (429 past it)."""

    def initialize(self, registry: BoardRegistry, store, saves: AddressRate) -> None:
        super().initialize(registry, store)
        self.saves = saves

    def spend_save(self) -> None:
        if not self.access.is_admin(self.bearer_token()):
            self.spend_creation(self.saves, 1, "saved versions")


class VersionsHandler(_SavingEndpoint):
    """``GET`` (list, paginated) and ``POST`` (save a version) on ``.../versions``."""

    async def get(self, board_id: str) -> None:
        await self.existing_board(board_id, Role.EDIT)
        limit = _int_argument(self, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
        before = self.get_argument("before", None)
        before_id = _int_argument(self, "before", 0, 1, 2**62) if before is not None else None
        found = await self.store.list_versions(board_id, limit + 1, before_id)
        if found:  # a preview or a restore comes next: have their worker process ready
            self.registry.versions.worker.warm_up()
        page = found[:limit]
        self.finish({"versions": [v.to_json() for v in page],
                     "next": page[-1].id if len(found) > limit else None})

    async def post(self, board_id: str) -> None:
        await self.existing_board(board_id, Role.EDIT)
        body = _json_body(self)
        label = body.get("label", "")
        kind = body.get("kind", "named")
        if not isinstance(label, str) or len(label) > MAX_LABEL_CHARS:
            raise HTTPError(400, f"label must be a string of at most {MAX_LABEL_CHARS} "
                                 "characters")
        if kind not in _POSTED_KINDS:
            raise HTTPError(400, f"kind must be one of {', '.join(_POSTED_KINDS)}")
        self.spend_save()
        info = await self.registry.take_version(board_id, kind, label.strip())
        self.set_status(201)
        self.finish(info.to_json())


class VersionHandler(_BoardEndpoint):
    """``GET .../versions/<vid>``: one version's listing entry."""

    async def get(self, board_id: str, version_id: str) -> None:
        await self.existing_board(board_id, Role.EDIT)
        info = await self.store.get_version(board_id, _version_id(version_id))
        if info is None:
            raise HTTPError(404, "no such version")
        self.finish(info.to_json())


class VersionAtHandler(_BoardEndpoint):
    """``GET .../versions/at/<unix seconds>``: the newest version made at or before then."""

    async def get(self, board_id: str, at: str) -> None:
        await self.existing_board(board_id, Role.EDIT)
        try:
            when = float(at)
        except ValueError:
            raise HTTPError(400, "the time must be Unix seconds") from None
        info = await self.store.version_at(board_id, when)
        if info is None:
            raise HTTPError(404, "no version at or before that time")
        self.finish(info.to_json())


class VersionUpdateHandler(_BoardEndpoint):
    """``GET .../versions/<vid>/update``: the board at that version as one Yjs update."""

    async def get(self, board_id: str, version_id: str) -> None:
        await self.existing_board(board_id, Role.EDIT)
        state = await _state_or_404(self, board_id, _version_id(version_id))
        self.set_header("Content-Type", "application/octet-stream")
        self.finish(state)


class VersionExportHandler(ExportHandler):
    """``GET .../versions/<vid>/export.<fmt>``: the board as it was, same options; ``POST``
    a selection of it, as ``ExportHandler`` (the token checked before the body is read)."""

    role = Role.EDIT

    async def get(self, board_id: str, version_id: str, fmt: str) -> None:  # type: ignore[override]
        self._version_id = _version_id(version_id)
        self._format = fmt
        await super().get(board_id, fmt)

    async def post(self, board_id: str, version_id: str, fmt: str) -> None:  # type: ignore[override]
        self._version_id = _version_id(version_id)
        self._format = fmt
        await super().post(board_id, fmt)

    async def export_content(self, board_id: str) -> BoardContent:
        """The version read from its checkpoint and its deltas (``read_version``: each part
        checked first; a checkpoint checked for an earlier export, or whose row's mark
        vouches for its bytes, is not checked again; a new one is checked while the worker
        merges the deltas, and its row marked). For JSON, the checkpoint's elements read for
        an earlier JSON export are recalled, and only those the deltas change read again
        (``checkpoint_reads``)."""
        vid = self._version_id
        chain = await self.store.load_marked_version(board_id, vid)
        if chain is None:
            raise HTTPError(404, "no such version")
        versions = self.registry.versions
        rows, stored_mark, checkpoint_id = chain.rows, chain.checked, chain.checkpoint_id
        del chain
        checkpoint, checked, deltas = await _worker_answer(versions.worker.version_parts(
            rows, lambda update: versions.checked.checked(update, stored_mark)),
            board_id, vid)
        del rows
        if checked.mark is not None:
            await _keep_mark(self.store, board_id, checkpoint_id, checked.mark)
        reads = versions.reads if self._format == "json" else None
        reading = IOLoop.current().run_in_executor(None, read_version, checkpoint,
                                                   checked.depths, deltas, reads)
        return await _worker_answer(reading, board_id, vid)


class VersionRestoreHandler(_SavingEndpoint):
    """``POST .../versions/<vid>/restore``: the live board becomes that version (or just the
    named elements), for everyone connected, after a ``before-restore`` version."""

    async def post(self, board_id: str, version_id: str) -> None:
        await self.existing_board(board_id, Role.EDIT)
        body = _json_body(self)
        element_ids = body.get("elements")
        if element_ids is not None and (
                not isinstance(element_ids, list) or len(element_ids) > MAX_RESTORE_IDS
                or not all(isinstance(i, str) and 0 < len(i) <= MAX_BOARD_NAME_CHARS
                           for i in element_ids)):
            raise HTTPError(400, f"elements must be a list of at most {MAX_RESTORE_IDS} "
                                 "element id strings")
        vid = _version_id(version_id)
        rows = await self.store.load_version(board_id, vid)
        if not rows:
            raise HTTPError(404, "no such version")
        try:  # refused before a before-restore version is recorded and a save is spent
            self.registry.versions.worker.check_room()
        except HistoryWorkerBusy as exc:
            raise Busy(exc.retry_after_s, str(exc)) from None
        self.spend_save()
        registry = self.registry
        room = await registry.acquire(board_id)
        try:
            # What the board holds beyond the version: small after a few changes. The restore
            # is built in the worker process while the before-restore version is recorded;
            # edits made meanwhile merge with it as any concurrent edit does.
            vector = await self.store.version_state_vector(board_id, vid) or EMPTY_STATE_VECTOR
            since = room.document.missing_since(vector)  # and the live keys, in the same turn
            building = asyncio.ensure_future(registry.versions.worker.restore(
                rows, since, element_ids, live_keys(room.document.doc)))
            try:
                before = await registry.versions.take(room, "before-restore",
                                                      f"before restoring version {vid}")
            except BaseException:
                building.cancel()
                raise
            update, changed = await _worker_answer(building, board_id, vid)
            await room.settled()  # behind a big update being checked, in the board's order
            try:
                room.apply_server_update(update)  # others' edits meanwhile merge with it
            except BoardTooLarge as exc:
                raise HTTPError(413, f"restore refused: {exc}") from None
            except ValueError as exc:
                log.error("board %s: restore of version %d refused: %s", board_id, vid, exc)
                raise HTTPError(422, f"restore refused: {exc}") from None
        finally:
            registry.release_if_idle(room)
        log.info("board %s: restored version %d (%s, %d elements changed; before: version %d)",
                 board_id, vid, "partial" if element_ids is not None else "whole board",
                 changed, before.id)
        self.finish({"restored": vid, "before": before.to_json(), "changed": changed})


def _version_id(raw: str) -> int:
    """The version id of a path (digits only, by the route); 404 past ``MAX_VERSION_ID``."""
    vid = int(raw)
    if vid > MAX_VERSION_ID:
        raise HTTPError(404, "no such version")
    return vid


async def _state_or_404(handler: _BoardEndpoint, board_id: str, version_id: int) -> bytes:
    """The whole board at a version as one update (``HistoryWorker.rebuild``); 404 if there
    is no such version."""
    rows = await handler.store.load_version(board_id, version_id)
    if not rows:
        raise HTTPError(404, "no such version")
    return await _worker_answer(handler.registry.versions.worker.rebuild(rows), board_id,
                                version_id)


async def _keep_mark(store, board_id: str, checkpoint_id: int, mark: bytes) -> None:
    """Keep the mark of a checkpoint this export checked with its row. A failed write only
    costs the next export after a restart the check again: logged, the export goes on."""
    try:
        await store.mark_checked(board_id, checkpoint_id, mark)
    except (SQLAlchemyError, OSError) as exc:
        log.warning("board %s: could not keep the pre-check's mark of version %d (its next "
                    "export after a restart checks it again): %s", board_id, checkpoint_id,
                    exc)


async def _worker_answer(job: Awaitable, board_id: str, version_id: int):
    """The result of a rebuild or restore job: 500 for a version that cannot be read, 503
    (``Retry-After``) when the queue is full, 504 past the time limit, 422 past the memory
    cap, 503 if the worker process died otherwise."""
    try:
        return await job
    except ValueError as exc:
        log.error("board %s: version %d cannot be rebuilt: %s", board_id, version_id, exc)
        raise HTTPError(500, "this version cannot be rebuilt (see the server log)") from None
    except HistoryWorkerBusy as exc:
        raise Busy(exc.retry_after_s, str(exc)) from None
    except HistoryWorkerTimeout as exc:
        log.warning("board %s: version %d: %s", board_id, version_id, exc)
        raise HTTPError(504, str(exc)) from None
    except HistoryWorkerOutOfMemory as exc:
        log.warning("board %s: version %d: %s", board_id, version_id, exc)
        raise HTTPError(422, str(exc)) from None
    except HistoryWorkerFailed as exc:
        raise HTTPError(503, str(exc)) from None


def _json_body(handler: _BoardEndpoint) -> dict[str, Any]:
    """The request body as a JSON object ({} when empty); 400 otherwise."""
    if not handler.request.body.strip():
        return {}
    try:
        body = json.loads(handler.request.body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise HTTPError(400, f"invalid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "the body must be a JSON object")
    return body


def _int_argument(handler: _BoardEndpoint, name: str, default: int, low: int,
                  high: int) -> int:
    raw = handler.get_argument(name, None)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise HTTPError(400, f"?{name}= must be an integer from {low} to {high}")
    return int(raw)

