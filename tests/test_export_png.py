"""PNG export: size follows the view and the scale (capped), colours land where drawn."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map

from backend.board_model import read_board
from backend.export import ExportError, ExportOptions, export_file, parse_region, parse_scale
from backend.export.png import MAX_PIXELS, MAX_SIDE_PX, fitted_scale
from backend.export.raster_pool import RasterPool
from tests.export_helpers import decode_png, pixel


@pytest.fixture
def raster(io_loop):
    pool = RasterPool(workers=1, queue_jobs=2, timeout_s=60, memory_bytes=2 << 30)
    yield pool
    io_loop.run_sync(pool.close)


def two_rects() -> Doc:
    doc = Doc()
    with doc.transaction():
        doc.get("elements", type=Map).update({
            "red": Map({"type": "rect", "x": 0, "y": 0, "w": 40, "h": 40, "z": "a0",
                        "fill": "#ff0000", "strokeWidth": 0}),
            "blue": Map({"type": "rect", "x": 20, "y": 20, "w": 40, "h": 40, "z": "a1",
                         "fill": "#0000ff", "strokeWidth": 0, "opacity": 0.5}),
        })
    return doc


@pytest.mark.gen_test(timeout=60)
async def test_png_size_is_the_region_times_the_scale(raster):
    content = read_board(two_rects())
    for scale in (1, 2.5):
        data = await export_file(content, "png", raster,
                                 ExportOptions(region=(0, 0, 80, 60), scale=scale))
        width, height, _rows = decode_png(data)
        assert (width, height) == (round(80 * scale), round(60 * scale))


@pytest.mark.gen_test(timeout=60)
async def test_colours_follow_z_order_and_opacity(raster):
    content = read_board(two_rects())
    data = await export_file(content, "png", raster,
                             ExportOptions(region=(0, 0, 80, 80), scale=1))
    _, _, rows = decode_png(data)
    assert pixel(rows, 10, 10) == (255, 0, 0, 255)
    r, g, b, a = pixel(rows, 30, 30)  # half-transparent blue over red
    assert a == 255 and abs(r - 127) <= 2 and g == 0 and abs(b - 128) <= 2
    r, g, b, a = pixel(rows, 50, 50)  # half-transparent blue over the white background
    assert a == 255 and abs(r - 127) <= 2 and abs(b - 255) <= 1
    assert pixel(rows, 75, 5) == (255, 255, 255, 255)


def test_huge_requests_are_scaled_down_to_the_caps():
    assert fitted_scale(100, 100, 2) == 2
    assert fitted_scale(100_000, 10, 1) == MAX_SIDE_PX / 100_000
    scale = fitted_scale(10_000, 10_000, 1)
    assert (10_000 * scale) ** 2 == pytest.approx(MAX_PIXELS)
    assert (10_000 * fitted_scale(10_000, 10_000, 1, 1_000_000)) ** 2 == pytest.approx(1e6)


def test_bad_scale_and_region_values_are_refused_with_their_name():
    for bad in ("0", "-1", "nan", "inf", "17", "two"):
        with pytest.raises(ExportError, match="scale"):
            parse_scale(bad)
    for bad in ("1,2,3", "0,0,0,5", "a,b,c,d", "0,0,nan,1"):
        with pytest.raises(ExportError, match="region"):
            parse_region(bad)
    assert parse_scale(None) == 1.0 and parse_region("1,2,3,4") == (1, 2, 3, 4)
