"""Which connectors are bound to which elements, for the change feed (``BoardFeed``).

A bound line or arrow is drawn along a route derived from its targets (shared/BOARD.md,
"Connectors"), so when a target moves, resizes, rotates, changes type, or is deleted or made
again, the connectors bound to it are drawn elsewhere although none of their own fields
changed. ``Bindings`` keeps, for each element, the connectors whose ends name it (kept up to
date with every batch, also other processes' updates); ``changes.describe`` reports those
connectors as updated, with their geometry as drawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Map

from ..export.routing import CONNECTOR_TYPES

TARGET_FIELDS = frozenset({"type", "x", "y", "w", "h", "angle"})
"""The fields of an element that the route of a connector bound to it is derived from."""
CONNECTOR_FIELDS = TARGET_FIELDS | {"points", "routing", "startBindId", "endBindId",
                                    "startAnchorX", "startAnchorY", "endAnchorX", "endAnchorY"}
"""The fields of a connector that its own route is derived from."""
BINDING_FIELDS = frozenset({"type", "startBindId", "endBindId"})
"""The fields that say what a connector is bound to."""
GEOMETRY_FIELDS = ("x", "y", "w", "h", "angle", "points")
"""What a reader that does not route reads a connector's drawn place from."""


class Bindings:
    """Element id -> the ids of the connectors bound to it, and each connector's targets."""

    def __init__(self) -> None:
        self._targets: dict[str, tuple[str, ...]] = {}
        self._bound: dict[str, set[str]] = {}

    def record(self, element_id: str, value: Any) -> None:
        """What ``element_id`` is bound to now: ``value`` is its entry of the ``elements`` map
        (a ``Y.Map`` or its plain dict; anything else, or None once deleted, binds nothing)."""
        for target in self._targets.pop(element_id, ()):
            bound = self._bound[target]
            bound.discard(element_id)
            if not bound:
                del self._bound[target]
        targets = _targets_of(element_id, value)
        if targets:
            self._targets[element_id] = targets
            for target in targets:
                self._bound.setdefault(target, set()).add(element_id)

    def bound_to(self, target_ids: Iterable[str]) -> set[str]:
        """The connectors with an end bound to any of ``target_ids``."""
        out: set[str] = set()
        for target in target_ids:
            out.update(self._bound.get(target, ()))
        return out


def _targets_of(element_id: str, value: Any) -> tuple[str, ...]:
    """The ids a connector's two ends name (its own id and empty ones left out)."""
    kind = value.get("type") if isinstance(value, Map | dict) else None
    if not isinstance(kind, str) or kind not in CONNECTOR_TYPES:
        return ()
    ends = [value.get(name) for name in ("startBindId", "endBindId")]
    return tuple(sorted({t for t in ends if isinstance(t, str) and t and t != element_id}))
