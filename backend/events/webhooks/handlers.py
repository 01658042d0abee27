"""Webhook endpoints of a board (edit token, or the admin token):

- ``POST /api/boards/<id>/webhooks`` ``{"url", "events": [types], "filter": {"frameId",
  "elementType"}}``: 201 with the hook and its ``secret`` (shown this once); 422 when the URL
  is refused (scheme, or an address that is loopback, private or link-local and not allowed).
- ``GET /api/boards/<id>/webhooks``: the board's hooks (``paused``, ``pausedReason``).
- ``DELETE /api/boards/<id>/webhooks/<hid>``; ``POST .../<hid>/resume`` (after a pause).
- ``GET /api/boards/<id>/webhooks/<hid>/deliveries``: the delivery log, newest first.
"""

from __future__ import annotations

import json
from typing import Any

from tornado.web import HTTPError

from ...access import Role
from ...http_handlers import JsonHandler
from ...registry import BoardRegistry
from . import hook_store
from .address_policy import RefusedAddress
from .dispatcher import WebhookDispatcher

EVENT_TYPES = ("elements.changed", "board.created", "board.deleted", "presence.joined",
               "presence.left", "version.saved")
FILTER_KEYS = ("frameId", "elementType")
MAX_FILTER_CHARS = 200


def webhook_routes(registry: BoardRegistry, dispatcher: WebhookDispatcher) -> list:
    """The webhook routes, for ``make_app``."""
    kwargs = {"registry": registry, "dispatcher": dispatcher}
    return [(r"/api/boards/([^/]+)/webhooks", HooksHandler, kwargs),
            (r"/api/boards/([^/]+)/webhooks/([^/]+)", HookHandler, kwargs),
            (r"/api/boards/([^/]+)/webhooks/([^/]+)/resume", ResumeHandler, kwargs),
            (r"/api/boards/([^/]+)/webhooks/([^/]+)/deliveries", DeliveriesHandler, kwargs)]


class _HookApi(JsonHandler):
    def initialize(self, registry: BoardRegistry, dispatcher: WebhookDispatcher) -> None:
        self.registry = registry
        self.dispatcher = dispatcher

    async def board(self, board_id: str) -> str:
        """The board id, after checking it exists and the token may edit it."""
        self.board_id_or_404(board_id)
        await self.require_board(board_id, Role.EDIT)
        if not await self.registry.board_exists(board_id):
            raise HTTPError(404, "no such board")
        return board_id

    async def hook(self, board_id: str, hook_id: str) -> hook_store.Hook:
        """The hook ``hook_id`` of ``board_id`` (404 otherwise)."""
        for hook in await hook_store.load_hooks(self.registry.store.engine, board_id):
            if hook.id == hook_id:
                return hook
        raise HTTPError(404, "no such webhook")


class HooksHandler(_HookApi):
    """Create and list a board's hooks."""

    async def post(self, board_id: str) -> None:
        await self.board(board_id)
        url, types, filter_ = _parse_hook(self.request.body)
        try:
            await self.dispatcher.policy.check(url)
        except RefusedAddress as exc:
            raise HTTPError(422, f"webhook URL refused: {exc}") from None
        # a board opened for the first time has no row until its first group commit
        await self.registry.store.create_board(board_id)
        engine = self.registry.store.engine
        if len(await hook_store.load_hooks(engine, board_id)) >= hook_store.MAX_HOOKS_PER_BOARD:
            raise HTTPError(409, f"a board has at most {hook_store.MAX_HOOKS_PER_BOARD} hooks")
        hook = await hook_store.create_hook(engine, board_id, url, types, filter_)
        await self.dispatcher.add(hook)
        self.set_status(201)
        self.finish({**hook.public(), "secret": hook.secret})

    async def get(self, board_id: str) -> None:
        await self.board(board_id)
        hooks = await hook_store.load_hooks(self.registry.store.engine, board_id)
        self.finish({"webhooks": [hook.public() for hook in hooks]})


class HookHandler(_HookApi):
    """Show or delete one hook."""

    async def get(self, board_id: str, hook_id: str) -> None:
        self.finish((await self.hook(await self.board(board_id), hook_id)).public())

    async def delete(self, board_id: str, hook_id: str) -> None:
        await self.board(board_id)
        if not await hook_store.delete_hook(self.registry.store.engine, board_id, hook_id):
            raise HTTPError(404, "no such webhook")
        await self.dispatcher.remove(board_id, hook_id)
        self.set_status(204)
        self.finish()


class ResumeHandler(_HookApi):
    """Resume a paused hook: it gets the events published from now on."""

    async def post(self, board_id: str, hook_id: str) -> None:
        hook = await self.hook(await self.board(board_id), hook_id)
        await hook_store.set_paused(self.registry.store.engine, hook.id, None)
        self.dispatcher.resume(board_id, hook_id)
        hook.paused_reason = None
        self.finish(hook.public())


class DeliveriesHandler(_HookApi):
    """A hook's delivery log."""

    async def get(self, board_id: str, hook_id: str) -> None:
        hook = await self.hook(await self.board(board_id), hook_id)
        self.finish({"webhook": hook.public(), "deliveries":
                     await hook_store.list_deliveries(self.registry.store.engine, hook.id)})


def _parse_hook(body: bytes) -> tuple[str, list[str], dict[str, str]]:
    """(url, event types, filter) from a creation body; 400 naming what is wrong."""
    try:
        data: Any = json.loads(body or b"{}")
    except ValueError:
        raise HTTPError(400, "body must be JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise HTTPError(400, 'body must be {"url": ..., "events": [...], "filter": {...}}')
    types = data.get("events", [])
    if not isinstance(types, list) or any(t not in EVENT_TYPES for t in types):
        raise HTTPError(400, f"events must be a list of {', '.join(EVENT_TYPES)}")
    filter_ = data.get("filter", {})
    if not isinstance(filter_, dict) or any(
            key not in FILTER_KEYS or not isinstance(value, str) or
            len(value) > MAX_FILTER_CHARS for key, value in filter_.items()):
        raise HTTPError(400, f"filter keys are {', '.join(FILTER_KEYS)}, with string values")
    return data["url"], sorted(set(types)), dict(filter_)
