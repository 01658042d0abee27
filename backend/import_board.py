"""Command-line importer (``syncboard-import``, ``scripts/import_board.py``): a board from its
JSON export form, through the CRDT path.

    syncboard-import FILE.json [--board ID] (--db URL | --server URL [--token T])

The file is validated against shared/board.schema.json first; a violation is reported with its
JSON path (``$.elements[3].fill``) and nothing is written. The elements then become one Yjs
update made on top of the board's current state (``Y.Map`` per element, ``Y.Array`` points,
``Y.Text`` text): with ``--server`` a running server applies it to the live board, so connected
clients see the elements at once; with ``--db`` it is appended to the board's stored log (use
this only while the server is stopped). Without ``--board`` a new board is created. Prints the
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
from .board_model import build_import_update, validate_board_json
from .board_names import board_name_problem
from .cli_args import ArgumentParser
from .config import load_settings
from .store import StoreError, open_store
from .store.store import merge_updates_into_snapshot
from .update_check import TypeDepths, UpdateRefused, check_update

HTTP_TIMEOUT_S = 120.0


class ImportFailed(Exception):
    """The import cannot go on; the message says why in one line."""


def main(argv: list[str] | None = None) -> int:
    """Run the importer; return the exit status."""
    parser = ArgumentParser(prog="syncboard-import", description=__doc__.split("\n\n")[2].strip())
    parser.add_argument("file", metavar="FILE.json", help="a JSON export form; - for stdin")
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
    try:
        data = read_import_file(args.file)
        if args.server:
            board_id, count = import_over_http(args.server, args.board, data, args.token)
        else:
            board_id, count = asyncio.run(import_into_db(args.db, args.board, data,
                                                         args.max_board_bytes))
    except (ImportFailed, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(board_id)
    print(f"imported {count} elements into board {board_id}", file=sys.stderr)
    return 0


def read_import_file(name: str) -> dict[str, Any]:
    """Parse and validate an import file. Raises ``ImportFailed`` naming the first violation."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        data = json.loads(text, parse_constant=_refuse_constant)
    except OSError as exc:
        raise ImportFailed(f"cannot read {name}: {exc.strerror}") from None
    except ValueError as exc:
        raise ImportFailed(f"{name}: invalid JSON: {exc}") from None
    violations = validate_board_json(data)
    if violations:
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise ImportFailed(f"{name}: {violations[0]}{more}; nothing was written")
    return data


async def import_into_db(url: str, board_id: str | None, data: dict[str, Any],
                         max_board_bytes: int) -> tuple[str, int]:
    """Append the import update to the board's log in the database. Raises ``ImportFailed``
    if the board would pass ``max_board_bytes`` (the cap the server applies to live edits
    and HTTP imports); nothing is written then."""
    board_id = board_id or new_board_id()
    store = await open_store(url)
    try:
        base = merge_updates_into_snapshot(await store.load_updates(board_id))
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
        await store.create_board(board_id)
        await store.append_updates({board_id: [update]})
    except ValueError as exc:
        raise ImportFailed(f"board {board_id!r}: stored data cannot be decoded: {exc}") from None
    finally:
        await store.close()
    return board_id, len(data["elements"])


def import_over_http(server: str, board_id: str | None, data: dict[str, Any],
                     token: str | None = None) -> tuple[str, int]:
    """POST the file to a running server (creating the board first when no id is given, and
    then using the new board's edit token)."""
    base = server.rstrip("/")
    if board_id is None:
        created = _post_json(f"{base}/api/boards", b"", "new board", token)
        board_id = created["id"]
        token = created.get("editToken", token)
        if "editToken" in created:
            print(f"edit link: {created['editUrl']}", file=sys.stderr)
    answer = _post_json(f"{base}/api/boards/{urllib.parse.quote(board_id, safe='')}/import",
                        json.dumps(data).encode("utf-8"), f"board {board_id!r}", token)
    return board_id, answer["elements"]


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


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
