"""A graceful stop (SIGTERM) of a real server process while a big import is applied in parts
(issue 18): the stop waits for the parts, stores the import whole as one update and answers
the import's client, as it does for a live big update (``tests/test_big_step2.py``). Before,
the stop did not wait: the client's connection was closed without an answer and the import,
half applied in memory, was never stored. An import still being read in the import worker
when the signal comes is answered 503 before the connections close, nothing written."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import urllib.error
import urllib.request

import pytest

from tests.faults.clients import stored_elements, wait_until
from tests.test_import_big import big_board, post
from tests.worker_processes import spawned_children

ELEMENTS = 20_000
"""100 parts of 200 rectangles: seconds of parts on a loaded machine, ample time for the
signal to land among them."""
PARTS_BEGUN = "-byte import in "
STOP_WAITED = "shutdown: finishing the update being applied in parts"


@pytest.mark.gen_test(timeout=300)
async def test_a_graceful_stop_during_an_import_in_parts_stores_it_whole_and_answers(
    server_process,
):
    server = server_process()
    board = big_board(ELEMENTS)
    body = json.dumps(board, separators=(",", ":")).encode()
    outcome: dict = {}
    thread = _importer(server.base_url + "/api/boards/stopped/import", body, outcome)
    try:
        await wait_until(lambda: PARTS_BEGUN in server.log(), 240, "the parts", interval_s=0.01)
        exit_code = await asyncio.to_thread(server.stop, 120)  # SIGTERM among the parts
    finally:
        await asyncio.to_thread(thread.join, 120)
    assert exit_code == 0
    stored = await stored_elements(server.db_url, "stopped")
    # the client was told the import worked, and the board holds all of it
    assert outcome.get("answer", outcome).get("elements") == ELEMENTS, outcome
    assert len(stored) == ELEMENTS
    assert STOP_WAITED in server.log()  # the signal came while the parts were applied
    server.start()  # and it loads, as the file had it
    exported = await asyncio.to_thread(_exported, server.base_url + "/api/boards/stopped")
    by_id = {element["id"]: element for element in exported["elements"]}
    assert len(by_id) == ELEMENTS
    for element in board["elements"]:
        assert {name: by_id[element["id"]].get(name) for name in element} == element


def _exported(url: str) -> dict:
    with urllib.request.urlopen(url + "/export.json", timeout=300) as response:
        return json.loads(response.read())


@pytest.mark.gen_test(timeout=300)
async def test_a_graceful_stop_while_an_import_is_read_in_the_worker_answers_503(server_process):
    server = server_process()
    body = json.dumps(big_board(ELEMENTS), separators=(",", ":")).encode()
    outcome: dict = {}
    thread = _importer(server.base_url + "/api/boards/read/import", body, outcome)
    try:  # the import worker starts with the job, which then reads the file for seconds
        await wait_until(
            lambda: spawned_children(server.proc.pid), 240, "the import worker", interval_s=0.01
        )
        exit_code = await asyncio.to_thread(server.stop, 120)
    finally:
        await asyncio.to_thread(thread.join, 120)
    assert exit_code == 0
    stored = await stored_elements(server.db_url, "read")
    assert "error" not in outcome, outcome  # an HTTP answer, not a dropped connection
    if PARTS_BEGUN in server.log():  # the file was read before the signal: stored whole
        assert outcome["answer"]["elements"] == ELEMENTS and len(stored) == ELEMENTS
    else:
        assert outcome.get("status") == 503 and "stopping" in outcome["detail"], outcome
        assert stored == {}


def _importer(url: str, body: bytes, outcome: dict) -> threading.Thread:
    """POST ``body`` to ``url`` in a thread (started); ``outcome`` gets the parsed answer, or
    the HTTP error's status and body, or the connection's error."""

    def run() -> None:
        try:
            outcome["answer"] = post(url, body)
        except urllib.error.HTTPError as exc:
            outcome["status"] = exc.code
            outcome["detail"] = exc.read().decode(errors="replace")
        except (OSError, http.client.HTTPException) as exc:
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread
