"""NodeClient: drives ``yjs_client.mjs``, a Node process holding unmodified y-websocket providers.

Requests and replies are JSON lines (see the header of ``yjs_client.mjs``); every wait is
bounded. One process can hold several named docs, each with its own ``WebsocketProvider``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

INTEROP_DIR = Path(__file__).resolve().parent
DRIVER = INTEROP_DIR / "yjs_client.mjs"
Y_WEBSOCKET_PACKAGES = {"1.5": "y-websocket-1", "2.1": "y-websocket-2", "3.1": "y-websocket"}
"""The y-websocket releases the suite runs against (npm aliases pinned in package.json)."""
REQUIRED_PACKAGES = ("yjs", "ws", *Y_WEBSOCKET_PACKAGES.values())
MAX_LINE_BYTES = 16 << 20


def missing_setup() -> str | None:
    """Why the Node client cannot run here (no ``node``, no ``node_modules``), or None."""
    if shutil.which("node") is None:
        return "`node` is not on PATH: install Node.js 20+ (./scripts/test does it when root)"
    missing = [name for name in REQUIRED_PACKAGES
               if not (INTEROP_DIR / "node_modules" / name / "package.json").is_file()]
    if missing:
        return (f"npm packages {', '.join(missing)} are not installed in {INTEROP_DIR}: "
                "run ./scripts/test (it runs `npm ci` in tests/interop), "
                "or `cd tests/interop && npm ci`")
    return None


class NodeClient:
    """One ``node yjs_client.mjs`` process; ``doc`` names one of its providers."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict] = []
        self.stderr_lines: list[str] = []
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict]] = {}
        self._ready = asyncio.Event()
        self._tasks = [asyncio.create_task(self._read_stdout()),
                       asyncio.create_task(self._read_stderr())]

    @classmethod
    async def start(cls, timeout_s: float = 30, package: str = "y-websocket",
                    time_scale: int = 1) -> NodeClient:
        """Start the process with the provider of npm ``package`` (one of
        ``Y_WEBSOCKET_PACKAGES``) and wait for its ``ready`` event. ``time_scale`` > 1 runs the
        client's clock (Date.now, timers) that many times faster (fast_clock.mjs). The wait
        ends as soon as the driver is ready; its bound is generous because a start took over
        10 s in a full ``./scripts/test`` at load average 9-12 (loading the npm packages)."""
        proc = await asyncio.create_subprocess_exec(
            "node", "--import", "./fast_clock.mjs", str(DRIVER), package, cwd=INTEROP_DIR,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, limit=MAX_LINE_BYTES,
            env={**os.environ, "YJS_CLIENT_TIME_SCALE": str(time_scale)})
        client = cls(proc)
        try:
            await asyncio.wait_for(client._ready.wait(), timeout_s)
        except TimeoutError:
            client.kill()
            raise AssertionError(f"node driver not ready after {timeout_s} s: "
                                 f"{client.stderr_text()}") from None
        return client

    async def call(self, cmd: str, doc: str = "main", timeout_s: float = 10,
                   **args: Any) -> dict:
        """Send one command and return its reply; raise AssertionError on error or timeout."""
        if "id" in args:
            raise ValueError("`id` numbers the request: name the argument otherwise")
        request_id = next(self._ids)
        reply: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = reply
        line = json.dumps({"id": request_id, "cmd": cmd, "doc": doc, **args}) + "\n"
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode())
        await self.proc.stdin.drain()
        try:
            answer = await asyncio.wait_for(reply, timeout_s)
        except TimeoutError:
            raise AssertionError(f"no reply to {cmd} after {timeout_s} s; "
                                 f"stderr: {self.stderr_text()}") from None
        finally:
            self._replies.pop(request_id, None)
        if "error" in answer:
            raise AssertionError(f"{cmd} failed in node: {answer['error']}")
        return answer

    async def connect(self, ws_url: str, room: str, doc: str = "main", state: Any = None,
                      params: dict[str, str] | None = None, bc: bool = False) -> int:
        """Create a doc with a provider on ``ws_url``/``room``; return its Yjs client id.

        ``state`` (when given) is set as the awareness state before the socket opens;
        ``params`` become the URL query (the provider's ``params`` option, e.g. a token);
        ``bc``: BroadcastChannel on (the provider's default), so this process's docs of one
        room are tabs of one browser and exchange updates and presence directly.
        """
        args: dict[str, Any] = {"params": params or {}, "bc": bc}
        if state is not None:
            args["state"] = state
        answer = await self.call("connect", doc, url=ws_url, room=room, **args)
        return answer["clientId"]

    async def connect_synced(self, ws_url: str, room: str, doc: str = "main",
                             state: Any = None, params: dict[str, str] | None = None,
                             timeout_s: float = 10) -> int:
        """``connect`` and wait for the provider's ``sync`` event."""
        client_id = await self.connect(ws_url, room, doc, state, params)
        await self.wait_for(lambda s: s["synced"], doc, timeout_s, what=f"{doc} synced")
        return client_id

    async def dump(self, doc: str = "main", maps: Sequence[str] = ("elements",),
                   arrays: Sequence[str] = (), texts: Sequence[str] = (),
                   subdoc_maps: Sequence[str] = (), fragments: Sequence[str] = (),
                   hook_maps: Sequence[str] = ()) -> dict:
        """The doc's named maps, arrays and texts, the subdocuments held in ``subdoc_maps``,
        the children of the XML ``fragments``, the ``Y.XmlHook`` values of ``hook_maps``
        (``hooks``), status, synced and shouldConnect flags, closes and the other clients'
        awareness."""
        return await self.call("dump", doc, maps=list(maps), arrays=list(arrays),
                               texts=list(texts), subdocMaps=list(subdoc_maps),
                               fragments=list(fragments), hookMaps=list(hook_maps))

    async def wait_for(self, predicate: Callable[[dict], Any], doc: str = "main",
                       timeout_s: float = 10, what: str = "condition",
                       maps: Sequence[str] = ("elements",),
                       arrays: Sequence[str] = (), texts: Sequence[str] = (),
                       subdoc_maps: Sequence[str] = (), fragments: Sequence[str] = (),
                       hook_maps: Sequence[str] = ()) -> dict:
        """Poll ``dump`` every 20 ms until ``predicate(state)`` holds; return that state."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            state = await self.dump(doc, maps, arrays, texts, subdoc_maps, fragments,
                                    hook_maps)
            if predicate(state):
                return state
            if loop.time() > deadline:
                raise AssertionError(f"timed out after {timeout_s} s waiting for {what}; "
                                     f"last state of {doc}: {state}")
            await asyncio.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL the process: its sockets close without any goodbye frame."""
        if self.proc.returncode is None:
            self.proc.kill()

    def freeze(self) -> None:
        """SIGSTOP: like a suspended laptop, the sockets stay open but nothing answers."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after ``freeze``."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGCONT)

    async def quit(self, timeout_s: float = 5) -> None:
        """Destroy every provider and wait for exit (SIGKILL after ``timeout_s``)."""
        self.thaw()  # a frozen process could not read the request
        if self.proc.returncode is None and self.proc.stdin is not None:
            with contextlib.suppress(ConnectionError):
                self.proc.stdin.write(b'{"cmd": "quit"}\n')
                await self.proc.stdin.drain()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout_s)
            except TimeoutError:
                self.kill()
        await self.proc.wait()
        for task in self._tasks:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(task, timeout_s)

    def stderr_text(self) -> str:
        """What the process wrote to stderr so far."""
        return "".join(self.stderr_lines)

    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            try:
                message = json.loads(raw)
            except ValueError:
                message = {"event": "stray-output", "line": raw.decode(errors="replace")}
            if "reply" in message:
                reply = self._replies.get(message["reply"])
                if reply is not None and not reply.done():
                    reply.set_result(message)
            else:
                self.events.append(message)
                if message.get("event") == "ready":
                    self._ready.set()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.stderr_lines.append(raw.decode(errors="replace"))
