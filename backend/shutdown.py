"""Bounded shutdown stages: a stage that holds nothing durable (feeds, webhooks, the broker,
idle connections, worker pools) gets a time budget; past it the server logs what is still
waiting and goes on, so SIGTERM always ends the process. Stages that commit data (the rooms'
last flush, the writer) are never cut short and do not go through here."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)

STAGE_TIMEOUT_S = 5.0
"""How long one non-durable shutdown stage may take before the server goes on without it."""


async def bounded_stage(name: str, work: Awaitable[object],
                        timeout_s: float = STAGE_TIMEOUT_S) -> bool:
    """Await ``work`` for at most ``timeout_s``; True when it finished. Past the budget the
    stage is left running (not cancelled: a cancellation can itself wait), an ERROR names it
    and lists the stacks of the tasks still pending, and False is returned."""
    task = asyncio.ensure_future(work)
    done, _pending = await asyncio.wait({task}, timeout=timeout_s)
    if done:
        task.result()  # a failure of the stage is the caller's, as without the bound
        return True
    log.error("shutdown: %s did not finish within %.1f s; stopping without it. Pending "
              "tasks:\n%s", name, timeout_s, pending_task_stacks())
    return False


def pending_task_stacks(limit: int = 40) -> str:
    """The stacks of the event loop's unfinished tasks (at most ``limit``), for the log."""
    out = io.StringIO()
    current = asyncio.current_task()
    for task in [t for t in asyncio.all_tasks() if t is not current and not t.done()][:limit]:
        task.print_stack(limit=8, file=out)
    return out.getvalue()
