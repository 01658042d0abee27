"""HTTP endpoints for board export and import, and image files.

- ``GET  /api/boards/<id>/export.(json|svg|png)`` (``?scale=``, ``?background=``, ``?region=``)
- ``POST /api/boards/<id>/import``: a JSON export form, applied through the CRDT path
  (``BoardRegistry.apply_update``), so connected clients see the elements at once
- ``POST /api/boards/<id>/files``: image upload (raw body or one multipart file); PNG, JPEG,
  GIF and WebP only, recognised by their bytes, never by the declared type; returns ``fileId``
- ``GET  /api/files/<fileId>``: the bytes, content-addressed, with ``nosniff``

Errors are JSON (``{"error", "detail"}``): 400 bad option or file, 404 unknown board or file,
413 over a size cap (bytes, or the pixels an image header declares), 415 refused type, 422 a
PNG that could not be rendered within its time or memory limit, 503 (with ``Retry-After``)
when the PNG queue is full. Images whose header declares too many pixels are left out of SVG
and PNG exports (``X-Skipped-Images`` says why). ``app.py`` mounts ``export_routes(...)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from tornado.ioloop import IOLoop
from tornado.web import HTTPError, stream_request_body

from .access import Role
from .board_model import build_import_update, read_update, validate_board_json
from .board_names import content_disposition
from .config import Settings
from .document import EMPTY_UPDATE
from .errors import BoardTooLarge
from .export import (
    MEDIA_TYPES,
    ExportError,
    ExportOptions,
    Images,
    export_file,
    load_images,
    parse_background,
    parse_region,
    parse_scale,
)
from .export.raster_pool import RasterBusy, RasterError, RasterPool
from .http_handlers import JsonHandler
from .http_policy import CappedBody
from .image_header import ImageHeaderError, ImageTooLarge, check_image
from .registry import BoardRegistry
from .store import Store

log = logging.getLogger(__name__)

_FILE_ID = re.compile(r"[0-9a-f]{64}")
_SANDBOX_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
MAX_IMPORT_DEPTH = 64
"""Deepest nesting of arrays and objects in an import file (a board needs 4)."""


def export_routes(registry: BoardRegistry, store: Store, settings: Settings,
                  raster: RasterPool) -> list:
    """Tornado URL specs of the export, import and file endpoints (PNG rendered in
    ``raster``)."""
    boards = {"registry": registry, "store": store}
    files = {**boards, "max_file_bytes": settings.max_file_bytes,
             "max_import_bytes": settings.max_import_bytes,
             "body_timeout_s": settings.body_timeout_s,
             "max_image_pixels": settings.max_image_pixels}
    exports = {**boards, "raster": raster, "max_image_pixels": settings.max_image_pixels,
               "max_export_pixels": settings.max_export_pixels}
    return [
        (r"/api/boards/([^/]+)/export\.(json|svg|png)", ExportHandler, exports),
        (r"/api/boards/([^/]+)/import", ImportHandler, files),
        (r"/api/boards/([^/]+)/files", FileUploadHandler, files),
        (r"/api/files/([^/]+)", FileHandler, boards),
    ]


def sniff_image_mime(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF or WebP bytes, from their signature; None otherwise
    (SVG, HTML and everything else)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class _BoardEndpoint(JsonHandler):
    def initialize(self, registry: BoardRegistry, store: Store, max_file_bytes: int = 0,
                   max_import_bytes: int = 0, body_timeout_s: float = 0,
                   max_image_pixels: int = 0, raster: RasterPool | None = None,
                   max_export_pixels: int = 0) -> None:
        self.registry = registry
        self.store = store
        self.max_file_bytes = max_file_bytes
        self.max_import_bytes = max_import_bytes
        self.body_timeout_s = body_timeout_s
        self.max_image_pixels = max_image_pixels
        self.raster = raster
        self.max_export_pixels = max_export_pixels

    async def existing_board(self, board_id: str, minimum: Role) -> str:
        """The board id, or 404 when it is not a board (neither stored nor loaded); 401/403
        unless the bearer token grants ``minimum`` on it (or is the admin token)."""
        self.board_id_or_404(board_id)
        if not await self.registry.board_exists(board_id):
            raise HTTPError(404, "no such board")
        await self.require_board(board_id, minimum)
        return board_id


class ExportHandler(_BoardEndpoint):
    """``GET /api/boards/<id>/export.<fmt>``: the board as JSON, SVG or PNG."""

    role = Role.VIEW
    """The token role needed (version exports need edit)."""

    async def export_state(self, board_id: str) -> bytes:
        """The board state to export, as one update (the live board here)."""
        return await self.registry.snapshot(board_id)

    async def get(self, board_id: str, fmt: str) -> None:
        await self.existing_board(board_id, self.role)
        try:
            options = ExportOptions(background=parse_background(self.get_argument("background",
                                                                                  None)),
                                    region=parse_region(self.get_argument("region", None)),
                                    scale=parse_scale(self.get_argument("scale", None)))
        except ExportError as exc:
            raise HTTPError(400, str(exc)) from None
        # Reading and rendering a 10,000-element board takes seconds (BENCHMARKS.md, Export):
        # reading and the SVG run in a thread (pure Python yields the GIL between slices);
        # resvg, which holds it throughout, runs in a RasterPool process.
        loop = IOLoop.current()
        content = await loop.run_in_executor(None, read_update,
                                             await self.export_state(board_id))
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
        if images.skipped:
            file_id, reason = next(iter(images.skipped.items()))
            self.set_header("X-Skipped-Images",
                            f"{len(images.skipped)} (first: {file_id[:12]}: {reason})")
        self.set_header("Content-Type", MEDIA_TYPES[fmt])
        self.set_header("Content-Disposition", content_disposition(board_id, fmt))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Skipped-Elements", str(content.skipped))
        if fmt == "svg":
            self.set_header("Content-Security-Policy", _SANDBOX_CSP)
        self.finish(body)


@stream_request_body
class ImportHandler(CappedBody, _BoardEndpoint):
    """``POST /api/boards/<id>/import``: create or fill a board from a JSON export form.

    Answers 400 with ``{"error", "detail", "path"}`` naming the first schema violation; nothing
    is written then. On success: ``{"id", "elements"}``. With ``?check=1`` the file is only
    checked (schema, nesting, board cap) and nothing is written: ``{"id", "elements",
    "checked": true}``. The token is checked, and a body over
    ``--max-import-bytes`` refused (413), before the body is read.
    """

    async def prepare(self) -> None:
        super().prepare()
        self.start_body(self.max_import_bytes, self.body_timeout_s)
        board_id = self.board_id_or_404(self.path_args[0])
        await self.require_board(board_id, Role.EDIT)  # a new board needs the admin token

    async def post(self, board_id: str) -> None:
        self.take_body()
        if len(self.request.body) > self.max_import_bytes:
            raise HTTPError(413, f"import body over {self.max_import_bytes} bytes")
        try:
            data = json.loads(self.request.body, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            self._refuse("$", f"invalid JSON: {exc}")
            return
        if _nesting_depth(data) > MAX_IMPORT_DEPTH:
            self._refuse("$", f"nested deeper than {MAX_IMPORT_DEPTH} levels")
            return
        violations = validate_board_json(data)
        if violations:
            self._refuse(violations[0].path, violations[0].message)
            return
        snapshot = await self.registry.snapshot(board_id)
        update = await IOLoop.current().run_in_executor(None, build_import_update, data,
                                                        snapshot)
        cap = self.registry.settings.max_board_bytes
        if len(snapshot) + len(update) > cap and update[:1] != b"\x00":
            raise HTTPError(413, f"import refused: the board would be {len(snapshot)} + "
                            f"{len(update)} bytes, over the {cap}-byte cap of --max-board-bytes")
        if self.get_query_argument("check", "") == "1":
            # The browser app checks a file here, then writes it through its own document so
            # that the import is one undo step for the person who made it.
            self.finish({"id": board_id, "elements": len(data["elements"]), "checked": True})
            return
        await self.store.create_board(board_id)
        if snapshot != EMPTY_UPDATE:  # what the import overwrites stays in the history
            await self.registry.take_version(board_id, "before-import", "before an import")
        try:
            await self.registry.apply_update(board_id, update)  # runs the update pre-check
        except BoardTooLarge as exc:
            raise HTTPError(413, f"import refused: {exc}") from None
        except ValueError as exc:
            log.warning("board %s: import refused: %s", board_id, exc)
            self._refuse("$", str(exc))
            return
        self.finish({"id": board_id, "elements": len(data["elements"])})

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


def _nesting_depth(value: Any) -> int:
    """How deep arrays and objects nest in parsed JSON (iterative: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            if depth > MAX_IMPORT_DEPTH:
                break
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_dimensions(data: bytes, max_pixels: int) -> None:
    """Refuse an image by the size its header declares, before anything decodes it: 413 past
    ``max_pixels``, 400 for a header that cannot be read."""
    try:
        check_image(data, max_pixels)
    except ImageTooLarge as exc:
        raise HTTPError(413, str(exc)) from None
    except ImageHeaderError as exc:
        raise HTTPError(400, f"cannot read the image header: {exc}") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
