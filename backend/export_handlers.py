"""HTTP endpoints for board export and import, and image files.

- ``GET  /api/boards/<id>/export.(json|svg|png|pdf|bundle|excalidraw)`` (``?scale=``,
  ``?background=``, ``?region=``, ``?pages=``, ``?comments=1``: open comment threads as pins,
  ``?frame=<element id>``: that frame and what it holds, ``?ids=<id>,<id>,...``: those elements
  alone (a selection, at most 2,000); 404 if the board has no such frame or none of the ids)
- ``POST /api/boards/<id>/export.<fmt>`` with ``{"ids": [...]}`` (``application/json``, at most
  16 MiB): the same export of a selection of any size a board holds (200,000 ids), with the
  same query options and token; 400 for a bad body, 413 past the byte or id cap
- ``POST /api/boards/<id>/import``: a syncboard JSON export form, bundle, Excalidraw scene
  (also embedded in Excalidraw's PNG or SVG export) or tldraw file (recognised by content),
  applied through the CRDT path (``BoardRegistry.apply_update``), so connected clients see
  the elements at once; 413 for a scene that inflates past ``--max-import-bytes``
- ``POST /api/boards/<id>/files``: image upload (raw body or one multipart file); PNG, JPEG,
  GIF and WebP only, recognised by their bytes, never by the declared type; returns ``fileId``
- ``GET  /api/files/<fileId>``: the bytes, content-addressed, with ``nosniff``

Errors are JSON (``{"error", "detail"}``): 400 bad option or file, 404 unknown board or file,
413 over a size cap (bytes, the pixels an image header declares, or an import file whose
reading needs more than ``--import-worker-memory-bytes``), 415 refused type, 422 a
PNG that could not be rendered within its time or memory limit, 503 (with ``Retry-After``)
when the PNG queue or the import worker's queue (``import_worker``) is full, 503 (without)
when the import worker was killed during the import (SIGKILL) and 500 when it crashed. Images whose
header declares too many pixels are left out of SVG and PNG exports (``X-Skipped-Images``
says why). ``app.py`` mounts ``export_routes(...)``.
"""

from __future__ import annotations

import hashlib
import logging
import re

from tornado.ioloop import IOLoop
from tornado.web import HTTPError, stream_request_body

from .access import Role
from .board_model import BoardContent, read_snapshot
from .board_names import content_disposition
from .config import Settings
from .document import EMPTY_UPDATE
from .errors import BoardTooLarge
from .export import (
    CARRY_ALL_FILES,
    EXTENSIONS,
    MEDIA_TYPES,
    ExportError,
    ExportOptions,
    Images,
    NotOnBoard,
    export_file,
    load_files,
    load_images,
    parse_background,
    parse_frame,
    parse_ids,
    parse_pages,
    parse_region,
    parse_scale,
)
from .export.mapping import (
    FileLimits,
    ImportRefused,
    ImportTooLarge,
    sniff_image_mime,
)
from .export.raster_pool import RasterBusy, RasterError, RasterPool
from .export.selection import (
    SELECTION_BODY_BYTES,
    SHAPE,
    SelectionTooLarge,
    parse_selection_body,
)
from .http_handlers import JsonHandler
from .http_policy import CappedBody
from .image_header import ImageHeaderError, ImageTooLarge, check_image
from .import_worker import (
    ImportBusy,
    ImportOutOfMemory,
    ImportWorker,
    ImportWorkerFailed,
    ImportWorkerKilled,
)
from .memory import release_free_heap
from .registry import BoardRegistry, ServerStopping
from .store import Store

log = logging.getLogger(__name__)

EXPORT_FORMATS = "json|svg|png|pdf|bundle|excalidraw"
"""What ``export.<fmt>`` answers, of the live board and of a version (a route's pattern)."""
_FILE_ID = re.compile(r"[0-9a-f]{64}")
_TRIM_AFTER_BYTES = 1024 * 1024
"""An import body at least this big is followed by ``release_free_heap`` (BENCHMARKS.md, "Import
of hostile files": without it each big body, and its copy pickled for the import worker, stayed
resident, raising the next one's peak)."""
_SANDBOX_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                "sandbox")
"""An export opened in the browser runs nothing and loads nothing but its own data: URLs (the
embedded font, images)."""


