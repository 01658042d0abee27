"""Command-line version history (``scripts/history.py``): list, save and restore versions.

    history.py (--db URL | --server URL [--token T]) --board ID list [--limit N] [--json]
    history.py ... --board ID save --label LABEL
    history.py ... --board ID restore VID [--elements ID ...]

With ``--server`` a running server does the work (``/api/boards/<id>/versions``; ``--token``
is an edit token of the board or the admin token, not needed with ``--auth none``): a restore
reaches connected clients at once, through the CRDT path. With ``--db`` the database is used
directly: ``list`` and ``save`` are safe while a server runs (a saved version holds what the
server had committed), ``restore`` appends to the board's log and must only be used while
the server is stopped (as ``import_board.py --db``). Both record a ``before-restore`` version
first. Exit status 0 on success, 1 on failure (one line on stderr), 2 for bad usage.
"""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from .board_names import board_name_problem
from .cli_args import ArgumentParser
from .document import EMPTY_STATE_VECTOR, BoardDocument
from .restore import build_restore_update, live_keys
from .store import Store, StoreError, open_store
from .store.history import MAX_LABEL_CHARS, VersionInfo
from .versioning import load_version_updates

HTTP_TIMEOUT_S = 120.0


class HistoryFailed(Exception):
    """The command cannot go on; the message says why in one line."""


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit status."""
    parser = ArgumentParser(prog="history.py",
                            description="List, save and restore versions of a syncboard board.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", metavar="URL", help="use the database directly")
    source.add_argument("--server", metavar="URL", help="ask a running server")
    parser.add_argument("--token", metavar="TOKEN",
                        help="with --server: the board's edit token or the admin token")
    parser.add_argument("--board", metavar="ID", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="versions, newest first")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    save = commands.add_parser("save", help="record a named version of the board now")
    save.add_argument("--label", required=True)
    restore = commands.add_parser("restore", help="make the board that version again")
    restore.add_argument("version", metavar="VID", type=int)
    restore.add_argument("--elements", metavar="ID", nargs="+",
                         help="restore only these elements")
    args = parser.parse_args(argv)
    if board_name_problem(args.board) is not None:
        parser.error(f"--board {args.board!r} is not a valid board name: "
                     f"{board_name_problem(args.board)}")
    if args.command == "save" and len(args.label) > MAX_LABEL_CHARS:
        parser.error(f"--label is longer than {MAX_LABEL_CHARS} characters")
    if args.command == "list" and not 1 <= args.limit <= 200:
        parser.error("--limit must be from 1 to 200")
    try:
        out = _over_http(args) if args.server else asyncio.run(_in_db(args))
    except (HistoryFailed, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in out:
        print(line)
    return 0


def parse_time(text: str) -> float:
    """Unix seconds from ISO 8601 (``2026-12-01T10:00:00Z``; no zone means UTC) or from a
    number of seconds. Raises ``ValueError`` (argparse reports it as bad usage)."""
    try:
        seconds = float(text)
    except ValueError:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp()
    if not 0 <= seconds < 1e11:
        raise ValueError(f"time out of range: {text}")
    return seconds


def format_time(seconds: float) -> str:
    """``2026-12-01T10:00:00Z`` (UTC, whole seconds)."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(version: dict[str, Any]) -> str:
    """One line of ``list``: id, time, kind, element count, label, authors."""
    authors = ", ".join(version["authors"])
    label = f" {version['label']!r}" if version["label"] else ""
    return (f"{version['id']:>8}  {format_time(version['created_at'])}  {version['kind']:<14}"
            f" {version['elements']:>6} elements{label}" + (f"  by {authors}" if authors else ""))


def _lines(versions: list[dict[str, Any]], as_json: bool) -> list[str]:
    return [json.dumps(v) if as_json else describe(v) for v in versions]


async def _open_existing(url: str) -> Store:
    """Open the store without creating a new SQLite file for a mistyped path."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).expanduser().is_file():
        raise StoreError(f"database file {parsed.database!r} (from {url!r}) does not exist")
    return await open_store(url)


async def _in_db(args) -> list[str]:
    store = await _open_existing(args.db)
    try:
        if await store.board_info(args.board) is None:
            raise HistoryFailed(f"board {args.board!r}: no such board")
        if args.command == "list":
            found = await store.list_versions(args.board, args.limit)
            return _lines([v.to_json() for v in found], args.json)
        document = BoardDocument.from_updates(await store.load_updates(args.board), args.board)
        if args.command == "save":
            info = await store.record_version(args.board, document, "named", args.label.strip())
            return [describe(info.to_json())]
        state = await load_version_updates(store, args.board, args.version)
        if state is None:
            raise HistoryFailed(f"board {args.board!r}: no version {args.version}")
        before = await store.record_version(args.board, document, "before-restore",
                                            f"before restoring version {args.version}")
        since = document.missing_since(
            await store.version_state_vector(args.board, args.version) or EMPTY_STATE_VECTOR)
        updates, hook_names = state
        update, changed = build_restore_update(updates, since, args.elements,
                                               live_keys(document.doc), hook_names)
        await store.append_updates({args.board: [update]})
        return [_restored(args.version, before, changed)]
    except ValueError as exc:
        raise HistoryFailed(f"board {args.board!r}: stored data cannot be decoded: "
                            f"{exc}") from None
    finally:
        await store.close()


def _over_http(args) -> list[str]:
    base = (f"{args.server.rstrip('/')}/api/boards/"
            f"{urllib.parse.quote(args.board, safe='')}/versions")
    what = f"board {args.board!r}"
    if args.command == "list":
        answer = _request(f"{base}?limit={args.limit}", None, what, args.token)
        return _lines(answer["versions"], args.json)
    if args.command == "save":
        answer = _request(base, {"label": args.label}, what, args.token)
        return [describe(answer)]
    body = {"elements": args.elements} if args.elements else {}
    answer = _request(f"{base}/{args.version}/restore", body,
                      f"{what} version {args.version}", args.token)
    before = answer["before"]
    return [_restored(args.version, VersionInfo(before["id"], args.board,
                                                before["created_at"], before["kind"],
                                                before["label"], before["elements"],
                                                before["authors"]), answer["changed"])]


def _restored(version_id: int, before: VersionInfo, changed: int) -> str:
    return (f"restored version {version_id} ({changed} elements changed); the board before "
            f"it is version {before.id}")


def _request(url: str, body: dict[str, Any] | None, what: str,
             token: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers,
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail") or exc.reason
        except ValueError:
            detail = exc.reason
        raise HistoryFailed(f"{what}: server answered {exc.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise HistoryFailed(f"{what}: cannot reach {url}: {exc}") from None
