"""A big update applied in parts (``update_parts``) through a real in-process server: whoever
reads the board while some of its parts are in the document (a joiner's sync step 1 and 2,
an export's snapshot, a version) gets the board before the update or with all of it, never
a half; an idle unload waits for the parts of a sender that left.

The test shares the server's event loop, so it runs between the parts and reads the
document's element count there to know when the board is half applied."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc, Map, handle_sync_message

from backend.protocol import MessageType, SyncType
from backend.version_rows import rebuild_state
from tests.offline_session import offline_session
from tests.yclient import YClient, decoded_state_vector, state_vector

ELEMENTS = 3000
"""About 1.1 MiB and 39,000 structs in one step 2: some twenty parts of ``PART_STRUCTS``."""


def _elements(update: bytes) -> int:
    doc = Doc()
    doc.apply_update(update)
    return len(doc.get("elements", type=Map))


def _first(frames: list[bytes], sync_type: SyncType) -> bytes:
    """The first sync frame of ``sync_type`` among ``frames``."""
    return next(f for f in frames if f[0] == MessageType.SYNC and f[1] == sync_type)


def _step2_elements(frame: bytes) -> int:
    """The element count of what a sync step 2 frame carries."""
    doc = Doc()
    handle_sync_message(frame[1:], doc)
    return len(doc.get("elements", type=Map))


@pytest.mark.gen_test(timeout=120)
async def test_readers_during_the_parts_get_the_board_before_or_with_the_whole_update(
        sb_server, yclient):
    server = await sb_server()
    session = offline_session(ELEMENTS, moves=1)
    assert len(session.get_update()) >= server.settings.precheck_worker_bytes
    watcher = await yclient(server, "parts")
    room = server.registry.rooms["parts"]
    raw = room.document.doc.get("elements", type=Map)
    snapshots: list[int] = []
    joiners: list[asyncio.Future] = []
    versions: list[asyncio.Future] = []
    sender = YClient(f"ws://127.0.0.1:{server.port}/ws/parts", session)
    await sender.connect()  # its sync step 2 goes to the worker, then is applied in parts
    while len(watcher.elements) < ELEMENTS:
        if 0 < len(raw) < ELEMENTS:  # between two parts
            snapshots.append(_elements(await server.registry.snapshot("parts")))
            if not joiners:
                joiners.append(asyncio.ensure_future(yclient(server, "parts", sync=False)))
                versions.append(asyncio.ensure_future(
                    server.registry.take_version("parts", "named", "mid")))
        await asyncio.sleep(0)
    assert len(snapshots) >= 3, "the update was not applied in parts"
    assert set(snapshots) <= {0, ELEMENTS}, snapshots
    joiner: YClient = await joiners[0]
    await joiner.wait_for(lambda: joiner.synced.is_set() and
                          len(joiner.elements) == ELEMENTS, 60, "the joiner")
    told = decoded_state_vector(_first(joiner.frames, SyncType.STEP1)[3:])  # server's step 1
    assert told in ({}, state_vector(session)), f"a half state vector: {told}"
    assert _step2_elements(_first(joiner.frames, SyncType.STEP2)) == ELEMENTS
    version = await versions[0]
    assert version.elements in (0, ELEMENTS)
    stored = rebuild_state(await server.store.load_version("parts", version.id))
    assert _elements(stored) == version.elements
    assert state_vector(watcher.doc) == state_vector(session)
    sender.close()


@pytest.mark.gen_test(timeout=120)
async def test_a_server_stopped_during_the_parts_stores_the_update_whole(sb_server, tmp_path):
    db = f"sqlite+aiosqlite:///{tmp_path}/stopped.db"
    server = await sb_server(db=db)
    session = offline_session(ELEMENTS, moves=1)
    watcher = await YClient(f"ws://127.0.0.1:{server.port}/ws/stopped").sync()
    raw = server.registry.rooms["stopped"].document.doc.get("elements", type=Map)
    sender = await YClient(f"ws://127.0.0.1:{server.port}/ws/stopped", session).connect()
    while not 0 < len(raw) < ELEMENTS:
        assert len(watcher.elements) < ELEMENTS, "the update was not applied in parts"
        await asyncio.sleep(0)
    await server.stop()  # between two parts
    again = await sb_server(db=db)
    joiner = await yclient_of(again, "stopped")
    assert state_vector(joiner.doc) == state_vector(session)
    versions = await again.store.list_versions("stopped", 10)
    assert versions and {v.elements for v in versions} <= {0, ELEMENTS}
    for client in (watcher, sender, joiner):
        client.close()


async def yclient_of(server, board_id: str) -> YClient:
    """A synced client of ``board_id`` on ``server``."""
    return await YClient(f"ws://127.0.0.1:{server.port}/ws/{board_id}").sync()
