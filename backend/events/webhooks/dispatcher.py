"""WebhookDispatcher: follows the feed of all boards and hands each event to its hooks.

Server hooks (``--webhook``, signed with ``--webhook-secret``) get every board's events; a
board's hooks (``POST /api/boards/<id>/webhooks``) get that board's, narrowed to their event
types and their filter (``frameId``, ``elementType``: created, updated and deleted elements
must match, a deleted one by what it was, an element leaving the frame too). The
dispatcher reads the hub like a feed reader does, so the sync path never waits for a hook.

With ``--broker redis`` every process sees every event, so only one delivers: the holder of a
Redis lease (``syncboard:events:<deployment>:webhooks``, lasting ``--webhook-lease-s``, renewed
every ``LEASE_RENEW_SHARE`` of it). It reloads the hooks from the database every ``RELOAD_S``
(others may have been created on another process). With each renewal (and when it stops) the
leader stores where a successor must resume (``...:webhooks:cursor``: before the oldest event
not delivered yet), and a process that takes the lease over delivers again from there: when a
leader dies, the events of the lease's last seconds are delivered by the next one, not lost.
Deliveries are therefore at least once: the same event may come twice around a handover, with
the same ``Syncboard-Delivery`` header.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from tornado.simple_httpclient import SimpleAsyncHTTPClient

from ...config import Settings
from ...store import Store
from ...task_stop import cancel_and_wait
from .. import event_metrics as metrics
from ..hub import Event, EventHub
from . import hook_store
from .address_policy import AddressPolicy, CheckedResolver
from .delivery import DeliveryLimits, HookWorker, Pending
from .hook_store import Hook

log = logging.getLogger(__name__)

LEASE_RENEW_SHARE = 0.3
RELOAD_S = 10.0
MAX_EVENTS_PER_TURN = 100
SERVER_HOOK_RESUME_S = 60.0
"""A paused server hook (``--webhook``) resumes by itself after this long (or after
``--webhook-retry-max-s`` if longer); a board's hook waits for ``POST .../resume``."""


