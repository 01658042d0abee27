"""Version history in the store: record, list, rebuild and thin a board's versions.

A version is a moment whose exact board state can be rebuilt. Rows of ``board_versions``
(``schema.versions``) form one chain per board in ``id`` order. A checkpoint row holds the whole
board (as a Yjs update); the rows after it hold only what changed since the previous row: the
document encoded against that row's state vector (new structs plus the delete set), which for
a big board edited a little is a few kilobytes, not a copy. A new checkpoint is written once
the deltas since the last one add up to its size, or after ``MAX_CHAIN`` deltas: a version
then costs at most about twice its delta, and rebuilding one (its latest checkpoint merged
with the rows after it up to the version) reads at most about two boards' worth of bytes.

Thinning drops a version by folding its row into the next one (``merge_updates``: Yjs
updates merge like sets, so the next row then holds everything since the row before the
dropped one; a dropped checkpoint makes the next row a checkpoint). Versions are thinned
only by ``thinning_plan`` (a pure function of ages), never the newest one and never a
``named`` one. Every write here is one transaction on the caller's connection, so a crash
leaves the chain as it was before or after, never half folded.

Rows are stored deflated (zlib level 1: a few milliseconds per megabyte; measured 0.81 of the
size for freehand strokes, 0.51 for a mixed 10,000-element board), as clients get the board
(``Y.XmlHook`` types as hooks; such rows are marked, see ``version_rows``). Plain functions taking a
connection, as ``store.py`` (``Store`` calls them).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from pycrdt import Doc, Map, merge_updates
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ..document import BoardDocument
from ..version_rows import pack, readable_chain
from .schema import boards, versions

KINDS = ("auto", "named", "before-restore", "before-import")
"""What made a version: the interval timer or an unload, a person, a restore, an import."""
THINNED_KINDS = frozenset({"auto", "before-restore", "before-import"})
"""Kinds the retention policy may drop (``named`` versions are kept for ever)."""
MAX_CHAIN = 500
"""Deltas after a checkpoint at most (bounds the rows one rebuild reads)."""
MAX_LABEL_CHARS = 200
MAX_AUTHORS = 50
MAX_AUTHOR_CHARS = 100
_FOLD_CHUNK = 200
_PACK_INLINE_BYTES = 256 * 1024


@dataclass(frozen=True)
class VersionInfo:
    """One version as listed: ``authors`` are the names seen editing since the previous one."""

    id: int
    board_id: str
    created_at: float
    kind: str
    label: str
    elements: int
    authors: list[str]
    checkpoint: bool = False
    """Whether its row holds the whole board (as recorded; listings leave it False)."""

    def to_json(self) -> dict[str, object]:
        """The HTTP form (``GET /api/boards/<id>/versions``)."""
        return {"id": self.id, "created_at": self.created_at, "kind": self.kind,
                "label": self.label, "elements": self.elements, "authors": self.authors}


@dataclass(frozen=True)
class Retention:
    """The thinning policy (seconds of age): every automatic version up to ``keep_all_s``,
    the newest of each hour up to ``keep_hourly_s``, then the newest of each day up to
    ``keep_daily_s`` (0: for ever); older automatic versions are dropped."""

    keep_all_s: float = 86400.0
    keep_hourly_s: float = 30 * 86400.0
    keep_daily_s: float = 0.0


@dataclass(frozen=True)
class _Row:
    id: int
    created_at: float
    kind: str


def thinning_plan(rows: Sequence[tuple[int, float, str]], now: float,
                  policy: Retention) -> list[int]:
    """The ids of versions ``policy`` drops at ``now`` (``rows``: ``(id, created_at, kind)``).

    Never the newest version (the chain's head) nor a kind outside ``THINNED_KINDS``. Within
    one hour (or day) bucket the newest version stays."""
    if not rows:
        return []
    ordered = sorted((_Row(*row) for row in rows), key=lambda r: r.id)
    head = ordered[-1].id
    kept_bucket: set[tuple[str, int]] = set()
    dropped: list[int] = []
    for row in reversed(ordered):  # newest first: the first one seen in a bucket is kept
        age = now - row.created_at
        if row.id == head or row.kind not in THINNED_KINDS or age <= policy.keep_all_s:
            continue
        if age <= policy.keep_hourly_s:
            bucket = ("h", math.floor(row.created_at / 3600))
        elif policy.keep_daily_s == 0 or age <= policy.keep_daily_s:
            bucket = ("d", math.floor(row.created_at / 86400))
        else:
            dropped.append(row.id)
            continue
        if bucket in kept_bucket:
            dropped.append(row.id)
        else:
            kept_bucket.add(bucket)
    return sorted(dropped)


async def lock_board(conn: AsyncConnection, board_id: str) -> bool:
    """Take the board's row lock (PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already holds the
    write lock) so two processes recording versions of one board queue; False if the board
    has no row."""
    return (await conn.execute(select(boards.c.id).where(boards.c.id == board_id)
                               .with_for_update())).first() is not None


async def record_version(conn: AsyncConnection, board_id: str, document: BoardDocument,
                         kind: str, label: str, authors: Sequence[str], now: float,
                         min_interval_s: float = 0.0) -> VersionInfo | None:
    """Append a version of ``document`` (the board's current state) to its chain; return it.

    Inside the caller's write transaction, after ``lock_board``. The state is encoded now,
    against the chain head's state vector read in this transaction, so two processes never
    chain on a stale head. Returns None, recording nothing, for an ``auto`` version when the
    head is younger than ``min_interval_s`` (another process made it)."""
    head = (await conn.execute(
        select(versions.c.id, versions.c.created_at, versions.c.chain, versions.c.chain_bytes,
               versions.c.base_bytes, versions.c.state_vector)
        .where(versions.c.board_id == board_id).order_by(versions.c.id.desc()).limit(1)
    )).one_or_none()
    if kind == "auto" and head is not None and now - head.created_at < min_interval_s:
        return None
    state_vector = document.state_vector()
    # as clients get it: a Y.XmlHook comes back as a hook from every version (version_rows)
    data = document.missing_since(head.state_vector, for_clients=True) \
        if head is not None else b""
    checkpoint = head is None or head.chain + 1 > MAX_CHAIN or \
        head.chain_bytes + len(data) > head.base_bytes
    if checkpoint:
        data = document.full_update(for_clients=True)
    chain_bytes = 0 if checkpoint else head.chain_bytes + len(data)
    names = clean_authors(authors)
    row = {"board_id": board_id, "created_at": now, "kind": kind,
           "label": label[:MAX_LABEL_CHARS], "elements": count_elements(document.whole_doc()),
           "authors": json.dumps(names), "checkpoint": int(checkpoint),
           "chain": 0 if checkpoint else head.chain + 1, "chain_bytes": chain_bytes,
           "base_bytes": len(data) if checkpoint else head.base_bytes,
           "state_vector": state_vector,
           "data": await _pack_off_loop(data, bool(document.hooks.names))}
    version_id = (await conn.execute(insert(versions).values(**row)
                                     .returning(versions.c.id))).scalar_one()
    return VersionInfo(version_id, board_id, now, kind, row["label"], row["elements"], names,
                       checkpoint)


async def list_versions(conn: AsyncConnection, board_id: str, limit: int,
                        before_id: int | None = None) -> list[VersionInfo]:
    """Up to ``limit`` versions of ``board_id``, newest first, older than ``before_id``."""
    query = (select(versions.c.id, versions.c.board_id, versions.c.created_at, versions.c.kind,
                    versions.c.label, versions.c.elements, versions.c.authors)
             .where(versions.c.board_id == board_id).order_by(versions.c.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(versions.c.id < before_id)
    return [_info(row) for row in (await conn.execute(query)).all()]


async def get_version(conn: AsyncConnection, board_id: str,
                      version_id: int) -> VersionInfo | None:
    """One version of ``board_id``, or None."""
    row = (await conn.execute(
        select(versions.c.id, versions.c.board_id, versions.c.created_at, versions.c.kind,
               versions.c.label, versions.c.elements, versions.c.authors)
        .where(versions.c.board_id == board_id, versions.c.id == version_id))).one_or_none()
    return _info(row) if row is not None else None


async def version_at(conn: AsyncConnection, board_id: str, at: float) -> VersionInfo | None:
    """The newest version of ``board_id`` made at or before ``at`` (Unix seconds), or None."""
    row = (await conn.execute(
        select(versions.c.id, versions.c.board_id, versions.c.created_at, versions.c.kind,
               versions.c.label, versions.c.elements, versions.c.authors)
        .where(versions.c.board_id == board_id, versions.c.created_at <= at)
        .order_by(versions.c.created_at.desc(), versions.c.id.desc()).limit(1))).one_or_none()
    return _info(row) if row is not None else None


async def load_chain(conn: AsyncConnection, board_id: str, version_id: int) -> list[bytes]:
    """The rows that rebuild ``version_id``: its latest checkpoint, then every row after it
    up to the version, in order ([] if there is no such version)."""
    start = (await conn.execute(
        select(func.max(versions.c.id)).where(versions.c.board_id == board_id,
                                              versions.c.id <= version_id,
                                              versions.c.checkpoint == 1))).scalar_one_or_none()
    if start is None:
        return []
    exists = (await conn.execute(select(versions.c.id).where(
        versions.c.board_id == board_id, versions.c.id == version_id))).first()
    if exists is None:
        return []
    return list((await conn.execute(
        select(versions.c.data).where(versions.c.board_id == board_id,
                                      versions.c.id >= start, versions.c.id <= version_id)
        .order_by(versions.c.id))).scalars())


@dataclass(frozen=True)
class MarkedChain:
    """``load_chain``'s rows, with the id of the checkpoint they start with and its
    ``checked`` mark (None: not marked)."""

    checkpoint_id: int
    checked: bytes | None
    rows: list[bytes]


async def load_marked_chain(conn: AsyncConnection, board_id: str,
                            version_id: int) -> MarkedChain | None:
    """``load_chain`` with its checkpoint's id and mark; None if there is no such version."""
    start = (await conn.execute(
        select(versions.c.id, versions.c.checked)
        .where(versions.c.board_id == board_id, versions.c.id <= version_id,
               versions.c.checkpoint == 1)
        .order_by(versions.c.id.desc()).limit(1))).one_or_none()
    if start is None:
        return None
    rows = await load_chain(conn, board_id, version_id)
    return MarkedChain(start.id, start.checked, rows) if rows else None


async def mark_checked(conn: AsyncConnection, board_id: str, version_id: int,
                       mark: bytes) -> None:
    """Store ``mark`` (``checked_states.checked_mark``) with checkpoint ``version_id``. The
    mark binds itself to the bytes it was made for: if the row was folded meanwhile, it no
    longer matches and the row is checked again at its next read."""
    await conn.execute(update(versions).where(
        versions.c.board_id == board_id, versions.c.id == version_id,
        versions.c.checkpoint == 1).values(checked=mark))


async def unmarked_checkpoints(conn: AsyncConnection, board_id: str,
                               limit: int) -> list[tuple[int, bytes]]:
    """(id, data) of up to ``limit`` of the board's newest checkpoints without a mark."""
    return [tuple(row) for row in (await conn.execute(
        select(versions.c.id, versions.c.data)
        .where(versions.c.board_id == board_id, versions.c.checkpoint == 1,
               versions.c.checked.is_(None))
        .order_by(versions.c.id.desc()).limit(limit))).all()]


async def state_vector_of(conn: AsyncConnection, board_id: str,
                          version_id: int) -> bytes | None:
    """The state vector of a version (what a restore diffs the live board against)."""
    return (await conn.execute(select(versions.c.state_vector).where(
        versions.c.board_id == board_id, versions.c.id == version_id))).scalar_one_or_none()


async def thin_versions(conn: AsyncConnection, board_id: str, now: float,
                        policy: Retention) -> int:
    """Drop the versions ``thinning_plan`` names, folding each into the next row; return how
    many. Inside the caller's write transaction, after ``lock_board``."""
    rows = (await conn.execute(
        select(versions.c.id, versions.c.created_at, versions.c.kind)
        .where(versions.c.board_id == board_id).order_by(versions.c.id))).all()
    dropped = set(thinning_plan([tuple(r) for r in rows], now, policy))
    if not dropped:
        return 0
    order = [r.id for r in rows]
    # Each run of dropped rows folds into the first kept row after it (the head is never
    # dropped, so there is one).
    targets: dict[int, list[int]] = {}
    run: list[int] = []
    for version_id in order:
        if version_id in dropped:
            run.append(version_id)
        elif run:
            targets[version_id] = run
            run = []
    for target, run in targets.items():
        ids = [*run, target]
        found = {r.id: r for r in (await conn.execute(
            select(versions.c.id, versions.c.checkpoint, versions.c.data)
            .where(versions.c.id.in_(ids)))).all()}
        parts = [found[i] for i in ids]
        checkpoint = any(p.checkpoint for p in parts)
        if checkpoint:  # from the last checkpoint of the run on: a whole board again
            first = max(i for i, p in enumerate(parts) if p.checkpoint)
            rows = [p.data for p in parts[first:]]
        else:
            rows = [p.data for p in parts]
        # A whole board of 10,000 elements takes a second to fold: not on the event loop.
        data, holds_hooks = await asyncio.get_running_loop().run_in_executor(
            None, _fold, rows, checkpoint)
        fields = {"data": await _pack_off_loop(data, holds_hooks),
                  "checkpoint": int(checkpoint),
                  "authors": json.dumps(await _merged_authors(conn, ids)),
                  "checked": None}  # new bytes: not checked yet
        if checkpoint:
            fields |= {"chain": 0, "chain_bytes": 0, "base_bytes": len(data)}
        await conn.execute(update(versions).where(versions.c.id == target).values(**fields))
    dropped_ids = sorted(dropped)
    for start in range(0, len(dropped_ids), _FOLD_CHUNK):
        await conn.execute(delete(versions).where(
            versions.c.id.in_(dropped_ids[start:start + _FOLD_CHUNK])))
    return len(dropped)


async def delete_versions(conn: AsyncConnection, board_id: str) -> None:
    """Delete a board's whole history (with the board)."""
    await conn.execute(delete(versions).where(versions.c.board_id == board_id))


async def history_bytes(conn: AsyncConnection, board_id: str | None = None) -> int:
    """Bytes of stored version rows (``data`` and state vectors), of one board or all."""
    query = select(func.coalesce(func.sum(func.length(versions.c.data)
                                          + func.length(versions.c.state_vector)), 0))
    if board_id is not None:
        query = query.where(versions.c.board_id == board_id)
    return int((await conn.execute(query)).scalar_one())


def count_elements(doc: Doc) -> int:
    """Entries of the board's ``elements`` map (what the version list shows)."""
    try:
        return len(doc.get("elements", type=Map))
    except (TypeError, ValueError):  # the root exists with another shared type
        return 0


def clean_authors(names: Sequence[str]) -> list[str]:
    """Distinct non-empty names, cut to ``MAX_AUTHOR_CHARS``, at most ``MAX_AUTHORS``."""
    out: list[str] = []
    for name in names:
        name = name.strip()[:MAX_AUTHOR_CHARS] if isinstance(name, str) else ""
        if name and name not in out:
            out.append(name)
        if len(out) >= MAX_AUTHORS:
            break
    return out


async def _pack_off_loop(update: bytes, holds_hooks: bool) -> bytes:
    """``version_rows.pack`` in a thread for a big update (a checkpoint of a big board: tens
    of ms)."""
    if len(update) < _PACK_INLINE_BYTES:
        return pack(update, holds_hooks)
    return await asyncio.get_running_loop().run_in_executor(None, pack, update, holds_hooks)


def _fold(rows: list[bytes], whole: bool) -> tuple[bytes, bool]:
    """Stored rows folded into one update: a whole board encoded afresh (deleted content
    dropped) when ``whole``, else the deltas merged; and whether it may hold hooks (kept
    as hooks, as in the rows)."""
    updates, hooks = readable_chain(rows)
    if not whole:
        folded = merge_updates(*updates)
    else:
        doc = Doc()
        for part in updates:
            doc.apply_update(part)
        folded = doc.get_update()
    return hooks.restore(folded), bool(hooks.names)


async def _merged_authors(conn: AsyncConnection, ids: list[int]) -> list[str]:
    rows = dict((await conn.execute(select(versions.c.id, versions.c.authors)
                                    .where(versions.c.id.in_(ids)))).all())
    return clean_authors([name for i in ids for name in json.loads(rows[i])])


def _info(row) -> VersionInfo:
    return VersionInfo(row.id, row.board_id, row.created_at, row.kind, row.label, row.elements,
                       json.loads(row.authors))
