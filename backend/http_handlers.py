"""HTTP endpoints: health, boards (create, metadata, rotate links, list, delete), app pages.

Board endpoints take the board's token as ``Authorization: Bearer <token>``; the admin
endpoints take ``--admin-token`` the same way. Refusals are JSON: 401 for a missing or bad
token, 403 for a token of another board, a revoked or view-only token.
"""

from __future__ import annotations

import html
import math
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tornado.web import HTTPError

from .access import AccessDenied, AccessPolicy, Role, new_board_id
from .address_limits import AddressRate, CreationLimits
from .board_names import board_name_problem, is_app_board_id
from .http_policy import SecureHeaders, cross_site_refusal
from .registry import BoardRegistry


class RateLimited(HTTPError):
    """429 with ``Retry-After: retry_after_s``."""

    def __init__(self, retry_after_s: int, reason: str) -> None:
        super().__init__(429, f"{reason}; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Busy(HTTPError):
    """503 with ``Retry-After: retry_after_s``: a bounded queue is full."""

    def __init__(self, retry_after_s: int, reason: str) -> None:
        super().__init__(503, reason)
        self.retry_after_s = retry_after_s


class JsonHandler(SecureHeaders):
    """Base for API handlers: errors come back as ``{"error": ..., "detail": ...}``; a POST a
    foreign page could send without a preflight is refused (415, see ``cross_site_refusal``)."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        refusal = cross_site_refusal(self.request)
        if refusal is not None:
            raise HTTPError(415, refusal)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, RateLimited | Busy):
            self.set_header("Retry-After", str(exc.retry_after_s))
        detail = exc.log_message if isinstance(exc, HTTPError) and exc.log_message else None
        self.finish({"error": HTTPStatus(status_code).phrase.lower(), "detail": detail})

    def board_id_or_404(self, board_id: str) -> str:
        """Validate a board name from the path (URL-decoded: ``%2F`` for ``/``); 404 for
        anything that cannot be a board (``board_names``)."""
        if board_name_problem(board_id) is not None:
            raise HTTPError(404, "no such board")
        return board_id

    @property
    def access(self) -> AccessPolicy:
        """The server's access policy (from the application settings)."""
        return self.application.settings["access"]

    def bearer_token(self) -> str | None:
        """The token of an ``Authorization: Bearer`` header, if any."""
        scheme, _, token = self.request.headers.get("Authorization", "").partition(" ")
        return token.strip() or None if scheme.lower() == "bearer" else None

    async def require_board(self, board_id: str, minimum: Role) -> None:
        """Raise a 401/403 ``HTTPError`` unless the bearer token grants ``minimum`` on
        ``board_id`` (or is the admin token)."""
        try:
            await self.access.authorize(board_id, self.bearer_token(), minimum)
        except AccessDenied as exc:
            raise HTTPError(exc.status, exc.reason) from None

    def require_admin(self) -> None:
        """Raise a 401/403 ``HTTPError`` unless the bearer token is the admin token."""
        try:
            self.access.require_admin(self.bearer_token())
        except AccessDenied as exc:
            raise HTTPError(exc.status, exc.reason) from None

    @property
    def creation(self) -> CreationLimits:
        """The per-address creation rates (from the application settings)."""
        return self.application.settings["creation"]

    def spend_creation(self, rate: AddressRate, amount: float, what: str) -> None:
        """Charge ``amount`` to the client's address; raise ``HTTPError(429)`` (with
        ``Retry-After``) when its rate for ``what`` is spent."""
        wait_s = rate.spend(self.request.remote_ip or "?", amount, time.monotonic())
        if wait_s > 0:
            raise RateLimited(math.ceil(wait_s), f"too many {what} from your address")

    def board_event(self, board_id: str, event_type: str) -> None:
        """Publish ``board.created`` / ``board.deleted`` to the change feed, when it is on."""
        events = self.application.settings.get("events")
        if events is not None:
            events.board_event(board_id, event_type)

    def board_links(self, board_id: str, generation: int) -> dict[str, str]:
        """``id``, ``editToken``, ``viewToken``, ``editUrl``, ``viewUrl`` of a board. A named
        board (``PUT /api/boards/<name>``) that is not an app board id has no page in the
        browser app: it gets the tokens only."""
        signer = self.access.signer
        links = {"id": board_id}
        if signer is not None:
            links |= {"editToken": signer.issue(board_id, Role.EDIT, generation),
                      "viewToken": signer.issue(board_id, Role.VIEW, generation)}
        if is_app_board_id(board_id):
            base = f"{self.request.protocol}://{self.request.host}/b/{board_id}"
            links |= {"url": base, "editUrl": base, "viewUrl": base}
            if signer is not None:
                links |= {"editUrl": f"{base}#t={links['editToken']}",
                          "viewUrl": f"{base}#t={links['viewToken']}"}
        return links


class HealthHandler(JsonHandler):
    """``GET /healthz``: ``ok`` or ``degraded`` (database writes failing), with counts."""

    def initialize(self, registry: BoardRegistry) -> None:
        self.registry = registry

    def get(self) -> None:
        writer = self.registry.writer
        self.finish({
            "status": "degraded" if writer.degraded else "ok",
            "boards_loaded": len(self.registry.rooms),
            "connections": self.registry.connection_count,
            "admitted_connections": self.registry.admissions.total,
            "pending_updates": writer.pending_updates,
            "board_loads_total": self.registry.loads_total,
            "board_unloads_total": self.registry.unloads_total,
            "database_error": writer.last_error,
        })


class BoardsHandler(JsonHandler):
    """``POST /api/boards``: create a board with a random, unguessable id and its edit and
    view links. ``GET /api/boards`` (admin): every board's metadata."""

    def initialize(self, registry: BoardRegistry) -> None:
        self.registry = registry

    async def post(self) -> None:
        if not self.access.is_admin(self.bearer_token()):
            self.spend_creation(self.creation.boards, 1, "new boards")
        board_id = new_board_id()
        await self.registry.store.create_board(board_id)
        self.board_event(board_id, "board.created")
        self.set_status(201)
        self.finish(self.board_links(board_id, 0))

    async def get(self) -> None:
        self.require_admin()
        boards = await self.registry.store.list_boards()
        self.finish({"boards": [
            {"id": b.board_id, "created_at": b.created_at, "updated_at": b.updated_at,
             "stored_bytes": b.stored_bytes, "update_count": b.update_count,
             "loaded": b.board_id in self.registry.rooms} for b in boards]})


class RotateHandler(JsonHandler):
    """``POST /api/boards/<id>/rotate`` (edit token or admin): new links; every older token
    stops working at once, and sockets opened with one are closed with 4403."""

    def initialize(self, registry: BoardRegistry) -> None:
        self.registry = registry

    async def post(self, board_id: str) -> None:
        await self.require_board(self.board_id_or_404(board_id), Role.EDIT)
        generation = await self.registry.store.rotate_tokens(board_id)
        if generation is None:
            raise HTTPError(404, "no such board")
        self.registry.revoke(board_id, generation)
        self.finish(self.board_links(board_id, generation))


class BoardHandler(JsonHandler):
    """``GET /api/boards/<id>``: created, updated, stored bytes, update count."""

    def initialize(self, registry: BoardRegistry) -> None:
        self.registry = registry

    async def get(self, board_id: str) -> None:
        """A board opened for the first time is loaded before its row is written (with the
        next group commit): it is answered from memory meanwhile, with nothing stored."""
        if not await self.registry.board_exists(self.board_id_or_404(board_id)):
            raise HTTPError(404, "no such board")
        info = await self.registry.store.board_info(board_id)
        room = self.registry.rooms.get(board_id)
        await self.require_board(board_id, Role.VIEW)
        refusal = self.registry.admission_status(board_id, self.request.remote_ip or "?")
        self.finish({
            "id": board_id,
            "created_at": info.created_at if info else None,
            "updated_at": info.updated_at if info else None,
            "stored_bytes": info.stored_bytes if info else 0,
            "update_count": info.update_count if info else 0,
            "loaded": room is not None,
            "connections": len(room.peers) if room else 0,
            # Whether a WebSocket from this address would be admitted now: a browser cannot
            # read a refused upgrade's status, so the app asks here and shows the reason.
            "join": None if refusal is None else {"status": refusal.status,
                                                  "detail": refusal.reason},
        })

    async def put(self, board_id: str) -> None:
        """Admin only: create the board named ``board_id`` (any name a y-websocket client
        can open, see ``board_names``) if it does not exist, and answer its tokens (201 when
        created, 200 when it existed). With ``--auth token`` this is how an app with fixed
        room names gets tokens for them."""
        self.require_admin()
        self.board_id_or_404(board_id)
        generation = await self.registry.store.token_generation(board_id)
        if generation is None:
            await self.registry.store.create_board(board_id)
            self.board_event(board_id, "board.created")
            generation = 0
            self.set_status(201)
        self.finish(self.board_links(board_id, generation))

    async def delete(self, board_id: str) -> None:
        """Admin only: close the board's sockets (4403) and delete everything stored."""
        self.require_admin()
        if not await self.registry.delete(self.board_id_or_404(board_id)):
            raise HTTPError(404, "no such board")
        self.board_event(board_id, "board.deleted")
        self.set_status(204)
        self.finish()


class NotFoundHandler(JsonHandler):
    """Any path no route matches: a JSON 404."""

    def prepare(self) -> None:
        raise HTTPError(404, "no such endpoint")


class AppPageHandler(SecureHeaders):
    """``GET /`` and ``GET /b/<id>``: the browser app's single page, with a strict CSP (no
    inline script), no referrer and no framing."""

    def initialize(self, dist_dir: Path, ws_path: str) -> None:
        self.index = dist_dir / "index.html"
        self.ws_path = ws_path

    def set_default_headers(self) -> None:
        super().set_default_headers()
        host = self.request.host
        socket_origin = f"wss://{host}" if self.request.protocol == "https" else f"ws://{host}"
        self.set_header("Content-Security-Policy", (
            "default-src 'self'; script-src 'self'; style-src 'self'; "
            "img-src 'self' data: blob:; font-src 'self' data:; "
            f"connect-src 'self' {socket_origin}; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"))
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Frame-Options", "DENY")

    def get(self, *_args: str) -> None:
        if not self.index.is_file():
            self.set_status(503)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish("The browser app is not built yet: run ./scripts/serve "
                        "(it builds frontend/ with npm).\n")
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        # The page learns --ws-path from a meta tag (the CSP allows no inline script).
        meta = f'<head>\n  <meta name="syncboard-ws-path" content="{html.escape(self.ws_path)}">'
        self.finish(self.index.read_bytes().replace(b"<head>", meta.encode(), 1))


class ServiceWorkerHandler(SecureHeaders):
    """``GET /sw.js``: the browser app's service worker (frontend/src/offline/), served from the
    root so that its scope covers ``/b/<id>``, and never cached by HTTP, so a new build reaches
    browsers at their next visit."""

    def initialize(self, dist_dir: Path) -> None:
        self.script = dist_dir / "sw.js"

    def get(self) -> None:
        if not self.script.is_file():
            raise HTTPError(404)
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(self.script.read_bytes())

