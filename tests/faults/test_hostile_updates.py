"""Hostile Yjs updates (issue 18 items 1, 2, 3, 18) against a real server subprocess.

Hypothesis builds updates of the shapes that crashed or froze pycrdt (``Any`` values and
shared types nested past the limits, chains of structs yrs merges by repeated copying, huge
string lengths, thousands of client ids, GC floods, GC and delete ranges over another
client's clocks) and sends each on its own connection to a fuzzed board. Throughout, a
monitor process (``tests/faults/server_monitor.py``) asks ``/healthz`` every 50 ms (each answer
within 200 ms, unless the server was idle meanwhile: a probe waiting for a CPU of the shared
machine is not a freeze) and samples the server's RSS (under ``RSS_LIMIT_BYTES``); a pair of
good clients on another board must keep syncing; each hostile connection must be closed with
1007; and at the end nothing the check refuses is in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, Map, create_update_message
from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError, websocket_connect

from backend.store import open_store
from backend.update_check import (
    MAX_ANY_DEPTH,
    MAX_CLIENTS,
    MAX_TYPE_DEPTH,
    TypeDepths,
    check_update,
)
from backend.xml_hooks import MAX_HOOK_NAME_BYTES, MAX_HOOKS
from tests import yjs_updates as y
from tests.faults.server_monitor import Monitor
from tests.faults.test_hostile_bytes import LoopThread
from tests.yclient import YClient

FUZZED = "fuzzed"
BYSTANDER = "bystander"
EXAMPLES = 12
REPLY_TIMEOUT_S = 10


class Bystanders:
    """Two good clients on another board; ``check`` proves they still sync live."""

    def __init__(self, ws_url: str) -> None:
        self.alice = YClient(f"{ws_url}/{BYSTANDER}")
        self.bob = YClient(f"{ws_url}/{BYSTANDER}")
        self.counter = itertools.count()

    async def start(self) -> None:
        await self.alice.sync()
        await self.bob.sync()

    async def check(self) -> None:
        key = f"good-{next(self.counter)}"
        await self.alice.put(key, key)
        await self.bob.wait_for(lambda: self.bob.elements.get(key) == key, REPLY_TIMEOUT_S,
                                what=f"bob to receive {key}")

    async def close(self) -> None:
        self.alice.close()
        self.bob.close()
        await asyncio.sleep(0.05)


SYNC_STEP1_EMPTY = b"\x00\x00\x01\x00"  # SYNC, STEP1, one byte: a state vector of 0 clients


async def send_update(ws_url: str, update: bytes, board: str = FUZZED) -> int | None:
    """Send ``update`` (as a sync update message) on a fresh connection, then a sync step 1;
    return the close code, or None if the server handled both and kept the connection."""
    ws = await asyncio.wait_for(websocket_connect(f"{ws_url}/{board}"), REPLY_TIMEOUT_S)
    try:
        with contextlib.suppress(StreamClosedError, WebSocketClosedError):
            await ws.write_message(create_update_message(update), binary=True)
            # A sync step 1 (empty state vector): its step 2 answer means the update was
            # handled (the server's own join frames are a step 1 and, once anyone shows
            # presence, an awareness message, so neither can be mistaken for it).
            await ws.write_message(SYNC_STEP1_EMPTY, binary=True)
        deadline = asyncio.get_running_loop().time() + REPLY_TIMEOUT_S
        while asyncio.get_running_loop().time() < deadline:
            message = await asyncio.wait_for(ws.read_message(), REPLY_TIMEOUT_S)
            if message is None:
                return ws.close_code
            if message[:2] == b"\x00\x01":
                return None
        raise AssertionError("no answer to query-awareness")
    finally:
        ws.close()


@pytest.fixture
def target(server_process) -> Iterator[tuple[Any, LoopThread, Bystanders, Monitor]]:
    server = server_process(flush_delay_ms=20, max_connections_per_ip=1000,
                            refuse_clock_squatting=True)
    loop = LoopThread()
    bystanders = Bystanders(server.ws_url)
    loop.run(bystanders.start())
    monitor = Monitor(server)
    yield server, loop, bystanders, monitor
    monitor.stop()
    with contextlib.suppress(Exception):
        loop.run(bystanders.close())
    loop.close()


def finish(server, loop: LoopThread, bystanders: Bystanders, monitor: Monitor) -> None:
    """Server alive and healthy throughout; after a stop every stored row passes the check."""
    loop.run(bystanders.check())
    monitor.stop()
    print(f"{monitor.probes} /healthz probes, slowest {monitor.slowest_s * 1000:.0f} ms while "
          f"the server was busy ({monitor.slowest_raw_s * 1000:.0f} ms at all); "
          f"server RSS at most {monitor.max_rss / 2**20:.0f} MiB")
    monitor.check()
    assert server.proc.poll() is None, server.log()
    assert not [line for line in server.log().splitlines() if " ERROR " in line]
    loop.run(bystanders.close())
    assert server.stop() == 0
    for board in (FUZZED, BYSTANDER):
        rows = loop.run(_stored_rows(server.db_url, board))
        shape = TypeDepths()
        for row in rows:
            shape.record(check_update(row, shape))  # raises if anything poisoned was stored


async def _stored_rows(db_url: str, board: str) -> list[bytes]:
    store = await open_store(db_url)
    try:
        return await store.load_updates(board)
    finally:
        await store.close()


# --- shapes --------------------------------------------------------------------------------

def _deep_any_in(where: str, depth: int, kind: str) -> bytes:
    value = y.deep_any(depth, kind)
    if where == "map value":
        return y.deep_any_update(depth, kind=kind)
    if where == "array item":
        return y.Update().add(11, 0, [y.any_item([y.any_null(), value], parent="arr")]).encode()
    if where == "subdocument options":
        item = y.Struct(y.DOC, y.var_string("sub") + value, parent="docs", parent_sub="d")
        return y.Update().add(11, 0, [item]).encode()
    # inside an object inside an array inside a map entry
    wrapped = y.any_object({"k": y.any_array([value])})
    return y.Update().add(11, 0, [y.any_item([wrapped], parent="elements",
                                             parent_sub="w")]).encode()


deep_any = st.builds(_deep_any_in,
                     st.sampled_from(["map value", "array item", "subdocument options",
                                      "wrapped"]),
                     st.one_of(st.integers(MAX_ANY_DEPTH + 1, MAX_ANY_DEPTH + 50),
                               st.integers(30_000, 60_000)),
                     st.sampled_from(["array", "object"]))


def _deep_types(depth: int, type_ref: int, through_origins: bool) -> bytes:
    structs = [y.type_item(type_ref, parent="elements", parent_sub="a")]
    for level in range(depth - 1):
        if through_origins:  # a value, then a type placed after it: the parent is inherited
            structs.append(y.any_item([y.any_null()], parent=(1, 2 * level), parent_sub="a"))
            structs.append(y.type_item(type_ref, origin=(1, 2 * level + 1)))
        else:
            structs.append(y.type_item(type_ref, parent=(1, level), parent_sub="a"))
    return y.Update().add(1, 0, structs).encode()


deep_types = st.builds(_deep_types,
                       st.one_of(st.integers(MAX_TYPE_DEPTH, MAX_TYPE_DEPTH + 20),
                                 st.integers(20_000, 40_000)),
                       st.sampled_from([y.Y_MAP, y.Y_ARRAY, y.Y_XML_FRAGMENT]),
                       st.booleans())


def _chain(count: int, kind: str, size: int) -> bytes:
    if kind == "string":
        text = "a" * size
        structs = [y.string_item(text, parent="t")] + [
            y.string_item(text, origin=(1, (i + 1) * size - 1)) for i in range(count - 1)]
    else:
        values = [y.any_string("v" * size)]
        structs = [y.any_item(values, parent="t")] + [
            y.any_item(values, origin=(1, i)) for i in range(count - 1)]
    return y.Update().add(1, 0, structs).encode()


chains = st.builds(_chain, st.integers(8_000, 20_000), st.sampled_from(["string", "any"]),
                   st.integers(8, 16))


def _counts(shape: str, n: int) -> bytes:
    if shape == "client ids":
        update = y.Update()
        for client in range(MAX_CLIENTS + 1 + n):
            update.add(client + 1, 0, [y.string_item("a", parent="t")])
        return update.encode()
    if shape == "gc flood":
        return y.Update().add(1, 0, [y.gc(1) for _ in range(2000 + n)]).encode()
    if shape == "huge string length":
        return y.Update().add(1, 0, [y.Struct(y.STRING, y.var_uint(2**31 + n) + b"abc",
                                              parent="t")]).encode()
    # an Any array claiming billions of values
    return y.Update().add(1, 0, [y.Struct(y.ANY, y.var_uint(1) + b"\x75"
                                          + y.var_uint(2**32 + n), parent="t")]).encode()


counts = st.builds(_counts, st.sampled_from(["client ids", "gc flood", "huge string length",
                                             "huge Any count"]), st.integers(0, 1000))


def _run_fuzz(target, strategy, examples: int = EXAMPLES) -> None:
    server, loop, bystanders, monitor = target
    codes: dict[str, int] = {}

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(strategy)
    def one(update: bytes) -> None:
        code = loop.run(send_update(server.ws_url, update))
        codes[str(code)] = codes.get(str(code), 0) + 1
        assert code == 1007, f"{len(update)}-byte update closed with {code}"

    one()
    loop.run(bystanders.check())
    print(f"close codes: {codes}")
    assert "refused by the pre-check" in server.log()
    finish(server, loop, bystanders, monitor)


def test_item_1_any_values_nested_past_the_limit_are_refused(target):
    _run_fuzz(target, deep_any)


def test_item_2_shared_types_nested_past_the_limit_are_refused(target):
    _run_fuzz(target, deep_types, examples=8)


def test_item_2_nesting_one_level_per_update_stops_at_the_limit_and_export_works(target):
    server, loop, bystanders, monitor = target

    async def nest() -> int | None:
        """One level per update, all on one connection: the server applies them in order
        and closes the connection at the first one past the limit."""
        ws = await websocket_connect(f"{server.ws_url}/{FUZZED}")
        parent: str | tuple[int, int] = "elements"
        with contextlib.suppress(StreamClosedError, WebSocketClosedError):
            for level in range(MAX_TYPE_DEPTH + 5):
                client = 500 + level
                await ws.write_message(create_update_message(y.Update().add(client, 0, [
                    y.type_item(y.Y_MAP, parent=parent, parent_sub="a")]).encode()),
                    binary=True)
                parent = (client, 0)
        while await asyncio.wait_for(ws.read_message(), REPLY_TIMEOUT_S) is not None:
            pass
        return ws.close_code

    assert loop.run(nest(), timeout_s=60) == 1007
    _wait_for_board_row(server, FUZZED)
    for fmt in ("json", "svg"):
        with urllib.request.urlopen(f"{server.base_url}/api/boards/{FUZZED}/export.{fmt}",
                                    timeout=30) as response:
            assert response.status == 200
    finish(server, loop, bystanders, monitor)
    stored = loop.run(_stored_rows(server.db_url, FUZZED))
    assert len(stored) == MAX_TYPE_DEPTH - 1  # every level up to the limit, none past it


def test_item_3_chains_yrs_would_merge_by_copying_are_refused(target):
    _run_fuzz(target, chains, examples=6)


def test_item_3_counts_and_lengths_are_bounded(target):
    _run_fuzz(target, counts, examples=8)


def test_item_18_clock_squatting_is_refused_and_the_victim_keeps_editing(target):
    server, loop, bystanders, monitor = target

    async def attack() -> list[int | None]:
        victim = YClient(f"{server.ws_url}/{FUZZED}")
        watcher = YClient(f"{server.ws_url}/{FUZZED}")
        await victim.sync()
        await watcher.sync()
        try:
            me = victim.doc.client_id
            # As every stock provider does: its presence names its document's client id.
            await victim.set_presence(me, 1, {"user": {"name": "victim"}})
            await victim.put("v1", "first")
            await watcher.wait_for(lambda: watcher.elements.get("v1") == "first"
                                   and me in watcher.present(), REPLY_TIMEOUT_S)
            clock = _clock_of(victim.doc, me)
            codes = [
                await send_update(server.ws_url, y.Update().add(me, clock, [y.gc(50)])
                                  .encode()),
                await send_update(server.ws_url, y.Update().add(me, clock, [
                    y.string_item("x", parent="t")]).encode()),
                await send_update(server.ws_url, y.Update().delete(me, clock, 50).encode()),
                await send_update(server.ws_url, y.Update().add(me + 1, 0, [y.gc(1)])
                                  .delete(me, 0, clock + 5).encode()),
            ]
            await victim.put("v2", "second")  # the next clocks: must reach the others
            await watcher.wait_for(lambda: watcher.elements.get("v2") == "second",
                                   REPLY_TIMEOUT_S, what="the victim's edit after the attack")
            return codes
        finally:
            victim.close()
            watcher.close()

    codes = loop.run(attack(), timeout_s=60)
    assert codes == [1007, 1007, 1007, 1007]
    assert "clock squatting" in server.log()
    finish(server, loop, bystanders, monitor)


def test_item_18_a_reconnecting_client_keeps_its_client_id_and_offline_edits(target):
    server, loop, bystanders, monitor = target

    async def reconnect() -> dict:
        doc = Doc()
        first = YClient(f"{server.ws_url}/{FUZZED}", doc=doc)
        await first.sync()
        await first.put("online", 1)
        await asyncio.sleep(0)
        first.close()
        await first.wait_closed()
        doc.get("elements", type=Map)["offline"] = 2  # made while disconnected
        again = YClient(f"{server.ws_url}/{FUZZED}", doc=doc)  # same doc: same client id
        await again.sync()  # its step 2 carries the offline edit
        other = YClient(f"{server.ws_url}/{FUZZED}")
        await other.sync()
        try:
            await other.wait_for(lambda: other.elements.get("offline") == 2, REPLY_TIMEOUT_S)
            await again.put("live", 3)
            await other.wait_for(lambda: other.elements.get("live") == 3, REPLY_TIMEOUT_S)
            return {"closed": again.close_code}
        finally:
            again.close()
            other.close()

    assert loop.run(reconnect(), timeout_s=60) == {"closed": None}
    finish(server, loop, bystanders, monitor)


def _wait_for_board_row(server, board: str) -> None:
    """Export answers 404 until the board's row is written (with the next group commit)."""
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{server.base_url}/api/boards/{board}/export.json",
                                        timeout=30):
                return
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        time.sleep(0.1)
    raise AssertionError(f"board {board} has no row after 30 s")


