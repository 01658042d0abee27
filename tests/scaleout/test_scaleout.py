"""Several syncboard processes on one Redis and one PostgreSQL: nothing is lost between them.

Every test starts real ``python -m backend`` processes (``cluster`` fixture) and talks to them
with real Yjs clients; the board id is unique per run since Redis is shared.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pycrdt import Doc, Map
from tornado.websocket import WebSocketClosedError

from backend.protocol import CloseCode
from backend.store import open_store
from tests.faults.clients import wait_until
from tests.scaleout.conftest import board_name
from tests.server_process import ServerProcess, free_port
from tests.services import reachable
from tests.yclient import YClient


async def join(server: ServerProcess, board_id: str, doc: Doc | None = None) -> YClient:
    """A synced client of ``board_id`` on ``server`` (``doc``: bring an existing copy)."""
    return await YClient(f"{server.ws_url}/{board_id}", doc=doc).sync()


async def converge(clients: list[YClient], expected: dict, timeout_s: float = 15) -> None:
    """Wait until every client holds exactly ``expected``."""
    for client in clients:
        await client.wait_for(lambda c=client: c.snapshot() == expected, timeout_s,
                              f"{client.url} to hold {len(expected)} elements "
                              f"(has {len(client.snapshot())})")


def metric(server: ServerProcess, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` with ``labels`` in ``server``'s ``/metrics``."""
    with urllib.request.urlopen(f"{server.base_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == name and all(sample.labels.get(k) == v
                                              for k, v in labels.items()))


def cut_redis_connections(redis_admin, server: ServerProcess) -> int:
    """CLIENT KILL every Redis connection of ``server``'s process; return how many."""
    killed = 0
    for client in redis_admin.client_list():
        name = client.get("name", "")
        if name.startswith("syncboard:") and f":{server.proc.pid}:" in name:
            killed += redis_admin.client_kill_filter(_id=client["id"])
    return killed


async def put_or_keep(client: YClient, key: str, value) -> None:
    """Edit and send; if the connection is gone, keep the edit locally (as a provider does
    offline): it goes out with the next sync."""
    try:
        await client.put(key, value)
    except WebSocketClosedError:
        with client.doc.transaction():
            client.elements[key] = value


async def keep_cutting(redis_admin, server: ServerProcess, duration_s: float) -> int:
    """Cut ``server``'s Redis connections over and over for ``duration_s``."""
    killed = 0
    deadline = time.monotonic() + duration_s
    while time.monotonic() < deadline:
        killed += cut_redis_connections(redis_admin, server)
        await asyncio.sleep(0.02)
    return killed


def close_all(clients: list[YClient]) -> None:
    for client in clients:
        client.close()


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_clients_spread_over_three_instances_converge_and_late_joiners_get_everything(
        cluster):
    servers = cluster(3)
    board = board_name("converge")
    clients = [await join(servers[i % 3], board) for i in range(6)]
    try:
        expected = {}
        for round_number in range(10):
            for index, client in enumerate(clients):
                key = f"c{index}-r{round_number}"
                expected[key] = {"by": index, "round": round_number}
                await client.put(key, expected[key])
        await converge(clients, expected)
        late = [await join(server, board) for server in servers]
        clients += late
        assert [c.snapshot() for c in late] == [expected] * 3
        await clients[0].set_presence(4242, 1, {"name": "ada"})
        for client in clients[1:]:
            await client.wait_for(lambda c=client: 4242 in c.present(), 10, "ada's presence")
    finally:
        close_all(clients)
    assert sum(metric(s, "syncboard_broker_delivered_total", kind="update") for s in servers) > 0


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_instance_killed_mid_edit_its_clients_reconnect_elsewhere_with_nothing_lost(
        cluster):
    servers = cluster(3, flush_delay_ms=2000)  # the victim holds uncommitted updates
    board = board_name("kill9")
    alice, bob, carol = [await join(server, board) for server in servers]
    clients = [alice, bob, carol]
    expected = {}
    try:
        for i in range(30):
            for name, client in zip("abc", clients, strict=True):
                expected[f"{name}{i}"] = i
                await put_or_keep(client, f"{name}{i}", i)
            if i == 15:
                servers[1].kill()  # bob's instance dies while everyone is editing
        await bob.wait_closed()
        for i in range(30, 40):  # bob keeps drawing offline
            expected[f"b{i}"] = i
            with bob.doc.transaction():
                bob.elements[f"b{i}"] = i
        bob = await join(servers[2], board, doc=bob.doc)  # his provider reconnects elsewhere
        clients[1] = bob
        await converge(clients, expected)
        late = await join(servers[0], board)
        clients.append(late)
        assert late.snapshot() == expected
    finally:
        close_all(clients)
    servers[0].stop()
    servers[2].stop()  # flush everything; a fresh instance reads only the database
    servers[1].start()
    fresh = await join(servers[1], board)
    try:
        assert fresh.snapshot() == expected
    finally:
        fresh.close()


@pytest.mark.gen_test(timeout=90)
async def test_redis_connection_cut_and_restored_loses_nothing(cluster, redis_admin):
    servers = cluster(2)
    board = board_name("cut")
    alice, bob = await join(servers[0], board), await join(servers[1], board)
    expected = {}
    try:
        cutting = asyncio.ensure_future(keep_cutting(redis_admin, servers[1], 1.5))
        for i in range(60):
            expected[f"a{i}"], expected[f"b{i}"] = i, i
            await alice.put(f"a{i}", i)
            await bob.put(f"b{i}", i)
            await asyncio.sleep(0.02)
        assert await cutting > 0
        await converge([alice, bob], expected)
    finally:
        close_all([alice, bob])
    assert metric(servers[1], "syncboard_broker_errors_total") > 0


