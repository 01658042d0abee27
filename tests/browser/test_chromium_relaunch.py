"""The shared Chromium is launched again when it has gone away, so one browser crash fails
the test it happened in and not every browser test after it (a fresh-clone run once lost 11
tests to a single Chromium crash at a context's close)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_browser_that_went_away_is_launched_again(chromium):
    first = chromium.live()
    launches = chromium.launches
    first.close()  # as a crash leaves it: disconnected
    assert not first.is_connected()
    second = chromium.live()
    assert second is not first and second.is_connected()
    assert chromium.launches == launches + 1
    page = second.new_page()
    assert page.evaluate("1 + 1") == 2
    page.close()
    assert chromium.live() is second  # a live browser is kept
