"""A valid import of a big board against a real server process: it succeeds, the board
equals the file, and the server keeps answering other requests meanwhile (issue 18/15).

Reading, validating and building the update of 60,000 rectangles takes seconds of work that
holds the GIL; it runs in the import worker process (``backend/import_worker.py``) and the
update is applied in parts, so ``/healthz`` probed from another process all along answers
within ``HEALTH_BOUND_S`` (before: stalls past 5 s, 8.2 s measured, at load 2-3; 27 s on a
loaded machine; BENCHMARKS.md, "Import of a big board")."""

from __future__ import annotations

import json
import random
import urllib.request

import pytest

from tests.faults.liveness import HealthProbe

ELEMENTS = 60_000
HEALTH_BOUND_S = 0.5
"""Longest a ``/healthz`` answer may take while the import runs. What is left on the event
loop is sliced into parts of 200 rectangles (pre-check and apply: at most 46-82 ms each under
``nice -n 19`` on the shared 2-core machine); longest answers measured 75-77 ms at load
average 2.4-3.4 (``scripts/bench_import.py``). The bound leaves room for a machine loaded by
other test runs; without the fix the longest answer was 8.2 s, or no answer within the
probe's 5 s (BENCHMARKS.md, "Import of a big board")."""


def big_board(count: int) -> dict:
    """A syncboard export form of ``count`` rectangles."""
    rng = random.Random(18)
    return {"schemaVersion": 2, "meta": {}, "comments": [], "elements": [
        {"id": f"r{i:06d}", "type": "rect", "x": round(rng.uniform(0, 20_000), 2),
         "y": round(rng.uniform(0, 20_000), 2), "w": round(rng.uniform(20, 300), 2),
         "h": round(rng.uniform(20, 300), 2), "z": f"a{i:06d}", "stroke": "#1e1e1e",
         "fill": "#a0c4ff", "strokeWidth": 2, "opacity": 1}
        for i in range(count)]}


def post(url: str, body: bytes) -> dict:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_big_valid_import_does_not_stall_the_server(server_process):
    server = server_process()
    board = big_board(ELEMENTS)
    body = json.dumps(board, separators=(",", ":")).encode()
    with HealthProbe(server.base_url) as probe:
        answer = post(server.base_url + "/api/boards/big/import", body)
    assert answer["elements"] == ELEMENTS
    probe.assert_fast(HEALTH_BOUND_S)
    with urllib.request.urlopen(server.base_url + "/api/boards/big/export.json",
                                timeout=600) as response:
        exported = json.loads(response.read())
    by_id = {element["id"]: element for element in exported["elements"]}
    assert len(by_id) == ELEMENTS
    for element in board["elements"]:
        assert {name: by_id[element["id"]].get(name) for name in element} == element