@pytest.mark.slow
@pytest.mark.gen_test(timeout=90)
async def test_reader_overtaken_by_stream_trimming_resyncs_from_the_database(
        cluster, redis_admin):
    servers = cluster(2, broker_stream_maxlen=10)
    board = board_name("trimmed")
    alice, bob = await join(servers[0], board), await join(servers[1], board)
    expected = {}
    info = {"entries-added": 0, "length": 0}
    os.kill(servers[1].proc.pid, signal.SIGSTOP)  # bob's instance stalls (a long GC, a VM pause)
    try:
        # Far more stream entries than the stream keeps (waiting for each echo keeps the room
        # from merging edits into fewer entries).
        for i in range(1000):
            expected[f"a{i}"] = i
            echoes = len(alice.frames)
            await alice.put(f"a{i}", i)
            await alice.wait_for(lambda n=echoes: len(alice.frames) > n, 10, "the echo")
            if i % 50 == 49:
                info = redis_admin.xinfo_stream(f"syncboard:board:{board}")
                if info["entries-added"] - info["length"] >= 250:
                    break
    finally:
        os.kill(servers[1].proc.pid, signal.SIGCONT)
    try:
        await converge([alice, bob], expected, timeout_s=20)
    finally:
        close_all([alice, bob])
    assert info["entries-added"] - info["length"] >= 250, info
    assert metric(servers[1], "syncboard_broker_resyncs_total") >= 1


MAX_COMPACTION_ROUNDS = 600


@pytest.mark.gen_test(timeout=180)
async def test_concurrent_compaction_from_two_instances_loses_nothing(cluster, pg_url):
    servers = cluster(2, compact_after_updates=5)
    board = board_name("compact")
    alice, bob = await join(servers[0], board), await join(servers[1], board)
    stores = [await open_store(pg_url), await open_store(pg_url)]
    expected = {}
    raced = []
    try:
        # At least 120 rounds, and on until one of the test's compactors found rows to merge
        # (on a fast machine the servers' own compactors may have merged everything first).
        for i in range(MAX_COMPACTION_ROUNDS):
            expected[f"a{i}"], expected[f"b{i}"] = i, i
            await alice.put(f"a{i}", i)
            await bob.put(f"b{i}", i)
            if i % 10 == 9:  # and two more compactors race the servers' own
                raced += await asyncio.gather(*(store.compact(board) for store in stores))
                if i >= 119 and any(result.merged_updates for result in raced):
                    break
        await converge([alice, bob], expected)
        for server in servers:  # the last group commits (compactions change no content)
            await wait_until(lambda s=server: s.health()["pending_updates"] == 0, 20,
                             "the writer to drain")
        stored = Doc()
        for update in await stores[0].load_updates(board):
            stored.apply_update(update)
        assert stored.get("elements", type=Map).to_py() == expected
    finally:
        close_all([alice, bob])
        for store in stores:
            await store.close()
    assert any(result.merged_updates for result in raced)
    attempts = [metric(s, "syncboard_compactions_total") for s in servers]
    assert all(count >= 1 for count in attempts), attempts


def post_json(url: str, token: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, data=b"", method="POST", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.gen_test(timeout=60)
async def test_rotating_links_on_one_instance_closes_old_tokens_on_every_instance(cluster):
    servers = cluster(2, auth="token", secret="scaleout-test-secret-0123456789abcdef")
    created = post_json(f"{servers[0].base_url}/api/boards")
    board, old_token = created["id"], created["editToken"]
    clients = [await YClient(f"{server.ws_url}/{board}?token={old_token}").sync()
               for server in servers]
    try:
        post_json(f"{servers[0].base_url}/api/boards/{board}/rotate", old_token)
        codes = [await client.wait_closed() for client in clients]
    finally:
        close_all(clients)
    assert codes == [CloseCode.WS_4403_FORBIDDEN] * 2


class PrivateRedis:
    """A redis-server of one test (so the test may kill and restart it), on a fixed port."""

    def __init__(self, binary: str, data_dir: Path) -> None:
        self.binary = binary
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        """Start an empty Redis and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not reachable(self.port):
            assert time.monotonic() < deadline and self.proc.poll() is None, "no redis"
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: every stream it held is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    """A started ``PrivateRedis``, killed at teardown."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (needed to restart a Redis)")
    redis_server = PrivateRedis(binary, tmp_path)
    redis_server.start()
    yield redis_server
    redis_server.kill()


@pytest.mark.gen_test(timeout=90)
async def test_a_restarted_redis_that_lost_its_streams_loses_nothing(private_redis, cluster):
    servers = cluster(2, broker=private_redis.url)
    board = board_name("redis-restart")
    alice, bob = await join(servers[0], board), await join(servers[1], board)
    expected = {"before": 0}
    try:
        await alice.put("before", 0)
        await converge([bob], expected)
        os.kill(servers[1].proc.pid, signal.SIGSTOP)  # bob's instance reads nothing for now
        try:
            for i in range(20):  # these reach the first Redis only, and die with it
                expected[f"a{i}"] = i
                await alice.put(f"a{i}", i)
            await asyncio.sleep(0.3)  # published, and committed to the database
            private_redis.kill()
            private_redis.start()  # an empty Redis on the same port
        finally:
            os.kill(servers[1].proc.pid, signal.SIGCONT)
        for i in range(20, 30):
            expected[f"a{i}"] = i
            await alice.put(f"a{i}", i)
        await converge([alice, bob], expected, timeout_s=20)
    finally:
        close_all([alice, bob])
    assert metric(servers[1], "syncboard_broker_resyncs_total") >= 1
