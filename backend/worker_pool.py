"""How the one worker process of a ``ProcessPoolExecutor`` ended, for the import and history
workers (``import_worker.py``, ``history_worker.py``).

A pool whose worker dies fails its jobs with ``BrokenProcessPool``, which does not say why.
The worker's exit code does: ``-SIGABRT`` when Rust (pycrdt, jsonschema-rs) aborted on a
failed allocation, the usual end of a job past an ``RLIMIT_AS`` cap that a ``MemoryError``
did not catch; ``-SIGKILL`` when the kernel's OOM killer or an operator killed it;
``-SIGSEGV`` for a crash in native code. The pool keeps its processes in a private attribute
(Python 3.14's ``kill_workers`` is the public way, not in 3.11).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from typing import Any

EXIT_WAIT_S = 0.5
"""Longest ``exit_codes`` waits for an exit code the pool's own thread may be reaping."""


def processes(pool: ProcessPoolExecutor) -> list[BaseProcess]:
    """The worker processes of ``pool``."""
    return list((getattr(pool, "_processes", None) or {}).values())


async def exit_codes(pool: ProcessPoolExecutor) -> set[int | None]:
    """The exit codes of ``pool``'s worker processes (negative: the signal that ended one;
    None: still running), once all have ended or ``EXIT_WAIT_S`` has passed, without blocking
    the loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EXIT_WAIT_S
    while True:
        codes = {process.exitcode for process in processes(pool)}
        if None not in codes or loop.time() > deadline:
            return codes
        await asyncio.sleep(0.02)


def describe_exit(code: int | None) -> str:
    """How a process with exit code ``code`` ended, in words: "was killed by SIGKILL"."""
    if code is None:
        return "ended (how is not known)"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def submit_if_alive(pool: ProcessPoolExecutor, fn: Callable[..., Any],
                    *args: Any) -> Future | None:
    """``pool.submit(fn, *args)``, or None if its worker has died (the pool may not know yet:
    a job given to it then would fail without having run)."""
    if any(process.exitcode is not None for process in processes(pool)):
        return None
    try:
        return pool.submit(fn, *args)
    except BrokenProcessPool:
        return None
