"""scripts/follow_board.py and the README's sticky-note example, run as real subprocesses
against an in-process server; a TCP proxy the test can cut stands for a dropped network."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest
from pycrdt import Map, Text

from tests.export_helpers import base_url, fetch_json
from tests.webhook_receiver import WebhookReceiver
from tests.yclient import YClient

ROOT = Path(__file__).resolve().parent.parent


class CuttableProxy:
    """Forwards loopback TCP connections to ``port``; ``cut()`` drops all of them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.writers: list[asyncio.StreamWriter] = []
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader, writer) -> None:
        self.connections += 1
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writers += [writer, upstream_writer]

        async def pipe(source, sink) -> None:
            while data := await source.read(65536):
                sink.write(data)
            sink.close()
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer),
                             return_exceptions=True)

    def cut(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers = []

    def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()


async def read_json_line(process, timeout_s: float = 20) -> dict:
    line = await asyncio.wait_for(process.stdout.readline(), timeout_s)
    assert line, "the script ended"
    return json.loads(line)


@pytest.mark.gen_test(timeout=90)
async def test_follow_board_prints_json_lines_and_resumes_after_a_dropped_connection(
        sb_server, yclient):
    server = await sb_server(events_window_ms=50)
    client = await yclient(server, "follow-me")
    proxy = CuttableProxy(server.port)
    proxy_port = await proxy.start()
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "scripts" / "follow_board.py"), "--server",
        f"http://127.0.0.1:{proxy_port}", "--board", "follow-me",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        await client.wait_for(lambda: server.events.clients.open == 1,
                              what="the script to connect")
        backlog = server.events.hub.board("follow-me")
        await client.put("a1", Map({"type": "rect", "w": 5, "h": 5, "z": "a1"}))
        first = await read_json_line(process)
        assert first["event"] == "elements.changed" and first["created"][0]["id"] == "a1"
        proxy.cut()
        for key in ("a2", "a3"):  # made while the script is disconnected
            await client.put(key, Map({"type": "rect", "w": 5, "h": 5, "z": key}))
            await client.wait_for(lambda key=key: key in json.dumps(
                [e.data for e in backlog.after(backlog.floor) or []]), what=f"{key} published")
        lines = [await read_json_line(process), await read_json_line(process)]
        assert proxy.connections == 2  # it reconnected, with Last-Event-ID
        await client.put("a4", Map({"type": "rect", "w": 5, "h": 5, "z": "a4"}))
        lines.append(await read_json_line(process))
        ids = [line["created"][0]["id"] for line in [first, *lines]]
        assert ids == ["a1", "a2", "a3", "a4"]
        seqs = [line["id"] for line in [first, *lines]]
        assert seqs == sorted(set(seqs)) and seqs == [line["seq"] for line in [first, *lines]]
    finally:
        process.kill()
        await process.wait()
        proxy.close()


@pytest.mark.gen_test(timeout=90)
async def test_the_readme_sticky_note_example_posts_to_a_chat(sb_server):
    readme = (ROOT / "README.md").read_text()
    example = re.search(r"Post to a chat whenever a sticky note lands.*?```python\n(.*?)```",
                        readme, re.S).group(1)
    assert len(example.strip().splitlines()) <= 10
    chat = WebhookReceiver().start()
    server = await sb_server(auth="token", events_window_ms=50)  # tokens, as ./scripts/serve
    _, links = await fetch_json(f"{base_url(server)}/api/boards", method="POST", body=b"")
    script = (example.replace('"http://127.0.0.1:8000"', repr(base_url(server)))
              .replace('"BOARD_ID"', repr(links["id"])).replace('"TOKEN"', repr(links["viewToken"]))
              .replace('"https://chat.example/hooks/XYZ"', repr(chat.url)))
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", script,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        editor = await YClient(f"ws://127.0.0.1:{server.port}/ws/{links['id']}"
                               f"?token={links['editToken']}").sync()
        await editor.wait_for(lambda: server.events.clients.open == 1,
                              what="the example to connect")
        await editor.put("r1", Map({"type": "rect", "w": 5, "h": 5, "z": "a0"}))
        await editor.put("n1", Map({"type": "sticky", "w": 200, "h": 200, "z": "a1",
                                    "text": Text("Ship it")}))
        await editor.wait_for(lambda: chat.received, what="the chat message")
        assert [r.event for r in chat.received] == [{"text": "New sticky note: Ship it"}]
        editor.close()
    finally:
        process.kill()
        await process.wait()
        chat.stop()
