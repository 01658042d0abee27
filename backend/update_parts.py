"""Cutting a big Yjs v1 update into consecutive updates that make it when applied in order.

pycrdt applies an update in one call that holds the event loop: 0.4 s for a 6 MiB sync step 2
of 330,000 small structs on an idle machine, over 1.5 s on a loaded one. ``split_update``
cuts such an update, at struct boundaries the pre-check found (``UpdateSummary.cuts``), into
parts of about ``part_structs`` structs: each part holds consecutive structs of one or more
clients (a client's structs stay in clock order, so each part's own structs only depend on
earlier parts, the board, or other clients' structs), and only the last one carries the
delete set. Applying the parts in order gives the same document as applying the update
(Yjs updates commute; a struct whose dependencies come later waits as pending in pycrdt).

Each part comes with the clock every client it holds reaches once it is applied, so the
caller can tell that a part left structs pending (``Part.clocks``) and apply the rest at once
rather than have pycrdt retry them at every part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .protocol import write_var_uint
from .update_check import UpdateSummary

PART_STRUCTS = 2048
"""Structs per part: about 40 KiB and 2-5 ms of pycrdt's apply for small structs (CPU time on
the shared 2-core machine). A request waiting on the event loop needs a few loop turns, each
of which may follow one part, so parts are kept small: on a loaded machine each takes many
times its CPU time in wall time."""
_NO_DELETIONS = b"\x00"


@dataclass(frozen=True)
class Part:
    """One part of a split update, and each of its clients' end clock once applied."""

    update: bytes
    clocks: dict[int, int]


def split_update(update: bytes, summary: UpdateSummary,
                 part_structs: int = PART_STRUCTS) -> list[Part]:
    """``update`` (``summary`` is ``check_update(update, ..., cut_structs=part_structs)``)
    as parts of at least ``part_structs`` structs each but the last. An update with fewer
    structs is one part: itself."""
    if summary.structs <= part_structs:
        return [Part(update, {c: end for c, (_first, end) in summary.clocks.items()})]
    parts: list[Part] = []
    pieces: list[bytes] = []
    segments = 0
    structs = 0
    clocks: dict[int, int] = {}
    for client, clock, start, count, end, end_clock in _segments(summary):
        pieces += [write_var_uint(count), write_var_uint(client), write_var_uint(clock),
                   update[start:end]]
        segments += 1
        structs += count
        clocks[client] = end_clock
        if structs >= part_structs:
            parts.append(Part(write_var_uint(segments) + b"".join(pieces) + _NO_DELETIONS,
                              dict(clocks)))
            pieces, segments, structs = [], 0, 0
    deletions = update[summary.delete_set_at:]
    if segments or deletions != _NO_DELETIONS:
        parts.append(Part(write_var_uint(segments) + b"".join(pieces) + deletions, dict(clocks)))
    return parts


def _segments(summary: UpdateSummary) -> Iterator[tuple[int, int, int, int, int, int]]:
    """Each run of structs from one cut to the next: (client, clock of its first struct,
    where it starts, struct count, where it ends, clock after it)."""
    cuts = summary.cuts
    for position, (client, index, clock, start) in enumerate(cuts):
        following = cuts[position + 1] if position + 1 < len(cuts) else None
        if following is not None and following[0] == client:
            _client, next_index, next_clock, end = following
            yield client, clock, start, next_index - index, end, next_clock
        else:
            count, end = summary.groups[client]
            yield client, clock, start, count - index, end, summary.clocks[client][1]

