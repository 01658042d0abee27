#!/usr/bin/env python3
"""Follow a board's change feed and print each event as one line of JSON (standard library
only; no virtual environment needed).

    ./scripts/follow_board.py --server http://127.0.0.1:8000 --token TOKEN --board ID
    ./scripts/follow_board.py --server http://127.0.0.1:8000 --token ADMIN_TOKEN --all

It reads ``GET /api/boards/<id>/events`` (``/api/events`` with ``--all``), prints every event
(``elements.changed``, ``presence.joined``, ``reset``, ...) and, when the connection drops,
reconnects with the last event's id as ``Last-Event-ID`` (after 1 s, doubling up to 30 s), so
nothing is missed or printed twice while the server keeps the events (see the README). It
stops when the board is deleted (exit 0) or the server refuses the token or board (exit 2).
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from backend.cli_args import ArgumentParser  # standard library only: ids may start with -

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0
READ_TIMEOUT_S = 60.0  # the server sends a keep-alive comment every 15 s


def main(argv: list[str] | None = None) -> int:
    """Follow until the board is deleted (0) or access is refused (2)."""
    parser = ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="base URL, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", default="", help="the board's view or edit token "
                        "(the admin token with --all)")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--board", help="board id")
    target.add_argument("--all", action="store_true", help="every board (admin token)")
    parser.add_argument("--last-event-id", type=int, default=None,
                        help="resume after this event id (default: from now on)")
    args = parser.parse_args(argv)
    url = args.server.rstrip("/") + ("/api/events" if args.all else
                                     f"/api/boards/{urllib.parse.quote(args.board, safe='')}"
                                     "/events")
    last_id, retry_s = args.last_event_id, RETRY_FIRST_S
    while True:
        try:
            for event_id, event_type, data in read_events(url, args.token, last_id):
                retry_s = RETRY_FIRST_S
                last_id = event_id
                if event_type != "ready":
                    print(json.dumps({"id": event_id, "event": event_type, **data}),
                          flush=True)
                if event_type == "board.deleted" and not args.all:
                    return 0
        except urllib.error.HTTPError as exc:
            if exc.code in (400, 401, 403, 404):
                print(f"follow_board: {exc.code} {exc.read().decode(errors='replace')}",
                      file=sys.stderr)
                return 2
            print(f"follow_board: HTTP {exc.code}; retrying in {retry_s:.0f} s", file=sys.stderr)
        except (OSError, ValueError) as exc:  # refused, reset, timed out, cut mid-event
            print(f"follow_board: {exc}; reconnecting in {retry_s:.0f} s", file=sys.stderr)
        time.sleep(retry_s)
        retry_s = min(retry_s * 2, RETRY_MAX_S)


def read_events(url: str, token: str, last_id: int | None) -> Iterator[tuple[int, str, dict]]:
    """``(id, type, data)`` of each event of one connection, until it ends."""
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if last_id is not None:
        headers["Last-Event-ID"] = str(last_id)
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=READ_TIMEOUT_S) as response:
        fields: dict[str, str] = {}
        for raw in response:
            line = raw.decode("utf-8").rstrip("\r\n")
            if line == "":
                if "data" in fields:
                    yield int(fields.get("id", "0")), fields.get("event", "message"), \
                        json.loads(fields["data"])
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value
    raise ConnectionError("the server closed the stream")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
