"""make_app and SyncboardServer: routes, and the lifecycle of store, writer, registry, sockets.

``SyncboardServer.start()`` opens the store, starts the writer and the registry, and listens;
``stop()`` stops accepting, closes every socket with 1001, flushes the write queue and
disposes the database engine. Tests run it in-process; ``python -m backend`` runs it for real.
"""

from __future__ import annotations

import logging
import re
import socket
import ssl
from typing import Any

from tornado.httputil import HTTPServerRequest
from tornado.log import access_log
from tornado.netutil import bind_sockets
from tornado.routing import PathMatches, Rule
from tornado.web import Application, RequestHandler, StaticFileHandler

from . import metrics
from .access import AccessPolicy, TokenSigner, load_secret
from .address_limits import AddressRate, CreationLimits
from .broker import Broker, LocalBroker
from .broker_redis import RedisBroker
from .config import Settings
from .document import BoardDocument
from .events.service import EventsService
from .export.raster_pool import RasterPool
from .export_handlers import export_routes
from .file_sweeper import FileSweeper
from .http_handlers import (
    AppPageHandler,
    BoardHandler,
    BoardsHandler,
    HealthHandler,
    NotFoundHandler,
    RotateHandler,
    ServiceWorkerHandler,
)
from .http_policy import (
    LOGGED_URI_CHARS,
    SMALL_BODY_BYTES,
    SecureHeaders,
    SyncboardApplication,
    allowed_host_names,
    cut_for_log,
)
from .http_server import (
    LISTEN_BACKLOG,
    ConnectionGuard,
    GuardedHTTPServer,
    raise_descriptor_limit,
)
from .import_worker import ImportWorker
from .live_peers import LivePeers, RedisLivePeers
from .registry import BoardRegistry
from .resources import frontend_dist
from .shutdown import bounded_stage
from .space_handlers import space_routes
from .space_indexer import SpaceIndexer
from .store import Store, UpdateWriter, open_store
from .store.history import Retention
from .store.spaces import SpaceStore
from .version_handlers import version_routes
from .ws_handler import BoardSocket

log = logging.getLogger(__name__)

FRONTEND_DIST = frontend_dist()


def make_app(settings: Settings, registry: BoardRegistry, access: AccessPolicy,
             raster: RasterPool, importer: ImportWorker, creation: CreationLimits | None = None,
             events: EventsService | None = None, live: LivePeers | None = None) -> Application:
    """The Tornado application: WebSocket endpoint, JSON API, browser app (PNG exports
    rendered in ``raster``, imports read and built in ``importer``; change feed and webhooks
    from ``events``, when on; people on boards counted by ``live``, this process's only by
    default)."""
    board = {"registry": registry}
    page = {"dist_dir": FRONTEND_DIST, "ws_path": settings.ws_path}
    socket_kwargs = {"registry": registry, "settings": settings, "signer": access.signer}
    # Everything after the WebSocket path is the board name, "/" included (URL-decoded by
    # Tornado). Upgrades are matched first, so "--ws-path /" leaves the pages and the API to
    # plain requests; a plain GET under a longer path still reaches BoardSocket, which says
    # it wants an upgrade.
    ws_pattern = re.escape(settings.ws_path.rstrip("/")) + "/(.*)"
    routes = [
        Rule(_WebSocketUpgrade(ws_pattern), BoardSocket, socket_kwargs),
        (r"/healthz", HealthHandler, board),
        (r"/metrics", metrics.MetricsHandler),
        # /api/boards included
        *space_routes(registry, SpaceStore(registry.store.engine), live or LivePeers(registry)),
        (r"/api/boards", BoardsHandler, board),
        (r"/api/boards/([^/]+)", BoardHandler, board),
        (r"/api/boards/([^/]+)/rotate", RotateHandler, board),
        *export_routes(registry, registry.store, settings, raster, importer),
        *version_routes(registry, settings, raster),
        *(events.routes(registry) if events is not None else ()),
        (r"/", AppPageHandler, page),
        (r"/b/([^/]+)", AppPageHandler, page),
        (r"/s/([^/]+)", AppPageHandler, page),
        (r"/sw.js", ServiceWorkerHandler, {"dist_dir": FRONTEND_DIST}),
        (r"/static/(.*)", _StaticFiles, {"path": str(FRONTEND_DIST)}),
    ]
    if settings.ws_path != "/":
        routes.append((ws_pattern, BoardSocket, socket_kwargs))
    return SyncboardApplication(
        routes,
        allowed_host_names(settings.allowed_hosts, settings.host, settings.behind_proxy),
        access=access,
        creation=creation or creation_limits(settings),
        events=events,
        default_handler_class=NotFoundHandler,
        log_function=log_request,
        # Pings are sent by BoardRegistry (one sweep for all peers): Tornado's own ping
        # timeout waits 5 s more for a close handshake the dead peer never sends.
        websocket_max_message_size=settings.max_message_bytes,
    )


