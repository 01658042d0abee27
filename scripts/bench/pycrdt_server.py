"""pycrdt-websocket 0.16.5 as a benchmark competitor.

Its stock pieces only: ``ASGIServer`` + ``WebsocketServer`` under Hypercorn, each room persisted
with pycrdt-store's ``SQLiteYStore`` (one database file, one store per room, loaded before the
room serves its first client; a room is deleted when its last client leaves, as pycrdt-websocket
does by default). Each room is loaded and started once, however many clients join at once:
the stock ``get_room`` lets concurrent first joiners start one room twice, and all but one of them
then hang until the client's 30 s timeout. The database tables are created once at start.

Run: ``python scripts/bench/pycrdt_server.py --port 8001 --db /tmp/y.db``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from hypercorn.asyncio import serve
from hypercorn.config import Config
from pycrdt import Doc
from pycrdt.store import SQLiteYStore, YDocNotFound
from pycrdt.websocket import ASGIServer, WebsocketServer, YRoom
from pycrdt.websocket.websocket_server import exception_logger


class StoredWebsocketServer(WebsocketServer):
    """A WebsocketServer whose rooms load from and write to one SQLite database."""

    def __init__(self, db_path: str) -> None:
        super().__init__(exception_handler=exception_logger)
        self._store_class = type("BenchYStore", (SQLiteYStore,), {"db_path": db_path})
        self._loading: dict[str, asyncio.Future[YRoom]] = {}

    async def create_database(self) -> None:
        """Create the tables once, before serving: every SQLiteYStore creates them when the
        file is new, and rooms opened at the same moment then race ("table yupdates already
        exists")."""
        assert self._task_group is not None
        store = self._store_class(path="", log=self.log)
        await self._task_group.start(store.start)
        assert store.db_initialized is not None
        await store.db_initialized.wait()
        await store.stop()

    async def get_room(self, name: str) -> YRoom:
        """The room for ``name``, loaded once however many clients join at the same time."""
        room = self.rooms.get(name)
        if room is None:
            loading = self._loading.get(name)
            if loading is None:
                loading = asyncio.ensure_future(self._load_room(name))
                self._loading[name] = loading
                loading.add_done_callback(lambda _: self._loading.pop(name, None))
            room = await asyncio.shield(loading)
        return room

    async def delete_room(self, *, name: str | None = None, room: YRoom | None = None) -> None:
        """Delete the room and stop its store."""
        target = room if room is not None else self.rooms[name]
        await super().delete_room(name=name, room=room)
        if target.ystore is not None:
            await target.ystore.stop()

    async def _load_room(self, name: str) -> YRoom:
        assert self._task_group is not None
        store = self._store_class(path=name, log=self.log)
        await self._task_group.start(store.start)
        ydoc = Doc()
        with contextlib.suppress(YDocNotFound):  # a new board
            await store.apply_updates(ydoc)
        room = YRoom(ready=True, ystore=store, ydoc=ydoc,
                     exception_handler=exception_logger, log=self.log)
        self.rooms[name] = room
        await self.start_room(room)
        return room


async def _main(host: str, port: int, db_path: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.accesslog = None
    async with StoredWebsocketServer(db_path) as websocket_server:
        await websocket_server.create_database()
        await serve(ASGIServer(websocket_server), config, shutdown_trigger=stop.wait)


def main() -> None:
    """Parse flags and serve until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True, help="SQLite file path")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_main(args.host, args.port, args.db))


if __name__ == "__main__":
    main()
