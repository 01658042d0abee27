"""Turns: one board's order while a big update is pre-checked in the worker process.

A room handles frames synchronously as they arrive, except an update of at least
``--precheck-worker-bytes``, which waits for the pre-check worker (``check_worker``). While
that job runs, everything else for the board (frames from any peer, updates from other
processes) is queued here and run in arrival order once the job is done; what comes after
another big update waits behind that one in turn. Each queued frame's connection awaits the
future ``wait`` returns, so it reads nothing more meanwhile: a peer has at most one frame
queued. Other boards have their own ``Turns`` and go on.

Example::

    if turns.job is not None:
        return turns.wait(lambda: handle(peer, frame), peer)
    turns.job = asyncio.ensure_future(check_then_apply(...))  # calls turns.done() at the end
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Hashable

Call = Callable[[], "asyncio.Future | None"]
"""Handles one queued thing; returns None when done, or a future done when it is."""


class Turns:
    """The queue of one board behind its running big-update job (``job``)."""

    def __init__(self) -> None:
        self.job: asyncio.Task | None = None
        self._waiting: deque[tuple[Call, asyncio.Future, Hashable | None]] = deque()
        self._holding: dict[Hashable, int] = {}  # peer -> its frames in the job or queued

    def wait(self, call: Call, peer: Hashable | None) -> asyncio.Future:
        """Queue ``call`` (a frame of ``peer``, or a remote update when None) behind the job;
        the future is done when the call's own handling is."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((call, future, peer))
        if peer is not None:
            self.hold(peer)
        return future

    def hold(self, peer: Hashable) -> None:
        """Count a frame of ``peer`` as held (in the job or queued) until ``release``."""
        self._holding[peer] = self._holding.get(peer, 0) + 1

    def release(self, peer: Hashable) -> None:
        """The held frame of ``peer`` is being handled now."""
        count = self._holding.get(peer, 0) - 1
        if count > 0:
            self._holding[peer] = count
        else:
            self._holding.pop(peer, None)

    def holds(self, peer: Hashable) -> bool:
        """Whether a frame of ``peer`` is in the job or queued (its connection reads nothing
        until it is handled, pongs included)."""
        return peer in self._holding

    def done(self) -> None:
        """The job ended: run what waited, in order, until all of it ran or one queued call
        started another job (which calls ``done`` in its turn). A call that raises (a bug)
        fails its own future: the peer's handler logs it and closes that connection."""
        self.job = None
        while self._waiting and self.job is None:
            call, future, peer = self._waiting.popleft()
            if peer is not None:
                self.release(peer)
            try:
                handled = call()
            except Exception as exc:
                future.set_exception(exc)
                continue
            if handled is None:
                future.set_result(None)
            else:
                handled.add_done_callback(lambda done, future=future: _copy_outcome(done, future))

    def drop(self) -> None:
        """The job was cancelled (shutdown): everything queued is dropped, its futures
        cancelled (the clients resend what they sent when they reconnect)."""
        for _call, future, _peer in self._waiting:
            future.cancel()
        self._waiting.clear()
        self._holding.clear()
        self.job = None

    async def settled(self) -> None:
        """Return once no job runs. A change made right after this returns (without
        awaiting) comes after everything that arrived before it."""
        while self.job is not None:
            await asyncio.wait({self.job})


def _copy_outcome(done: asyncio.Future, future: asyncio.Future) -> None:
    """Finish ``future`` as ``done`` finished (a queued frame, handled in its turn)."""
    if future.done():
        return
    if done.cancelled():
        future.cancel()
    elif done.exception() is not None:
        future.set_exception(done.exception())
    else:
        future.set_result(None)