class WebhookDispatcher:
    """Every hook of this server and the task that feeds them."""

    def __init__(self, settings: Settings, store: Store, hub: EventHub,
                 deployment: str) -> None:
        self.settings = settings
        self._leader_key = f"syncboard:events:{deployment}:webhooks"
        self._cursor_key = f"{self._leader_key}:cursor"
        self._passed = 0  # the all-boards seq of the last event read
        self._rewind_to: int | None = None  # set on taking the lease over
        self.policy = AddressPolicy(settings.webhook_allow_host)
        self._engine = store.engine
        self._hub = hub
        self._limits = DeliveryLimits(settings.webhook_timeout_s, settings.webhook_retry_max_s,
                                      settings.webhook_queue_events,
                                      settings.webhook_backoff_s)
        cap = settings.webhook_max_response_bytes
        self._client = SimpleAsyncHTTPClient(force_instance=True, max_clients=100,
                                             resolver=CheckedResolver(policy=self.policy),
                                             max_body_size=cap, max_buffer_size=max(cap, 4096))
        self.server_hooks = [Hook(f"server-{n}", None, url, settings.webhook_secret)
                             for n, url in enumerate(settings.webhook.split(), 1)]
        self._workers: dict[str, HookWorker] = {}
        self._board_hooks: dict[str, list[Hook]] = {}
        self._tasks: list[asyncio.Task] = []
        self._redis: Redis | None = None
        self._me = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.leading = not settings.broker

    async def start(self) -> None:
        """Load the hooks and follow the feed. Raises ``ValueError`` for --webhook without
        --webhook-secret."""
        if self.server_hooks and not self.settings.webhook_secret:
            raise ValueError("--webhook needs --webhook-secret (deliveries are signed)")
        for hook in self.server_hooks:
            problem = self.policy.url_problem(hook.url)
            if problem is not None:
                raise ValueError(f"--webhook {hook.url}: {problem}")
        await self._reload()
        self._tasks = [asyncio.create_task(self._follow(), name="syncboard-webhooks")]
        if self.settings.broker:
            self._redis = Redis.from_url(self.settings.broker, socket_timeout=5,
                                         socket_connect_timeout=5)
            self._tasks.append(asyncio.create_task(self._lead_forever()))

    async def close(self) -> None:
        """Stop following and delivering; give up the lease, leaving a successor the resume
        point before what the hooks still had waiting (their queues outlive their tasks)."""
        await cancel_and_wait(self._tasks)
        for worker in self._workers.values():
            await worker.close()
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError):
                if await self._redis.get(self._leader_key) == self._me.encode():
                    await self._store_resume_point()
                    await self._redis.delete(self._leader_key)
                await self._redis.aclose()
        self._workers.clear()
        self._client.close()

    async def add(self, hook: Hook) -> None:
        """A hook was created here: its board's feed follows from now on, on every
        process."""
        self._board_hooks.setdefault(hook.board_id or "", []).append(hook)
        self._hub.hooked.add(hook.board_id or "")
        self._hub.on_wanted(hook.board_id)
        await self._hub.announce(hook.board_id)

    async def remove(self, board_id: str, hook_id: str) -> None:
        """A hook was deleted here."""
        self._board_hooks[board_id] = [h for h in self._board_hooks.get(board_id, [])
                                       if h.id != hook_id]
        if not self._board_hooks[board_id]:
            self._hub.hooked.discard(board_id)
        worker = self._workers.pop(hook_id, None)
        if worker is not None:
            await worker.close()

    def resume(self, board_id: str, hook_id: str) -> None:
        """A paused hook was resumed here (its row is updated by the caller)."""
        for hook in self._board_hooks.get(board_id, []):
            if hook.id == hook_id:
                hook.paused_reason = None

    async def _pause(self, hook: Hook, reason: str) -> None:
        hook.paused_reason = reason
        metrics.WEBHOOK_PAUSES.inc()
        if hook.board_id is None:  # a server hook has no resume endpoint: it retries later
            resume_s = max(SERVER_HOOK_RESUME_S, self.settings.webhook_retry_max_s)
            log.warning("webhook %s (--webhook %s): paused; events of the next %.0f s are not "
                        "delivered to it", hook.id, hook.url, resume_s)
            asyncio.get_running_loop().call_later(resume_s, _resume, hook)
        else:
            try:
                await hook_store.set_paused(self._engine, hook.id, reason)
            except SQLAlchemyError as exc:
                log.error("webhook %s: cannot store its pause: %s", hook.id, exc)

    async def _follow(self) -> None:
        cursor = self._passed = self._hub.all.head
        live = True  # the cursor is this loop's own: only trimming can outrun it, not age
        while True:
            events = await self._hub.read(None, cursor, live)
            if self._rewind_to is not None:  # this process just took the lease over
                cursor, self._rewind_to = min(cursor, self._rewind_to), None
                self._passed = cursor  # the resume point goes back with it
                live = False  # a predecessor's resume point: checked against the retention
                continue
            live = True
            if events is None:
                log.warning("webhooks: fell behind the event backlog; events after %d are "
                            "not delivered", cursor)
                cursor = self._hub.all.head  # at or past the floor: the next read is exact
                await asyncio.sleep(0)
                continue
            if not events:
                await self._hub.all.wait(60)
                continue
            for event in events[:MAX_EVENTS_PER_TURN]:
                cursor = self._passed = event.seq
                if self.leading:
                    self._dispatch(event)
            await asyncio.sleep(0)

    def _dispatch(self, event: Event) -> None:
        hooks = [*self.server_hooks, *self._board_hooks.get(event.board, [])]
        parsed = None
        for hook in hooks:
            if hook.paused_reason is not None or \
                    (hook.event_types and event.type not in hook.event_types):
                continue
            body = event.data
            if hook.filter and event.type == "elements.changed":
                parsed = parsed or json.loads(event.data)
                body = _filtered(parsed, hook.filter)
                if body is None:
                    continue
            seq = json.loads(event.data)["seq"] if hook.board_id is not None else event.seq
            self._worker(hook).offer(Pending(seq, event.type, body.encode(), event.seq))

    def _worker(self, hook: Hook) -> HookWorker:
        worker = self._workers.get(hook.id)
        if worker is None:
            worker = self._workers[hook.id] = HookWorker(
                hook, self._client, self._limits,
                self._engine if hook.board_id is not None else None, self._pause)
        return worker

    async def _reload(self) -> None:
        hooks: dict[str, list[Hook]] = {}
        for hook in await hook_store.load_hooks(self._engine):
            known = self._workers.get(hook.id)
            if known is not None and known.hook.paused_reason is None:
                hook = known.hook  # keep the live object (and a pause not yet stored)
            hooks.setdefault(hook.board_id or "", []).append(hook)
        self._board_hooks = hooks
        self._hub.hooked = set(hooks)

    def _resume_point(self) -> int:
        """Where a successor must resume: just before the oldest event a hook has not been
        given yet, else after the last event read; while a take-over's replay has not begun,
        where the last holder of the lease stopped."""
        waiting = [c for w in self._workers.values() if (c := w.oldest_cursor()) is not None]
        point = min(waiting) - 1 if waiting else self._passed
        return point if self._rewind_to is None else min(point, self._rewind_to)

    async def _store_resume_point(self) -> None:
        assert self._redis is not None
        await self._redis.set(self._cursor_key, self._resume_point(),
                              px=int(self.settings.events_backlog_s * 1000))

    async def _take_over(self) -> None:
        """This process got the lease: deliver again from where the last leader stopped."""
        assert self._redis is not None
        stored = await self._redis.get(self._cursor_key)
        if stored is not None and int(stored) < self._passed:
            log.info("webhooks: delivering again from event %s, where the last holder of "
                     "the lease stopped", int(stored))
            self._rewind_to = int(stored)
            self._hub.all.wake()  # the follower may be waiting for a new event

    async def _lead_forever(self) -> None:
        assert self._redis is not None
        lease_ms = int(self.settings.webhook_lease_s * 1000)
        renew_s = self.settings.webhook_lease_s * LEASE_RENEW_SHARE
        ticks = 0
        while True:
            try:
                taken = await self._redis.set(self._leader_key, self._me, nx=True,
                                              px=lease_ms)
                if not taken and await self._redis.get(self._leader_key) == self._me.encode():
                    await self._redis.pexpire(self._leader_key, lease_ms)
                    taken = True
                if taken and not self.leading:
                    await self._take_over()
                if bool(taken) != self.leading:
                    log.info("webhooks: this process %s delivering them",
                             "is now" if taken else "stopped")
                self.leading = bool(taken)
                if self.leading:
                    await self._store_resume_point()
            except (RedisError, OSError) as exc:
                log.warning("webhooks: cannot renew the delivery lease (%s)", exc)
                self.leading = False
            ticks += 1
            if ticks % max(1, int(RELOAD_S / renew_s)) == 0:
                try:
                    await self._reload()
                except SQLAlchemyError as exc:
                    log.error("webhooks: cannot reload the hooks: %s", exc)
            await asyncio.sleep(renew_s)


