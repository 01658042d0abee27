"""Which boards a space backup exports (``export_board.py --space ID``), and its manifest.

From a running server (``--server`` with a space token): the space's board list, then each
board's links, whose view token exports the board through the usual endpoint. From the
database (``--db``): the space's rows, no token needed (as ``--all``). Boards in the trash are
left out. The manifest ``space-<id>.json`` names the space and, for each board, its title and
the file it was written to; the board files are in whatever ``--format`` was asked for (the
format is passed through untouched, so a new format needs nothing here).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..store import Store
from ..store.spaces import SpaceStore

HTTP_TIMEOUT_S = 120.0


class SpaceExportFailed(Exception):
    """The space itself could not be read (the message says why)."""


@dataclass(frozen=True)
class SpaceBoardEntry:
    """One board to export: its id, title, and the token to export it with (None: --db)."""

    board_id: str
    title: str
    token: str | None = None


@dataclass(frozen=True)
class SpaceListing:
    """A space's name and the boards outside its trash."""

    space_id: str
    name: str
    boards: list[SpaceBoardEntry]


async def space_from_store(store: Store, space_id: str) -> SpaceListing:
    """The space's boards read from the database. Raises ``SpaceExportFailed``."""
    spaces = SpaceStore(store.engine)
    space = await spaces.space(space_id)
    if space is None:
        raise SpaceExportFailed(f"space {space_id!r}: no such space")
    boards = await spaces.list_boards(space_id, sort="created")
    return SpaceListing(space_id, space.name,
                        [SpaceBoardEntry(b.board_id, b.title) for b in boards])


def space_from_server(server: str, space_id: str, token: str | None) -> SpaceListing:
    """The space's boards and a view token for each, from a running server (blocking; run
    it in a thread). Raises ``SpaceExportFailed``."""
    base = f"{server.rstrip('/')}/api/spaces/{urllib.parse.quote(space_id, safe='')}"
    space = _get_json(f"{base}", token, space_id)
    listed = _get_json(f"{base}/boards?sort=created", token, space_id)["boards"]
    entries = []
    for board in listed:
        links = _get_json(f"{base}/boards/{urllib.parse.quote(board['id'], safe='')}/links",
                          token, space_id)
        entries.append(SpaceBoardEntry(board["id"], board["title"], links.get("viewToken")))
    return SpaceListing(space_id, space.get("name", ""), entries)


def write_manifest(listing: SpaceListing, files: dict[str, str], out_dir: Path) -> Path:
    """Write ``space-<id>.json``: the space's name and, per board, its title and file (None
    for a board that failed)."""
    manifest = {"space": listing.space_id, "name": listing.name, "boards": [
        {"id": b.board_id, "title": b.title, "file": files.get(b.board_id)}
        for b in listing.boards]}
    path = out_dir / f"space-{listing.space_id}.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _get_json(url: str, token: str | None, space_id: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=HTTP_TIMEOUT_S) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            detail = json.loads(exc.read()).get("detail") or exc.reason
        except ValueError:
            detail = exc.reason
        raise SpaceExportFailed(f"space {space_id!r}: server answered {exc.code}: "
                                f"{detail}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SpaceExportFailed(f"space {space_id!r}: cannot read {url}: {exc}") from None
