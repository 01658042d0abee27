"""PNG export: the SVG export rasterised in-process by resvg (``resvg-py``, wheels on PyPI,
no system libraries). Text uses the system's fonts when it has any."""

from __future__ import annotations

import resvg_py

MAX_PIXELS = 64_000_000
"""Largest image rendered (width x height); a larger request is scaled down to fit."""
MAX_SIDE_PX = 16_384
"""Longest side rendered, in pixels; a longer one is scaled down to fit."""


def fitted_scale(width: float, height: float, scale: float) -> float:
    """``scale``, reduced if needed so the image stays within ``MAX_SIDE_PX`` and
    ``MAX_PIXELS``."""
    side = max(width, height, 1e-9)
    scale = min(scale, MAX_SIDE_PX / side)
    area = max(width * height, 1e-9)
    return min(scale, (MAX_PIXELS / area) ** 0.5)


def render_png(svg: str, width: float, height: float, scale: float = 1.0) -> bytes:
    """Rasterise ``svg`` (whose size is ``width`` x ``height`` units) at ``scale`` pixels per
    unit. Raises ``ValueError`` if resvg cannot render it."""
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, zoom=fitted_scale(width, height, scale)))