def _clock_of(doc: Doc, client: int) -> int:
    from tests.yclient import state_vector
    return state_vector(doc).get(client, 0)


def test_poisoned_rows_stored_before_the_check_are_skipped_at_load_and_export(
        server_process, tmp_path):
    """A SQLite file seeded through the store API (bypassing the check) with a deep map, a
    deep Any and a merge chain between good rows: the board loads with them skipped and
    logged, a client sees the good content, export works, compaction drops them."""
    db = f"sqlite+aiosqlite:///{tmp_path}/poisoned.db"
    good = Doc()
    updates: list[bytes] = []
    good.observe(lambda event: updates.append(event.update))
    good.get("elements", type=Map)["before"] = Map({"type": "rect", "x": 1, "y": 2})
    poisoned = [y.deep_map_update(20_000, client=77), y.deep_any_update(30_000, client=78),
                y.chain_update(16_000, client=79)]
    good.get("elements", type=Map)["after"] = Map({"type": "rect", "x": 3, "y": 4})

    async def seed() -> None:
        store = await open_store(db)
        try:
            await store.create_board("poisoned")
            await store.append_updates({"poisoned": [updates[0], *poisoned, updates[1]]})
        finally:
            await store.close()

    asyncio.run(seed())
    server = server_process(db=db, compact_after_updates=3)
    with urllib.request.urlopen(f"{server.base_url}/api/boards/poisoned/export.json",
                                timeout=60) as response:
        exported = json.loads(response.read())
    assert {e["id"] for e in exported["elements"]} == {"before", "after"}
    with urllib.request.urlopen(f"{server.base_url}/api/boards/poisoned/export.svg",
                                timeout=60) as response:
        assert response.status == 200
    log = server.log()
    skipped = [line for line in log.splitlines()
               if " WARNING " in line and "is skipped: update refused by the pre-check" in line]
    for reason in ("shared types nested deeper", "Any value nested deeper",
                   "merge by repeated copying"):
        assert any(reason in line for line in skipped), log[-3000:]

    async def join() -> dict:
        client = YClient(f"{server.ws_url}/poisoned")
        await client.sync()
        try:
            await client.put("later", 5)  # a new row: compaction runs and drops the poison
            return client.snapshot()
        finally:
            client.close()

    snapshot = asyncio.run(join())
    assert {"before", "after", "later"} <= set(snapshot)

    async def compacted() -> list[bytes]:  # the new row passes the threshold: compaction
        for _ in range(300):
            rows = await _stored_rows(db, "poisoned")
            if len(rows) <= 2:  # the snapshot, perhaps a row committed after it
                return rows
            await asyncio.sleep(0.1)
        raise AssertionError(f"no compaction within 30 s: {len(rows)} rows")

    rows = asyncio.run(compacted())
    assert server.proc.poll() is None
    assert server.stop() == 0
    rows = asyncio.run(_stored_rows(db, "poisoned"))
    shape = TypeDepths()
    for row in rows:
        shape.record(check_update(row, shape))
    doc = Doc()
    for row in rows:
        doc.apply_update(row)
    assert {"before", "after", "later"} <= set(json.loads(str(doc.get("elements", type=Map))))


