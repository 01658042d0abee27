"""BoardFeed: one board's change batching, on a shadow document, off the sync path.

The room hands the feed each update it accepted (``local_update``: from this process's peers,
or an import) or got from another process (``remote_update``), and the presence ids that
changed here. That is a list append per update, the only cost on the sync path. Every
``--events-window-ms`` (500 ms) the feed applies the batch to its own copy of the board
(a second pycrdt ``Doc``), one merged apply per run of local or remote updates, and gathers
pycrdt's deep events of the ``elements`` map into one ``ChangeSet``: only the elements the
batch touched are then read
(``changes.describe``), and at most ``MAX_CHANGES_PER_EVENT`` of them per event, one event per
event-loop turn, so a huge import never holds the loop for long.
A line or arrow bound to an element the batch moved is reported too, with its geometry as drawn
(``bindings`` keeps which connectors each element has bound to it).

Each change is reported by the process whose peer made it: updates relayed from other
processes (``--broker redis``) are applied silently, so a feed reader on any process sees each
change once. ``authors`` are the presence names of the peers that sent the batch's updates.
Presence joins and leaves are reported for this process's peers only, for the same reason.

The shadow copy costs a second copy of the board's document in memory, a second apply of
every update and a read of each touched element (BENCHMARKS.md, "Change feed"), so a feed
only follows a board someone wants: a feed reader of the board or of all boards (now, or
within ``--events-backlog-s`` after the last one left, so that it can resume), a webhook
that could match, with ``--broker`` any of these on another process (``interest_redis``),
or every board with ``--webhook``. Otherwise it drops the shadow copy, costs one check per
update, and tells the hub, which makes older ids reset; a new reader wakes it (the copy is
taken from the room then).
``--events-window-ms 0`` turns the feed off altogether.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from pycrdt import Doc, Map, merge_updates

from ..board_model import BoardModel, load_model
from . import event_metrics as metrics
from .bindings import BINDING_FIELDS, Bindings
from .changes import ChangeSet, Described, Kind, describe, kind_of, kinds_in

log = logging.getLogger(__name__)

MAX_CHANGES_PER_EVENT = 500
"""Created + updated + deleted entries in one event; a larger batch becomes several events."""
MAX_NAME_CHARS = 40


class Publisher(Protocol):
    """Where events go (``EventHub``)."""

    def publish(self, board_id: str, event_type: str, fields: dict[str, Any]) -> None:
        """Number and keep one event."""

    def wanted(self, board_id: str) -> bool:
        """Whether anyone follows ``board_id`` (a reader now or within the backlog time, a
        webhook, another process)."""

    def skipped(self, board_id: str) -> None:
        """Changes of ``board_id`` go unreported from now on (resumes from before reset)."""


class PresenceView(Protocol):
    """What the feed reads from a board's presence (``awareness.Presence``)."""

    def state_of(self, client_id: int) -> bytes | None:
        """The JSON state of ``client_id``, or None if it has none."""

    def ids_of(self, peer: Hashable) -> list[int]:
        """The client ids ``peer`` brought."""


