"""EventsService: the change feed's parts for one process, wired by ``app.py``.

It picks the hub (in-process, or Redis with ``--broker``), gives every loaded room a
``BoardFeed``, serves the feed routes and starts the webhook dispatcher.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ..config import Settings
from ..registry import BoardRegistry
from ..room import Room
from ..store import Store
from ..store.history import VersionInfo
from .feed import BoardFeed
from .hub import EventHub
from .hub_redis import RedisEventHub
from .sse import FeedClients, event_routes
from .webhooks.dispatcher import WebhookDispatcher
from .webhooks.handlers import webhook_routes


class EventsService:
    """Hub, feeds, SSE routes and webhooks of one process."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        if settings.broker:
            self.hub: EventHub = RedisEventHub(settings.broker, deployment(settings),
                                               settings.events_backlog_events,
                                               settings.events_backlog_s)
        else:
            self.hub = EventHub(settings.events_backlog_events, settings.events_backlog_s)
        self.clients = FeedClients(settings.events_max_clients)
        self.webhooks = WebhookDispatcher(settings, store, self.hub, deployment(settings))

    async def start(self, registry: BoardRegistry) -> None:
        """Connect the hub, give rooms loaded from now on a feed, start the webhooks."""
        await self.hub.start()
        window_s = self.settings.events_window_ms / 1000
        self.hub.always_wanted = bool(self.settings.webhook)
        self.hub.on_wanted = lambda board_id: self._wake(registry, board_id)
        registry.feed_factory = lambda room: self._feed(room, window_s)
        await self.webhooks.start()

    async def close(self) -> None:
        """Stop the webhooks and the hub (after the registry published its last batches)."""
        self.clients.end_all()
        await self.webhooks.close()
        await self.hub.close()

    def routes(self, registry: BoardRegistry) -> list:
        """The feed and webhook routes."""
        return [*event_routes(registry, self.hub, self.clients),
                *webhook_routes(registry, self.webhooks)]

    def board_event(self, board_id: str, event_type: str, **fields: Any) -> None:
        """Publish ``board.created`` / ``board.deleted`` (from the HTTP handlers)."""
        self.hub.publish(board_id, event_type, fields)

    def version_saved(self, info: VersionInfo) -> None:
        """Publish ``version.saved`` (version history recorded ``info``)."""
        self.hub.publish(info.board_id, "version.saved", {"version": info.to_json()})

    def _feed(self, room: Room, window_s: float) -> BoardFeed:
        return BoardFeed(room.board_id, room.document.full_update, room.presence, self.hub,
                         window_s)

    @staticmethod
    def _wake(registry: BoardRegistry, board_id: str | None) -> None:
        """A reader or hook appeared for ``board_id`` (None: all boards): loaded boards'
        feeds start following."""
        rooms = registry.rooms.values() if board_id is None else \
            [room for room in [registry.rooms.get(board_id)] if room is not None]
        for room in rooms:
            if room.feed is not None:
                room.feed.wake()


def deployment(settings: Settings) -> str:
    """Processes sharing a database are one deployment: a short hash of its URL names their
    Redis keys (never the URL itself, which may hold a password)."""
    return hashlib.sha256(settings.db.encode()).hexdigest()[:12]