def export_routes(registry: BoardRegistry, store: Store, settings: Settings,
                  raster: RasterPool, importer: ImportWorker) -> list:
    """Tornado URL specs of the export, import and file endpoints (PNG rendered in
    ``raster``, import files read and built in ``importer``)."""
    boards = {"registry": registry, "store": store}
    files = {**boards, "max_file_bytes": settings.max_file_bytes,
             "max_import_bytes": settings.max_import_bytes,
             "body_timeout_s": settings.body_timeout_s,
             "max_image_pixels": settings.max_image_pixels}
    imports = {**files, "importer": importer}
    exports = {**boards, "raster": raster, "max_image_pixels": settings.max_image_pixels,
               "max_export_pixels": settings.max_export_pixels,
               "body_timeout_s": settings.body_timeout_s}
    return [
        (rf"/api/boards/([^/]+)/export\.({EXPORT_FORMATS})", ExportHandler, exports),
        (r"/api/boards/([^/]+)/import", ImportHandler, imports),
        (r"/api/boards/([^/]+)/files", FileUploadHandler, files),
        (r"/api/files/([^/]+)", FileHandler, boards),
    ]


class _BoardEndpoint(JsonHandler):
    def initialize(self, registry: BoardRegistry, store: Store, max_file_bytes: int = 0,
                   max_import_bytes: int = 0, body_timeout_s: float = 0,
                   max_image_pixels: int = 0, raster: RasterPool | None = None,
                   max_export_pixels: int = 0, importer: ImportWorker | None = None) -> None:
        self.registry = registry
        self.store = store
        self.max_file_bytes = max_file_bytes
        self.max_import_bytes = max_import_bytes
        self.body_timeout_s = body_timeout_s
        self.max_image_pixels = max_image_pixels
        self.raster = raster
        self.max_export_pixels = max_export_pixels
        self.importer = importer

    async def existing_board(self, board_id: str, minimum: Role) -> str:
        """The board id, or 404 when it is not a board (neither stored nor loaded); 401/403
        unless the bearer token grants ``minimum`` on it (or is the admin token)."""
        self.board_id_or_404(board_id)
        if not await self.registry.board_exists(board_id):
            raise HTTPError(404, "no such board")
        await self.require_board(board_id, minimum)
        return board_id


@stream_request_body
class ExportHandler(CappedBody, _BoardEndpoint):
    """``GET /api/boards/<id>/export.<fmt>``: the board as JSON, SVG, PNG, PDF, a bundle
    (images included) or an Excalidraw scene. ``POST`` the same, with the query's options, of
    the selection its JSON body names, ``{"ids": [...]}``: up to ``MAX_POSTED_IDS`` ids, where
    ``?ids=`` takes ``MAX_IDS``. The body says ``Content-Type: application/json`` (else 415),
    is at most ``SELECTION_BODY_BYTES`` (else 413 by ``Content-Length`` before a byte is read)
    and is read only once the token is checked; a bad body is 400, too many ids 413."""

    role = Role.VIEW
    """The token role needed (version exports need edit)."""

    async def prepare(self) -> None:
        super().prepare()  # refuses a body a foreign page could post (415)
        if self.request.method != "POST":
            return
        self.start_body(SELECTION_BODY_BYTES, self.body_timeout_s)
        media_type = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise HTTPError(415, f"send the selection as Content-Type: application/json, "
                                 f"{SHAPE}")
        await self.existing_board(self.path_args[0], self.role)

    def data_received(self, chunk: bytes) -> None:
        if self.request.method == "POST":  # a GET's body (at most 8 KiB) is not read
            super().data_received(chunk)

    async def export_content(self, board_id: str) -> BoardContent:
        """The board to export, read in a thread (the live board here)."""
        return await IOLoop.current().run_in_executor(None, read_snapshot,
                                                      await self.registry.snapshot(board_id))

    async def get(self, board_id: str, fmt: str) -> None:
        await self.existing_board(board_id, self.role)
        try:
            ids = parse_ids(self.get_argument("ids", None))
        except ExportError as exc:
            raise HTTPError(400, str(exc)) from None
        await self.export(board_id, fmt, ids)

    async def post(self, board_id: str, fmt: str) -> None:
        if self.body_refused:
            return
        if self.get_query_argument("ids", None) is not None:
            raise HTTPError(400, f"a posted selection is named in the body, {SHAPE}, not by "
                                 "?ids=")
        body = self.take_body_buffer()
        try:  # 16 MiB of ids take a moment to check: not on the event loop
            ids = await IOLoop.current().run_in_executor(None, parse_selection_body, body)
        except SelectionTooLarge as exc:
            raise HTTPError(413, str(exc)) from None
        except ExportError as exc:
            raise HTTPError(400, str(exc)) from None
        finally:
            del body
        await self.export(board_id, fmt, ids)

    async def export(self, board_id: str, fmt: str, ids: frozenset[str] | None) -> None:
        """Answer with the board (``ids``: only those elements) in ``fmt``, drawn with the
        query's options."""
        try:
            options = ExportOptions(background=parse_background(self.get_argument("background",
                                                                                  None)),
                                    region=parse_region(self.get_argument("region", None)),
                                    scale=parse_scale(self.get_argument("scale", None)),
                                    pages=parse_pages(self.get_argument("pages", None)),
                                    comments=self.get_argument("comments", "") == "1",
                                    frame=parse_frame(self.get_argument("frame", None)),
                                    ids=ids)
        except ExportError as exc:
            raise HTTPError(400, str(exc)) from None
        # Reading and rendering a 10,000-element board takes seconds (BENCHMARKS.md, Export):
        # reading and the SVG run in a thread (pure Python yields the GIL between slices);
        # resvg, which holds it throughout, runs in a RasterPool process.
        content = await self.export_content(board_id)
        if fmt in CARRY_ALL_FILES:
            images = Images(found=await load_files(self.store, content))
        else:
            images = await load_images(self.store, content, self.max_image_pixels) \
                if fmt != "json" else Images()
        assert self.raster is not None
        try:
            body = await export_file(content, fmt, self.raster, options, images.found,
                                     self.max_export_pixels)
        except RasterBusy as exc:  # answered here: send_error would drop Retry-After
            self.set_status(503)
            self.set_header("Retry-After", str(exc.retry_after_s))
            self.finish({"error": "service unavailable", "detail": str(exc)})
            return
        except RasterError as exc:
            raise HTTPError(422, str(exc)) from None
        except NotOnBoard as exc:
            raise HTTPError(404, str(exc)) from None
        if images.skipped:
            file_id, reason = next(iter(images.skipped.items()))
            self.set_header("X-Skipped-Images",
                            f"{len(images.skipped)} (first: {file_id[:12]}: {reason})")
        self.set_header("Content-Type", MEDIA_TYPES[fmt])
        self.set_header("Content-Disposition", content_disposition(board_id, EXTENSIONS[fmt]))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Skipped-Elements", str(content.skipped))
        if fmt == "svg":
            self.set_header("Content-Security-Policy", _SANDBOX_CSP)
        self.finish(body)


