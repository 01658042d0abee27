"""HTTP endpoints of team spaces (issue 22): spaces, their boards, trash, search, thumbnails.

A space has its own edit and view tokens (``Authorization: Bearer``), signed like board tokens
under a key derived from the server secret (``TokenSigner.derive``), so a space token is never
a board token nor the reverse; rotating a space's links revokes its older tokens. Every
endpoint checks the token here, on the server:

- ``POST /api/spaces`` ``{"name"}``: a new space, ``201`` with its id, tokens and links;
- ``GET /api/spaces/<id>`` (view), ``PATCH`` ``{"name"}`` (edit), ``POST .../rotate`` (edit);
- ``GET /api/spaces/<id>/boards?q=&sort=edited|title|created&trash=1`` (view): the boards;
- ``POST /api/boards`` ``{"space": id}`` with the space's edit token: a board in the space;
- ``POST /api/spaces/<id>/boards`` ``{"board", "boardToken"}`` (space edit token, and the
  board's edit token in the body): add an existing board;
- ``GET /api/spaces/<id>/boards/<board>`` (view): the space's name (the board page's link
  back to its space); ``PATCH`` ``{"title"}``: rename (through the CRDT, so
  everyone on the board sees it); ``DELETE``: into the trash (the board's links are rotated,
  so every old link and open socket is refused); ``POST .../restore``, ``.../duplicate``,
  ``.../move`` ``{"space", "token"}`` (the other space's edit token), ``.../rotate``: new
  board links; ``GET .../links`` (view: the board's view link; edit: its edit link too);
  ``GET .../thumbnail.png`` (view).

Refusals are JSON as elsewhere: 400 bad body, 401 missing or bad token, 403 a token of
another space, revoked or view-only, 404 no such space or no such board in it, 409 a board
already in a space. ``app.py`` mounts ``space_routes(...)``.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from tornado.web import HTTPError

from .access import AccessDenied, Grant, Role, TokenSigner, new_board_id
from .board_model import read_snapshot
from .http_handlers import BoardsHandler, JsonHandler
from .live_peers import LivePeers
from .registry import BoardRegistry
from .space_content import MAX_TITLE_CHARS, title_update
from .store.spaces import SORTS, Membership, SpaceBoard, SpaceStore

_SPACE_ID = re.compile(r"[A-Za-z0-9_-]{22}")
MAX_SPACE_NAME_CHARS = 200
DEFAULT_SPACE_NAME = "Team space"


def space_routes(registry: BoardRegistry, spaces: SpaceStore, live: LivePeers) -> list:
    """Tornado URL specs of the space endpoints (``/api/boards`` included: it creates boards
    inside a space when asked); listings count people on boards through ``live``."""
    kwargs = {"registry": registry, "spaces": spaces, "live": live}
    space = r"/api/spaces/([^/]+)"
    board = space + r"/boards/([^/]+)"
    return [
        (r"/api/boards", SpaceAwareBoardsHandler, kwargs),
        (r"/api/spaces", SpacesHandler, kwargs),
        (space, SpaceHandler, kwargs),
        (space + r"/rotate", SpaceRotateHandler, kwargs),
        (space + r"/boards", SpaceBoardsHandler, kwargs),
        (board, SpaceBoardHandler, kwargs),
        (board + r"/(restore|duplicate|move|rotate)", SpaceBoardActionHandler, kwargs),
        (board + r"/thumbnail\.png", ThumbnailHandler, kwargs),
        (board + r"/links", SpaceBoardLinksHandler, kwargs),
    ]


def space_signer(board_signer: TokenSigner | None) -> TokenSigner | None:
    """The signer of space tokens (None with ``--auth none``)."""
    return board_signer.derive("space", "space") if board_signer is not None else None


class _SpaceEndpoint(JsonHandler):
    """Base of the space endpoints: token checks, links, JSON bodies."""

    def initialize(self, registry: BoardRegistry, spaces: SpaceStore, live: LivePeers) -> None:
        self.registry = registry
        self.spaces = spaces
        self.live = live

    @property
    def space_signer(self) -> TokenSigner | None:
        return space_signer(self.access.signer)

    async def require_space(self, space_id: str, minimum: Role,
                            token: str | None = None) -> Grant:
        """The grant the bearer token (or ``token``) gives on ``space_id``: 404 for no such
        space, 401/403 as for boards. The admin token and ``--auth none`` grant edit."""
        token = self.bearer_token() if token is None else token
        generation = await self.spaces.token_generation(space_id) \
            if _SPACE_ID.fullmatch(space_id) else None
        if generation is None:
            raise HTTPError(404, "no such space")
        signer = self.space_signer
        if signer is None or self.access.is_admin(token):
            return Grant(space_id, Role.EDIT, generation)
        try:
            grant = signer.verify(token, space_id, generation)
        except AccessDenied as exc:
            raise HTTPError(exc.status, exc.reason) from None
        if minimum is Role.EDIT and grant.role is Role.VIEW:
            raise HTTPError(403, "this space token is view-only")
        return grant

    async def space_board(self, space_id: str, board_id: str, minimum: Role,
                          in_trash: bool | None = False) -> tuple[Grant, Membership]:
        """The grant on ``space_id`` and the membership of ``board_id``, which must be in
        that space (404 otherwise), in its trash or not as ``in_trash`` says (None: either)."""
        grant = await self.require_space(space_id, minimum)
        membership = await self.spaces.membership(board_id)
        if membership is None or membership.space_id != space_id or (
                in_trash is not None and (membership.deleted_at is not None) != in_trash):
            raise HTTPError(404, "no such board in this space" if in_trash is not True
                            else "no such board in this space's trash")
        return grant, membership

    def space_links(self, space_id: str, generation: int, role: Role) -> dict[str, str]:
        """``id``, ``url``, ``viewToken``/``viewUrl`` and, for ``Role.EDIT``,
        ``editToken``/``editUrl`` of a space (its page is ``/s/<id>``)."""
        base = f"{self.request.protocol}://{self.request.host}/s/{space_id}"
        links = {"id": space_id, "url": base, "viewUrl": base, "role": role.name.lower()}
        signer = self.space_signer
        roles = (Role.VIEW, Role.EDIT) if role is Role.EDIT else (Role.VIEW,)
        for each in roles:
            key = "edit" if each is Role.EDIT else "view"
            if signer is not None:
                token = signer.issue(space_id, each, generation)
                links[f"{key}Token"] = token
                links[f"{key}Url"] = f"{base}#t={token}"
            else:
                links[f"{key}Url"] = base
        return links

    def links_for_role(self, board_id: str, generation: int, role: Role) -> dict[str, str]:
        """A board's links as a space token of ``role`` may see them (view: no edit link)."""
        links = self.board_links(board_id, generation)
        if role is Role.VIEW:
            links.pop("editToken", None)
            links.pop("editUrl", None)
        return links

    def json_body(self) -> dict[str, Any]:
        """The request's JSON object body ({} when empty); 400 for anything else."""
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise HTTPError(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "the body must be a JSON object")
        return body

    def text_field(self, body: dict[str, Any], name: str, max_chars: int,
                   default: str | None = None) -> str:
        """A string field of ``body``, stripped, at most ``max_chars``; 400 otherwise."""
        value = body.get(name, default)
        if not isinstance(value, str) or len(value) > max_chars:
            raise HTTPError(400, f"{name!r} must be a string of at most {max_chars} characters")
        return value.strip()

    async def retitle(self, board_id: str, title: str, snapshot: bytes | None = None) -> None:
        """Set the board's title in its content (relayed to everyone on it) and store it
        before the space row says so: an indexer (of any process) that read the board
        earlier finds it changed and does not write the old title back."""
        if snapshot is None:
            snapshot = await self.registry.snapshot(board_id)
        update = await asyncio.to_thread(title_update, snapshot, title)
        await self.registry.apply_update(board_id, update)
        await self.registry.writer.flush()
        await self.spaces.set_title(board_id, title)

    @staticmethod
    def board_item(board: SpaceBoard, live: int) -> dict[str, Any]:
        """One board of a listing, with ``live`` people on it (every process). Its links
        are not in it (``.../links`` answers them): signing two tokens for each of a
        thousand boards would double the answer's time."""
        return {
            "id": board.board_id, "title": board.title, "createdAt": board.created_at,
            "updatedAt": board.updated_at, "lastEditor": board.last_editor, "live": live,
            "thumbnailAt": board.thumbnail_at, "deletedAt": board.deleted_at,
        }