def _resume(hook: Hook) -> None:
    log.info("webhook %s (--webhook %s): resumed", hook.id, hook.url)
    hook.paused_reason = None


def _filtered(event: dict, filter_: dict[str, str]) -> str | None:
    """The ``elements.changed`` event narrowed to ``filter_`` as JSON, or None if nothing
    is left. An element matches on its type and frame; one that left the filtered frame
    (``fromFrameId``) still matches, and a deletion matches on what the element was
    (``deletedElements``; an event without it, from an older process, keeps every id)."""
    def matches(element: dict, frame_key: str = "frameId") -> bool:
        return all(element.get(frame_key if key == "frameId" else "type", "") == value
                   for key, value in filter_.items())
    created = [e for e in event["created"] if matches(e)]
    updated = [u for u in event["updated"] if matches(u) or matches(u, "fromFrameId")]
    if "deletedElements" in event:
        gone = [d for d in event["deletedElements"] if matches(d)]
        deleted = [d["id"] for d in gone]
    else:
        gone, deleted = [], event["deleted"]
    if not (created or updated or deleted):
        return None
    return json.dumps({**event, "created": created, "updated": updated, "deleted": deleted,
                       **({"deletedElements": gone} if "deletedElements" in event else {})},
                      ensure_ascii=False, separators=(", ", ": "))
