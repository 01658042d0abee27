"""Running a meeting on a board (issue 20) in real Chromium, with real input: a laser trail seen
by the others and gone once it fades (never in the document or the export), cursor chat shown
and expired, a reaction, viewport outlines and "go to", "bring everyone to me" with Esc to stop,
and hostile presence from a raw client capped and shown as text."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request

import pytest

from tests.yclient import YClient

from .conftest import add_sticky, drag, new_board, wait_connected, wait_element_count
from .test_access import create_board_with_tokens, open_url

pytestmark = pytest.mark.browser


@pytest.fixture
def server(shared_server):
    """Every test here works on its own board, so they share one server."""
    return shared_server

ANN, BOB, CAT = "#e03131", "#1971c2", "#2f9e44"

# Whether Ann's laser trail, as this page keeps it, is painted on its overlay: the newest point
# of her trail is read back from the canvas (red, opaque enough) in the same animation frame.
TRAIL_PAINTED = """() => {
  const s = window.syncboard;
  const ann = s.presence.others().find((p) => p.name === 'Ann');
  const trail = ann && s.meeting.trails.trails.get(ann.clientId);
  const last = trail && trail.points[trail.points.length - 1];
  if (!last) return false;
  const at = s.camera.toScreen(last.x, last.y);
  const canvas = document.querySelector('.overlay-layer');
  const dpr = canvas.width / canvas.getBoundingClientRect().width;
  const [r, g, b, a] = canvas.getContext('2d')
    .getImageData(Math.round(at.x * dpr), Math.round(at.y * dpr), 1, 1).data;
  return a > 60 && r > g + 40 && r > b + 40;
}"""
NO_TRAIL = """() => window.syncboard.meeting.trails.visiblePoints() === 0 && (() => {
  const canvas = document.querySelector('.overlay-layer');
  const dpr = canvas.width / canvas.getBoundingClientRect().width;
  return canvas.getContext('2d')
    .getImageData(Math.round(%d * dpr), Math.round(%d * dpr), 1, 1).data[3] === 0;
})()"""
VIEW_CENTER = ("() => window.syncboard.camera.toWorld("
               "window.syncboard.camera.width / 2, window.syncboard.camera.height / 2)")
CHATS = "[...document.querySelectorAll('.cursor-chat')]"


def center(page) -> tuple[float, float]:
    point = page.evaluate(f"({VIEW_CENTER})()")
    return round(point["x"], 1), round(point["y"], 1)


def wait_center(page, x: float, y: float) -> None:
    """Wait until ``page`` looks at world point (x, y) (it follows someone)."""
    page.wait_for_function(f"() => {{ const c = ({VIEW_CENTER})();"
                           f" return Math.abs(c.x - {x}) < 1 && Math.abs(c.y - {y}) < 1; }}")


def pan(page, dx: float, dy: float) -> None:
    """Drag the view with the hand tool (content moves by dx, dy screen pixels)."""
    page.keyboard.press("h")
    drag(page, [(640, 400), (640 + dx / 2, 400 + dy / 2), (640 + dx, 400 + dy)])
    page.keyboard.press("v")


def visible_chat(page) -> list[str]:
    return page.evaluate(f"() => {CHATS}.filter((e) => !e.hidden).map((e) => e.textContent)")


@pytest.mark.slow
def test_laser_chat_reaction_viewports_and_bring_everyone_with_three_people(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann", ANN)
    bob = open_board(server, board_id, "Bob", BOB)
    cat = open_board(server, board_id, "Cat", CAT)
    for page in (ann, bob, cat):
        page.wait_for_function("() => window.syncboard.presence.others().length === 2")

    # Laser: Ann points; Bob sees the trail in her colour, then it fades away.
    ann.keyboard.press("k")
    ann.mouse.move(300, 300)
    ann.mouse.down()
    for step in range(1, 13):
        ann.mouse.move(300 + step * 30, 300 + step * 10)
    bob.wait_for_function(TRAIL_PAINTED)
    ann.mouse.up()
    bob.wait_for_function(NO_TRAIL % (450, 350))
    ann.wait_for_function("() => window.syncboard.meeting.trails.visiblePoints() === 0")
    assert ann.evaluate("window.syncboard.doc.getMap('elements').size") == 0
    with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.json") as response:
        exported = json.loads(response.read())
    assert exported["elements"] == [] and "laser" not in json.dumps(exported)

    # Cursor chat: shown to the others beside Ann's cursor, as text.
    ann.keyboard.press("v")
    ann.mouse.move(500, 400)
    ann.keyboard.press("/")
    ann.keyboard.type("look <b>here</b>")
    ann.keyboard.press("Enter")
    for page in (bob, cat):
        # The chat is shown as it is typed (presence on the cursor's throttle): wait for all of it.
        page.wait_for_function(
            f"() => {CHATS}.some((e) => !e.hidden && e.textContent === 'look <b>here</b>')")
        assert visible_chat(page) == ["look <b>here</b>"]
        assert page.locator(".cursor-chat b").count() == 0

    # A reaction: Bob's emoji floats up for Ann and Cat.
    bob.mouse.move(640, 500)
    bob.get_by_role("button", name="Reactions").click()
    bob.get_by_role("button", name="React 🎉").click()
    for page in (ann, cat):
        page.wait_for_selector(".reaction:text('🎉')", state="attached")

    # Viewports: Bob scrolls away; Ann turns outlines on and sees his view's edge, then goes there.
    pan(bob, 0, -300)
    bob_center = center(bob)
    ann.get_by_role("button", name="People and viewports").click()
    ann.get_by_label("Show viewports").check()
    ann.wait_for_function(f"""() => {{
      const bob = window.syncboard.presence.others().find((p) => p.name === 'Bob');
      return bob && bob.view && Math.abs(bob.view.y - {bob_center[1]}) < 1;
    }}""")
    top_edge = ann.evaluate(f"() => window.syncboard.camera.toScreen(0, {bob_center[1]} - 400).y")
    assert round(top_edge) == 300  # Bob looks 300 px further down: his view starts there
    ann.evaluate("window.syncboard.painted()")
    row = ann.evaluate(f"""() => {{
      const canvas = document.querySelector('.overlay-layer');
      const dpr = canvas.width / canvas.getBoundingClientRect().width;
      const y = Math.round({top_edge} * dpr);
      const data = canvas.getContext('2d').getImageData(0, y, canvas.width, 1).data;
      let blue = 0;
      for (let i = 0; i < data.length; i += 4) {{
        if (data[i + 3] > 40 && data[i + 2] > data[i] + 40) blue++;
      }}
      return blue;
    }}""")
    assert row > 200  # a dashed line across the screen in Bob's colour
    ann.locator(".person", has_text="Bob").get_by_role("button", name="Go to").click()
    assert center(ann) == bob_center

    # Bring everyone to me: Cat presents, Ann and Bob follow her view; Esc lets Bob go.
    cat.get_by_role("button", name="People and viewports").click()
    cat.get_by_role("button", name="Bring everyone to me").click()
    pan(cat, -200, 0)
    x, y = center(cat)
    for page in (ann, bob):
        wait_center(page, x, y)
        assert page.locator(".follow-label").inner_text().startswith("Following Cat")
    bob.locator(".overlay-layer").focus()
    bob.keyboard.press("Escape")
    assert bob.locator(".follow-frame").is_hidden()
    pan(cat, 0, 250)
    x2, y2 = center(cat)
    wait_center(ann, x2, y2)
    assert center(bob) == (x, y)
    cat.get_by_role("button", name="Stop presenting").click()
    ann.wait_for_function("() => document.querySelector('.follow-frame').hidden")

    # The chat has expired by now (it shows for a few seconds after its last change).
    for page in (bob, cat):
        page.wait_for_function(f"() => {CHATS}.every((e) => e.hidden)")
    for page in (ann, bob, cat):
        assert page.errors == []


def test_hostile_presence_is_capped_and_shown_as_text(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann", ANN)
    markup = '<img src=x onerror="window.pwned=1">'
    state = {
        "user": {"name": markup + "N" * 3000, "color": "red;background:url(x)"},
        "cursor": {"x": 400, "y": 300},
        "view": {"x": 1e308, "y": "1", "zoom": 0, "w": 1e9, "h": -1},
        "chat": {"n": 1, "text": markup + "C" * 4000},
        "reaction": {"n": 1, "emoji": markup, "x": 1, "y": 1},
        "laser": {"n": 10 ** 15, "pts": [[1, 2], ["x", 3]]},
        "summon": {"n": -1},
    }
    assert len(json.dumps(state)) < 8 * 1024  # under the server's cap: it reaches the page
    done = threading.Event()
    sent = threading.Event()

    async def hostile():
        client = await YClient(f"{server.ws_url}/{board_id}").sync()
        await client.set_presence(4242, 1, state)
        await client.set_presence(4243, 1, {"user": {"name": "Big"},
                                            "chat": {"n": 1, "text": "x" * 9000}})
        sent.set()
        while not done.is_set():
            await asyncio.sleep(0.05)
        client.close()

    thread = threading.Thread(target=asyncio.run, args=(hostile(),))
    thread.start()
    try:
        assert sent.wait(15)
        ann.wait_for_function(f"() => {CHATS}.some((e) => !e.hidden)")
        chats = visible_chat(ann)
        assert chats == [(markup + "C" * 4000)[:80]]
        ann.get_by_role("button", name="People and viewports").click()
        names = ann.locator(".person-name").all_inner_texts()
        assert names == ["Ann (you)", (markup + "N" * 3000)[:40]]  # the 9 KiB state was dropped
        ann.keyboard.press("k")  # painting the hostile laser and viewport must not break the page
        ann.get_by_label("Show viewports").check()
        ann.evaluate("window.syncboard.painted()")
        assert ann.evaluate("window.pwned === undefined && !document.querySelector('img[src=x]')")
        assert ann.locator(".reaction").count() == 0 and ann.locator(".follow-frame").is_hidden()
        assert ann.errors == []
    finally:
        done.set()
        thread.join(10)


def pin_box(page) -> dict:
    box = page.locator(".comment-pin").bounding_box()
    assert box is not None
    return box


def messages(page) -> list[str]:
    return page.evaluate("() => window.syncboard.comments.threads()"
                         ".flatMap((t) => t.messages.map((m) => m.text))")


def test_comment_pinned_to_a_note_follows_it_replies_at_once_resolve_reopen(server, open_board):
    board_id = new_board(server)
    ann = open_board(server, board_id, "Ann", ANN)
    bob = open_board(server, board_id, "Bob", BOB)
    add_sticky(ann, 500, 300, "plan")
    wait_element_count(bob, 1)
    note_id = ann.evaluate("() => [...window.syncboard.board.elements.keys()][0]")

    # Ann pins a thread on the note.
    ann.keyboard.press("c")
    ann.mouse.click(560, 360)
    ann.keyboard.type("Is this right?")
    ann.keyboard.press("Enter")
    bob.wait_for_selector(".comment-pin")
    thread = ann.evaluate("() => window.syncboard.comments.threads()[0]")
    assert thread["elementId"] == note_id and thread["messages"][0]["author"] == "Ann"
    before = pin_box(ann)

    # Bob moves the note; Ann's pin moves with it.
    bob.keyboard.press("v")
    drag(bob, [(450, 250), (550, 260), (650, 270)])
    ann.wait_for_function(
        f"() => Math.abs(document.querySelector('.comment-pin').getBoundingClientRect().x"
        f" - {before['x'] + 200}) < 1.5")
    assert abs(pin_box(ann)["y"] - (before["y"] + 20)) < 1.5

    # Both reply at once: both messages are kept, in the same order for both.
    bob.locator(".comment-pin").click()
    ann.get_by_label("Reply").click()
    ann.keyboard.type("yes, ship it")
    bob.get_by_label("Reply").click()
    bob.keyboard.type("no, wait")
    ann.keyboard.press("Enter")
    bob.keyboard.press("Enter")
    for page in (ann, bob):
        page.wait_for_function("() => window.syncboard.comments.threads()[0].messages.length === 3")
    assert messages(ann) == messages(bob)
    assert sorted(messages(ann)) == ["Is this right?", "no, wait", "yes, ship it"]
    ann.wait_for_function("() => document.querySelectorAll('.comment-message').length === 3")

    # Bob resolves, Ann sees it resolved and reopens it.
    bob.get_by_role("button", name="Resolve").click()
    ann.get_by_role("button", name="Reopen").click()
    bob.get_by_role("button", name="Resolve").wait_for()
    assert ann.evaluate("() => window.syncboard.comments.threads()[0].resolved") is False

    # The panel lists the open thread and jumps to it from far away.
    ann.get_by_role("button", name="Close thread").click()
    pan(ann, -900, -700)
    ann.get_by_role("button", name="Comments").click()
    ann.locator(".comments-panel .thread-item").click()
    assert ann.locator(".comment-card").is_visible()
    pin = ann.evaluate("() => window.syncboard.camera.toScreen("
                       f"{thread['x']} + 200, {thread['y']} + 20)")
    assert (round(pin["x"]), round(pin["y"])) == (640, 400)

    # The server holds it: the export lists the thread with its three messages.
    with urllib.request.urlopen(f"{server.base_url}/api/boards/{board_id}/export.json") as response:
        exported = json.loads(response.read())
    [saved] = exported["comments"]
    assert saved["elementId"] == note_id and saved["resolved"] is False
    assert sorted(m["text"] for m in saved["messages"]) == sorted(messages(ann))
    for page in (ann, bob):
        assert page.errors == []


def test_a_view_only_link_comments_only_once_the_editor_allows_it(server_process, browser):
    server = server_process(auth="token")
    links = create_board_with_tokens(server)
    ann = open_url(browser, links["editUrl"], "Ann")
    vic = open_url(browser, links["viewUrl"], "Vic")
    for page in (ann, vic):
        wait_connected(page)

    vic.keyboard.press("c")
    vic.mouse.click(400, 300)
    vic.locator(".toast", has_text="turned off for view-only links").wait_for()
    assert vic.locator(".comment-card").is_hidden()

    ann.get_by_role("button", name="Comments").click()
    ann.get_by_label("View-only links may comment").check()
    vic.wait_for_function("() => window.syncboard.comments.viewersMayComment()")
    vic.mouse.click(400, 300)
    vic.keyboard.type("a question from the audience")
    vic.keyboard.press("Enter")
    ann.locator(".comments-panel .thread-item", has_text="a question from the audience").wait_for()
    assert ann.locator(".comment-pin").count() == 1
    assert vic.evaluate("window.syncboard.connectionState()") == "connected"
