#!/usr/bin/env python3
"""Write the upgrade-test fixtures with the code of a given syncboard checkout.

The fixtures in ``tests/upgrade/fixtures/`` were written by the code of main at 5443297, the last
commit before Alembic (its ``open_store`` made the tables with ``create_all`` and no
``alembic_version``). To write them again with that code::

    git worktree add /tmp/pre-alembic 5443297
    .venv/bin/python tests/upgrade/make_fixture_db.py --code /tmp/pre-alembic \\
        --sqlite tests/upgrade/fixtures/pre_alembic.db \\
        --postgresql postgresql+asyncpg://postgres@127.0.0.1:5432/syncboard_fixture \\
        --pg-dump tests/upgrade/fixtures/pre_alembic.postgresql.sql \\
        --expected tests/upgrade/fixtures/pre_alembic.expected.json

What it writes, through that code's own ``Store`` (nothing by hand): four boards covering a
snapshot plus a log tail, a log never compacted, links rotated once and twice, an empty board;
every element type; two images; and the export JSON of every board as that code produced it,
plus tokens signed with ``FIXTURE_SECRET`` (current and revoked), in the expected file.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

FIXTURE_SECRET = "upgrade-fixture-secret-not-for-production"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", required=True, help="the syncboard checkout to write with")
    parser.add_argument("--sqlite", help="SQLite file to create (must not exist)")
    parser.add_argument("--postgresql", help="PostgreSQL URL of a database to create")
    parser.add_argument("--pg-dump", help="where to write pg_dump's SQL of that database")
    parser.add_argument("--expected", required=True, help="expected-export JSON to write")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.code).resolve()))
    expected = None
    if args.sqlite:
        if Path(args.sqlite).exists():
            parser.error(f"{args.sqlite} exists")
        expected = asyncio.run(write_boards(f"sqlite+aiosqlite:///{args.sqlite}"))
    if args.postgresql:
        _recreate_pg_database(args.postgresql)
        pg_expected = asyncio.run(write_boards(args.postgresql))
        expected = expected or pg_expected
        if args.pg_dump:
            dump = subprocess.run(["pg_dump", "--no-owner", "--no-privileges",
                                   _libpq_url(args.postgresql)],
                                  check=True, capture_output=True, text=True).stdout
            Path(args.pg_dump).write_text(dump)
    assert expected is not None, "give --sqlite or --postgresql"
    Path(args.expected).write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return 0


def png(rgb: tuple[int, int, int], size: int = 4) -> bytes:
    """A tiny solid PNG written by hand (no dependency of the old code needed)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (len(body).to_bytes(4, "big") + kind + body
                + zlib.crc32(kind + body).to_bytes(4, "big"))
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    header = size.to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def every_element_board(image_ids: list[str]) -> dict[str, Any]:
    """One element of every type, with the optional fields set."""
    return {"meta": {"title": "every type", "background": "#fafafa", "gridEnabled": True,
                     "gridSize": 25}, "elements": [
        {"id": "rect1", "type": "rect", "x": 0, "y": 0, "w": 100, "h": 60, "z": "a0",
         "fill": "#ff0000", "stroke": "#000000", "strokeWidth": 2, "angle": 0.5},
        {"id": "ellipse1", "type": "ellipse", "x": 150, "y": 0, "w": 100, "h": 60, "z": "a1",
         "fill": "#0000ff", "opacity": 0.5},
        {"id": "stroke1", "type": "stroke", "x": 0, "y": 100, "z": "a2", "stroke": "#00aa00",
         "strokeWidth": 6, "points": [0, 0, 20, 20, 40, 0, 60, 20]},
        {"id": "line1", "type": "line", "x": 100, "y": 100, "z": "a3", "points": [0, 0, 80, 0]},
        {"id": "arrow1", "type": "arrow", "x": 200, "y": 100, "z": "a4",
         "points": [0, 0, 80, 40], "arrowStart": True, "arrowEnd": True},
        {"id": "text1", "type": "text", "x": 0, "y": 160, "w": 200, "h": 25, "z": "a5",
         "text": "Hello, board — ünïcödé ✓", "fontSize": 20},
        {"id": "sticky1", "type": "sticky", "x": 250, "y": 160, "w": 160, "h": 120, "z": "a6",
         "fill": "#ffee00", "text": "A sticky note with several words to wrap", "fontSize": 16},
        *({"id": f"image{n}", "type": "image", "x": 450, "y": 50 * n, "w": 40, "h": 40,
           "z": f"a{7 + n}", "fileId": file_id} for n, file_id in enumerate(image_ids)),
    ]}


async def write_boards(url: str) -> dict[str, Any]:
    """Fill the database at ``url`` and return what the old code exported from it."""
    from backend.access import Role, TokenSigner
    from backend.board_model import build_import_update
    from backend.export import read_stored_board
    from backend.export.json_export import render_json
    from backend.store import open_store
    from backend.store.store import merge_updates_into_snapshot

    store = await open_store(url)
    signer = TokenSigner(FIXTURE_SECRET.encode())
    try:
        images = {}
        for rgb in ((0, 255, 255), (255, 0, 255)):
            data = png(rgb)
            file_id = hashlib.sha256(data).hexdigest()
            await store.save_file(file_id, "image/png", data)
            images[file_id] = {"mime": "image/png", "sha256": file_id, "bytes": len(data)}

        async def write(board_id: str, data: dict[str, Any]) -> None:
            base = merge_updates_into_snapshot(await store.load_updates(board_id))
            await store.append_updates({board_id: [build_import_update(data, base)]})

        ids = sorted(images)
        # A snapshot plus a log tail: compacted, then edited again (an element replaced).
        await write("every-type", every_element_board(ids))
        await store.compact("every-type")
        await write("every-type", {"elements": [
            {"id": "rect1", "type": "rect", "x": 10, "y": 5, "w": 90, "h": 50, "z": "a0",
             "fill": "#00ff00"}]})
        # A log never compacted, links rotated twice.
        for n in range(5):
            await write("log-only", {"elements": [
                {"id": f"s{n}", "type": "stroke", "x": n * 10, "y": 0, "z": f"b{n}",
                 "points": [0, 0, 5, 5 + n]}]})
        await store.rotate_tokens("log-only")
        await store.rotate_tokens("log-only")
        # Images only, links rotated once, compacted twice.
        await write("images", {"meta": {"title": "images"}, "elements": [
            {"id": f"img{n}", "type": "image", "x": 0, "y": 60 * n, "w": 50, "h": 50,
             "z": f"c{n}", "fileId": file_id} for n, file_id in enumerate(ids)]})
        await store.compact("images")
        await write("images", {"elements": [
            {"id": "note", "type": "sticky", "x": 100, "y": 0, "w": 80, "h": 80, "z": "c9",
             "text": "caption"}]})
        await store.compact("images")
        await store.rotate_tokens("images")
        # A board that exists with nothing drawn.
        await store.create_board("empty-board")

        boards = {}
        for info in await store.list_boards():
            generation = await store.token_generation(info.board_id)
            content = await read_stored_board(store, info.board_id)
            boards[info.board_id] = {
                "export": json.loads(render_json(content)),
                "update_count": info.update_count,
                "token_generation": generation,
                "tokens": {
                    "edit": signer.issue(info.board_id, Role.EDIT, generation),
                    "view": signer.issue(info.board_id, Role.VIEW, generation),
                    "revoked": [signer.issue(info.board_id, Role.EDIT, old)
                                for old in range(generation)],
                },
            }
        return {"secret": FIXTURE_SECRET, "boards": boards, "files": images}
    finally:
        await store.close()


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _recreate_pg_database(url: str) -> None:
    base, _, name = _libpq_url(url).rpartition("/")
    for sql in (f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", "-q", f"{base}/postgres", "-c", sql], check=True)


if __name__ == "__main__":
    sys.exit(main())
