"""HTTP endpoints: health, board creation and metadata, and the browser app's pages."""

from __future__ import annotations

import re
import secrets
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tornado.web import HTTPError, RequestHandler

from .protocol import BOARD_ID_PATTERN
from .registry import BoardRegistry

_BOARD_ID = re.compile(BOARD_ID_PATTERN)


class JsonHandler(RequestHandler):
    """Base for API handlers: errors come back as ``{"error": ..., "detail": ...}``."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        detail = exc.log_message if isinstance(exc, HTTPError) and exc.log_message else None
        self.finish({"error": HTTPStatus(status_code).phrase.lower(), "detail": detail})

    def board_id_or_404(self, board_id: str) -> str:
        """Validate a board id from the path (404 for anything that cannot be a board)."""
        if not _BOARD_ID.fullmatch(board_id):
            raise HTTPError(404, "no such board")
        return board_id


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
            "pending_updates": writer.pending_updates,
            "board_loads_total": self.registry.loads_total,
            "board_unloads_total": self.registry.unloads_total,
            "database_error": writer.last_error,
        })


class BoardsHandler(JsonHandler):
    """``POST /api/boards``: create a board with a random, unguessable id."""

    def initialize(self, registry: BoardRegistry) -> None:
        self.registry = registry

    async def post(self) -> None:
        board_id = secrets.token_urlsafe(16)  # 22 url-safe characters, 128 random bits
        await self.registry.store.create_board(board_id)
        self.set_status(201)
        self.finish({"id": board_id, "url": f"/b/{board_id}"})


class BoardHandler(JsonHandler):
    """``GET /api/boards/<id>``: created, updated, stored bytes, update count."""

    def initialize(self, registry: BoardRegistry) -> None:
        self.registry = registry

    async def get(self, board_id: str) -> None:
        info = await self.registry.store.board_info(self.board_id_or_404(board_id))
        if info is None:
            raise HTTPError(404, "no such board")
        room = self.registry.rooms.get(board_id)
        self.finish({
            "id": info.board_id,
            "created_at": info.created_at,
            "updated_at": info.updated_at,
            "stored_bytes": info.stored_bytes,
            "update_count": info.update_count,
            "loaded": room is not None,
            "connections": len(room.peers) if room else 0,
        })


class AppPageHandler(RequestHandler):
    """``GET /`` and ``GET /b/<id>``: the browser app's single page."""

    def initialize(self, dist_dir: Path) -> None:
        self.index = dist_dir / "index.html"

    def get(self, *_args: str) -> None:
        if not self.index.is_file():
            self.set_status(503)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish("The browser app is not built yet: run ./scripts/serve "
                        "(it builds frontend/ with npm).\n")
            return
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.finish(self.index.read_bytes())
