"""PNG export: the SVG export rasterised by resvg (``resvg-py``, wheels on PyPI, no system
libraries) in a worker process of a ``RasterPool`` (resvg holds the GIL for the whole render).
Text uses the system's fonts when it has any."""

from __future__ import annotations

from .raster_pool import RasterPool

MAX_PIXELS = 64_000_000
"""Default of ``--max-export-pixels``: largest image rendered (width x height); a larger
request is scaled down to fit."""
MAX_SIDE_PX = 16_384
"""Longest side rendered, in pixels; a longer one is scaled down to fit."""


def fitted_scale(width: float, height: float, scale: float,
                 max_pixels: int = MAX_PIXELS) -> float:
    """``scale``, reduced if needed so the image stays within ``MAX_SIDE_PX`` and
    ``max_pixels``."""
    side = max(width, height, 1e-9)
    scale = min(scale, MAX_SIDE_PX / side)
    area = max(width * height, 1e-9)
    return min(scale, (max_pixels / area) ** 0.5)


async def render_png(svg: str, width: float, height: float, scale: float, pool: RasterPool,
                     max_pixels: int = MAX_PIXELS) -> bytes:
    """Rasterise ``svg`` (whose size is ``width`` x ``height`` units) at ``scale`` pixels per
    unit, scaled down to ``max_pixels``. Raises ``RasterError`` (``RasterBusy`` when the pool's
    queue is full)."""
    return await pool.render(svg, fitted_scale(width, height, scale, max_pixels))