class SpaceAwareBoardsHandler(_SpaceEndpoint, BoardsHandler):
    """``POST /api/boards``: as ``BoardsHandler``; with ``{"space": id}`` and that space's
    edit token the board is made inside the space (``{"title"}`` optional)."""

    def initialize(self, registry: BoardRegistry, spaces: SpaceStore, live: LivePeers) -> None:
        _SpaceEndpoint.initialize(self, registry, spaces, live)

    async def post(self) -> None:
        body = self.json_body()
        if "space" not in body:
            await super().post()
            return
        space_id = body["space"]
        if not isinstance(space_id, str):
            raise HTTPError(400, "'space' must be a space id")
        await self.require_space(space_id, Role.EDIT)
        title = self.text_field(body, "title", MAX_TITLE_CHARS, "")
        if not self.access.is_admin(self.bearer_token()):
            self.spend_creation(self.creation.boards, 1, "new boards")
        board_id = new_board_id()
        await self.registry.store.create_board(board_id)
        if title:
            await self.retitle(board_id, title)
        await self.spaces.add_board(space_id, board_id, title)
        self.set_status(201)
        self.finish({**self.board_links(board_id, 0), "space": space_id, "title": title})


class SpacesHandler(_SpaceEndpoint):
    """``POST /api/spaces``: a new space with a random id, answering its links."""

    async def post(self) -> None:
        name = self.text_field(self.json_body(), "name", MAX_SPACE_NAME_CHARS,
                               DEFAULT_SPACE_NAME) or DEFAULT_SPACE_NAME
        if not self.access.is_admin(self.bearer_token()):
            self.spend_creation(self.creation.boards, 1, "new spaces")
        space_id = new_board_id()
        await self.spaces.create_space(space_id, name)
        self.set_status(201)
        self.finish({**self.space_links(space_id, 0, Role.EDIT), "name": name})


