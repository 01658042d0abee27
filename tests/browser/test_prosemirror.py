"""Two people typing at once into one ProseMirror document (y-prosemirror, the unmodified
y-websocket provider) in real Chromium, through a real syncboard server: both end with the
same text holding both people's typing, and a reload shows it.

The editor page (``prosemirror/``, bundled here with esbuild) is served from its own origin,
as an app embedding a Yjs editor would be; the server allows that origin with
``--allowed-origin``. The room is named like the Yjs demos' (``prosemirror-demo-2024/06``).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .conftest import sync_api

pytestmark = pytest.mark.browser

FIXTURE_DIR = Path(__file__).resolve().parent / "prosemirror"
REQUIRED_PACKAGES = ("esbuild", "prosemirror-view", "y-prosemirror", "y-websocket", "yjs")
ROOM = "prosemirror-demo-2024/06"
ALICE_WORDS = "Alice writes the introduction while Bob types. "
BOB_WORDS = "Bob adds the conclusion at the very same time."


@pytest.fixture(scope="module")
def editor_site(tmp_path_factory):
    """The editor page, bundled into a temporary folder and served on a loopback port."""
    missing = [name for name in REQUIRED_PACKAGES
               if not (FIXTURE_DIR / "node_modules" / name / "package.json").is_file()]
    if shutil.which("node") is None or missing:
        pytest.fail(f"npm packages {', '.join(missing) or '(node)'} missing in {FIXTURE_DIR}: "
                    "run ./scripts/test, or `cd tests/browser/prosemirror && npm ci`",
                    pytrace=False)
    site = tmp_path_factory.mktemp("prosemirror-site")
    subprocess.run(["node", "build.mjs", str(site)], cwd=FIXTURE_DIR, check=True, timeout=120)
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(10)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def open_editor(browser, editor_site):
    """Factory: ``open_editor(server, user)`` opens the editor on ``ROOM`` in a new browser
    context and waits until its provider has synced."""
    contexts = []

    def open_page(server, user: str):
        context = browser.new_context(viewport={"width": 900, "height": 600})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        query = urllib.parse.urlencode({"server": server.ws_url, "room": ROOM, "user": user})
        page.goto(f"{editor_site}/index.html?{query}")
        wait_synced(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


def wait_synced(page, timeout_ms: int = 15000) -> None:
    page.wait_for_function("() => window.editor && window.editor.synced()", timeout=timeout_ms)


def paragraphs(page) -> list[str]:
    return page.evaluate("() => window.editor.paragraphs()")


def move_caret(page, key: str, where: str, tries: int = 5) -> None:
    """Press ``key`` until ProseMirror holds the caret at the document's ``where``
    ('start'/'end'), as a person presses again when their caret did not move."""
    for _ in range(tries):
        page.keyboard.press(key)
        try:
            page.wait_for_function("where => window.editor.caret() === where", arg=where,
                                   timeout=3000)
            return
        except sync_api.TimeoutError:
            pass
    raise AssertionError(f"{key} {tries} times left ProseMirror's caret at "
                         f"{page.evaluate('() => window.editor.caret()')}, not the {where}")


def wait_paragraphs(page, expected: list[str], timeout_ms: int = 15000) -> None:
    """Wait until the editor's paragraphs are ``expected``; fail showing what it holds."""
    try:
        page.wait_for_function(
            "expected => JSON.stringify(window.editor.paragraphs()) === expected",
            arg=json.dumps(expected, separators=(",", ":"), ensure_ascii=False),
            timeout=timeout_ms)
    except sync_api.TimeoutError:
        raise AssertionError(
            f"editor holds {paragraphs(page)}, expected {expected}; Yjs holds "
            f"{page.evaluate('() => window.editor.yjsText()')}, page errors {page.errors}"
        ) from None


def test_two_people_typing_at_once_keep_both_texts_and_a_reload_shows_them(
        server_process, editor_site, open_editor):
    server = server_process(allowed_origin=editor_site)
    alice = open_editor(server, "Alice")
    bob = open_editor(server, "Bob")

    # Alice starts the document with a title and an empty paragraph below it.
    alice.click("#editor .ProseMirror")
    alice.keyboard.type("Title")
    alice.keyboard.press("Enter")
    wait_paragraphs(bob, ["Title", ""])

    # Alice types at the start of the document, Bob at its end, at once: chunks of a few
    # keys each, turn about, never waiting for the other's keys to arrive first.
    # Control+Home/End move the browser's caret, which ProseMirror reads back later; on a
    # loaded machine it sometimes never takes it (its caret stays where the click left it, at
    # the end), and Alice then types into Bob's paragraph: make sure each caret is where the
    # editor will type, as a person sees theirs before typing.
    alice.click("#editor .ProseMirror")
    move_caret(alice, "Control+Home", "start")
    bob.click("#editor .ProseMirror")
    move_caret(bob, "Control+End", "end")
    chunk = 3
    for start in range(0, max(len(ALICE_WORDS), len(BOB_WORDS)), chunk):
        alice.keyboard.type(ALICE_WORDS[start:start + chunk])
        bob.keyboard.type(BOB_WORDS[start:start + chunk])

    expected = [ALICE_WORDS + "Title", BOB_WORDS]
    for page in (alice, bob):
        wait_paragraphs(page, expected)
    assert alice.evaluate("() => window.editor.yjsText()") == \
        bob.evaluate("() => window.editor.yjsText()")

    bob.reload()
    wait_synced(bob)
    wait_paragraphs(bob, expected)
    # A newcomer after a server restart reads the same document from the database.
    server.stop()
    server.start()
    carol = open_editor(server, "Carol")
    wait_paragraphs(carol, expected)
    assert paragraphs(carol) == expected
    for page in (alice, bob, carol):
        assert page.errors == []
