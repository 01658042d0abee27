"""Command-line exporter: ``python -m backend.export`` (also ``scripts/export_board.py``).

Reads boards straight from the database (``--db URL``, works with the server stopped) or asks a
running server (``--server URL``), and writes JSON, SVG, PNG or PDF files, self-contained
bundles (``--format bundle``: the board and its images, for backups) or Excalidraw scenes.
Exit status 0 when every board was exported, 1 when one failed (one line on stderr naming
it), 2 for bad usage.

Examples::

    scripts/export_board.py --db sqlite+aiosqlite:///data/syncboard.db --all --out-dir backup/
    scripts/export_board.py --server http://127.0.0.1:8000 --board b1 --token VIEW_TOKEN \\
        --format png --out b1.png
    scripts/export_board.py --db sqlite+aiosqlite:///data/syncboard.db --board b1 --out -
    scripts/export_board.py --server http://127.0.0.1:8000 --space SPACE_ID \\
        --token SPACE_TOKEN --out-dir backup/
    scripts/export_board.py --db sqlite+aiosqlite:///data/syncboard.db --all --format bundle \\
        --out-dir backup/
    scripts/export_board.py --db sqlite+aiosqlite:///data/syncboard.db --board b1 \\
        --format pdf --pages frames --out b1.pdf
    scripts/export_board.py --db sqlite+aiosqlite:///data/syncboard.db --board b1 \\
        --format svg --ids shape1,arrow1,shape2 --out selection.svg
    scripts/export_board.py --server http://127.0.0.1:8000 --board b1 --token VIEW_TOKEN \\
        --format png --ids-file selected.txt --out selection.png
    scripts/export_board.py --db sqlite+aiosqlite:///data/syncboard.db --board b1 \\
        --at 2026-12-01T10:00:00Z --out b1-then.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..board_model import BoardContent, read_update
from ..board_names import board_name_problem, safe_filename
from ..cli_args import ArgumentParser
from ..config import Settings, load_settings
from ..history_cli import format_time, parse_time
from ..store import Store, StoreError, open_store
from ..versioning import load_version_state
from . import (
    CARRY_ALL_FILES,
    EXTENSIONS,
    FORMATS,
    PAGE_MODES,
    ExportError,
    ExportOptions,
    Images,
    NotOnBoard,
    export_file,
    load_files,
    load_images,
    parse_background,
    parse_frame,
    parse_ids,
    parse_pages,
    parse_region,
    parse_scale,
    read_stored_board,
)
from .raster_pool import RasterError, RasterPool
from .selection import MAX_POSTED_IDS
from .space_export import SpaceExportFailed, space_from_server, space_from_store, write_manifest

HTTP_TIMEOUT_S = 120.0


class BoardFailed(Exception):
    """One board could not be exported; the message names it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the exporter; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        options = ExportOptions(
            background="transparent" if args.transparent else parse_background(args.background),
            region=parse_region(args.region), scale=parse_scale(args.scale),
            pages=parse_pages(args.pages),
            comments=args.comments,
            frame=parse_frame(args.frame), ids=parse_ids(_ids_text(args), MAX_POSTED_IDS))
    except ExportError as exc:
        parser.error(str(exc))
    if args.out is not None and (args.all or args.space or len(args.board) != 1):
        parser.error("--out takes one board; use --out-dir for several")
    if args.all and args.server:
        parser.error("--all needs --db (the server has no board listing)")
    if args.all and (args.version is not None or args.at is not None):
        parser.error("--version and --at take one board at a time (--board)")
    try:
        return asyncio.run(_run(args, options))
    except (StoreError, BoardFailed, SpaceExportFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser behind ``--help``."""
    parser = ArgumentParser(  # ids and tokens may start with "-": see backend/cli_args.py
        prog="export_board.py",
        description="Export syncboard boards as JSON, SVG, PNG, PDF, bundle or Excalidraw.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:" + __doc__.split("::")[1])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", metavar="URL",
                        help="read the database directly (SQLAlchemy async URL)")
    source.add_argument("--server", metavar="URL", help="ask a running server (http://host:port)")
    parser.add_argument("--token", metavar="TOKEN",
                        help="with --server: a view or edit token of the board, or the admin "
                             "token (not needed when the server runs with --auth none)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--board", metavar="ID", action="append", default=[],
                       help="board to export (repeatable)")
    which.add_argument("--all", action="store_true", help="every board in the database")
    which.add_argument("--space", metavar="ID",
                       help="every board of a team space (outside its trash), plus a manifest "
                            "space-<id>.json; with --server, --token is a token of the space")
    parser.add_argument("--format", choices=FORMATS, default="json",
                        help="default: json; bundle = the board and its images in one file "
                             "(a backup import_board.py restores); excalidraw = a .excalidraw "
                             "scene")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--out", metavar="FILE", help="output file for one board; - for stdout")
    out.add_argument("--out-dir", metavar="DIR", default=".",
                     help="folder for <board>.<format> files (default: .)")
    paint = parser.add_mutually_exclusive_group()
    paint.add_argument("--background", metavar="COLOUR",
                       help="background colour (default: the board's own)")
    paint.add_argument("--transparent", action="store_true", help="no background")
    parser.add_argument("--region", metavar="X,Y,W,H",
                        help="export this area (board units) instead of fitting the content")
    parser.add_argument("--scale", metavar="N", help="PNG pixels per board unit (default: 1)")
    parser.add_argument("--pages", choices=PAGE_MODES,
                        help="PDF: one page fitted to the content (default) or one per frame")
    parser.add_argument("--comments", action="store_true",
                        help="SVG/PNG: draw open comment threads as pins")
    part = parser.add_mutually_exclusive_group()
    part.add_argument("--frame", metavar="ID",
                      help="export one frame (element id) and what it holds, framed by its box")
    part.add_argument("--ids", metavar="ID,ID,...",
                      help="export only these elements (a selection; labels come with their "
                           "shapes), fitted to them; other elements in their box are left "
                           f"out. At most {MAX_POSTED_IDS} ids (a whole board); with --server "
                           "they are posted in the request's body")
    part.add_argument("--ids-file", metavar="FILE",
                      help="as --ids, the ids read from FILE (- for stdin), separated by "
                           "commas, spaces or new lines")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    past = parser.add_mutually_exclusive_group()
    past.add_argument("--version", metavar="VID", type=int,
                      help="export this version of the board (scripts/history.py list shows "
                           "them; with --server an edit token is needed)")
    past.add_argument("--at", metavar="TIME", type=parse_time,
                      help="export the newest version made at or before TIME "
                           "(2026-12-01T10:00:00Z, or Unix seconds)")
    return parser


async def _run(args: argparse.Namespace, options: ExportOptions) -> int:
    if args.db:
        # The same limits as the server (SYNCBOARD_* variables or the defaults): images and
        # canvas checked before decoding, PNG rendered in a worker process with a time and
        # memory cap.
        settings = load_settings([])
        store = await _open_existing(args.db)
        raster = RasterPool.from_settings(settings)
        try:
            if args.space:
                listing = await space_from_store(store, args.space)
                return await _export_space(listing, args, lambda entry: _from_store(
                    store, entry.board_id, args, options, raster, settings))
            board_ids = [b.board_id for b in await store.list_boards()] if args.all \
                else args.board
            return await _export_all(board_ids, args, lambda b: _from_store(
                store, b, args, options, raster, settings))
        finally:
            await raster.close()
            await store.close()
    if args.space:
        listing = await asyncio.to_thread(space_from_server, args.server, args.space,
                                          args.token)
        return await _export_space(listing, args, lambda entry: _from_server(
            args.server, entry.board_id, args.format, options, entry.token, args))
    return await _export_all(args.board, args,
                             lambda b: _from_server(args.server, b, args.format, options,
                                                    args.token, args))


async def _export_space(listing, args: argparse.Namespace, fetch) -> int:
    """Export every board of a space (``_export_all``, progress bar included), then write
    its manifest naming the file of each board that was written."""
    entries = {entry.board_id: entry for entry in listing.boards}
    written: dict[str, str] = {}

    async def fetch_and_note(board_id: str) -> bytes:
        data = await fetch(entries[board_id])
        written[board_id] = safe_filename(board_id, args.format)
        return data
    status = await _export_all(list(entries), args, fetch_and_note)
    write_manifest(listing, written, Path(args.out_dir))
    return status


async def _export_all(board_ids: list[str], args: argparse.Namespace,
                      fetch: Callable[[str], Awaitable[bytes]]) -> int:
    progress = _Progress(len(board_ids), enabled=not args.quiet and args.out != "-"
                         and len(board_ids) > 1 and sys.stderr.isatty())
    failed = 0
    for index, board_id in enumerate(board_ids):
        progress.show(index, board_id)
        try:
            data = await fetch(board_id)
            _write(data, board_id, args)
        except BoardFailed as exc:
            progress.clear()
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    progress.show(len(board_ids), "")
    progress.clear()
    return 1 if failed else 0


async def _open_existing(url: str) -> Store:
    """Open the store without creating a new SQLite file for a mistyped path."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database).expanduser()
        if not path.is_file():
            raise StoreError(f"database file {str(path)!r} (from {url!r}) does not exist")
    return await open_store(url)


async def _from_store(store: Store, board_id: str, args: argparse.Namespace,
                      options: ExportOptions, raster: RasterPool, settings: Settings) -> bytes:
    if not _valid_board_id(board_id):
        raise BoardFailed(f"board {board_id!r}: not a valid board id")
    try:
        if args.version is not None or args.at is not None:
            content = await _read_stored_version(store, board_id, args)
        else:
            content = await read_stored_board(store, board_id)
    except ValueError as exc:
        raise BoardFailed(f"board {board_id!r}: stored data cannot be decoded: {exc}") from None
    if content is None:
        raise BoardFailed(f"board {board_id!r}: no such board")
    if args.format in CARRY_ALL_FILES:
        images = Images(found=await load_files(store, content))
    else:
        images = await load_images(store, content, settings.max_image_pixels) \
            if args.format != "json" else Images()
    for file_id, reason in images.skipped.items():
        print(f"warning: board {board_id!r}: image {file_id} left out: {reason}",
              file=sys.stderr)
    try:
        return await export_file(content, args.format, raster, options, images.found,
                                 settings.max_export_pixels)
    except (RasterError, NotOnBoard) as exc:
        raise BoardFailed(f"board {board_id!r}: {exc}") from None


async def _read_stored_version(store: Store, board_id: str,
                               args: argparse.Namespace) -> BoardContent | None:
    """``--version`` / ``--at`` of a board read from the database (None: no such board).
    Raises ``BoardFailed`` when the board has no such version."""
    if await store.board_info(board_id) is None:
        return None
    info = await store.get_version(board_id, args.version) if args.version is not None \
        else await store.version_at(board_id, args.at)
    state = await load_version_state(store, board_id, info.id) if info is not None else None
    if state is None:
        raise BoardFailed(f"board {board_id!r}: {_no_version(args)}")
    return read_update(state)


def _no_version(args: argparse.Namespace) -> str:
    return f"no version {args.version}" if args.version is not None else \
        f"no version at or before {format_time(args.at)}"


def _ids_text(args: argparse.Namespace) -> str | None:
    """The ``--ids`` value, or the ids of ``--ids-file`` joined by commas. Raises
    ``ExportError`` for a file that cannot be read or names no id."""
    if args.ids_file is None:
        return args.ids
    try:
        text = sys.stdin.read() if args.ids_file == "-" else \
            Path(args.ids_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"--ids-file: cannot read {args.ids_file}: {exc}") from None
    ids = ",".join(part for part in re.split(r"[\s,]+", text) if part)
    if not ids:
        raise ExportError(f"--ids-file: {args.ids_file} names no element id")
    return ids


async def _from_server(server: str, board_id: str, fmt: str, options: ExportOptions,
                       token: str | None, args: argparse.Namespace) -> bytes:
    if not _valid_board_id(board_id):
        raise BoardFailed(f"board {board_id!r}: not a valid board id")
    board_url = f"{server.rstrip('/')}/api/boards/{urllib.parse.quote(board_id, safe='')}"
    if args.at is not None:
        found = await asyncio.to_thread(_http_fetch, f"{board_url}/versions/at/{args.at}",
                                        board_id, token, _no_version(args))
        board_url += f"/versions/{json.loads(found)['id']}"
    elif args.version is not None:
        board_url += f"/versions/{args.version}"
    query: dict[str, object] = {"scale": options.scale, "pages": options.pages}
    if options.background:
        query["background"] = options.background
    if options.region:
        query["region"] = ",".join(map(str, options.region))
    if options.comments:
        query["comments"] = "1"
    if options.frame:
        query["frame"] = options.frame
    body = None
    if options.ids:  # any number, where a URL holds MAX_IDS
        body = json.dumps({"ids": sorted(options.ids)}).encode()
    url = f"{board_url}/export.{fmt}?" + urllib.parse.urlencode(query)
    missing = "no such board" if args.version is None else \
        f"no such board or no version {args.version}"
    return await asyncio.to_thread(_http_fetch, url, board_id, token, missing, body)


def _http_fetch(url: str, board_id: str, token: str | None,
               missing: str = "no such board", body: bytes | None = None) -> bytes:
    """GET ``url`` (with ``body``: POST it as JSON); the answer's bytes. Raises
    ``BoardFailed`` naming the board and what went wrong."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers),
                                    timeout=HTTP_TIMEOUT_S) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:  # a posted selection's 404 may be the ids', not the board's
            reason = _error_detail(exc) if body is not None else missing
        else:
            reason = f"server answered {exc.code}: {_error_detail(exc)}"
        raise BoardFailed(f"board {board_id!r}: {reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise BoardFailed(f"board {board_id!r}: cannot reach {url}: {exc}") from None


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read()).get("detail") or exc.reason
    except ValueError:
        return exc.reason


def _write(data: bytes, board_id: str, args: argparse.Namespace) -> None:
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    path = Path(args.out) if args.out else \
        Path(args.out_dir) / safe_filename(board_id, EXTENSIONS[args.format])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise BoardFailed(f"board {board_id!r}: cannot write {path}: {exc}") from None


def _valid_board_id(board_id: str) -> bool:
    return board_name_problem(board_id) is None


class _Progress:
    """A one-line progress bar on stderr (only on a terminal)."""

    WIDTH = 30

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled

    def show(self, done: int, board_id: str) -> None:
        if not self.enabled:
            return
        filled = self.WIDTH * done // max(self.total, 1)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{self.total} {board_id[:40]:<40}")
        sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * (self.WIDTH + 60) + "\r")
            sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