class BoardFeed:
    """Batches one board's changes into events; see the module docstring."""

    def __init__(self, board_id: str, snapshot: Callable[[], bytes], presence: PresenceView,
                 publisher: Publisher, window_s: float, model: BoardModel | None = None) -> None:
        """``snapshot()``: the room's whole document now (the shadow copy starts from it)."""
        self.board_id = board_id
        self.window_s = window_s
        self._snapshot = snapshot
        self._presence = presence
        self._publisher = publisher
        self._model = model or load_model()
        self._doc: Doc | None = None
        self._elements: Map | None = None
        self._subscription: Any = None  # pycrdt drops an observer with its subscription
        self._collecting: ChangeSet | None = None
        self._touched: ChangeSet | None = None  # every run's changes, to keep _kinds current
        self._kinds: dict[str, Kind] = {}  # each element's (type, frameId) before the batch
        self._bindings = Bindings()  # which connectors are bound to which element, after it
        self._runs: list[tuple[bool, list[bytes]]] = []
        self._authors: set[Hashable] = set()
        self._presence_ids: set[int] = set()
        self._names: dict[int, str] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._busy: asyncio.Task | None = None
        self.closed = False
        if publisher.wanted(board_id):
            self.wake()

    @property
    def following(self) -> bool:
        """Whether the feed holds a shadow copy and reports changes (someone wants them)."""
        return self._doc is not None

    def wake(self) -> None:
        """Start reporting (a reader or hook appeared): copy the room's document now."""
        if self._doc is not None or self.closed:
            return
        self._doc = Doc()
        metrics.FEEDS_FOLLOWING.inc()
        self._doc.apply_update(self._snapshot())
        self._elements = self._doc.get("elements", type=Map)
        self._bindings = Bindings()
        self._kinds = kinds_in(self._elements, self._bindings)
        # pycrdt keeps an observer callback alive as long as the document: the callback
        # holds the feed only weakly, so an unloaded board's feed and document can be freed.
        self._subscription = self._elements.observe_deep(_weak_callback(self._on_events))

    def local_update(self, update: bytes, peer: Hashable | None = None) -> None:
        """An update this process accepted (``peer``: who sent it; None for the server)."""
        if self._add(True, update) and peer is not None:
            self._authors.add(peer)

    def remote_update(self, update: bytes) -> None:
        """An update another process accepted (and reports itself)."""
        self._add(False, update)

    def presence_changed(self, client_ids: list[int]) -> None:
        """Presence of ``client_ids`` changed here (a peer's awareness, a leave, an expiry)."""
        if client_ids and self._doc is not None:
            self._presence_ids.update(client_ids)
            self._schedule()

    def close(self) -> None:
        """Publish what is pending now (the board is unloaded, deleted or the server stops)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.closed and self._doc is not None:
            self._publish_presence()
            self._flush_all()
            metrics.FEEDS_FOLLOWING.dec()
        self.closed = True

    def _add(self, local: bool, update: bytes) -> bool:
        """Queue ``update`` for the next batch; False when nobody follows the board."""
        if self.closed or self._doc is None:
            return False
        if not self._publisher.wanted(self.board_id):
            self._sleep()
            return False
        if self._runs and self._runs[-1][0] == local:
            self._runs[-1][1].append(update)
        else:
            self._runs.append((local, [update]))
        self._schedule()
        return True

    def _sleep(self) -> None:
        """Nobody follows any more: report what is pending, free the shadow copy, and tell
        the hub that changes go unreported from now on (older ids must reset)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._publish_presence()
        self._flush_all()
        self._doc = self._elements = self._subscription = None
        metrics.FEEDS_FOLLOWING.dec()
        self._names.clear()
        self._kinds = {}
        self._bindings = Bindings()
        self._publisher.skipped(self.board_id)

    def _schedule(self) -> None:
        if self._timer is None and not self.closed:
            self._timer = asyncio.get_running_loop().call_later(self.window_s, self._tick)

    def _tick(self) -> None:
        self._timer = None
        if self._doc is None:
            return
        if self._busy is not None and not self._busy.done():
            self._schedule()  # the previous batch is still being published in slices
            return
        self._publish_presence()
        described, authors = self._apply_batch()
        if described:
            self._busy = asyncio.ensure_future(self._publish_sliced(described, authors))

    def _flush_all(self) -> None:
        """Synchronous: the pending batch in full (shutdown, unload)."""
        described, authors = self._apply_batch()
        for fields in _slices(described, authors):
            self._publisher.publish(self.board_id, "elements.changed", fields)

    def _apply_batch(self) -> tuple[Described, list[str]]:
        runs, self._runs = self._runs, []
        authors = self._author_names()
        if self._doc is None or self._elements is None:
            return Described([], [], []), authors
        started = time.perf_counter()
        reported, self._touched = ChangeSet(), ChangeSet()
        for local, updates in runs:
            self._collecting = reported if local else None  # others report their own
            try:
                # One apply of the merged run: measured 0.8 ms for 12 small updates on a
                # 200-element board, merge included, against 2.7 ms applying them one by one.
                self._doc.apply_update(updates[0] if len(updates) == 1
                                       else merge_updates(*updates))
            except ValueError as exc:  # the room applied it: this is a bug, not bad input
                log.error("board %s: change feed could not apply a batch: %s", self.board_id,
                          exc)
            finally:
                self._collecting = None
        self._remember_bindings(self._touched)
        described = describe(reported, self._elements, self._model, self._kinds, self._bindings)
        self._remember_kinds(self._touched)
        self._touched = None
        metrics.EVENT_BATCH_SECONDS.observe(time.perf_counter() - started)
        return described, authors

    async def _publish_sliced(self, described: Described, authors: list[str]) -> None:
        for index, fields in enumerate(_slices(described, authors)):
            if index:
                await asyncio.sleep(0)  # one slice per loop turn
            self._publisher.publish(self.board_id, "elements.changed", fields)

    def _remember_kinds(self, touched: ChangeSet) -> None:
        """Bring ``_kinds`` up to date with the elements a batch touched (also through other
        processes' updates, which are not reported here but may be deleted here later)."""
        assert self._elements is not None
        for element_id in touched.deleted:
            self._kinds.pop(element_id, None)
        for element_id in touched.added | touched.fields.keys():
            kind = kind_of(self._elements.get(element_id))
            if kind is None:
                self._kinds.pop(element_id, None)
            else:
                self._kinds[element_id] = kind

    def _remember_bindings(self, touched: ChangeSet) -> None:
        """Bring ``_bindings`` up to date with the elements a batch touched, before the
        batch is described (a connector bound in this batch follows a target moved in it)."""
        assert self._elements is not None
        for element_id in touched.deleted:
            self._bindings.record(element_id, None)
        for element_id in touched.added | {element_id for element_id, names in
                                           touched.fields.items() if names & BINDING_FIELDS}:
            self._bindings.record(element_id, self._elements.get(element_id))

    def _on_events(self, events: list[Any]) -> None:
        if self._touched is not None:
            self._touched.collect(events)
        if self._collecting is not None:
            self._collecting.collect(events)

    def _author_names(self) -> list[str]:
        peers, self._authors = self._authors, set()
        names = set()
        for peer in peers:
            for client_id in self._presence.ids_of(peer):
                name = _name_in(self._presence.state_of(client_id))
                if name is not None:
                    names.add(name)
        return sorted(names)

    def _publish_presence(self) -> None:
        changed, self._presence_ids = self._presence_ids, set()
        for client_id in sorted(changed):
            state = self._presence.state_of(client_id)
            if state is not None and client_id not in self._names:
                name = _name_in(state) or "Guest"
                self._names[client_id] = name
                self._publisher.publish(self.board_id, "presence.joined", {"name": name})
            elif state is None and client_id in self._names:
                self._publisher.publish(self.board_id, "presence.left",
                                        {"name": self._names.pop(client_id)})