def test_item_1_an_import_holding_a_value_nested_past_the_limit_gets_400(target):
    server, loop, bystanders, monitor = target
    nested: Any = 1
    for _ in range(MAX_ANY_DEPTH + 5):
        nested = [nested]
    body = json.dumps({"schemaVersion": 1, "meta": {}, "elements": [
        {"id": "deep", "type": "rect", "x": 0, "y": 0, "w": 10, "h": 10, "extra": nested}]})
    request = urllib.request.Request(f"{server.base_url}/api/boards/{FUZZED}/import",
                                     data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert "nested deeper" in json.loads(refused.value.read())["detail"]
    finish(server, loop, bystanders, monitor)


def _hooks(names: list[str], client: int) -> bytes:
    """``Y.XmlHook`` types named ``names``, one after another in an XML fragment."""
    structs = [y.type_item(y.Y_XML_HOOK, names[0], parent="prose")]
    structs += [y.type_item(y.Y_XML_HOOK, name, origin=(client, i))
                for i, name in enumerate(names[1:])]
    return y.Update().add(client, 0, structs).encode()


def _nested_hooks(depth: int, client: int) -> bytes:
    """``Y.XmlHook`` types each inside the one before (a hook is a map: its entries)."""
    structs = [y.type_item(y.Y_XML_HOOK, "h", parent="prose")]
    structs += [y.type_item(y.Y_XML_HOOK, "h", parent=(client, level), parent_sub="k")
                for level in range(depth - 1)]
    return y.Update().add(client, 0, structs).encode()


def test_item_19_5_hostile_xml_hooks_are_refused_and_the_bounds_hold(target):
    """``Y.XmlHook`` is kept (issue 19 item 5) within its bounds: a name over
    ``MAX_HOOK_NAME_BYTES`` and a board past ``MAX_HOOKS`` get 4422, hooks nested past
    ``MAX_TYPE_DEPTH`` 1007; a flood of hooks at the longest name stops at the bound."""
    server, loop, bystanders, monitor = target
    clients = itertools.count(1000)
    long_name = "n" * (MAX_HOOK_NAME_BYTES + 1)
    assert loop.run(send_update(server.ws_url, _hooks([long_name], next(clients)))) == 4422
    assert loop.run(send_update(server.ws_url, _hooks(["h"] * (MAX_HOOKS + 1),
                                                      next(clients)))) == 4422
    for depth in (MAX_TYPE_DEPTH + 1, 30_000):
        assert loop.run(send_update(server.ws_url, _nested_hooks(depth, next(clients)))) == 1007
    longest = "n" * MAX_HOOK_NAME_BYTES
    codes = [loop.run(send_update(server.ws_url, _hooks([longest] * 100, next(clients))))
             for _ in range(MAX_HOOKS // 100 + 2)]
    assert codes == [None] * (MAX_HOOKS // 100) + [4422, 4422]  # the board holds MAX_HOOKS
    loop.run(bystanders.check())
    finish(server, loop, bystanders, monitor)
