"""How the one worker process of a ``ProcessPoolExecutor`` ended, for the import and history
workers (``import_worker.py``, ``history_worker.py``).

A pool whose worker dies fails its jobs with ``BrokenProcessPool``, which does not say why.
The worker's exit code does: ``-SIGABRT`` when Rust (pycrdt, jsonschema-rs) aborted on a
failed allocation, the usual end of a job past an ``RLIMIT_AS`` cap that a ``MemoryError``
did not catch; ``-SIGKILL`` when the kernel's OOM killer or an operator killed it;
``-SIGSEGV`` for a crash in native code. The pool keeps its processes in a private attribute
(Python 3.14's ``kill_workers`` is the public way, not in 3.11).

Also the initializer of the three pools' worker processes (pre-check, history, import):
``start_worker`` caps the address space and makes the worker exit once the server is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import multiprocessing
import os
import select
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from typing import Any

from .memory import cap_address_space

EXIT_WAIT_S = 0.5
"""Longest ``exit_codes`` waits for an exit code the pool's own thread may be reaping."""


def start_worker(memory_bytes: int = 0) -> None:
    """The initializer of every worker process: ``cap_address_space(memory_bytes)`` (0: no
    cap), then ``exit_with_parent()``."""
    cap_address_space(memory_bytes)
    exit_with_parent()


def exit_with_parent() -> None:
    """Make this ``multiprocessing`` child end within moments of its parent process ending,
    however it ended (SIGKILL, the OOM killer, a crash): the kernel sends it ``SIGIO``, whose
    default action ends a process, when the parent's sentinel pipe reads EOF. That is the
    pipe the parent spawned it through; the parent holds its only write end until it exits
    (or drops this child's ``Popen``, after the child has ended).

    Without it a spawn worker outlives a killed server for ever: it holds both ends of its
    call-queue pipe, so it never reads EOF there. Why this way: the pipe exists before the
    child does, so a parent that died while the child was still starting is seen too (a
    pidfd of ``os.getppid()`` opened then would watch init); there is no thread, so nothing
    wakes while the server lives, and it ends even a worker busy in native code holding the
    GIL. A watching thread was measured at +72 MiB of address space (its stack and a malloc
    arena) against the worker's ``RLIMIT_AS`` cap. ``PR_SET_PDEATHSIG`` was not used: it
    fires when the *thread* that forked the child ends, and a pool spawns from whichever
    thread calls ``submit`` (in 3.11 also its manager thread, replacing a worker); that thread's
    signal mask is inherited too, hence the unblocking."""
    parent = multiprocessing.parent_process()
    if parent is None:  # not a multiprocessing child: no parent to outlive
        return
    fd = parent.sentinel
    signal.signal(signal.SIGIO, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGIO})
    fcntl.fcntl(fd, fcntl.F_SETOWN, os.getpid())
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
    if select.select([fd], [], [], 0)[0]:  # EOF already: it ended before SIGIO was armed
        os._exit(1)


def processes(pool: ProcessPoolExecutor) -> list[BaseProcess]:
    """The worker processes of ``pool``."""
    return list((getattr(pool, "_processes", None) or {}).values())


def kill_pool(pool: ProcessPoolExecutor) -> None:
    """Kill ``pool``'s worker processes and shut it down without waiting (its queued jobs
    are cancelled)."""
    for process in processes(pool):
        with contextlib.suppress(OSError, ValueError):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


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

