"""Command-line importer (``syncboard-import``, ``scripts/import_board.py``): a board from a
file, through the CRDT path.

    syncboard-import FILE [--board ID] (--db URL | --server URL [--token T])

The file may be a syncboard JSON export form, a syncboard bundle (the board and its images), an
Excalidraw scene (also inside an Excalidraw PNG or SVG export) or a tldraw file: the kind is
told from the content, whatever the file is called. It is mapped and validated against
shared/board.schema.json first; a problem is reported with its JSON path
(``$.elements[3].fill``) and nothing is written. Embedded images are stored (checked as
uploads are) before the elements naming them. The elements then become one Yjs
update made on top of the board's current state (``Y.Map`` per element, ``Y.Array`` points,
``Y.Text`` text): with ``--server`` a running server applies it to the live board, so connected
clients see the elements at once; with ``--db`` it is appended to the board's stored log (use
this only while the server is stopped). Either way a board that held something gets a
``before-import`` version of it first. Without ``--board`` a new board is created. Prints the
board id (and, for a new board on a server with tokens, its edit link on stderr). ``-`` reads
the file from stdin. Exit status 0 on success, 1 on failure, 2 for bad usage.

With ``--server``, ``--token`` is an edit token of the board or the admin token; it is not
needed for a new board, nor when the server runs with ``--auth none``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .access import new_board_id
from .board_model import build_import_update
from .board_names import board_name_problem
from .cli_args import ArgumentParser
from .config import load_settings
from .document import EMPTY_UPDATE, BoardDocument
from .export.incoming import read_import, restack
from .export.mapping import FileLimits, ImportRefused, Incoming
from .store import StoreError, open_store
from .update_check import TypeDepths, UpdateRefused, check_update

HTTP_TIMEOUT_S = 120.0


class ImportFailed(Exception):
    """The import cannot go on; the message says why in one line."""


def main(argv: list[str] | None = None) -> int:
    """Run the importer; return the exit status."""
    parser = ArgumentParser(prog="syncboard-import", description=__doc__.split("\n\n")[2].strip())
    parser.add_argument("file", metavar="FILE",
                        help="a syncboard JSON or bundle, .excalidraw (also .excalidraw.png/.svg "
                             "with the scene embedded) or .tldr file; - for stdin")
    parser.add_argument("--board", metavar="ID", help="board to create or fill (default: new)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", metavar="URL", help="write to the database directly")
    source.add_argument("--server", metavar="URL", help="import through a running server")
    parser.add_argument("--token", metavar="TOKEN",
                        help="with --server: the board's edit token or the admin token")
    parser.add_argument("--max-board-bytes", metavar="N", type=int,
                        default=load_settings([]).max_board_bytes,
                        help="with --db: refuse an import that would make the board larger "
                             "(default: the server's --max-board-bytes, from "
                             "SYNCBOARD_MAX_BOARD_BYTES or its default)")
    args = parser.parse_args(argv)
    if args.board is not None and board_name_problem(args.board) is not None:
        parser.error(f"--board {args.board!r} is not a valid board name: "
                     f"{board_name_problem(args.board)}")
    settings = load_settings([])
    limits = FileLimits(settings.max_file_bytes, settings.max_image_pixels,
                        settings.max_import_bytes)
    try:
        raw = read_import_file(args.file)
        if args.server:
            board_id, report = import_over_http(args.server, args.board, raw, args.token)
        else:
            incoming = parse_import(args.file, raw, limits)
            board_id, _ = asyncio.run(import_into_db(args.db, args.board, incoming,
                                                     args.max_board_bytes))
            report = incoming.report()
    except (ImportFailed, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(board_id)
    print(f"board {board_id}: {report}", file=sys.stderr)
    return 0


def read_import_file(name: str) -> bytes:
    """The bytes of an import file (``-``: stdin). Raises ``ImportFailed`` if unreadable."""
    try:
        if name == "-":  # a text stream without .buffer (a test's StringIO) is read as text
            stdin = getattr(sys.stdin, "buffer", None)
            return stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
        return Path(name).read_bytes()
    except OSError as exc:
        raise ImportFailed(f"cannot read {name}: {exc.strerror}") from None


def parse_import(name: str, raw: bytes, limits: FileLimits) -> Incoming:
    """The board and images of an import file, of any kind. Raises ``ImportFailed`` naming
    the first problem."""
    try:
        return read_import(raw, limits)
    except ImportRefused as exc:
        raise ImportFailed(f"{name}: {exc}; nothing was written") from None


async def import_into_db(url: str, board_id: str | None, data: dict[str, Any] | Incoming,
                         max_board_bytes: int) -> tuple[str, int]:
    """Append the import update to the board's log in the database, after recording a
    ``before-import`` version of what the board held (if anything). Raises ``ImportFailed``
    if the board would pass ``max_board_bytes`` (the cap the server applies to live edits
    and HTTP imports); nothing is written then."""
    board_id = board_id or new_board_id()
    store = await open_store(url)
    try:
        current = BoardDocument.from_updates(await store.load_updates(board_id), board_id,
                                             skip_undecodable=False)
        base = current.full_update()
        incoming = data if isinstance(data, Incoming) else Incoming("syncboard", data)
        restack(incoming, base)  # a foreign drawing goes on top of what the board holds
        data = incoming.board
        update = build_import_update(data, base)
        if len(base) + len(update) > max_board_bytes:
            raise ImportFailed(f"board {board_id!r}: the import would make it {len(base)} + "
                               f"{len(update)} bytes, over the {max_board_bytes}-byte cap "
                               "(--max-board-bytes); nothing was written")
        try:  # what the server refuses must not reach its database
            shape = TypeDepths()
            if base:
                shape.record(check_update(base, shape))
            check_update(update, shape)
        except UpdateRefused as exc:
            raise ImportFailed(f"{board_id!r}: refused: {exc}; nothing was written") from None
        for file_id, (mime, content) in incoming.files.items():
            await store.save_file(file_id, mime, content)
        await store.create_board(board_id)
        if base != EMPTY_UPDATE:  # what the import overwrites stays in the history
            await store.record_version(board_id, current, "before-import", "before an import")
        await store.append_updates({board_id: [update]})
    except ValueError as exc:
        raise ImportFailed(f"board {board_id!r}: stored data cannot be decoded: {exc}") from None
    finally:
        await store.close()
    return board_id, len(data["elements"])


def import_over_http(server: str, board_id: str | None, raw: bytes,
                     token: str | None = None) -> tuple[str, str]:
    """POST the file's bytes to a running server, which tells its kind and maps it (creating
    the board first when no id is given, and then using the new board's edit token).
    Returns the board id and the server's one-line report."""
    base = server.rstrip("/")
    if board_id is None:
        created = _post_json(f"{base}/api/boards", b"", "new board", token)
        board_id = created["id"]
        token = created.get("editToken", token)
        if "editToken" in created:
            print(f"edit link: {created['editUrl']}", file=sys.stderr)
    answer = _post_json(f"{base}/api/boards/{urllib.parse.quote(board_id, safe='')}/import",
                        raw, f"board {board_id!r}", token)
    return board_id, answer.get("report") or f"{answer['elements']} elements imported"


def _post_json(url: str, body: bytes, what: str, token: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail") or exc.reason
        except ValueError:
            detail = exc.reason
        raise ImportFailed(f"{what}: server answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ImportFailed(f"{what}: cannot reach {url}: {exc}") from None
