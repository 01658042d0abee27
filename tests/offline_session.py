"""A legitimate big offline session, as a pycrdt document: many rectangles, each moved a few
times (issues 18/19: a big sync step 2 of many small structs).

Each element is a ``Y.Map`` of the board's rectangle fields (``shared/BOARD.md``), and each
move sets ``x`` and ``y`` in its own transaction, so the update holds about 22 structs per
element: 20,000 elements and 5 moves make an 8.3 MiB step 2 of 440,000 structs.
"""

from __future__ import annotations

import random

from pycrdt import Doc, Map


def offline_session(elements: int, moves: int = 5, seed: int = 19) -> Doc:
    """A document holding ``elements`` rectangles under ``elements``, each moved ``moves``
    times (one transaction per round of moves)."""
    doc = Doc()
    board = doc.get("elements", type=Map)
    rng = random.Random(seed)
    ids = [f"r{i:06d}" for i in range(elements)]
    with doc.transaction():
        for index, element_id in enumerate(ids):
            board[element_id] = Map({
                "id": element_id, "type": "rect", "x": round(rng.uniform(0, 20_000), 2),
                "y": round(rng.uniform(0, 20_000), 2), "w": 100.0, "h": 80.0,
                "z": f"a{index:06d}", "stroke": "#1e1e1e", "fill": "#a0c4ff",
                "strokeWidth": 2, "opacity": 1})
    for _ in range(moves):
        with doc.transaction():
            for element_id in ids:
                element = board[element_id]
                element["x"] = element["x"] + 5
                element["y"] = element["y"] + 5
    return doc