def _slices(described: Described, authors: list[str]) -> list[dict[str, Any]]:
    """``elements.changed`` fields, at most ``MAX_CHANGES_PER_EVENT`` entries each (deleted
    first, then created, then updated, each in id order). ``deleted`` holds the ids,
    ``deletedElements`` what each was (``{"id", "type", "frameId"}``)."""
    entries = ([("deleted", d) for d in described.deleted]
               + [("created", c) for c in described.created]
               + [("updated", u) for u in described.updated])
    out = []
    for start in range(0, len(entries), MAX_CHANGES_PER_EVENT):
        fields: dict[str, Any] = {"created": [], "updated": [], "deleted": [],
                                  "deletedElements": [], "authors": authors}
        for key, entry in entries[start:start + MAX_CHANGES_PER_EVENT]:
            if key == "deleted":
                fields["deleted"].append(entry["id"])
                fields["deletedElements"].append(entry)
            else:
                fields[key].append(entry)
        out.append(fields)
    return out


def _name_in(state: bytes | None) -> str | None:
    """The ``user.name`` of a presence state (the browser app's shape), cut to 40 chars."""
    if not state:
        return None
    try:
        value = json.loads(state)
    except ValueError:
        return None
    user = value.get("user") if isinstance(value, dict) else None
    name = user.get("name") if isinstance(user, dict) else None
    return name[:MAX_NAME_CHARS] if isinstance(name, str) and name else None


def _weak_callback(method: Callable[[list[Any]], None]) -> Callable[[list[Any]], None]:
    ref = weakref.WeakMethod(method)

    def callback(events: list[Any]) -> None:
        target = ref()
        if target is not None:
            target(events)
    return callback
