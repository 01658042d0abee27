"""The webhooks and webhook_deliveries tables: plain functions over the store's engine."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ...store.schema import webhook_deliveries, webhooks

_WRITE = {"syncboard_write": True}  # BEGIN IMMEDIATE on SQLite (store.py's begin listener)
LOG_KEPT = 200
"""Delivery rows kept per hook (older ones are deleted as new ones come)."""
MAX_HOOKS_PER_BOARD = 20


@dataclass
class Hook:
    """One webhook: where, signed with what, which events, which elements."""

    id: str
    board_id: str | None  # None: a server hook (--webhook), for every board
    url: str
    secret: str
    event_types: list[str] = field(default_factory=list)  # empty: every type
    filter: dict[str, str] = field(default_factory=dict)  # frameId, elementType
    paused_reason: str | None = None

    def public(self) -> dict[str, Any]:
        """What the API shows (never the secret)."""
        return {"id": self.id, "board": self.board_id, "url": self.url,
                "events": self.event_types, "filter": self.filter,
                "paused": self.paused_reason is not None, "pausedReason": self.paused_reason}


async def create_hook(engine: AsyncEngine, board_id: str, url: str, event_types: list[str],
                      filter_: dict[str, str]) -> Hook:
    """Store a new hook with a random id and secret."""
    hook = Hook(secrets.token_urlsafe(12), board_id, url, secrets.token_urlsafe(32),
                event_types, filter_)
    async with _writing(engine) as conn:
        await conn.execute(insert(webhooks).values(
            id=hook.id, board_id=board_id, url=url, secret=hook.secret,
            event_types=json.dumps(event_types), filter=json.dumps(filter_),
            created_at=time.time()))
    return hook


async def load_hooks(engine: AsyncEngine, board_id: str | None = None) -> list[Hook]:
    """Every stored hook (of ``board_id`` when given)."""
    query = select(webhooks)
    if board_id is not None:
        query = query.where(webhooks.c.board_id == board_id)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(webhooks.c.created_at))).all()
    return [Hook(r.id, r.board_id, r.url, r.secret, json.loads(r.event_types),
                 json.loads(r.filter), r.paused_reason) for r in rows]


async def delete_hook(engine: AsyncEngine, board_id: str, hook_id: str) -> bool:
    """Remove a hook and its log; False if it was not there."""
    async with _writing(engine) as conn:
        await conn.execute(delete(webhook_deliveries)
                           .where(webhook_deliveries.c.hook_id == hook_id))
        result = await conn.execute(delete(webhooks).where(
            webhooks.c.id == hook_id, webhooks.c.board_id == board_id))
    return result.rowcount > 0


async def set_paused(engine: AsyncEngine, hook_id: str, reason: str | None) -> None:
    """Pause a hook (with why) or resume it (``reason`` None)."""
    async with _writing(engine) as conn:
        await conn.execute(update(webhooks).where(webhooks.c.id == hook_id).values(
            paused_at=time.time() if reason else None, paused_reason=reason))


async def record_delivery(engine: AsyncEngine, row_id: int | None, hook_id: str, seq: int,
                          event_type: str, status: str, attempts: int,
                          response_status: int | None, error: str | None) -> int:
    """Insert (``row_id`` None) or update one delivery's row; returns its id."""
    now = time.time()
    values = {"status": status, "attempts": attempts, "response_status": response_status,
              "last_error": error, "updated_at": now}
    async with _writing(engine) as conn:
        if row_id is not None:
            await conn.execute(update(webhook_deliveries)
                               .where(webhook_deliveries.c.id == row_id).values(**values))
            return row_id
        result = await conn.execute(insert(webhook_deliveries).values(
            hook_id=hook_id, event_seq=seq, event_type=event_type, created_at=now, **values))
        new_id = result.inserted_primary_key[0]
        if new_id % 50 == 0:  # now and then, forget the hook's oldest rows
            cutoff = (await conn.execute(
                select(webhook_deliveries.c.id).where(webhook_deliveries.c.hook_id == hook_id)
                .order_by(webhook_deliveries.c.id.desc()).offset(LOG_KEPT).limit(1))).scalar()
            if cutoff is not None:
                await conn.execute(delete(webhook_deliveries).where(
                    webhook_deliveries.c.hook_id == hook_id, webhook_deliveries.c.id <= cutoff))
    return new_id


async def list_deliveries(engine: AsyncEngine, hook_id: str) -> list[dict[str, Any]]:
    """The last ``LOG_KEPT`` deliveries of a hook, newest first."""
    query = (select(webhook_deliveries).where(webhook_deliveries.c.hook_id == hook_id)
             .order_by(webhook_deliveries.c.id.desc()).limit(LOG_KEPT))
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    return [{"id": r.id, "seq": r.event_seq, "type": r.event_type, "status": r.status,
             "attempts": r.attempts, "responseStatus": r.response_status,
             "lastError": r.last_error, "createdAt": r.created_at, "updatedAt": r.updated_at}
            for r in rows]


@contextlib.asynccontextmanager
async def _writing(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One write transaction (BEGIN IMMEDIATE on SQLite, so writers queue, not deadlock)."""
    async with engine.connect() as conn:
        conn = await conn.execution_options(**_WRITE)
        async with conn.begin():
            yield conn