class _WebSocketUpgrade(PathMatches):
    """Matches ``path_pattern`` only for a WebSocket upgrade request."""

    def match(self, request: HTTPServerRequest) -> dict[str, Any] | None:
        if request.headers.get("Upgrade", "").lower() != "websocket":
            return None
        return super().match(request)


def creation_limits(settings: Settings) -> CreationLimits:
    """The per-address board-creation and upload rates from ``settings``."""
    return CreationLimits(
        AddressRate(settings.create_boards_per_min, settings.create_boards_burst),
        AddressRate(settings.upload_bytes_per_min, settings.upload_burst_bytes))


def retention_policy(settings: Settings) -> Retention:
    """The history thinning policy from ``settings`` (``--history-keep-*``)."""
    return Retention(settings.history_keep_all_s, settings.history_keep_hourly_s,
                     settings.history_keep_daily_s)


class _StaticFiles(SecureHeaders, StaticFileHandler):
    """The browser app's files, with the security headers of every response."""


def log_request(handler: RequestHandler) -> None:
    """Access log line without the query string (WebSocket URLs carry board tokens), its path
    cut to ``LOGGED_URI_CHARS``."""
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    request = handler.request
    access_log.log(level, "%d %s %s (%s) %.2fms", status, request.method,
                   cut_for_log(request.path, LOGGED_URI_CHARS), request.remote_ip,
                   1000.0 * request.request_time())