class SpaceHandler(_SpaceEndpoint):
    """``GET /api/spaces/<id>`` (view): name, role, links; ``PATCH`` ``{"name"}`` (edit)."""

    async def get(self, space_id: str) -> None:
        grant = await self.require_space(space_id, Role.VIEW)
        space = await self.spaces.space(space_id)
        assert space is not None
        self.finish({**self.space_links(space_id, grant.generation, grant.role),
                     "name": space.name, "createdAt": space.created_at})

    async def patch(self, space_id: str) -> None:
        await self.require_space(space_id, Role.EDIT)
        name = self.text_field(self.json_body(), "name", MAX_SPACE_NAME_CHARS)
        if not name:
            raise HTTPError(400, "'name' must not be empty")
        await self.spaces.rename_space(space_id, name)
        self.finish({"id": space_id, "name": name})


class SpaceRotateHandler(_SpaceEndpoint):
    """``POST /api/spaces/<id>/rotate`` (edit): new space links; older ones stop working."""

    async def post(self, space_id: str) -> None:
        await self.require_space(space_id, Role.EDIT)
        generation = await self.spaces.rotate_space(space_id)
        if generation is None:
            raise HTTPError(404, "no such space")
        self.finish(self.space_links(space_id, generation, Role.EDIT))


class SpaceBoardsHandler(_SpaceEndpoint):
    """``GET /api/spaces/<id>/boards`` (view): the list; ``POST`` adds an existing board."""

    async def get(self, space_id: str) -> None:
        grant = await self.require_space(space_id, Role.VIEW)
        sort = self.get_argument("sort", "edited")
        if sort not in SORTS:
            raise HTTPError(400, f"sort must be one of {', '.join(SORTS)}")
        query = self.get_argument("q", "")
        if len(query) > 500:
            raise HTTPError(400, "q is longer than 500 characters")
        trash = self.get_argument("trash", "") in ("1", "true")
        started = time.perf_counter()
        boards = await self.spaces.list_boards(space_id, query, sort, trash)
        live = await self.live.counts([board.board_id for board in boards])
        self.finish({"space": space_id, "role": grant.role.name.lower(),
                     "boards": [self.board_item(board, live.get(board.board_id, 0))
                                for board in boards],
                     "queryMs": round((time.perf_counter() - started) * 1000, 2)})

    async def post(self, space_id: str) -> None:
        await self.require_space(space_id, Role.EDIT)
        body = self.json_body()
        board_id = body.get("board")
        if not isinstance(board_id, str) or not await self.registry.board_exists(
                self.board_id_or_404(board_id)):
            raise HTTPError(404, "no such board")
        token = body.get("boardToken")
        try:
            await self.access.authorize(board_id, token if isinstance(token, str) else None,
                                        Role.EDIT)
        except AccessDenied as exc:
            raise HTTPError(exc.status, f"board token: {exc.reason}") from None
        await self.registry.writer.flush()  # a board opened but not stored yet gets its row
        if not await self.spaces.add_board(space_id, board_id):
            raise HTTPError(409, "the board is already in a space (move it from there)")
        generation = await self.registry.store.token_generation(board_id) or 0
        self.finish({**self.board_links(board_id, generation), "space": space_id})