@stream_request_body
class ImportHandler(CappedBody, _BoardEndpoint):
    """``POST /api/boards/<id>/import``: create or fill a board from a file: a syncboard JSON
    export form, a bundle, an Excalidraw scene or a tldraw file, told apart by content.

    Answers 400 with ``{"error", "detail", "path"}`` naming the first problem (invalid JSON,
    a schema violation, an embedded file that is not an accepted image, ...); nothing is
    written then. On success: ``{"id", "elements", "kind", "report"}`` (``report``: one line
    saying what was approximated). The embedded images are stored (as uploads are) before
    the elements that name them. With ``?check=1`` the file is only checked (nothing
    written); with ``?convert=1`` its images are stored and the board it makes is returned
    as ``"board"`` (the browser app writes it through its own document, so the import is one
    undo step for the person who made it), the board itself untouched but a before-import
    version recorded. The token is checked,
    and a body over ``--max-import-bytes`` refused (413), before the body is read.
    """

    async def prepare(self) -> None:
        super().prepare()
        self.start_body(self.max_import_bytes, self.body_timeout_s, "--max-import-bytes")
        board_id = self.board_id_or_404(self.path_args[0])
        await self.require_board(board_id, Role.EDIT)  # a new board needs the admin token

    async def post(self, board_id: str) -> None:
        if self.body_refused:
            return
        body = self.take_body_buffer()
        size = len(body)
        limits = FileLimits(self.max_file_bytes, self.max_image_pixels, self.max_import_bytes)
        convert = self.get_query_argument("convert", "") == "1"
        snapshot = await self.registry.snapshot(board_id)
        assert self.importer is not None
        try:  # parsing, validating and building take seconds of GIL: in the import worker
            prepared = await self.importer.prepare(body, limits, snapshot, not convert, convert)
        except ImportBusy as exc:  # answered here: send_error would drop Retry-After
            self.set_status(503)
            self.set_header("Retry-After", str(exc.retry_after_s))
            self.finish({"error": "service unavailable", "detail": str(exc)})
            return
        except ImportTooLarge as exc:
            self.set_status(413)
            self.finish({"error": "payload too large", "detail": str(exc), "path": exc.path})
            return
        except ImportRefused as exc:
            self._refuse(exc.path, exc.message)
            return
        except ImportOutOfMemory as exc:  # the same file would fail again: not a 503
            log.warning("board %s: import refused: %s", board_id, exc)
            self.set_status(413)
            self.finish({"error": "payload too large", "detail": str(exc), "path": "$"})
            return
        except ImportWorkerKilled as exc:  # from outside: the same file may work again
            raise HTTPError(503, str(exc)) from None
        except ImportWorkerFailed as exc:  # a crash, logged by the worker
            raise HTTPError(500, str(exc)) from None
        finally:
            del body
            if size >= _TRIM_AFTER_BYTES:
                release_free_heap()
        update = prepared.update
        cap = self.registry.settings.max_board_bytes
        if len(snapshot) + len(update) > cap and update[:1] != b"\x00":
            raise HTTPError(413, f"import refused: the board would be {len(snapshot)} + "
                            f"{len(update)} bytes, over the {cap}-byte cap of --max-board-bytes")
        answer = {"id": board_id, "elements": prepared.elements,
                  "kind": prepared.kind, "report": prepared.report}
        if self.get_query_argument("check", "") == "1":
            self.finish({**answer, "checked": True})
            return
        try:
            self.registry.check_open()  # the file took a while: the server may be stopping
        except ServerStopping as exc:
            raise HTTPError(503, str(exc)) from None
        for file_id, (mime, data) in prepared.files.items():
            await self.store.save_file(file_id, mime, data)
        if convert:
            # The page writes this board into its own document next: what it overwrites
            # stays in the history, as for an import applied here.
            if snapshot != EMPTY_UPDATE:
                await self.registry.take_version(board_id, "before-import", "before an import")
            self.finish({**answer, "board": prepared.board})
            return
        await self.store.create_board(board_id)
        if snapshot != EMPTY_UPDATE:  # what the import overwrites stays in the history
            await self.registry.take_version(board_id, "before-import", "before an import")
        try:  # each part pre-checked against the live board, then the one update stored
            await self.registry.apply_update_parts(board_id, update, prepared.parts)
        except BoardTooLarge as exc:
            raise HTTPError(413, f"import refused: {exc}") from None
        except ServerStopping as exc:  # before any part: nothing of it was applied
            raise HTTPError(503, str(exc)) from None
        except ValueError as exc:
            log.warning("board %s: import refused: %s", board_id, exc)
            self._refuse("$", str(exc))
            return
        self.finish(answer)

    def _refuse(self, path: str, message: str) -> None:
        self.set_status(400)
        self.finish({"error": "bad request", "detail": f"{path}: {message}", "path": path})


