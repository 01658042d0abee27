"""RasterPool: PNG rendering in worker processes, with a queue bound and a time and memory
limit per job; a failed job takes only its own worker, which is replaced."""

from __future__ import annotations

import asyncio

import pytest

from backend.export.raster_pool import RasterBusy, RasterError, RasterPool
from tests.export_helpers import decode_png

MIB = 1024 * 1024


def square_svg(side: int) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}">'
            f'<rect width="{side}" height="{side}" fill="#ff0000"/></svg>')


@pytest.fixture
def pools(io_loop):
    made: list[RasterPool] = []

    def make(**options) -> RasterPool:
        settings = {"workers": 1, "queue_jobs": 0, "timeout_s": 120, "memory_bytes": 2048 * MIB,
                    **options}
        made.append(RasterPool(**settings))
        return made[-1]

    yield make
    for pool in made:
        io_loop.run_sync(pool.close)


@pytest.mark.gen_test(timeout=120)
async def test_a_render_past_the_memory_cap_fails_alone_and_the_worker_is_replaced(pools):
    pool = pools(memory_bytes=300 * MIB)
    with pytest.raises(RasterError, match="memory limit of 314572800 bytes"):
        await pool.render(square_svg(10_000), zoom=1)  # a 400 MB pixmap
    png = await pool.render(square_svg(50), zoom=2)
    assert decode_png(png)[:2] == (100, 100)


@pytest.mark.gen_test(timeout=120)
async def test_a_render_past_the_time_limit_is_killed_and_the_worker_is_replaced(pools):
    pool = pools(timeout_s=0.2)
    with pytest.raises(RasterError, match=r"took longer than 0\.2 s"):
        await pool.render(square_svg(6000), zoom=1)
    pool.timeout_s = 60
    assert decode_png(await pool.render(square_svg(10), zoom=1))[:2] == (10, 10)


@pytest.mark.gen_test(timeout=120)
async def test_jobs_past_the_workers_and_the_queue_are_refused_at_once(pools):
    pool = pools(queue_jobs=1)
    running = [asyncio.ensure_future(pool.render(square_svg(1500), zoom=1)) for _ in range(2)]
    await asyncio.sleep(0)  # both admitted: one rendering, one waiting
    with pytest.raises(RasterBusy) as refused:
        await pool.render(square_svg(10), zoom=1)
    assert refused.value.retry_after_s >= 1
    assert [decode_png(png)[:2] for png in await asyncio.gather(*running)] == [(1500, 1500)] * 2
    assert pool.admitted == 0 and pool.refused_total == 1


@pytest.mark.gen_test(timeout=120)
async def test_an_svg_resvg_refuses_is_an_error_and_the_worker_goes_on(pools):
    pool = pools()
    with pytest.raises(RasterError, match="resvg could not render"):
        await pool.render("<not svg", zoom=1)
    assert decode_png(await pool.render(square_svg(10), zoom=1))[:2] == (10, 10)