class SpaceBoardHandler(_SpaceEndpoint):
    """``GET /api/spaces/<id>/boards/<board>`` (view): the space's name, for the board page's
    link back to its space; ``PATCH`` ``{"title"}``: rename; ``DELETE``: trash."""

    async def get(self, space_id: str, board_id: str) -> None:
        grant, _ = await self.space_board(space_id, board_id, Role.VIEW)
        space = await self.spaces.space(space_id)
        if space is None:  # deleted since the token check
            raise HTTPError(404, "no such space")
        self.finish({"id": board_id, "space": space_id, "spaceName": space.name,
                     "role": grant.role.name.lower()})

    async def patch(self, space_id: str, board_id: str) -> None:
        await self.space_board(space_id, board_id, Role.EDIT)
        title = self.text_field(self.json_body(), "title", MAX_TITLE_CHARS)
        await self.retitle(board_id, title)
        self.finish({"id": board_id, "title": title})

    async def delete(self, space_id: str, board_id: str) -> None:
        await self.space_board(space_id, board_id, Role.EDIT)
        generation = await self.registry.store.rotate_tokens(board_id)
        if generation is not None:
            self.registry.revoke(board_id, generation)
        await self.spaces.set_deleted(board_id, time.time())
        self.finish({"id": board_id, "deleted": True})


class SpaceBoardActionHandler(_SpaceEndpoint):
    """``POST /api/spaces/<id>/boards/<board>/<action>``: restore, duplicate, move, rotate."""

    async def post(self, space_id: str, board_id: str, action: str) -> None:
        await self.space_board(space_id, board_id, Role.EDIT,
                               in_trash=action == "restore")
        if action == "restore":
            await self.spaces.set_deleted(board_id, None)
            generation = await self.registry.store.token_generation(board_id) or 0
            self.finish({**self.board_links(board_id, generation), "space": space_id})
        elif action == "duplicate":
            await self._duplicate(space_id, board_id)
        elif action == "move":
            body = self.json_body()
            target = body.get("space")
            token = body.get("token")
            if not isinstance(target, str) or not isinstance(token, str):
                raise HTTPError(400, "give the other space's id as 'space' and its edit token "
                                "as 'token'")
            await self.require_space(target, Role.EDIT, token)
            await self.spaces.move_board(board_id, target)
            self.finish({"id": board_id, "space": target})
        else:  # rotate
            generation = await self.registry.store.rotate_tokens(board_id)
            if generation is None:
                raise HTTPError(404, "no such board")
            self.registry.revoke(board_id, generation)
            self.finish({**self.board_links(board_id, generation), "space": space_id})

    async def _duplicate(self, space_id: str, board_id: str) -> None:
        if not self.access.is_admin(self.bearer_token()):
            self.spend_creation(self.creation.boards, 1, "new boards")
        # read as maps; copied as clients get it, so a Y.XmlHook stays a hook in the copy
        snapshot, as_sent = await self.registry.snapshots(board_id)
        content = await asyncio.to_thread(read_snapshot, snapshot)
        original = content.meta.get("title") if isinstance(content.meta.get("title"), str) \
            else ""
        title = f"{original or 'Untitled board'} (copy)"[:MAX_TITLE_CHARS]
        copy_id = new_board_id()
        await self.registry.store.create_board(copy_id)
        await self.registry.apply_update(copy_id, as_sent)
        await self.retitle(copy_id, title, snapshot)
        await self.spaces.add_board(space_id, copy_id, title)
        self.set_status(201)
        self.finish({**self.board_links(copy_id, 0), "space": space_id, "title": title})


class SpaceBoardLinksHandler(_SpaceEndpoint):
    """``GET /api/spaces/<id>/boards/<board>/links``: the board's links a space token may
    see: its view link for a view token, its edit link too for an edit token."""

    async def get(self, space_id: str, board_id: str) -> None:
        grant, _ = await self.space_board(space_id, board_id, Role.VIEW)
        generation = await self.registry.store.token_generation(board_id) or 0
        self.finish({**self.links_for_role(board_id, generation, grant.role),
                     "space": space_id})


class ThumbnailHandler(_SpaceEndpoint):
    """``GET /api/spaces/<id>/boards/<board>/thumbnail.png`` (view): the cached thumbnail,
    404 until the indexer has rendered one."""

    async def get(self, space_id: str, board_id: str) -> None:
        await self.space_board(space_id, board_id, Role.VIEW, in_trash=None)
        stored = await self.spaces.thumbnail(board_id)
        if stored is None:
            raise HTTPError(404, "no thumbnail yet")
        self.set_header("Content-Type", "image/png")
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(stored[0])
