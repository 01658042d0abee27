"""Interop: pycrdt's Python provider (``pycrdt.Provider`` over httpx-ws) with the JS provider.

Both reach each other only through a syncboard server subprocess.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import anyio
import httpx
import pytest
from httpx_ws import aconnect_ws
from pycrdt import Doc, Map, Provider
from pycrdt.websocket.websocket import HttpxWebsocket

SYNC_TIMEOUT_S = 10.0


def _elements(doc: Doc) -> dict:
    elements = doc.get("elements", type=Map)
    return json.loads(str(elements)) if len(elements) else {}


async def _wait_for(predicate: Callable[[], bool], what: str,
                    timeout_s: float = SYNC_TIMEOUT_S) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        assert loop.time() < deadline, f"timed out after {timeout_s} s waiting for {what}"
        await asyncio.sleep(0.02)


@pytest.mark.gen_test(timeout=60)
async def test_pycrdt_provider_and_js_provider_sync_both_ways(server, node_client, board):
    js = await node_client()
    await js.connect_synced(server.ws_url, board)
    await js.call("set", key="from-js", value={"type": "rect", "w": 3})

    doc = Doc()
    # Made before connecting: reaches the server only in the answer to its sync step 1.
    doc.get("elements", type=Map)["py-offline"] = {"type": "text", "s": "hi"}
    async with (httpx.AsyncClient() as http,
                aconnect_ws(f"{server.ws_url}/{board}", http) as websocket,
                Provider(doc, HttpxWebsocket(websocket, board)) as provider):
        with anyio.fail_after(SYNC_TIMEOUT_S):
            await provider.synced.wait()
        await _wait_for(lambda: "from-js" in _elements(doc), "pycrdt provider sees JS edit")

        with doc.transaction():
            doc.get("elements", type=Map)["from-py"] = {"type": "ellipse", "r": 4}
        expected = {"from-js": {"type": "rect", "w": 3},
                    "from-py": {"type": "ellipse", "r": 4},
                    "py-offline": {"type": "text", "s": "hi"}}
        await js.wait_for(lambda s: s["maps"]["elements"] == expected,
                          what="JS provider sees pycrdt provider edits")

        await js.call("delete", key="from-js")
        del expected["from-js"]
        await _wait_for(lambda: _elements(doc) == expected, "pycrdt provider sees JS delete")
