"""Board links with tokens (the server's default ``--auth token``): the edit link draws, the
view-only link watches and cannot change anything, a link without a token is refused."""

from __future__ import annotations

import json
import urllib.request

import pytest

from .conftest import draw_rect, elements, wait_all_confirmed, wait_connected, wait_element_count

pytestmark = pytest.mark.browser


def create_board_with_tokens(server) -> dict:
    request = urllib.request.Request(server.base_url + "/api/boards", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


VIC_CURSOR = ("() => [...window.syncboard.awareness.getStates().values()]"
              ".filter((s) => s.user && s.user.name === 'Vic').map((s) => s.cursor)[0] ?? null")


def vic_cursor(page):
    """The cursor of the view-only user Vic as ``page`` sees it."""
    return page.evaluate(f"({VIC_CURSOR})()")


def open_url(browser, url, name):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.add_init_script(f"localStorage.setItem('syncboard:name', {json.dumps(name)});")
    page = context.new_page()
    page.goto(url)
    return page


@pytest.mark.slow
def test_edit_link_draws_view_link_only_watches_and_no_token_is_refused(server_process, browser):
    server = server_process(auth="token")
    links = create_board_with_tokens(server)
    assert "#t=" in links["editUrl"] and "#t=" in links["viewUrl"]

    editor = open_url(browser, links["editUrl"], "Ann")
    wait_connected(editor)
    draw_rect(editor, 300, 200, 480, 320)
    wait_all_confirmed(editor)

    viewer = open_url(browser, links["viewUrl"], "Vic")
    wait_connected(viewer)
    wait_element_count(viewer, 1)
    assert viewer.locator(".badge").inner_text() == "View only"
    tools = viewer.locator(".toolbar [data-tool]").evaluate_all("bs => bs.map(b => b.dataset.tool)")
    assert tools == ["select", "hand"]
    # Keys of drawing tools and Delete do nothing on a view-only link.
    viewer.keyboard.press("r")
    viewer.mouse.move(600, 400)
    viewer.mouse.down()
    viewer.mouse.move(700, 500, steps=3)
    viewer.mouse.up()
    viewer.keyboard.press("Control+a")
    viewer.keyboard.press("Delete")
    assert len(elements(viewer)) == 1

    # The server drops a view-only connection's changes too: a hostile viewer can change its
    # copy of the document behind the page's back, and its provider sends that change.
    viewer.evaluate("""() => {
        const elements = window.syncboard.board.elements;
        const YMap = [...elements.values()][0].constructor;  // the app's own Y.Map
        const forged = new YMap();
        forged.set('type', 'rect');
        elements.set('forged-by-viewer', forged);
    }""")
    # A cursor move travels on the same socket after that change: once the editor (another
    # client) sees it, the server has handled the change before it, and relayed it if it
    # had accepted it.
    before = vic_cursor(editor)
    viewer.mouse.move(900, 650, steps=2)
    assert before is not None  # the refused drag above moved it already
    moved = (f"() => {{ const c = ({VIC_CURSOR})(); "
             f"return c !== null && (c.x !== {before['x']} || c.y !== {before['y']}); }}")
    editor.wait_for_function(moved, timeout=15000)
    assert set(elements(editor)) == set(elements(viewer)) - {"forged-by-viewer"}
    assert len(elements(editor)) == 1
    late = open_url(browser, links["editUrl"], "Lou")  # and the server's own copy lacks it
    wait_connected(late)
    assert set(elements(late)) == set(elements(editor))

    # The editor's next change still reaches the viewer live.
    draw_rect(editor, 520, 200, 640, 320)
    wait_element_count(viewer, 3)  # both rects, and its own forged copy nobody else has

    stranger = open_url(browser, links["url"], "Eve")
    stranger.wait_for_function(
        "() => window.syncboard && window.syncboard.connectionState() === 'refused'", timeout=15000
    )
    assert "token" in stranger.locator(".status-text").inner_text()
    assert elements(stranger) == {}
