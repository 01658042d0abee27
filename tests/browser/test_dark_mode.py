"""Dark mode draws with a dark palette, never a filter over the whole canvas (issue 12 item 7):
colours of the board are mapped (the document keeps the real ones), images stay exactly as they
are, and the swatches look like what they draw."""

from __future__ import annotations

import pytest

from .conftest import canvas_pixel, draw_rect, elements, new_board, wait_element_count
from .test_tools import tiny_png

pytestmark = pytest.mark.browser

RED = (224, 49, 49)


@pytest.fixture
def server(shared_server):
    return shared_server


def dark(hex_color: str) -> tuple[int, int, int]:
    """invert(93%) hue-rotate(180deg) of a colour, as frontend/src/render/palette.js computes."""
    r, g, b = (0.93 - 0.86 * int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    out = (-0.574 * r + 1.43 * g + 0.144 * b, 0.426 * r + 0.43 * g + 0.144 * b,
           0.426 * r + 1.43 * g - 0.856 * b)
    return tuple(round(min(1.0, max(0.0, c)) * 255) for c in out)


def close_to(pixel, rgb, tolerance=3) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], rgb, strict=True))


def test_dark_mode_maps_the_boards_colours_and_leaves_images_alone(server, open_board, tmp_path):
    page = open_board(server, new_board(server), "Ann")
    draw_rect(page, 400, 300, 600, 420)  # selected afterwards: the style panel shows
    page.locator(".stylepanel [data-key='fill'][data-value='#a5d8ff']").click()
    png = tmp_path / "red.png"
    png.write_bytes(tiny_png(80, 40, RED))
    with page.expect_file_chooser() as chooser:
        page.click(".toolbar [data-tool='image']")
    chooser.value.set_files(str(png))
    wait_element_count(page, 2)
    image = next(el for el in elements(page).values() if el["type"] == "image")
    centre = page.evaluate("([x, y]) => window.syncboard.camera.toScreen(x, y)",
                           [image["x"] + 40, image["y"] + 20])
    at_image = (round(centre["x"]), round(centre["y"]))
    page.wait_for_function(
        "([x, y]) => { const d = document.querySelector('.static-layer').getContext('2d')"
        ".getImageData(x * devicePixelRatio, y * devicePixelRatio, 1, 1).data;"
        " return d[0] > 200 && d[1] < 90; }", arg=list(at_image), timeout=10000)

    page.locator("[aria-label='Toggle theme']").click()
    page.mouse.click(1100, 700)  # deselect, so no selection outline covers the pixels
    assert close_to(canvas_pixel(page, 500, 360), dark("#a5d8ff"))  # the rectangle's fill
    assert close_to(canvas_pixel(page, 1000, 600), dark("#ffffff"))  # the background
    assert close_to(canvas_pixel(page, *at_image), RED, tolerance=1)  # the image, unaltered
    rect = next(el for el in elements(page).values() if el["type"] == "rect")
    assert rect["fill"] == "#a5d8ff"  # the document keeps the real colour
    assert page.evaluate("getComputedStyle(document.querySelector('.static-layer')).filter") \
        == "none"
    swatch_filter = page.evaluate(
        "getComputedStyle(document.querySelector('.swatch')).filter")
    assert "invert" in swatch_filter and "hue-rotate" in swatch_filter
