"""The body of a posted selection export, ``POST /api/boards/<id>/export.<fmt>`` with
``{"ids": ["<element id>", ...]}`` (issue 15): a selection of any size a board can hold, where
the URL's ``?ids=`` takes at most ``MAX_IDS`` (2,000).

``parse_selection_body`` bounds what parsing may build before ``json`` runs. Element ids hold
no bracket and no comma (``[A-Za-z0-9_-]{1,64}``), so a body of that form has one ``{``, one
``[`` and one comma fewer than ids, wherever they stand; counting them (``str.count``, at C
speed, in one pass, allocating nothing) refuses deep nesting, millions of ``[]`` or values in
a body within ``SELECTION_BODY_BYTES``, and what ``json`` then builds is one list of at most
``MAX_POSTED_IDS`` values and strings no longer than the body."""

from __future__ import annotations

import json

from ..board_model import load_model
from . import ExportError

MAX_POSTED_IDS = 200_000
"""Most ids one posted selection names: every element a board may hold (shared/board.schema.json,
``elements.maxItems``)."""
SELECTION_BODY_BYTES = 16 * 1024 * 1024
"""Largest body (413 beyond, before it is read): 200,000 ids of the longest kind (64
characters) with their quotes, a comma and five characters of white space each take 14.4 MB."""
SHAPE = '{"ids": ["<element id>", ...]}'
"""The body's form, as error messages name it."""


class SelectionTooLarge(ExportError):
    """A posted selection names more than ``MAX_POSTED_IDS`` elements (answered 413)."""


def parse_selection_body(raw: bytes | bytearray) -> frozenset[str]:
    """The element ids a posted body names (duplicates count once). Raises
    ``SelectionTooLarge`` when it holds more than ``MAX_POSTED_IDS`` values, ``ExportError``
    (naming the problem and, for an id, its index) for anything that is not UTF-8 JSON of the
    form ``SHAPE`` with at least one element id."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(f"the body is not UTF-8 JSON ({exc}); send {SHAPE}") from None
    brackets = text.count("{") + text.count("[")
    if brackets > 2:
        raise ExportError(f"the body holds {brackets} [ and {{ brackets; {SHAPE} has 2 (element "
                          "ids hold none)")
    values = text.count(",") + 1
    if values > MAX_POSTED_IDS:
        raise SelectionTooLarge(f"the body holds {values} values, over the {MAX_POSTED_IDS} "
                                "elements a selection may name (a board holds no more)")
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise ExportError(f"the body is not JSON ({exc}); send {SHAPE}") from None
    if not isinstance(body, dict) or set(body) != {"ids"}:
        extra = sorted(set(body) - {"ids"})[:5] if isinstance(body, dict) else []
        raise ExportError(f"the body must be {SHAPE}" +
                          (f", not with the keys {', '.join(map(repr, extra))}" if extra
                           else ""))
    ids = body["ids"]
    if not isinstance(ids, list) or not ids:
        raise ExportError(f"ids must be a non-empty array of element ids: {SHAPE}")
    pattern = load_model().id_pattern
    for index, value in enumerate(ids):
        if not isinstance(value, str):
            raise ExportError(f"ids[{index}] is {json.dumps(value)[:80]}, not an element id "
                              "string")
        if not pattern.fullmatch(value):
            raise ExportError(f"ids[{index}]: {value[:80]!r} is not an element id")
    return frozenset(ids)
