"""Stopping background tasks that talk to Redis.

redis-py 8.1's asyncio client sometimes loses a cancellation that arrives while a command is
in flight: the command returns normally, so a loop such as ``while True: await
redis.xread(..., block=1000)`` goes on to its next command and never ends. A server stopping
with ``--broker`` then waited on that task until its shutdown stage ran out (seen in a full
test run: the change feed's Redis reader was still "cancelling" 5 s after SIGTERM). The
reproduction is ``tests/test_task_stop.py``. ``cancel_and_wait`` cancels again until every
task has ended, so a lost cancellation only costs one more turn of the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

RECANCEL_S = 0.05
"""How long to wait for tasks to end before cancelling those left again."""


async def cancel_and_wait(tasks: Iterable[asyncio.Task], timeout_s: float = 3.0) -> bool:
    """Cancel ``tasks`` and wait until all have ended, cancelling the ones left again every
    ``RECANCEL_S``; True when all ended within ``timeout_s``."""
    tasks = list(tasks)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        left_s = deadline - loop.time()
        if left_s <= 0:
            break
        _done, pending = await asyncio.wait(pending, timeout=min(RECANCEL_S, left_s))
    for task in tasks:  # what a task raised on its way out is not reported again
        if task.done() and not task.cancelled():
            task.exception()
    return not pending