class SyncboardServer:
    """One running syncboard process: store, writer, registry and HTTP server."""

    def __init__(self, settings: Settings, sockets: list[socket.socket] | None = None) -> None:
        """``sockets``: listening sockets bound by the parent of ``--workers`` (else bound
        in ``start``)."""
        self.settings = settings
        self._sockets = sockets
        self.store: Store | None = None
        self.writer: UpdateWriter | None = None
        self.registry: BoardRegistry | None = None
        self.broker: Broker | None = None
        self.port: int | None = None
        self._http: GuardedHTTPServer | None = None
        self.files: FileSweeper | None = None
        self.spaces: SpaceIndexer | None = None
        self.raster = RasterPool.from_settings(settings)
        self.importer = ImportWorker(memory_bytes=settings.import_worker_memory_bytes)
        self.events: EventsService | None = None
        self.live: LivePeers | None = None

    async def start(self) -> None:
        """Open the database and start listening. Raises ``StoreError`` for a bad database."""
        s = self.settings
        self.store = await open_store(s.db, s.migrate)
        self.writer = UpdateWriter(self.store, flush_delay_ms=s.flush_delay_ms,
                                   retry_max_s=s.write_retry_max_s,
                                   compact_after_updates=s.compact_after_updates,
                                   compact_after_bytes=s.compact_after_bytes,
                                   retention=retention_policy(s))
        self.writer.start()
        self.broker = RedisBroker(s.broker, self.store, s.broker_stream_maxlen) if s.broker \
            else LocalBroker()
        self.registry = BoardRegistry(self.store, self.writer, self.broker, s)
        if s.precheck_worker_bytes > 0:
            self.store.merge_in_worker = self.registry.checker.merge
            self.store.merge_in_worker_bytes = s.precheck_worker_bytes
        await self.broker.start(self.registry.receive_remote)
        self.live = RedisLivePeers(self.registry, s.broker, self.broker.origin.decode()) \
            if isinstance(self.broker, RedisBroker) else LivePeers(self.registry)
        self.live.start()
        if s.events_window_ms > 0:
            self.events = EventsService(s, self.store)
            await self.events.start(self.registry)
            self.registry.versions.on_saved = self.events.version_saved
        self.registry.start()
        # pycrdt's first Doc imports anyio's asyncio backend (measured: 66 ms of a 200-board
        # cold start); pay it now, not in the first client's board load.
        BoardDocument()
        signer = TokenSigner(load_secret(s.secret, s.data_dir)) if s.auth == "token" else None
        if signer is None:
            log.warning("--auth none: anyone who can reach this server can read and rewrite "
                        "every board; use it only on a trusted machine or network")
        access = AccessPolicy(signer, s.admin_token, self.store)
        sockets = self._sockets or bind_sockets(s.port, s.host, family=socket.AF_UNSPEC,
                                                backlog=LISTEN_BACKLOG)
        self.port = sockets[0].getsockname()[1]
        admissions = self.registry.admissions
        guard = ConnectionGuard(None if s.behind_proxy else s.max_sockets_per_ip,
                                raise_descriptor_limit(),
                                lambda address: admissions.by_address[address],
                                lambda: admissions.total)
        self._http = GuardedHTTPServer(
            make_app(s, self.registry, access, self.raster, self.importer, events=self.events,
                     live=self.live),
            xheaders=s.behind_proxy,
            ssl_options=_tls_context(s), guard=guard,
            idle_connection_timeout=s.header_timeout_s, body_timeout=s.body_timeout_s,
            max_body_size=SMALL_BODY_BYTES)
        self._http.add_sockets(sockets)
        if s.file_grace_s > 0:
            self.files = FileSweeper(self.store, self.registry, s.file_grace_s,
                                     s.file_sweep_interval_s)
            self.files.start()
        self.spaces = SpaceIndexer(SpaceStore(self.store.engine), self.registry, self.raster, s)
        self.spaces.start()
        metrics.watch(self)

    @property
    def url(self) -> str:
        """The base URL this server answers on."""
        host = self.settings.host
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self.settings.certfile else "http"
        return f"{scheme}://{host}:{self.port}"

    async def stop(self) -> bool:
        """Stop accepting, close sockets with 1001, flush every queue, dispose the engine.
        Returns False when a non-durable stage overran its budget and was left running
        (everything was committed all the same)."""
        metrics.unwatch(self)
        finished = True
        if self.files is not None:
            self.files.stop()
        if self.spaces is not None:
            finished &= await bounded_stage("the space indexer", self.spaces.stop())
        if self._http is not None:
            self._http.stop()
        # imports still reading their file are answered 503 while their connections are open
        finished &= await bounded_stage("the imports", self.importer.stop())
        if self.registry is not None:
            await self.registry.close()  # every room's last flush: never cut short
        if self.events is not None:
            finished &= await bounded_stage("the change feed and webhooks",
                                            self.events.close())
        if self.live is not None:
            finished &= await bounded_stage("the live peer counts", self.live.close())
        if self.broker is not None:
            finished &= await bounded_stage("the broker", self.broker.close())
        if self.writer is not None:
            await self.writer.close()  # commits everything queued: never cut short
        if self._http is not None:
            finished &= await bounded_stage("closing connections",
                                            self._http.close_all_connections())
        if self.store is not None:
            await self.store.close()
        finished &= await bounded_stage("the PNG workers", self.raster.close())
        self.importer.close()
        log.info("stopped")
        return finished


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    """A server TLS context from ``--certfile``/``--keyfile``, or None for plain HTTP."""
    if not settings.certfile:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.certfile, settings.keyfile or None)
    return context