@stream_request_body
class FileUploadHandler(CappedBody, _BoardEndpoint):
    """``POST /api/boards/<id>/files``: store an image, answer ``{"fileId": sha256}``. The
    token is checked, and a body over the cap refused (413), before the body is read."""

    async def prepare(self) -> None:
        super().prepare()
        # A multipart body wraps the file in a few hundred bytes of form headers.
        self.start_body(self.max_file_bytes + 64 * 1024, self.body_timeout_s)
        await self.existing_board(self.path_args[0], Role.EDIT)

    async def post(self, board_id: str) -> None:
        if self.body_refused:
            return
        self.take_body()
        uploads = [f for files in self.request.files.values() for f in files]
        data = uploads[0]["body"] if uploads else self.request.body
        if len(data) > self.max_file_bytes:
            raise HTTPError(413, f"file over {self.max_file_bytes} bytes")
        if not self.access.is_admin(self.bearer_token()):
            self.spend_creation(self.creation.uploads,
                                max(len(data), self.creation.UPLOAD_MIN_COST), "uploads")
        mime = sniff_image_mime(data)
        if mime is None:
            raise HTTPError(415, "only PNG, JPEG, GIF and WebP images are accepted")
        _check_dimensions(data, self.max_image_pixels)
        file_id = hashlib.sha256(data).hexdigest()
        await self.store.save_file(file_id, mime, data)
        self.set_status(201)
        self.finish({"fileId": file_id, "mime": mime, "bytes": len(data)})


class FileHandler(_BoardEndpoint):
    """``GET /api/files/<fileId>``: stored image bytes (immutable, content-addressed)."""

    async def get(self, file_id: str) -> None:
        stored = await self.store.load_file(file_id) if _FILE_ID.fullmatch(file_id) else None
        if stored is None:
            raise HTTPError(404, "no such file")
        mime, data = stored
        self.set_header("Content-Type", mime)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", _SANDBOX_CSP)
        self.set_header("Cache-Control", "public, max-age=31536000, immutable")
        self.set_header("ETag", f'"{file_id}"')
        self.finish(data)


def _check_dimensions(data: bytes, max_pixels: int) -> None:
    """Refuse an image by the size its header declares, before anything decodes it: 413 past
    ``max_pixels``, 400 for a header that cannot be read."""
    try:
        check_image(data, max_pixels)
    except ImageTooLarge as exc:
        raise HTTPError(413, str(exc)) from None
    except ImageHeaderError as exc:
        raise HTTPError(400, f"cannot read the image header: {exc}") from None
